"""Reading feeds and sitemaps, and fetching them conditionally, from a real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.errors import SourceError
from assistant.ingest.feeds import FeedEntry, parse_feed
from assistant.ingest.fetch import Fetcher
from tests.conftest import make_settings
from tests.web_server import LAST_MODIFIED, Site

FEEDS = Path(__file__).parents[1] / "data" / "feeds"
BASE = "http://news.test"


def fixture(name: str) -> bytes:
    return (FEEDS / name).read_bytes().replace(b"SITE", BASE.encode())


@pytest.fixture
def fetcher(tmp_path: Path) -> Iterator[Fetcher]:
    with Fetcher(make_settings(tmp_path, fetch_allow_private=True, fetch_max_redirects=3).fetch) as running:
        yield running


def test_rss_entries_with_absolute_links_and_utc_dates() -> None:
    feed = parse_feed(fixture("rss.xml"), f"{BASE}/feeds/rss.xml")
    assert (feed.kind, feed.title) == ("rss", "Delta Daily")
    assert feed.entries == [
        FeedEntry(f"{BASE}/news/rice-exports", "Rice exports reach a record", "2026-12-01T08:30:00Z", "Business"),
        # of several categories, the first is the entry's section
        FeedEntry(f"{BASE}/news/hanoi-metro", "Hanoi opens a second metro line", "2026-11-30T10:00:00Z", "Opinion"),
        FeedEntry("http://10.0.0.1/internal/memo", "Internal memo", "2026-11-30T09:00:00Z"),
    ]


def test_atom_entries_carry_their_update_time() -> None:
    feed = parse_feed(fixture("atom.xml"), f"{BASE}/feeds/atom.xml")
    assert (feed.kind, feed.title) == ("atom", "Lowlands Wire")
    assert feed.entries == [
        FeedEntry(f"{BASE}/news/dutch-dikes", "Dutch engineers raise the dikes", "2026-12-01T10:00:00Z",
                  "Engineering"),
        FeedEntry(f"{BASE}/news/hanoi-metro", "Hanoi opens a second metro line", "2026-11-30T10:00:00Z"),
    ]


def test_news_sitemap_and_sitemap_index() -> None:
    feed = parse_feed(fixture("news-sitemap.xml"), f"{BASE}/feeds/news-sitemap.xml")
    assert feed.kind == "sitemap"
    assert feed.entries == [
        FeedEntry(f"{BASE}/news/mekong-bridge", "A new bridge over the Mekong", "2026-12-01T02:15:00Z")]
    index = parse_feed(fixture("sitemap-index.xml"), f"{BASE}/sitemap.xml")
    assert (index.kind, index.entries, index.sitemaps) == (
        "sitemapindex", [], [f"{BASE}/feeds/news-sitemap.xml", f"{BASE}/feeds/sitemap-more.xml"])


def test_a_plain_sitemap_uses_lastmod_and_skips_non_web_links() -> None:
    body = (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            b"<url><loc>/a</loc><lastmod>2026-11-02</lastmod></url>"
            b"<url><loc>mailto:desk@news.test</loc></url><url><loc>/a</loc></url></urlset>")
    assert parse_feed(body, f"{BASE}/sitemap.xml").entries == [FeedEntry(f"{BASE}/a", "", "2026-11-02")]


def test_a_malformed_feed_keeps_the_entries_that_can_be_read() -> None:
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Bits & Pieces</title>'
            b"<item><title>One</title><link>http://news.test/one</link></item>"
            b"<item><title>Two <b>bold</title><link>http://news.test/two</link></item>")
    feed = parse_feed(body, f"{BASE}/rss")
    assert [entry.url for entry in feed.entries] == ["http://news.test/one", "http://news.test/two"]


def test_something_that_is_no_feed_is_a_clear_error() -> None:
    with pytest.raises(SourceError) as caught:
        parse_feed(fixture("malformed.xml"), f"{BASE}/feeds/malformed.xml")
    assert caught.value.path == f"{BASE}/feeds/malformed.xml"
    assert caught.value.reason.startswith("is not an RSS/Atom feed or a sitemap (")
    assert caught.value.reason.endswith("give the address of the site's feed (look for an RSS link on its pages)")


def test_entity_expansion_in_a_sitemap_is_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>/&b;</loc></url></urlset>')
    with pytest.raises(SourceError, match="is a sitemap that cannot be read \\(DTDForbidden"):
        parse_feed(bomb, f"{BASE}/sitemap.xml")


def test_a_feed_is_fetched_then_fetched_conditionally(fetcher: Fetcher, site: Site) -> None:
    url = site.base + "/feeds/rss.xml"
    first = fetcher.fetch_feed(url)
    assert (first.not_modified, first.content_type) == (False, "application/rss+xml")
    assert (first.etag, first.last_modified) == ('"rss.xml-v1"', LAST_MODIFIED)
    assert parse_feed(first.content, first.url).title == "Delta Daily"
    site.conditions.clear()
    again = fetcher.fetch_feed(url, etag=first.etag, last_modified=first.last_modified)
    assert (again.not_modified, again.content, again.etag) == (True, b"", '"rss.xml-v1"')
    assert site.conditions == [("/feeds/rss.xml", '"rss.xml-v1"', LAST_MODIFIED)]


def test_a_page_is_not_a_feed_and_a_feed_points_to_feeds_add(fetcher: Fetcher, site: Site) -> None:
    with pytest.raises(SourceError) as caught:
        fetcher.fetch_feed(site.base + "/news/hanoi-metro")
    assert caught.value.reason == ("is not a feed or sitemap (text/html); "
                                   "give the address of the site's RSS/Atom feed or sitemap")
    with pytest.raises(SourceError) as caught:
        fetcher.fetch(site.base + "/feeds/rss.xml")
    assert caught.value.reason == (
        "is a feed or sitemap (application/rss+xml), not an article page; "
        f"follow it with `assistant feeds add {site.base}/feeds/rss.xml` and `assistant sync`")


def test_feed_fetches_keep_the_redirect_and_address_checks(tmp_path: Path, fetcher: Fetcher, site: Site) -> None:
    with pytest.raises(SourceError, match="redirects in a loop"):
        fetcher.fetch_feed(site.base + "/loop-a")
    with Fetcher(make_settings(tmp_path).fetch) as guarded, pytest.raises(SourceError, match="is a private address"):
        guarded.fetch_feed("http://169.254.169.254/latest/feed.xml")
