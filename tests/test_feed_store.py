"""Followed feeds and their ingested entries survive a restart; removing a feed forgets its entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import DocumentNotFound, SourceError
from assistant.feed_store import FeedNotFound, FeedStore


def test_feed_state_and_entries_survive_reopening_and_removal_forgets_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'assistant.db'}"
    feeds = FeedStore.open(url)
    state, added = feeds.add("https://news.test/rss")
    assert (added, state.status, state.checked_at, state.articles_added) == (True, "new", None, 0)
    feeds.record("https://news.test/rss", "ok", title="Delta Daily", etag='"v1"', last_modified="Tue, 01 Dec 2026",
                 added=2, items={"https://news.test/a": "2026-12-01", "https://news.test/b": ""})
    feeds.record("https://news.test/rss", "unchanged")
    feeds.record("https://news.test/rss", "error", error="returned HTTP 500 Internal Server Error; check the address")

    reopened = FeedStore.open(url)
    [state] = reopened.all()
    assert (state.title, state.status, state.etag, state.last_modified) == (
        "Delta Daily", "error", '"v1"', "Tue, 01 Dec 2026")
    assert (state.error, state.last_added, state.articles_added) == (
        "returned HTTP 500 Internal Server Error; check the address", 0, 2)
    assert state.checked_at is not None and state.checked_at.endswith("+00:00")
    assert reopened.seen("https://news.test/rss") == {"https://news.test/a": "2026-12-01", "https://news.test/b": ""}
    assert reopened.add("https://news.test/rss")[1] is False

    reopened.remove("https://news.test/rss")
    assert reopened.all() == []
    reopened.add("https://news.test/rss")
    assert reopened.seen("https://news.test/rss") == {}
    assert reopened.get("https://news.test/rss").etag is None


def test_bad_feed_urls_and_unknown_feeds_are_clear_errors(tmp_path: Path) -> None:
    feeds = FeedStore.open(f"sqlite:///{tmp_path / 'assistant.db'}")
    with pytest.raises(SourceError, match="is not an http\\(s\\) URL"):
        feeds.add("file:///etc/passwd")
    with pytest.raises(FeedNotFound, match="`assistant feeds list` shows the feeds") as caught:
        feeds.remove("https://news.test/none")
    assert isinstance(caught.value, DocumentNotFound)
    with pytest.raises(ValueError, match="status"):
        feeds.record("https://news.test/none", "fine")
