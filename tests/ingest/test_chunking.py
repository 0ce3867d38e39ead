"""Chunking: token budget, sentence boundaries, overlap, offsets, metadata and stable ids."""

from __future__ import annotations

import itertools

import pytest

from assistant.documents import Article, RawDocument
from assistant.ingest.chunking import Chunker, chunk_id
from assistant.ingest.cleaning import clean
from assistant.ingest.sources import read_paths
from assistant.tokens import get_encoding
from tests.conftest import ARTICLES


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    return [clean(raw) for raw in read_paths([ARTICLES]) if isinstance(raw, RawDocument)]


@pytest.fixture(scope="module")
def chunker(tmp_path_factory: pytest.TempPathFactory) -> Chunker:
    return Chunker(get_encoding("cl100k_base", tmp_path_factory.mktemp("tiktoken")), 110, 30)


def test_chunks_are_exact_slices_within_budget(articles: list[Article], chunker: Chunker) -> None:
    assert [len(chunker.split(article)) for article in articles] == [14, 5, 8, 30, 9]
    for article in articles:
        chunks = chunker.split(article)
        for chunk in chunks:
            assert article.text[chunk.start:chunk.end] == chunk.text
            assert chunker.count(chunk.text) <= chunker.chunk_tokens + 5  # joins may add a token
        covered = set()
        for chunk in chunks:
            covered.update(range(chunk.start, chunk.end))
        words = [i for i, ch in enumerate(article.text) if not ch.isspace()]
        assert all(i in covered for i in words), f"{article.doc_id}: text left out of every chunk"


def test_chunks_end_at_sentence_boundaries_and_overlap(articles: list[Article], chunker: Chunker) -> None:
    chunks = chunker.split(articles[0])
    for chunk in chunks[:-1]:
        assert chunk.text.rstrip()[-1] in ".!?”\"')", chunk.text[-40:]
    overlapping = sum(b.start < a.end for a, b in itertools.pairwise(chunks))
    assert overlapping >= len(chunks) // 2


def test_a_very_long_sentence_is_cut_by_tokens(chunker: Chunker) -> None:
    sentence = " ".join(f"word{i}" for i in range(600)) + "."
    article = Article(doc_id="long.txt", text=sentence, content_hash="f" * 64, lang="en")
    chunks = chunker.split(article)
    assert len(chunks) == 15
    assert all(chunker.count(c.text) <= chunker.chunk_tokens for c in chunks)
    assert "word599" in chunks[-1].text


def test_metadata_and_ids(articles: list[Article], chunker: Chunker) -> None:
    article = next(a for a in articles if a.date)
    chunks = chunker.split(article)
    for index, chunk in enumerate(chunks):
        assert chunk.chunk_id == chunk_id(article.doc_id, article.content_hash, index)
        assert chunk.metadata["doc_id"] == article.doc_id
        assert chunk.metadata["title"] == article.title
        assert chunk.metadata["date"] == article.date
        assert chunk.metadata["date_int"] == int(article.date.replace("-", ""))
        assert chunk.metadata["lang"] == article.lang
        assert chunk.metadata["n_chunks"] == len(chunks)
        assert (chunk.metadata["start"], chunk.metadata["end"]) == (chunk.start, chunk.end)
    assert [c.chunk_id for c in chunker.split(article)] == [c.chunk_id for c in chunks]  # stable


def test_overlap_must_be_smaller_than_chunk(chunker: Chunker) -> None:
    with pytest.raises(ValueError, match="overlap"):
        Chunker(chunker.encoding, 50, 50)


def test_tiktoken_works_offline_from_bundled_encodings(tmp_path_factory: pytest.TempPathFactory) -> None:
    encoding = get_encoding("o200k_base", tmp_path_factory.mktemp("o200k"))
    assert encoding.decode(encoding.encode("Xin chào Hà Nội")) == "Xin chào Hà Nội"
