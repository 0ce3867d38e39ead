"""Syncing feeds end to end: a real server with fixture feeds and pages, the real index and SQL store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import EXIT_SKIPPED, app
from assistant.config import Settings
from assistant.feed_store import FeedStore
from assistant.index.collection import Index
from assistant.index.embeddings import make_embedder
from assistant.ingest.sync import sync_feeds
from tests.conftest import make_settings
from tests.web_server import LAST_MODIFIED, Site, serve_site

PRIVATE_ENTRY = "http://10.0.0.1/internal/memo"
PRIVATE_REASON = ("10.0.0.1 is a private address; set FETCH_ALLOW_PRIVATE=true, or name its network in "
                  "FETCH_ALLOW_NETWORKS, to allow it")


def feed_settings(tmp_path: Path) -> Settings:
    """Only the test server's own address is let through the SSRF guard; 10.0.0.1 is still refused."""
    return make_settings(tmp_path, fetch_allow_networks="127.0.0.1", fetch_read_timeout=0.3,
                         fetch_connect_timeout=1.0, fetch_max_redirects=3)


def page_requests(site: Site) -> list[str]:
    return [path for path in site.requests if path.startswith("/news/")]


def test_sync_ingests_each_feed_reports_failures_per_feed_and_then_asks_conditionally(
        tmp_path: Path, site: Site) -> None:
    settings = feed_settings(tmp_path)
    index = Index.open(settings.index, make_embedder(settings.embedding, settings.model))
    feeds = FeedStore.open(settings.database_url)
    names = ["rss.xml", "atom.xml", "news-sitemap.xml", "malformed.xml", "gone.xml", "slow.xml"]
    for name in names:
        feeds.add(f"{site.base}/feeds/{name}")
    feeds.add(f"{site.base}/loop-a")
    site.requests.clear()

    report = sync_feeds(settings, index, feeds)

    results = {feed.url.rsplit("/", 1)[1]: feed for feed in report.feeds}
    assert [(name, results[name].status) for name in results] == [
        ("rss.xml", "ok"), ("atom.xml", "ok"), ("news-sitemap.xml", "ok"), ("malformed.xml", "error"),
        ("gone.xml", "error"), ("slow.xml", "error"), ("loop-a", "error")]
    news = f"{site.base}/news/"
    assert results["rss.xml"].added == [news + "rice-exports", news + "hanoi-metro"]
    assert results["rss.xml"].skipped == [(PRIVATE_ENTRY, PRIVATE_REASON)]
    assert (results["atom.xml"].added, results["atom.xml"].entries) == ([news + "dutch-dikes"], 2)
    assert results["news-sitemap.xml"].added == [news + "mekong-bridge"]
    assert results["malformed.xml"].error.startswith("is not an RSS/Atom feed or a sitemap (")
    assert results["gone.xml"].error == "returned HTTP 404 Not Found; check the address"
    assert results["slow.xml"].error == (f"did not answer in time (ReadTimeout at {site.base}/feeds/slow.xml); "
                                         "try again later or raise FETCH_READ_TIMEOUT")
    assert results["loop-a"].error.startswith("redirects in a loop (")
    assert report.failed
    # hanoi-metro is in two feeds: fetched for the first, unchanged for the second
    assert sorted(page_requests(site)) == ["/news/dutch-dikes", "/news/hanoi-metro", "/news/hanoi-metro",
                                          "/news/mekong-bridge", "/news/rice-exports"]
    assert index.document_ids() == {news + slug for slug in
                                    ("rice-exports", "hanoi-metro", "dutch-dikes", "mekong-bridge")}
    assert index.stats()["date_range"] == ["2026-11-30", "2026-12-01"]  # the pages have none: the feeds' dates
    # the pages name no section: their entries' first category is the article's section
    firsts = index.get(where={"chunk_index": 0}, include=["metadatas"])["metadatas"]
    assert {meta["doc_id"]: meta["section"] for meta in firsts} == {
        news + "rice-exports": "business", news + "hanoi-metro": "opinion", news + "dutch-dikes": "engineering",
        news + "mekong-bridge": ""}
    stored = {feed.url.rsplit("/", 1)[1]: feed for feed in feeds.all()}
    assert (stored["rss.xml"].status, stored["rss.xml"].etag, stored["rss.xml"].last_modified) == (
        "ok", '"rss.xml-v1"', LAST_MODIFIED)
    assert (stored["rss.xml"].title, stored["rss.xml"].articles_added) == ("Delta Daily", 2)
    assert (stored["gone.xml"].status, stored["gone.xml"].error) == ("error", results["gone.xml"].error)
    assert stored["gone.xml"].checked_at is not None

    site.requests.clear()
    site.conditions.clear()
    again = sync_feeds(settings, index, feeds)

    assert [feed.status for feed in again.feeds] == ["unchanged"] * 3 + ["error"] * 4
    assert page_requests(site) == []
    assert ("/feeds/rss.xml", '"rss.xml-v1"', LAST_MODIFIED) in site.conditions
    assert ("/feeds/atom.xml", '"atom.xml-v1"', LAST_MODIFIED) in site.conditions
    assert feeds.get(f"{site.base}/feeds/rss.xml").articles_added == 2
    assert feeds.get(f"{site.base}/feeds/rss.xml").status == "unchanged"


def test_only_new_or_updated_entries_are_fetched_when_a_feed_changed(tmp_path: Path, site: Site) -> None:
    settings = feed_settings(tmp_path)
    index = Index.open(settings.index, make_embedder(settings.embedding, settings.model))
    feeds = FeedStore.open(settings.database_url)
    url = f"{site.base}/feeds/rss.xml"
    feeds.add(url)
    sync_feeds(settings, index, feeds)
    # as if the feed had changed since (another ETag) and listed rice-exports with an older stamp
    feeds.record(url, "ok", etag='"older"', items={f"{site.base}/news/rice-exports": "2026-11-01T00:00:00Z"})
    site.requests.clear()

    result = sync_feeds(settings, index, feeds).feeds[0]

    assert page_requests(site) == ["/news/rice-exports"]  # hanoi-metro is known with the same stamp
    assert (result.status, result.added, result.updated) == ("ok", [], [])  # the page itself is the same
    assert result.skipped == [(PRIVATE_ENTRY, PRIVATE_REASON)]  # never ingested: tried again, refused again
    assert feeds.seen(url)[f"{site.base}/news/rice-exports"] == "2026-12-01T08:30:00Z"


def test_a_sitemap_index_is_read_one_level_deep_each_article_once(tmp_path: Path, site: Site) -> None:
    settings = feed_settings(tmp_path)
    feeds = FeedStore.open(settings.database_url)
    feeds.add(f"{site.base}/feeds/sitemap-index.xml")
    result = sync_feeds(settings, Index.open(settings.index, make_embedder(settings.embedding, settings.model)), feeds).feeds[0]
    news = f"{site.base}/news/"
    assert (result.status, result.entries, result.skipped) == ("ok", 2, [])
    assert result.added == [news + "mekong-bridge", news + "dutch-dikes"]  # mekong-bridge is in both sitemaps


def test_pages_are_fetched_at_most_fetch_concurrency_at_once(tmp_path: Path) -> None:
    with serve_site() as own_site:
        own_site.page_delay = 0.4
        settings = feed_settings(tmp_path).model_copy(update={"fetch_concurrency": 2, "fetch_read_timeout": 5.0})
        feeds = FeedStore.open(settings.database_url)
        feeds.add(f"{own_site.base}/feeds/all.xml")
        result = sync_feeds(settings, Index.open(settings.index, make_embedder(settings.embedding, settings.model)), feeds).feeds[0]
        assert (result.entries, len(result.added)) == (4, 4)
        assert own_site.max_in_flight == 2


def test_feeds_commands_and_sync(tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = feed_settings(tmp_path)
    for name, value in {"CHROMA_PATH": str(settings.chroma_path), "DATABASE_URL": settings.database_url,
                        "FETCH_ALLOW_NETWORKS": "127.0.0.1"}.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    url = f"{site.base}/feeds/atom.xml"

    assert runner.invoke(app, ["feeds", "add", url]).output == (
        f"Following {url} (Lowlands Wire): an Atom feed of 2 entries. `assistant sync` ingests its articles.\n")
    assert runner.invoke(app, ["feeds", "add", url]).output == f"{url} is followed already.\n"
    bad = runner.invoke(app, ["feeds", "add", "ftp://news.test/rss"])
    assert (bad.exit_code, "is not an http(s) URL" in bad.output) == (1, True)

    synced = runner.invoke(app, ["sync"])
    assert synced.exit_code == 0, synced.output
    assert synced.stdout == f"{url}: 2 entries: 2 added, 0 updated, 0 skipped\n"

    listed = json.loads(runner.invoke(app, ["feeds", "list", "--json"]).stdout)
    assert [(feed["url"], feed["title"], feed["status"], feed["last_added"]) for feed in listed] == [
        (url, "Lowlands Wire", "ok", 2)]
    table = runner.invoke(app, ["feeds", "list"]).stdout
    assert "Lowlands Wire" in table and "2 / 2" in table

    assert runner.invoke(app, ["feeds", "remove", url]).output == f"Stopped following {url}.\n"
    missing = runner.invoke(app, ["feeds", "remove", url])
    assert missing.exit_code == 1
    assert "is followed; `assistant feeds list` shows the feeds." in " ".join(missing.output.split())
    empty = runner.invoke(app, ["sync"])
    assert (empty.exit_code, empty.stdout) == (0, "No feeds to sync; add one with `assistant feeds add URL`.\n")


def test_a_failing_feed_makes_sync_exit_3(tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = feed_settings(tmp_path)
    monkeypatch.setenv("CHROMA_PATH", str(settings.chroma_path))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FETCH_ALLOW_NETWORKS", "127.0.0.1")
    FeedStore.open(settings.database_url).add(f"{site.base}/feeds/gone.xml")
    result = CliRunner().invoke(app, ["sync"])
    assert result.exit_code == EXIT_SKIPPED
    assert (f"{site.base}/feeds/gone.xml: error: returned HTTP 404 Not Found; check the address"
            in " ".join(result.output.split()))


def test_ingest_url_of_a_feed_ingests_its_articles_once(tmp_path: Path, site: Site) -> None:
    from assistant.ingest.pipeline import ingest

    settings = feed_settings(tmp_path)
    index = Index.open(settings.index, make_embedder(settings.embedding, settings.model))
    report = ingest([], settings, index, urls=[f"{site.base}/feeds/rss.xml", f"{site.base}/feeds/sitemap-index.xml",
                                              f"{site.base}/news/dutch-dikes"])
    news = f"{site.base}/news/"
    assert report.added == [news + "rice-exports", news + "hanoi-metro", news + "dutch-dikes"]
    assert report.skipped == [
        (PRIVATE_ENTRY, PRIVATE_REASON),
        (f"{site.base}/feeds/sitemap-index.xml",
         f"is a sitemap index of 2 sitemap(s); ingest one of them ({site.base}/feeds/news-sitemap.xml), "
         f"or follow it with `assistant feeds add {site.base}/feeds/sitemap-index.xml`")]
    assert FeedStore.open(settings.database_url).all() == []  # nothing is followed


SECRET = "k3y-0f-the-feed"


def test_feed_secrets_are_redacted_wherever_a_feed_is_shown_and_slow_feeds_end_at_the_total_timeout(
        tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    settings = feed_settings(tmp_path)
    for name, value in {"CHROMA_PATH": str(settings.chroma_path), "DATABASE_URL": settings.database_url,
                        "FETCH_ALLOW_NETWORKS": "127.0.0.1", "FETCH_READ_TIMEOUT": "5",
                        "FETCH_TOTAL_TIMEOUT": "1"}.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    feed = f"{site.base}/feeds/atom.xml?api_key={SECRET}"
    slow = f"{site.base.replace('http://', 'http://reader:' + SECRET + '@')}/feeds/trickle.xml"
    shown_feed, shown_slow = f"{site.base}/feeds/atom.xml?api_key=***", f"http://***@{site.base[7:]}/feeds/trickle.xml"

    assert runner.invoke(app, ["feeds", "add", feed]).output == (
        f"Following {shown_feed} (Lowlands Wire): an Atom feed of 2 entries. `assistant sync` ingests its articles.\n")
    checked = runner.invoke(app, ["feeds", "add", slow])  # checking it takes longer than FETCH_TOTAL_TIMEOUT
    assert checked.exit_code == 1 and "FETCH_TOTAL_TIMEOUT" in checked.output and SECRET not in checked.output
    assert runner.invoke(app, ["feeds", "add", "--no-check", slow]).output == f"Following {shown_slow}.\n"
    with caplog.at_level("DEBUG"):
        synced = runner.invoke(app, ["sync", "--json"])
        table = runner.invoke(app, ["feeds", "list"])
        listed = runner.invoke(app, ["feeds", "list", "--json"])
    assert synced.exit_code == EXIT_SKIPPED
    report = {feed["url"]: feed for feed in json.loads(synced.stdout)["feeds"]}
    assert report[shown_feed]["status"] == "ok" and len(report[shown_feed]["added"]) == 2
    assert report[shown_slow]["error"] == ("took longer than 1 s to fetch (FETCH_TOTAL_TIMEOUT): the server sends "
                                           "too slowly. Try again later, or raise FETCH_TOTAL_TIMEOUT for it")
    assert [item["url"] for item in json.loads(listed.stdout)] == [shown_feed, shown_slow]
    for output in (synced.output, table.output, listed.output, caplog.text):
        assert SECRET not in output
    # the address as the list shows it names the feed
    assert runner.invoke(app, ["feeds", "remove", shown_feed]).output == f"Stopped following {shown_feed}.\n"
    assert [state.url for state in FeedStore.open(settings.database_url).all()] == [slow]


def test_ingest_of_a_trickling_page_is_skipped_at_the_total_timeout(tmp_path: Path, site: Site) -> None:
    from assistant.ingest.pipeline import ingest

    settings = feed_settings(tmp_path).model_copy(update={"fetch_read_timeout": 5.0, "fetch_total_timeout": 1.0})
    report = ingest([], settings, Index.open(settings.index, make_embedder(settings.embedding, settings.model)), urls=[f"{site.base}/trickle"])
    assert report.skipped == [(f"{site.base}/trickle", "took longer than 1 s to fetch (FETCH_TOTAL_TIMEOUT): the "
                               "server sends too slowly. Try again later, or raise FETCH_TOTAL_TIMEOUT for it")]


def test_feeds_add_refuses_what_is_not_a_feed_and_says_why(tmp_path: Path, site: Site,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    settings = feed_settings(tmp_path)
    for name, value in {"CHROMA_PATH": str(settings.chroma_path), "DATABASE_URL": settings.database_url,
                        "FETCH_ALLOW_NETWORKS": "127.0.0.1"}.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    def refused(address: str) -> str:
        result = runner.invoke(app, ["feeds", "add", address])
        assert result.exit_code == 1, result.output
        return " ".join(result.output.split())

    assert refused(f"{site.base}/feeds/gone.xml") == (
        f"Error: {site.base}/feeds/gone.xml: returned HTTP 404 Not Found; check the address")
    assert refused(f"{site.base}/front") == (
        f"Error: {site.base}/front: is a web page, not a feed; it names 2 feed(s): {site.base}/feeds/rss.xml, "
        f"{site.base}/feeds/atom.xml. Follow one of them: `assistant feeds add {site.base}/feeds/rss.xml`")
    assert refused(f"{site.base}/world/mekong-rice") == (
        f"Error: {site.base}/world/mekong-rice: is a web page that names no feed; give the address of the "
        "site's RSS/Atom feed or sitemap (often linked as RSS on its pages)")
    assert refused(f"{site.base}/report.pdf") == (
        f"Error: {site.base}/report.pdf: is not a feed, a sitemap or a web page (application/pdf); give the "
        "address of the site's RSS/Atom feed or sitemap")
    assert refused(f"{site.base}/feeds/malformed.xml").startswith(
        f"Error: {site.base}/feeds/malformed.xml: is not an RSS/Atom feed or a sitemap (")
    assert refused("http://10.0.0.1/rss") == (
        "Error: http://10.0.0.1/rss: 10.0.0.1 is a private address; set FETCH_ALLOW_PRIVATE=true, or name its "
        "network in FETCH_ALLOW_NETWORKS, to allow it")
    assert FeedStore.open(settings.database_url).all() == []  # nothing refused is followed
    unchecked = runner.invoke(app, ["feeds", "add", "--no-check", f"{site.base}/feeds/gone.xml"])
    assert unchecked.output == f"Following {site.base}/feeds/gone.xml.\n"
    offered = runner.invoke(app, ["feeds", "add", f"{site.base}/feeds/rss.xml"])
    assert offered.output == (f"Following {site.base}/feeds/rss.xml (Delta Daily): an RSS feed of 3 entries. "
                              "`assistant sync` ingests its articles.\n")


def test_refresh_re_reads_pages_whose_entry_is_unchanged_conditionally_and_the_text_decides(
        tmp_path: Path, site: Site) -> None:
    settings = feed_settings(tmp_path)
    index = Index.open(settings.index, make_embedder(settings.embedding, settings.model))
    feeds = FeedStore.open(settings.database_url)
    url = f"{site.base}/feeds/rss.xml"
    feeds.add(url)
    sync_feeds(settings, index, feeds)
    metro = f"{site.base}/news/hanoi-metro"
    site.edits["hanoi-metro"] = ("The second metro line of Hanoi opened on Monday with fourteen stations. "
                                 "The city expects forty thousand passengers a day in its first year.")
    site.requests.clear()
    plain = sync_feeds(settings, index, feeds).feeds[0]
    assert (plain.status, plain.updated, page_requests(site)) == ("unchanged", [], [])  # the feed's 304

    site.conditions.clear()
    refreshed = sync_feeds(settings, index, feeds, refresh=True).feeds[0]
    assert refreshed.status == "unchanged" and refreshed.updated == [metro]
    asked = {path: etag for path, etag, _ in site.conditions if path.startswith("/news/")}
    assert set(asked) == {"/news/rice-exports", "/news/hanoi-metro"} and all(asked.values())  # conditional
    assert refreshed.not_modified == 1 and refreshed.refreshed == 2
    passages = index.get(where={"doc_id": metro}, include=["documents"])["documents"]
    assert any("fourteen stations" in text for text in passages)
    assert not any("twelve stations" in text for text in passages)  # the old version is gone

    site.layout = "<aside>Most read: the weather</aside>"  # the page changed, its article did not
    again = sync_feeds(settings, index, feeds, refresh=True).feeds[0]
    assert again.not_modified == 0 and again.updated == [] and again.skipped == []
    assert "2 pages re-checked (0 not modified)" in again.summary()
