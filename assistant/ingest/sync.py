"""Sync: every followed feed → its new or updated entries' pages → the index, one feed at a time.

    report = sync_feeds(settings, index, FeedStore.open(settings.database_url))
    for feed in report.feeds: print(feed.url, feed.status, feed.summary())
    feed = check_feed("https://news.example.com/rss", settings.fetch)  # before following it: else SourceError

A feed is fetched conditionally (its ETag / Last-Modified from the last sync): 304 means nothing
changed and nothing else is fetched. Otherwise its entries are compared with those already
ingested (URL and published/updated stamp); only new or updated ones are fetched, at most
SYNC_MAX_ENTRIES per feed, FETCH_CONCURRENCY at a time, every page through the Fetcher's checks
(an entry on a private address is refused before any connection). A sitemap index's sitemaps are
read one level deep. An entry whose page failed is reported and not recorded, so it is tried again
the next time the feed changes. A feed's failure (HTTP error, timeout, redirect loop, not a feed)
is recorded and reported for that feed; the other feeds are synced all the same.

With ``refresh`` (`assistant sync --refresh`) the pages of the entries that did not change are
fetched too, even when the feed answered 304: each conditionally (the ETag / Last-Modified of its
last fetch), and a page that comes back is ingested only when its extracted text changed (its hash),
so an edit to an article whose feed entry kept its stamp reaches the index in one sync.

``lock`` is held only while the index is written, a batch at a time (``service.Assistant.sync``
passes its lock); what is written is searchable at once.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from assistant.config import FetchSettings, Settings
from assistant.errors import SourceError
from assistant.feed_store import FeedState, FeedStore
from assistant.index.collection import Index
from assistant.ingest.feeds import FeedEntry, ParsedFeed, feed_links, parse_feed
from assistant.ingest.fetch import FEED_TYPES, Fetcher
from assistant.ingest.pipeline import chunking_signature, ingest
from assistant.ingest.sources import EntryPage, fetch_feed_entry
from assistant.redaction import redact_text, redact_url

MAX_CHILD_SITEMAPS = 20


@dataclass
class FeedResult:
    """One feed's sync: status "ok", "unchanged" (304) or "error" (with ``error``)."""

    url: str
    status: str
    error: str = ""
    title: str = ""
    entries: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    refreshed: int = 0  # unchanged entries' pages asked for again (--refresh)
    not_modified: int = 0  # of those, the ones that answered 304

    def summary(self) -> str:
        if self.status == "error":
            return f"error: {redact_text(self.error)}"
        rechecked = (f"; {self.refreshed} pages re-checked ({self.not_modified} not modified)"
                     if self.refreshed else "")
        if self.status == "unchanged":
            changed = f", {len(self.updated)} pages updated" if self.updated else ""
            return f"unchanged (304 Not Modified){changed}{rechecked}"
        return (f"{self.entries} entries: {len(self.added)} added, {len(self.updated)} updated, "
                f"{len(self.skipped)} skipped{rechecked}")

    def to_dict(self) -> dict[str, Any]:
        """The report as shown to people: addresses redacted (a feed's may carry its key)."""
        return {"url": redact_url(self.url), "status": self.status, "error": redact_text(self.error),
                "title": self.title, "entries": self.entries, "added": self.added, "updated": self.updated,
                "refreshed": self.refreshed, "not_modified": self.not_modified,
                "skipped": [{"document": redact_url(name), "reason": redact_text(reason)}
                            for name, reason in self.skipped]}


@dataclass
class SyncReport:
    feeds: list[FeedResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        """True when a feed failed or an entry was skipped."""
        return any(feed.status == "error" or feed.skipped for feed in self.feeds)


def check_feed(url: str, fetch: FetchSettings) -> ParsedFeed:
    """The feed at ``url``, fetched and read now; a SourceError that says why not and what to give
    instead: an address that fails (404, timeout, private), a web page (naming the feeds it declares),
    or anything that is not an RSS/Atom feed or a sitemap."""
    with Fetcher(fetch) as fetcher:
        page = fetcher.fetch_feed_or_page(url)
    if page.content_type in FEED_TYPES:
        return parse_feed(page.content, page.url)
    declared = feed_links(page.content, page.url)
    if declared:
        shown = ", ".join(redact_url(link) for link in declared[:5])
        raise SourceError(redact_url(url), f"is a web page, not a feed; it names {len(declared)} feed(s): "
                                           f"{shown}. Follow one of them: `assistant feeds add "
                                           f"{redact_url(declared[0])}`")
    try:  # a feed served as text/html is still a feed
        return parse_feed(page.content, page.url)
    except SourceError:
        raise SourceError(redact_url(url), "is a web page that names no feed; give the address of the "
                                           "site's RSS/Atom feed or sitemap (often linked as RSS on its "
                                           "pages)") from None


def sync_feeds(settings: Settings, index: Index, feeds: FeedStore, *,
               lock: AbstractContextManager[Any] | None = None, refresh: bool = False) -> SyncReport:
    """Sync every followed feed (see the module docstring); never raises for one feed's failure."""
    started = time.perf_counter()
    report = SyncReport()
    with Fetcher(settings.fetch) as fetcher:
        for state in feeds.all():
            result = sync_feed(state, settings, index, feeds, fetcher, lock or nullcontext(), refresh)
            report.feeds.append(result)
    report.seconds = time.perf_counter() - started
    return report


def sync_feed(state: FeedState, settings: Settings, index: Index, feeds: FeedStore, fetcher: Fetcher,
              lock: AbstractContextManager[Any], refresh: bool = False) -> FeedResult:
    seen = feeds.seen(state.url)
    try:
        page = fetcher.fetch_feed(state.url, state.etag, state.last_modified)
        parsed = None if page.not_modified else parse_feed(page.content, page.url)
    except SourceError as exc:
        feeds.record(state.url, "error", error=exc.reason)
        return FeedResult(state.url, "error", error=exc.reason, title=state.title)
    if parsed is None:
        result = FeedResult(state.url, "unchanged", title=state.title)
        if refresh:  # the entries are those ingested before, with their stamps
            refresh_pages(result, [FeedEntry(url, published=stamp or None) for url, stamp in seen.items()],
                          [], settings, index, feeds, fetcher, lock)
        feeds.record(state.url, "unchanged")
        return result

    result = FeedResult(state.url, "ok", title=parsed.title or state.title)
    unique: dict[str, FeedEntry] = {}  # an article listed twice (in two sitemaps) is read once
    for entry in parsed.entries + _child_entries(parsed, fetcher, result):
        unique.setdefault(entry.url, entry)
    entries = list(unique.values())
    result.entries = len(entries)
    todo = [entry for entry in entries if seen.get(entry.url) != (entry.published or "")]
    todo = todo[:settings.sync_max_entries]
    again = [entry for entry in entries if entry.url in seen and entry not in todo] if refresh else []
    ingested = refresh_pages(result, again, todo, settings, index, feeds, fetcher, lock)
    feeds.record(state.url, "ok", title=result.title, etag=page.etag or state.etag,
                 last_modified=page.last_modified or state.last_modified, added=len(result.added),
                 items=ingested)
    return result


def refresh_pages(result: FeedResult, again: list[FeedEntry], todo: list[FeedEntry], settings: Settings,
                  index: Index, feeds: FeedStore, fetcher: Fetcher,
                  lock: AbstractContextManager[Any]) -> dict[str, str]:
    """Fetch the pages of ``todo`` (new or changed entries) and, conditionally, of ``again`` (unchanged
    ones, --refresh), FETCH_CONCURRENCY at a time; ingest what came back (the text's hash decides what
    is updated). Returns {entry URL: stamp} of the entries ingested; keeps every page's validators."""
    salt = chunking_signature(settings.chunking, settings.tokenizer)
    known = feeds.page_validators([entry.url for entry in again])

    def fetch(entry: FeedEntry, conditional: bool) -> EntryPage:
        etag, last_modified = known.get(entry.url, (None, None)) if conditional else (None, None)
        return fetch_feed_entry(entry, fetcher, salt, etag, last_modified)

    jobs = [(entry, False) for entry in todo] + [(entry, True) for entry in again]
    with ThreadPoolExecutor(max_workers=settings.fetch_concurrency) as pool:
        pages = list(pool.map(lambda job: fetch(*job), jobs))
    result.refreshed = len(again)
    result.not_modified = sum(page.document is None for page in pages)
    feeds.record_pages({entry.url: (page.etag, page.last_modified)
                        for (entry, _), page in zip(jobs, pages, strict=True)
                        if not isinstance(page.document, SourceError)})
    read = [page.document for page in pages if page.document is not None]
    if not read:
        return {}
    ingest_report = ingest([], settings, index, documents_read=read, lock=lock)
    result.added, result.updated = ingest_report.added, ingest_report.updated
    result.skipped += ingest_report.skipped
    done = set(ingest_report.added) | set(ingest_report.updated) | set(ingest_report.unchanged)
    return {entry.url: entry.published or "" for entry, _ in jobs if entry.url in done}


def _child_entries(parsed: ParsedFeed, fetcher: Fetcher, result: FeedResult) -> list[FeedEntry]:
    """The entries of a sitemap index's sitemaps (not followed further); failures are reported."""
    entries: list[FeedEntry] = []
    for url in parsed.sitemaps[:MAX_CHILD_SITEMAPS]:
        try:
            child = parse_feed(fetcher.fetch_feed(url).content, url)
        except SourceError as exc:
            result.skipped.append((url, exc.reason))
            continue
        entries += child.entries
    return entries
