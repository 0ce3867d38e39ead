"""Ingest: files → clean Articles → Chunks with stable ids → the index, incrementally.

    report = ingest([Path("data/articles")], settings, index, prune=False, progress=print)
    report = ingest([], settings, index, urls=["https://news.example.com/story"])  # web pages
    report = ingest([], settings, index, urls=["https://news.example.com/rss"])    # a feed's articles

Why it is safe to kill at any point: a document's new chunks are written (upserted under ids that
contain its content hash) before its old chunks are deleted, and a document counts as indexed only
when all of its chunks are there. The next run re-writes an incomplete version (same ids: no
duplicates) and deletes whatever is left of other versions (no orphans).

What one ingest may hold: a document longer than MAX_DOCUMENT_CHARS is skipped with its reason before
any work (500,000 characters are ~1,400 chunks, minutes of embedding), and chunks are written in
batches of EMBEDDING_BATCH_SIZE, each under ``lock`` (``service.Assistant``'s lock, a ``FairLock``)
on its own: a publisher's PUT or another upload waits for one batch (seconds), not for a whole ingest.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import ChunkingSettings, Settings, TokenizerSettings
from assistant.documents import Chunk, RawDocument
from assistant.errors import SourceError
from assistant.index.collection import DocumentState, Index
from assistant.ingest.chunking import Chunker
from assistant.ingest.cleaning import clean
from assistant.ingest.sources import read_paths, read_urls
from assistant.tokens import get_encoding

JSONL_RECORD = re.compile(r"\.jsonl:\d+")  # how a JSON Lines record is named in a SourceError


@dataclass
class IngestReport:
    """What an ingest did; ``skipped`` holds (document, reason) for everything it could not read."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks_written: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
                f"{len(self.pruned)} pruned, {len(self.skipped)} skipped; "
                f"{self.chunks_written} chunks written in {self.seconds:.1f} s")


@dataclass(frozen=True)
class Progress:
    """Where an ingest is: documents read and chunked (``done`` of ``total``), then chunks embedded.

    Embedding is the slow part (the first document alone can take seconds), so it is reported
    chunk by chunk: ``embedded`` of ``to_embed``.
    """

    done: int
    total: int
    chunks: int
    elapsed: float
    current: str
    embedded: int = 0
    to_embed: int = 0


ProgressCallback = Callable[[Progress], None]


def make_chunker(chunking: ChunkingSettings, tokenizer: TokenizerSettings) -> Chunker:
    encoding = get_encoding(tokenizer.tokenizer_encoding, tokenizer.tiktoken_cache_dir)
    return Chunker(encoding, chunking.chunk_tokens, chunking.chunk_overlap)


def chunking_signature(chunking: ChunkingSettings, tokenizer: TokenizerSettings) -> str:
    """Everything besides the bytes that shapes a document's chunks; part of its content hash."""
    return f"{tokenizer.tokenizer_encoding}:{chunking.chunk_tokens}:{chunking.chunk_overlap}"


def ingest(
    paths: Iterable[Path],
    settings: Settings,
    index: Index,
    *,
    urls: Iterable[str] = (),
    prune: bool = False,
    progress: ProgressCallback | None = None,
    documents_read: Iterable[RawDocument | SourceError] | None = None,
    lock: AbstractContextManager[Any] | None = None,
) -> IngestReport:
    """Bring the index in line with the documents under ``paths`` and the pages at ``urls`` (or
    ``documents_read``, documents that came another way, such as the publisher API: ``paths`` and
    ``urls`` are then not read). ``lock`` is held while each batch is written, not in between."""
    started = time.perf_counter()
    report = IngestReport()
    chunker = make_chunker(settings.chunking, settings.tokenizer)
    salt = chunking_signature(settings.chunking, settings.tokenizer)
    lock = lock or nullcontext()

    documents: list[RawDocument] = []
    unreadable: set[str] = set()  # documents that exist but failed to read: never pruned
    if documents_read is not None:
        _collect(documents_read, documents, report, unreadable)
    else:
        _collect(read_paths(paths, salt=salt, max_chars=settings.max_document_chars),
                 documents, report, unreadable)
        pages = list(urls)
        if pages:
            from assistant.ingest.fetch import Fetcher

            with Fetcher(settings.fetch) as fetcher:
                _collect(read_urls(pages, fetcher, salt=salt,
                                   max_entries=settings.sync_max_entries), documents, report, unreadable)
    # only the documents read are looked up: no scan of the whole collection's metadata
    states = index.document_states(raw.doc_id for raw in documents)

    seen: set[str] = set()
    work: list[tuple[RawDocument, list[Chunk]]] = []
    to_embed = 0
    for number, raw in enumerate(documents, start=1):
        if raw.doc_id in seen:
            report.skipped.append((raw.doc_id, "duplicate document id; the first one was kept"))
            continue
        seen.add(raw.doc_id)
        state = states.get(raw.doc_id)
        if len(raw.text) > settings.max_document_chars:
            report.skipped.append((raw.doc_id, too_long(len(raw.text), settings.max_document_chars)))
        elif state is not None and _up_to_date(state, raw.content_hash):
            report.unchanged.append(raw.doc_id)
        else:
            article = clean(raw)
            chunks = chunker.split(article) if article.text.strip() else []
            if not chunks:
                report.skipped.append((raw.doc_id, "has no text left after cleaning"))
            else:
                work.append((raw, chunks))
                to_embed += len(chunks)
        if progress:
            progress(Progress(number, len(documents), to_embed, time.perf_counter() - started, raw.doc_id))
    embedded = 0

    def flush(batch: list[Chunk], completed: list[RawDocument]) -> None:
        """Write one batch under the lock; the documents whose last chunk it holds are complete."""
        position = iter(batch)

        def embedded_one() -> None:
            nonlocal embedded
            embedded += 1
            if progress:
                progress(Progress(len(documents), len(documents), to_embed, time.perf_counter() - started,
                                  next(position).doc_id, embedded, to_embed))

        with lock:
            embed_started = time.perf_counter()
            index.add_chunks(batch, on_chunk=embedded_one)
            report.embed_seconds += time.perf_counter() - embed_started
            report.chunks_written += len(batch)
            for raw in completed:  # only now is the new version complete: drop the old one
                state = states.get(raw.doc_id)
                if state is not None:
                    index.delete_ids(state.stale_ids(keep_hash=raw.content_hash))
                    report.updated.append(raw.doc_id)
                else:
                    report.added.append(raw.doc_id)

    if progress and work:  # embedding starts: the slow part
        progress(Progress(len(documents), len(documents), to_embed, time.perf_counter() - started,
                          work[0][0].doc_id, 0, to_embed))
    batch: list[Chunk] = []
    completed: list[RawDocument] = []
    for raw, chunks in work:  # a long document's chunks span several batches
        for number, chunk in enumerate(chunks, start=1):
            batch.append(chunk)
            if number == len(chunks):
                completed.append(raw)
            if len(batch) >= settings.embedding_batch_size:
                flush(batch, completed)
                batch, completed = [], []
    if batch:
        flush(batch, completed)

    if prune:
        with lock:
            prune_missing(index, seen, unreadable, report)
    report.seconds = time.perf_counter() - started
    return report


class FairLock:
    """A lock that goes to its waiters in the order they asked (``threading.Lock`` does not: a large
    ingest that releases it between batches could take it straight back, again and again).

        lock = FairLock()
        with lock: ...      # a batch of a large ingest; a PUT that asked meanwhile goes next
    """

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._tickets = 0
        self._serving = 0

    def acquire(self) -> bool:
        with self._turn:
            ticket = self._tickets
            self._tickets += 1
            self._turn.wait_for(lambda: self._serving == ticket)
        return True

    def release(self) -> None:
        with self._turn:
            self._serving += 1
            self._turn.notify_all()

    @property
    def waiting(self) -> int:
        """How many ask for it (the holder included)."""
        with self._turn:
            return self._tickets - self._serving

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()


def too_long(chars: int, limit: int) -> str:
    """Why a document is skipped for its length (the ingest report's reason; the API's 413)."""
    return (f"is {chars:,} characters long; the limit is {limit:,} (MAX_DOCUMENT_CHARS). Split it into "
            "articles, or raise MAX_DOCUMENT_CHARS")


def prune_missing(index: Index, seen: set[str], unreadable: set[str], report: IngestReport) -> None:
    """Remove the documents that are no longer there. A document that is there but could not be
    read this time is kept; so is everything, when a JSON Lines corpus had unreadable records
    (their ids are unknown, so any document could be one of them)."""
    broken_records = sorted(name for name in unreadable if JSONL_RECORD.search(name))
    if broken_records:
        report.skipped.append(("--prune", f"nothing pruned: {len(broken_records)} unreadable JSON Lines "
                               f"record(s) ({', '.join(broken_records[:3])}); fix them and ingest again"))
        return
    gone = sorted(index.document_ids() - seen - unreadable)
    for doc_id, state in index.document_states(gone).items():
        index.delete_ids(state.stale_ids(keep_hash=None))
        report.pruned.append(doc_id)


def _collect(items: Iterable[RawDocument | SourceError], documents: list[RawDocument],
             report: IngestReport, unreadable: set[str]) -> None:
    for item in items:
        if isinstance(item, SourceError):
            report.skipped.append((item.path, item.reason))
            unreadable.add(item.path)
        else:
            documents.append(item)


def _up_to_date(state: DocumentState, content_hash: str) -> bool:
    """Complete for this content and nothing else left over from an older version."""
    return state.is_complete(content_hash) and len(state.chunks_by_hash) == 1
