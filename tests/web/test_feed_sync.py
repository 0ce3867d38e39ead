"""`assistant serve` syncs the feeds every SYNC_INTERVAL seconds; /api/stats shows each feed's status."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from assistant.feed_store import FeedStore
from tests.web.test_app import ADMIN_AUTH, chat
from tests.web_server import serve_site


def feeds_when(base: str, done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """The feeds of /api/stats once ``done`` holds for them (the sync runs in the background)."""
    deadline = time.monotonic() + 90
    while True:
        feeds = httpx.get(f"{base}/api/stats", headers=ADMIN_AUTH, timeout=10).json()["feeds"]
        if done(feeds) or time.monotonic() > deadline:
            return feeds
        time.sleep(0.2)


def test_the_server_syncs_feeds_on_schedule_and_reports_them(serve: Callable[..., Any], tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'feeds.db'}"
    with serve_site() as site:
        feed = f"{site.base}/feeds/rss.xml"
        FeedStore.open(database).add(feed)
        with serve(database_url=database, sync_interval=1, fetch_allow_networks="127.0.0.1") as (base, _):
            first = feeds_when(base, lambda feeds: feeds[0]["status"] != "new")
            assert [{k: v for k, v in f.items() if k != "checked_at"} for f in first] == [
                {"url": feed, "title": "Delta Daily", "status": "ok", "error": "", "last_added": 2,
                 "articles_added": 2}]
            assert httpx.get(f"{base}/api/stats", headers=ADMIN_AUTH, timeout=10).json()["index"]["documents"] == 7
            answer = chat(base, {"question": "When did the second metro line of Hanoi open?"}).json()
            assert f"{site.base}/news/hanoi-metro" in answer["retrieved_doc_ids"]  # the retriever was refreshed
            again = feeds_when(base, lambda feeds: feeds[0]["status"] == "unchanged")
            assert (again[0]["status"], again[0]["articles_added"], again[0]["last_added"]) == ("unchanged", 2, 2)
            assert again[0]["checked_at"] > first[0]["checked_at"]


def test_without_sync_interval_nothing_is_synced(serve: Callable[..., Any], tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'feeds.db'}"
    FeedStore.open(database).add("http://10.0.0.1/rss")
    with serve(database_url=database) as (base, _):
        stats = httpx.get(f"{base}/api/stats", headers=ADMIN_AUTH, timeout=10).json()
    assert [(f["url"], f["status"], f["checked_at"]) for f in stats["feeds"]] == [("http://10.0.0.1/rss", "new", None)]


def test_the_servers_syncing_ends_a_trickling_feed_at_fetch_total_timeout(serve: Callable[..., Any],
                                                                         tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'feeds.db'}"
    with serve_site() as site:
        FeedStore.open(database).add(f"{site.base}/feeds/trickle.xml?api_key=k3y")
        with serve(database_url=database, sync_interval=1, fetch_allow_networks="127.0.0.1",
                   fetch_total_timeout=1) as (base, _):
            feeds = feeds_when(base, lambda feeds: feeds[0]["status"] != "new")
    assert (feeds[0]["url"], feeds[0]["status"]) == (f"{site.base}/feeds/trickle.xml?api_key=***", "error")
    assert feeds[0]["error"].startswith("took longer than 1 s to fetch (FETCH_TOTAL_TIMEOUT)")
