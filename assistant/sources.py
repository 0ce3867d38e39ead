"""Read documents from files and folders: one reader per format, registered by file extension.

    for item in read_paths([Path("data/articles")]):
        if isinstance(item, SourceError): print("skipped", item)
        else: print(item.doc_id, item.title)

A document's id is its path relative to the folder given (its file name when a file is given);
in a JSON Lines corpus it is the record's ``id``. Nothing here fetches over the network.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from assistant.documents import RawDocument
from assistant.errors import SourceError

# Bump when reading or cleaning changes, so that re-ingest re-processes every document.
PIPELINE_VERSION = "3"

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
    yield RawDocument(doc_id=doc_id, text=text, content_hash=content_hash(data, salt), fmt=fmt)


@reader(".html", ".htm")
def read_html(path: Path, doc_id: str, salt: str) -> Iterator[RawDocument | SourceError]:
    from assistant.cleaning import html_to_article_fields

    data = path.read_bytes()
    try:
        markup = decode_text(data, doc_id)
    except SourceError as err:
        yield err
        return
    fields = html_to_article_fields(markup)
    if not fields["text"].strip():
        yield SourceError(doc_id, "has no article text")
        return
    yield RawDocument(doc_id=doc_id, content_hash=content_hash(data, salt), fmt="html", **fields)


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
    """A corpus in the evaluation format: {"id", "title", "text", "lang", "source", "url"}."""
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
                content_hash=content_hash(line.strip(), salt),
                fmt="jsonl",
            )


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


def read_paths(paths: Iterable[Path], salt: str = "") -> Iterator[RawDocument | SourceError]:
    """Read every supported document under ``paths``; problems are yielded, not raised."""
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
            yield from read(file, doc_id, f"{PIPELINE_VERSION}|{salt}")
        except OSError as exc:
            yield SourceError(doc_id, f"cannot be read ({exc.strerror or exc})")
