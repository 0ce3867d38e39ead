"""Wiring: Settings → embedder → index → retriever → (chat model) → chain, built once per process.

    assistant = Assistant.open(settings)
    answer = assistant.ask("Who directs the Russian Center?")

Every entry point (CLI, evaluation, API, UI) asks through ``ask`` or ``stream``, where a question's
cost is bounded (``assistant.limits``): refused past MAX_QUESTION_TOKENS, searched with its first
SEARCH_QUERY_TOKENS.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import Runnable

from assistant.answering import chain as answering
from assistant.config import Settings
from assistant.documents import Answer, Filters
from assistant.index.collection import Index
from assistant.index.embeddings import make_embedder
from assistant.index.profile import EmbedderProfile, profile_for
from assistant.limits import BoundedRetriever, TokenCounter, check_question
from assistant.retrieval.hybrid import HybridRetriever

if TYPE_CHECKING:
    from assistant.answering.llm import ModelGuard


@dataclass
class Assistant:
    """Everything a turn needs, shared by the CLI, the evaluation and the web service."""

    settings: Settings
    index: Index
    retriever: HybridRetriever
    chain: Runnable
    chat_model: Any = None
    guard: ModelGuard | None = None  # the model's deadline, retries and circuit breaker (with a model)
    profile: EmbedderProfile | None = None  # the embedder's calibrated thresholds (assistant.index.profile)

    @classmethod
    def open(cls, settings: Settings, chat_model: Any = None) -> Assistant:
        profile = profile_for(settings)  # first: a missing profile warns at start, an invalid one stops it
        index = Index.open(settings, make_embedder(settings))
        retriever = BoundedRetriever(index, settings)
        if chat_model is None and settings.llm_configured:
            from assistant.answering.llm import make_chat_model

            chat_model = make_chat_model(settings)
        guard = None
        if chat_model is not None:
            from assistant.answering.llm import ModelGuard

            guard = ModelGuard(settings)
        chain = answering.build_chain(settings, retriever, chat_model, guard, profile)
        return cls(settings, index, retriever, chain, chat_model, guard, profile)

    @property
    def tokens(self) -> TokenCounter:
        """The embedder's token counter (the retriever's)."""
        if isinstance(self.retriever, BoundedRetriever):
            return self.retriever.tokens
        return TokenCounter.for_embedder(self.index.embedder, self.settings)

    def ask(self, question: str, history: Sequence[Any] | None = None,
            filters: Filters | None = None, instructions: str = "", today: date | None = None) -> Answer:
        check_question(question, self.settings, self.tokens)
        return answering.ask(self.chain, question, history, filters, instructions, today)

    def stream(self, question: str, history: Sequence[Any] | None = None,
               filters: Filters | None = None, instructions: str = "") -> Iterator[dict[str, Any]]:
        check_question(question, self.settings, self.tokens)
        return answering.stream(self.chain, question, history, filters, instructions)
