"""Read documents from files and folders: one reader per format, registered by file extension.

    for item in read_paths([Path("data/articles")]):
        if isinstance(item, SourceError): print("skipped", item)
        else: print(item.doc_id, item.title)

A document's id is its path relative to the folder given (its file name when a file is given);
in a JSON Lines corpus it is the record's ``id``; a web page's is its URL. Web pages come through
``assistant.ingest.fetch.Fetcher`` (its checks and limits); HTML becomes article fields in
``assistant.ingest.extract``; feeds and sitemaps become their entries in ``assistant.ingest.feeds``.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.documents import RawDocument, is_iso_date
from assistant.errors import SourceError

if TYPE_CHECKING:
    from assistant.config import FetchSettings
    from assistant.ingest.extract import ExtractedArticle
    from assistant.ingest.feeds import FeedEntry
    from assistant.ingest.fetch import Fetcher, Page

# Bump when reading or cleaning changes, so that re-ingest re-processes every document.
PIPELINE_VERSION = "4"

Reader = Callable[[Path, str, str], Iterator[RawDocument | SourceError]]
READERS: dict[str, Reader] = {}


def reader(*extensions: str) -> Callable[[Reader], Reader]:
    """Register a reader for file extensions (lower case, with the dot)."""

    def register(func: Reader) -> Reader:
        for ext in extensions:
            READERS[ext] = func
        return func

    return register


def content_hash(data: bytes, salt: str) -> str:
    """Hash of a document's bytes and of everything that shapes its chunks."""
    return hashlib.sha256(salt.encode() + b"\0" + data).hexdigest()


def decode_text(data: bytes, name: str) -> str:
    """Decode UTF-8 text, refusing binary and undecodable bytes with a reason."""
    if b"\0" in data[:8192]:
        raise SourceError(name, "looks binary (contains NUL bytes); only text, HTML, PDF and JSONL are read")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            name, f"is not valid UTF-8 (bad byte at offset {exc.start}); save it as UTF-8"
        ) from exc


@reader(".txt", ".md", ".markdown", ".text")
def read_text(path: Path, doc_id: str, salt: str) -> Iterator[RawDocument | SourceError]:
    data = path.read_bytes()
    try:
        text = decode_text(data, doc_id)
    except SourceError as err:
        yield err
        return
    if not text.strip():
        yield SourceError(doc_id, "is empty")
        return
    fmt = "md" if path.suffix.lower() in {".md", ".markdown"} else "txt"
    try:
        fields, text = front_matter(text, doc_id)
    except SourceError as err:
        yield err
        return
    yield RawDocument(doc_id=doc_id, text=text, content_hash=content_hash(data, salt), fmt=fmt, **fields)


FRONT_MATTER_FIELDS = ("title", "date", "outlet", "lang", "url", "section")


def front_matter(text: str, name: str) -> tuple[dict[str, str], str]:
    """(metadata, body) of a text file that opens with a front matter block, else ({}, text):

        ---
        title: Tô Lâm receives the Russian ambassador
        date: 2025-04-02
        outlet: Việt Nam News
        lang: en
        ---

    Only FRONT_MATTER_FIELDS; lines starting with # are comments. A field it does not know, a line
    that is not ``field: value`` or a date that is not YYYY-MM-DD is a SourceError naming the line."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    end = next((number for number, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
    if end is None:
        raise SourceError(name, "opens a front matter block with --- but never closes it; end it with ---")
    fields: dict[str, str] = {}
    for number, line in enumerate(lines[1:end], 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not colon or key not in FRONT_MATTER_FIELDS:
            raise SourceError(name, f"line {number} of its front matter is not one of "
                              f"{', '.join(f'{field}: …' for field in FRONT_MATTER_FIELDS)}")
        if key == "date" and not is_iso_date(value):
            raise SourceError(name, f"its front matter date {value!r} is not a date; write it as YYYY-MM-DD")
        if value:
            fields[key] = value
    return fields, "\n".join(lines[end + 1:])


@reader(".html", ".htm")
def read_html(path: Path, doc_id: str, salt: str) -> Iterator[RawDocument | SourceError]:
    from assistant.ingest.extract import extract_article

    data = path.read_bytes()
    try:
        markup = decode_text(data, doc_id)
    except SourceError as err:
        yield err
        return
    yield _page_document(extract_article(markup), doc_id, content_hash(data, salt))


def read_urls(urls: Iterable[str], fetcher: Fetcher, salt: str = "", *,
              max_entries: int | None = None) -> Iterator[RawDocument | SourceError]:
    """Fetch and extract article pages; a page's id is the URL given. Problems are yielded.

    With ``max_entries``, a URL may also be an RSS/Atom feed or a sitemap: its first ``max_entries``
    entries' pages are read (ids: the entries' URLs; the feed fills a title or date a page lacks)."""
    from assistant.ingest.fetch import FEED_TYPES

    for url in urls:
        try:
            page = fetcher.fetch(url, feeds=max_entries is not None)
        except SourceError as err:
            yield err
            continue
        if page.content_type in FEED_TYPES and max_entries is not None:
            yield from _read_feed(page.content, page.url, url, fetcher, salt, max_entries)
            continue
        yield page_document(page, url, salt)


def page_document(page: Page, url: str, salt: str = "") -> RawDocument | SourceError:
    """A fetched article page as a document whose id is ``url``."""
    from assistant.ingest.extract import extract_article

    fields = extract_article(page.content, url=page.url)
    # The hash covers what is kept, not the page's bytes: ads and timestamps change on every visit.
    # (a section is hashed only when there is one: pages without one keep the hashes they had)
    kept = json.dumps([fields.title, fields.date, fields.outlet, fields.url, fields.body]
                      + ([fields.section] if fields.section else []))
    return _page_document(fields, url, content_hash(kept.encode(), f"{PIPELINE_VERSION}|{salt}"))


def read_feed_entry(entry: FeedEntry, fetcher: Fetcher, salt: str = "") -> RawDocument | SourceError:
    """A feed entry's page as a document (its id is the entry's URL); the feed fills a title, date or
    section (its category) that the page lacks."""
    return fetch_feed_entry(entry, fetcher, salt).document or SourceError(entry.url, "was not modified")


@dataclass(frozen=True)
class EntryPage:
    """A feed entry's page as fetched: its document (None when a conditional GET found it unchanged)
    and the validators for the next conditional GET."""

    document: RawDocument | SourceError | None
    etag: str | None = None
    last_modified: str | None = None


def fetch_feed_entry(entry: FeedEntry, fetcher: Fetcher, salt: str = "", etag: str | None = None,
                     last_modified: str | None = None) -> EntryPage:
    """Fetch a feed entry's page (conditionally with the validators of its last fetch) and read it
    like ``read_feed_entry``."""
    try:
        page = fetcher.fetch(entry.url, etag=etag, last_modified=last_modified)
    except SourceError as err:
        return EntryPage(err)
    if page.not_modified:
        return EntryPage(None, page.etag or etag, page.last_modified or last_modified)
    item = page_document(page, entry.url, salt)
    if isinstance(item, RawDocument):
        item = replace(item, title=item.title or entry.title or None,
                       date=item.date or (entry.published[:10] if entry.published else None),
                       section=item.section or entry.section or None)
    return EntryPage(item, page.etag, page.last_modified)


def _read_feed(content: bytes, final_url: str, url: str, fetcher: Fetcher, salt: str,
               max_entries: int) -> Iterator[RawDocument | SourceError]:
    from assistant.ingest.feeds import parse_feed

    try:
        feed = parse_feed(content, final_url)
    except SourceError as err:
        yield SourceError(url, err.reason)
        return
    if feed.sitemaps:
        yield SourceError(url, f"is a sitemap index of {len(feed.sitemaps)} sitemap(s); ingest one of them "
                               f"({feed.sitemaps[0]}), or follow it with `assistant feeds add {url}`")
        return
    for entry in feed.entries[:max_entries]:
        yield read_feed_entry(entry, fetcher, salt)


def is_url(target: str) -> bool:
    """True for the web addresses that ``read_urls`` and ``read_page`` fetch."""
    return target.lower().startswith(("http://", "https://"))


def read_page(target: str, settings: FetchSettings) -> ExtractedArticle:
    """One article page's fields from a URL (fetched) or an HTML file.

        read_page("https://news.example.com/story", settings.fetch).body
    """
    from assistant.ingest.extract import extract_article
    from assistant.ingest.fetch import Fetcher

    if is_url(target):
        with Fetcher(settings) as fetcher:
            page = fetcher.fetch(target)
        return extract_article(page.content, url=page.url)
    path = Path(target)
    if not path.is_file():
        raise SourceError(target, "does not exist (give an HTML file or an http(s) URL)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(target, f"cannot be read ({exc.strerror or exc})") from exc
    return extract_article(decode_text(data, target))


def _page_document(fields: ExtractedArticle, doc_id: str, digest: str) -> RawDocument | SourceError:
    if not fields.body.strip():
        return SourceError(doc_id, "has no article text")
    return RawDocument(
        doc_id=doc_id, text=fields.body, content_hash=digest, fmt="html", title=fields.title or None,
        url=fields.url or None, outlet=fields.outlet or None, date=fields.date or None,
        section=fields.section or None,
    )


@reader(".pdf")
def read_pdf(path: Path, doc_id: str, salt: str) -> Iterator[RawDocument | SourceError]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    data = path.read_bytes()
    try:
        pdf = PdfReader(io.BytesIO(data))
        text = "\n\n".join(page.extract_text() or "" for page in pdf.pages)
        title = (pdf.metadata.title if pdf.metadata else None) or None
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        yield SourceError(doc_id, f"is not a readable PDF ({exc.__class__.__name__}: {exc})")
        return
    if not text.strip():
        yield SourceError(doc_id, "has no extractable text (a scanned PDF needs OCR first)")
        return
    yield RawDocument(
        doc_id=doc_id, text=text, title=title, content_hash=content_hash(data, salt), fmt="pdf"
    )


@reader(".jsonl")
def read_jsonl(path: Path, doc_id: str, salt: str) -> Iterator[RawDocument | SourceError]:
    """A corpus in the evaluation format: {"id", "title", "text", "lang", "source", "url"} (and
    optionally "date" and "section")."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            where = f"{doc_id}:{number}"
            if not line.strip():
                continue
            try:
                record = json.loads(decode_text(line, where))
            except SourceError as err:
                yield err
                continue
            except json.JSONDecodeError as exc:
                yield SourceError(where, f"is not valid JSON ({exc.msg})")
                continue
            if not isinstance(record, dict) or not isinstance(record.get("id"), str | int):
                yield SourceError(where, 'needs a JSON object with an "id"')
                continue
            text = record.get("text")
            if not isinstance(text, str) or not text.strip():
                yield SourceError(f"{where} ({record['id']})", 'has no "text"')
                continue
            yield RawDocument(
                doc_id=str(record["id"]),
                text=text,
                title=_str_or_none(record.get("title")),
                url=_str_or_none(record.get("url")),
                lang=_str_or_none(record.get("lang")),
                outlet=_str_or_none(record.get("source")),
                date=_str_or_none(record.get("date")),
                section=_str_or_none(record.get("section")),
                content_hash=content_hash(line.strip(), salt),
                fmt="jsonl",
            )


def pushed_document(doc_id: str, fields: dict[str, str | None], salt: str = "") -> RawDocument:
    """A document sent by a publisher (title, text or html, url, date, lang, outlet, section), read like a
    file of its kind; its content hash covers every field, so a resend of the same is unchanged."""
    data = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
    hashed = content_hash(data, f"{PIPELINE_VERSION}|{salt}")
    html = fields.get("html")
    if html:
        from assistant.ingest.extract import extract_article

        page = _page_document(extract_article(html, url=fields.get("url")), doc_id, hashed)
        if isinstance(page, SourceError):
            raise SourceError(doc_id, "has no article text in its html")
        given = {key: value for key, value in fields.items() if value and key not in ("html", "text")}
        return replace(page, **given)
    return RawDocument(doc_id=doc_id, text=str(fields.get("text") or ""), content_hash=hashed,
                       title=fields.get("title"), url=fields.get("url"), lang=fields.get("lang"),
                       outlet=fields.get("outlet"), date=fields.get("date"), section=fields.get("section"),
                       supersedes=fields.get("supersedes"), revision=fields.get("revision"), fmt="jsonl")


def _str_or_none(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def discover(paths: Iterable[Path]) -> Iterator[tuple[Path, str] | SourceError]:
    """Yield (file, doc_id) for every file under the given files and folders, sorted; a symbolic
    link that loops is yielded as a SourceError (links to folders are not followed)."""
    for root in paths:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                doc_id = path.relative_to(root).as_posix()
                if any(part.startswith(".") for part in path.relative_to(root).parts):
                    continue
                loop = link_loop(path) if path.is_symlink() else None
                if loop:
                    yield SourceError(doc_id, loop)
                elif path.is_file():
                    yield path, doc_id
        elif root.is_file():
            yield root, root.name
        elif root.is_symlink() and link_loop(root):
            raise SourceError(str(root), str(link_loop(root)))
        else:
            raise SourceError(str(root), "does not exist")


def link_loop(link: Path) -> str | None:
    """Why the symbolic link ``link`` loops, or None when it does not."""
    try:
        target = link.resolve(strict=True)
    except RuntimeError:  # Python < 3.13: "Symlink loop from ..."
        return "is a symbolic link loop (it leads back to itself); remove the link or point it at a file"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link loop (it leads back to itself); remove the link or point it at a file"
        return None  # a broken link: nothing to read, as before
    if target.is_dir() and link.parent.resolve().is_relative_to(target):
        return (f"is a symbolic link loop (it points to {target.name or target}, a folder that contains it); "
                "links to folders are not followed")
    return None


PLAIN_TEXT = (".txt", ".md", ".markdown", ".text")
UTF8_MAX_BYTES = 4  # a character is at most 4 bytes of UTF-8


def read_paths(paths: Iterable[Path], salt: str = "", *,
               max_chars: int | None = None) -> Iterator[RawDocument | SourceError]:
    """Read every supported document under ``paths``; problems are yielded, not raised. With
    ``max_chars`` (MAX_DOCUMENT_CHARS) a plain-text file too large to be within it is not even read."""
    for found in discover(paths):
        if isinstance(found, SourceError):
            yield found
            continue
        file, doc_id = found
        read = READERS.get(file.suffix.lower())
        if read is None:
            yield SourceError(doc_id, f"has an unsupported type ({file.suffix or 'no extension'}); "
                              f"supported: {', '.join(sorted(READERS))}")
            continue
        try:
            if max_chars is not None and file.suffix.lower() in PLAIN_TEXT \
                    and file.stat().st_size > UTF8_MAX_BYTES * max_chars:
                yield SourceError(doc_id, f"is {file.stat().st_size:,} bytes, more than {max_chars:,} "
                                  "characters can be (MAX_DOCUMENT_CHARS). Split it into articles, or "
                                  "raise MAX_DOCUMENT_CHARS")
                continue
            yield from read(file, doc_id, f"{PIPELINE_VERSION}|{salt}")
        except OSError as exc:
            yield SourceError(doc_id, f"cannot be read ({exc.strerror or exc})")
