"""The one door to the assistant: Settings → embedder → index → retriever → (chat model) → chain, built
once per process, and every read and write of the index, each write under the index's one lock.

    assistant = Assistant.open(settings)
    answer = assistant.ask("Who directs the Russian Center?")        # or stream(...) for events
    report = assistant.ingest([Path("data/articles")], urls=["https://news.example.com/rss"])
    report = assistant.push(pushed_document("cms-4711", fields))     # an article sent by a CMS
    assistant.delete("cms-4711")                                     # → chunks removed
    report = assistant.sync(FeedStore.open(settings.database_url))   # every followed feed
    assistant.stats(); assistant.health()

Every entry point (CLI, evaluation, API, UI) goes through here: none of them touches the index or takes
a lock itself. A question's cost is bounded in ``ask`` and ``stream`` (``assistant.limits``: refused
past MAX_QUESTION_TOKENS, searched with its first SEARCH_QUERY_TOKENS). Writes (``ingest``, ``push``,
``sync``, ``delete``) take ``lock``, a ``FairLock``: an ingest holds it one batch at a time, so a
publisher's PUT waits seconds for an upload, never a whole ingest, and writers go in the order they
asked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import Runnable

from assistant.answering import chain as answering
from assistant.config import Settings
from assistant.documents import Answer, Filters, RawDocument
from assistant.index.collection import Index
from assistant.index.embeddings import make_embedder
from assistant.index.profile import EmbedderProfile, profile_for
from assistant.ingest.pipeline import FairLock, IngestReport, ProgressCallback, ingest
from assistant.limits import BoundedRetriever, TokenCounter, check_question
from assistant.retrieval.hybrid import HybridRetriever

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from assistant.answering.llm import ModelGuard
    from assistant.feed_store import FeedStore
    from assistant.index.collection import Embedder
    from assistant.ingest.sync import SyncReport

log = logging.getLogger(__name__)


@dataclass
class Assistant:
    """Everything a turn needs and every change to the index, shared by the CLI, the evaluation and the
    web service. ``lock`` is the index's write lock (a ``FairLock``; any context manager will do)."""

    settings: Settings
    index: Index
    retriever: HybridRetriever
    chain: Runnable
    chat_model: Any = None
    guard: ModelGuard | None = None  # the model's deadline, retries and circuit breaker (with a model)
    profile: EmbedderProfile | None = None  # the embedder's calibrated thresholds (assistant.index.profile)
    lock: AbstractContextManager[Any] = field(default_factory=FairLock, repr=False, compare=False)

    @classmethod
    def open(cls, settings: Settings, chat_model: Any = None, *, rebuild: bool = False) -> Assistant:
        """The assistant over the index ``settings`` name; ``rebuild`` drops that index first (after
        changing the embedding model: everything must then be ingested again)."""
        # first: a missing profile warns at start, an invalid one stops it
        profile = profile_for(settings.embedding)
        if rebuild:
            Index.drop(settings.index)
        index = Index.open(settings.index, make_embedder(settings.embedding, settings.model))
        tokens = TokenCounter.for_embedder(index.embedder, settings.embedding, settings.tokenizer)
        retriever = BoundedRetriever(index, settings.retrieval, tokens)
        if chat_model is None and settings.llm_configured:
            from assistant.answering.llm import make_chat_model

            chat_model = make_chat_model(settings.model)
        guard = None
        if chat_model is not None:
            from assistant.answering.llm import ModelGuard

            guard = ModelGuard(settings.model)
        chain = answering.build_chain(settings, retriever, chat_model, guard, profile)
        return cls(settings, index, retriever, chain, chat_model, guard, profile)

    def without_model(self) -> Assistant:
        """The same index, retriever and lock, answering extractively (no model is ever called)."""
        if self.chat_model is None:
            return self
        chain = answering.build_chain(self.settings, self.retriever, None, None, self.profile)
        return replace(self, chain=chain, chat_model=None, guard=None)

    @property
    def tokens(self) -> TokenCounter:
        """The embedder's token counter (the retriever's)."""
        if isinstance(self.retriever, BoundedRetriever):
            return self.retriever.tokens
        settings = self.settings
        return TokenCounter.for_embedder(self.index.embedder, settings.embedding, settings.tokenizer)

    @property
    def embedder(self) -> Embedder:
        """The e5 embedder of the index (questions are embedded with it too)."""
        return self.index.embedder

    # --- questions ---------------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[Any] | None = None,
            filters: Filters | None = None, instructions: str = "", today: date | None = None) -> Answer:
        check_question(question, self.settings.answers, self.tokens)
        return answering.ask(self.chain, question, history, filters, instructions, today)

    def stream(self, question: str, history: Sequence[Any] | None = None,
               filters: Filters | None = None, instructions: str = "") -> Iterator[dict[str, Any]]:
        check_question(question, self.settings.answers, self.tokens)
        return answering.stream(self.chain, question, history, filters, instructions)

    # --- writes: each under the lock -------------------------------------------------------------
    def ingest(self, paths: Iterable[Path] = (), urls: Iterable[str] = (), *, prune: bool = False,
               progress: ProgressCallback | None = None) -> IngestReport:
        """Bring the index in line with the files under ``paths`` and the pages (or feeds' and sitemaps'
        articles) at ``urls``; with ``prune``, remove the documents no longer there. The lock is held
        a batch at a time (``assistant.ingest.pipeline``)."""
        return ingest(list(paths), self.settings, self.index, urls=list(urls), prune=prune, progress=progress,
                      lock=self.lock)

    def push(self, *documents: RawDocument) -> IngestReport:
        """Write documents that came another way (a CMS's, ``ingest.sources.pushed_document``): added,
        updated or unchanged as their content hash says; over MAX_DOCUMENT_CHARS, skipped."""
        return ingest([], self.settings, self.index, documents_read=list(documents), lock=self.lock)

    def delete(self, doc_id: str) -> int:
        """Remove a document and every chunk of it; how many chunks. DocumentNotFound when none is
        indexed under ``doc_id`` (``stats()`` counts the documents)."""
        with self.lock:
            return int(self.index.delete_document(doc_id))

    def sync(self, feeds: FeedStore, *, refresh: bool = False) -> SyncReport:
        """Ingest the new or updated articles of every feed in ``feeds``; a report per feed (one feed's
        failure is reported, never raised). ``refresh`` re-fetches unchanged entries' pages too."""
        from assistant.ingest.sync import sync_feeds

        return sync_feeds(self.settings, self.index, feeds, lock=self.lock, refresh=refresh)

    # --- reads ---------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Documents, chunks, languages, outlets, date range and the embedding models of the index."""
        return self.index.stats()

    def indexed(self, doc_ids: Iterable[str]) -> set[str]:
        """Which of ``doc_ids`` are indexed."""
        return set(self.index.document_states(list(doc_ids)))

    def first_passages(self, doc_ids: Sequence[str] | None = None, *, limit: int | None = None,
                       leave_out_sections: Sequence[str] = ()) -> list[dict[str, Any]]:
        """One record per indexed article (of ``doc_ids``, else any, up to ``limit``), from its first
        passage: the article's fields (doc_id, title, url, outlet, date, lang, section, ...) and "text"."""
        where: dict[str, Any] = {"chunk_index": 0}
        if doc_ids is not None:
            where = {"$and": [{"doc_id": {"$in": list(doc_ids)}}, where]}
        if leave_out_sections:
            where = {"$and": [where, {"section": {"$nin": list(leave_out_sections)}}]}
        rows = self.index.get(where=where, include=["metadatas", "documents"], limit=limit)
        return [{**(meta or {}), "text": text or ""}
                for meta, text in zip(rows.get("metadatas") or [], rows.get("documents") or [], strict=False)]

    def passages(self, doc_ids: Sequence[str], include: Sequence[str] = ("metadatas", "documents")
                 ) -> dict[str, list[Any]]:
        """Every passage of the articles ``doc_ids``: {"ids", and each of ``include`` (metadatas,
        documents, embeddings)}, in the same order."""
        return self.index.get(where={"doc_id": {"$in": list(doc_ids)}}, include=list(include))

    def health(self) -> dict[str, Any]:
        """Whether the index answers, and a search through it works (a search can fail where a count
        does not: a damaged chunk, a vector index out of step with the records). Never raises: the
        causes go to the log."""
        try:
            chunks = self.index.count()
        except Exception as exc:  # the edge: any failure is reported, the cause logged
            log.warning("health: index unreachable: %s", exc)
            return {"reachable": False, "error": "The index cannot be reached; see the server log."}
        report: dict[str, Any] = {"reachable": True, "chunks": chunks}
        if not chunks:
            report["notice"] = "The index is empty: ingest articles (assistant ingest PATH)."
            return report
        try:
            self.retriever.search("health check", None, 1)
            report["searchable"] = True
        except Exception:
            log.exception("health: searching the index fails")
            report.update(searchable=False, error="Searching the index fails; see the server log.")
        return report

    def model_calls(self) -> dict[str, Any]:
        """How the model's calls go ({"failing", "calls"}: the circuit breaker's report); {} without one."""
        if self.guard is None:
            return {}
        return {"failing": self.guard.breaker.failing, "calls": self.guard.breaker.report()}
