"""Feeds and sitemaps → the articles they list: (URL, title, published), newest information kept.

    feed = parse_feed(page.content, page.url)
    feed.kind        # "rss", "atom", "sitemap" (a urlset, news sitemaps too) or "sitemapindex"
    feed.entries     # [FeedEntry(url, title, published, section)], links made absolute, http(s) only
    feed.sitemaps    # a sitemap index's child sitemaps (fetched by the sync, one level deep)
    feed_links(html, page_url)   # the feeds a web page declares (<link rel="alternate" type="…rss+xml">)

RSS 0.9x/1.0/2.0 and Atom are read by feedparser, which tolerates malformed XML (an entry that
can be read is kept). Sitemaps are XML read with defusedxml: no entity expansion, no external
entities or DTDs. ``published`` is an ISO 8601 UTC timestamp (yyyy-mm-ddThh:mm:ssZ, or yyyy-mm-dd
when only a day is known) from the entry's update time, else its publication time (a news sitemap's
news:publication_date, a urlset's lastmod); a changed stamp tells the sync an entry was updated.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from assistant.errors import SourceError

FeedKind = Literal["rss", "atom", "sitemap", "sitemapindex"]
SITEMAP_ROOT = re.compile(rb"<(?:[\w-]+:)?(urlset|sitemapindex)[\s>]")
SNIFF_BYTES = 4096  # the root element sits within the prolog, comments and stylesheet lines


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str = ""
    published: str | None = None
    section: str = ""  # the entry's first category (RSS <category>, Atom category's term)


@dataclass(frozen=True)
class ParsedFeed:
    kind: FeedKind
    title: str = ""
    entries: list[FeedEntry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


def parse_feed(content: bytes, url: str) -> ParsedFeed:
    """Read an RSS/Atom feed or a sitemap; SourceError (naming ``url``) when it is none of them."""
    root = SITEMAP_ROOT.search(content[:SNIFF_BYTES])
    if root:
        return _parse_sitemap(content, url)
    return _parse_syndication(content, url)


def _parse_syndication(content: bytes, url: str) -> ParsedFeed:
    import feedparser

    # resolve_relative_uris/sanitize_html only touch content we do not use; links are joined below.
    parsed = feedparser.parse(content, response_headers={"content-location": url},
                              resolve_relative_uris=False, sanitize_html=False)
    version = str(parsed.get("version") or "")
    if not version and not parsed.entries:
        reason = f" ({_bozo_reason(parsed)})" if parsed.get("bozo") else ""
        raise SourceError(url, f"is not an RSS/Atom feed or a sitemap{reason}; "
                               "give the address of the site's feed (look for an RSS link on its pages)")
    entries: list[FeedEntry] = []
    for item in parsed.entries:
        link = _absolute(url, str(item.get("link") or item.get("id") or ""))
        if link is None:
            continue
        stamp = item.get("updated_parsed") or item.get("published_parsed")
        tags = [tag.get("term") or tag.get("label") for tag in item.get("tags") or []]
        entries.append(FeedEntry(link, _text(item.get("title")), _struct_iso(stamp),
                                 next((_text(tag) for tag in tags if _text(tag)), "")))
    kind: FeedKind = "atom" if version.startswith("atom") else "rss"
    return ParsedFeed(kind, _text(parsed.feed.get("title")), _unique(entries))


def _parse_sitemap(content: bytes, url: str) -> ParsedFeed:
    try:
        root = fromstring(content, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise SourceError(url, f"is a sitemap that cannot be read ({exc.__class__.__name__}: {exc}); "
                               "ask the site to fix it, or give its RSS feed instead") from exc
    if _local(root.tag) == "sitemapindex":
        children = [_absolute(url, _child_text(node, "loc"))
                    for node in root if _local(node.tag) == "sitemap"]
        return ParsedFeed("sitemapindex", sitemaps=list(dict.fromkeys(c for c in children if c)))
    entries: list[FeedEntry] = []
    for node in root:
        if _local(node.tag) != "url":
            continue
        link = _absolute(url, _child_text(node, "loc"))
        if link is None:
            continue
        news = next((child for child in node if _local(child.tag) == "news"), None)
        title = _child_text(news, "title") if news is not None else ""
        published = _child_text(news, "publication_date") if news is not None else ""
        stamp = _child_text(node, "lastmod") or published
        entries.append(FeedEntry(link, title, _w3c_iso(stamp)))
    return ParsedFeed("sitemap", entries=_unique(entries))


LINKED_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml",
                     "application/feed+json")


def feed_links(html: bytes, url: str) -> list[str]:
    """The feeds a web page declares in its head (``<link rel="alternate" type="application/rss+xml"
    href="…">``), made absolute, in page order."""
    import lxml.html
    from lxml.etree import ParserError

    try:
        tree = lxml.html.fromstring(html)
    except (ParserError, ValueError):
        return []
    links = []
    for node in tree.iter("link"):
        rel = (node.get("rel") or "").lower().split()
        if "alternate" in rel and (node.get("type") or "").lower().strip() in LINKED_FEED_TYPES:
            link = _absolute(url, node.get("href") or "")
            if link:
                links.append(link)
    return list(dict.fromkeys(links))


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _child_text(node: Element | None, name: str) -> str:
    if node is None:
        return ""
    for child in node:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def _absolute(base: str, link: str) -> str | None:
    """The link joined to the feed's address; None unless it is an http(s) URL."""
    link = link.strip()
    if not link:
        return None
    try:
        joined = httpx.URL(base).join(link)
    except httpx.InvalidURL:
        return None
    if joined.scheme not in ("http", "https") or not joined.host:
        return None
    return str(joined.copy_with(fragment=None))


def _unique(entries: list[FeedEntry]) -> list[FeedEntry]:
    """One entry per URL (the first, as listed)."""
    kept: dict[str, FeedEntry] = {}
    for entry in entries:
        kept.setdefault(entry.url, entry)
    return list(kept.values())


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


def _struct_iso(stamp: time.struct_time | None) -> str | None:
    if stamp is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(stamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _w3c_iso(value: str) -> str | None:
    """A W3C datetime (sitemaps: yyyy-mm-dd, or with a time and zone) as UTC; None when unreadable."""
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bozo_reason(parsed: Any) -> str:
    problem = parsed.get("bozo_exception")
    return " ".join(str(problem).split())[:200] if problem else "unreadable"
