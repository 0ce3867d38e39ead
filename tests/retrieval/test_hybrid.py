"""Hybrid retrieval over the sample articles: across languages, and with metadata filters."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.documents import Filters
from assistant.errors import QuestionError
from assistant.index.embeddings import SparseEncoder
from assistant.retrieval.hybrid import NewsRetriever, chroma_where
from assistant.service import Assistant
from assistant.text import bm25_idf, tokenize
from tests.conftest import ARTICLES

DUTCH = "003_024cb3686d4085ed.txt"


@pytest.mark.parametrize(
    ("question", "expected", "within"),
    [
        ("Who directs the Russian Center for Science and Culture in Vietnam?", "000_9816ccc5144c5afd.txt", 1),
        # English question, Dutch article
        ("When will the 26th session of the intergovernmental commission take place?", DUTCH, 1),
        # Vietnamese question, English article
        ("Ai đã tiếp Thứ trưởng Ngoại giao Nga Rudenko sau cuộc tham vấn?", "002_c0aacf7ec5a8a527.txt", 1),
        # Dutch questions, English article: the one Dutch article shares their words, so it may lead
        ("Hoeveel mensen zijn in Rusland opgeleid in kernenergie?", "000_9816ccc5144c5afd.txt", 2),
        ("Wie is de directeur van het Russisch Centrum voor Wetenschap en Cultuur?",
         "000_9816ccc5144c5afd.txt", 2),
        ("Wanneer vindt de 26e zitting van de intergouvernementele commissie plaats?", DUTCH, 1),
    ],
)
def test_questions_find_their_article_in_any_language(
    sample_assistant: Assistant, question: str, expected: str, within: int
) -> None:
    passages = sample_assistant.retriever.search(question, k=3)
    assert expected in [p.doc_id for p in passages[:within]]
    assert len({p.doc_id for p in passages}) == len(passages)  # grouped: one passage per document


def test_language_filter(sample_assistant: Assistant) -> None:
    passages = sample_assistant.retriever.search("Russia Vietnam cooperation", Filters(lang="nl"), k=5)
    assert [p.doc_id for p in passages] == [DUTCH]


def test_outlet_and_date_filters(sample_assistant: Assistant) -> None:
    by_outlet = sample_assistant.retriever.search("Russia Vietnam", Filters(outlet="Việt Nam News"), k=5)
    assert {p.doc_id for p in by_outlet} == {"001_f0321c9b8754cbef.txt", "002_c0aacf7ec5a8a527.txt"}
    march_on = sample_assistant.retriever.search("Russia Vietnam", Filters(date_from="2025-03-01"), k=5)
    assert {p.doc_id for p in march_on} == {"001_f0321c9b8754cbef.txt"}
    february = sample_assistant.retriever.search(
        "Russia Vietnam", Filters(date_from="2025-02-01", date_to="2025-02-28"), k=5)
    assert {p.doc_id for p in february} == {"002_c0aacf7ec5a8a527.txt"}


def test_excluded_articles_never_come_back_however_well_they_match(sample_assistant: Assistant) -> None:
    question = "Who directs the Russian Center for Science and Culture in Vietnam?"
    gold = "000_9816ccc5144c5afd.txt"
    assert sample_assistant.retriever.search(question, k=3)[0].doc_id == gold
    left = sample_assistant.retriever.search(question, Filters(exclude_doc_ids=(gold, DUTCH)), k=10)
    assert left and {p.doc_id for p in left}.isdisjoint({gold, DUTCH})  # dense and word search alike
    answer = sample_assistant.ask(question, filters=Filters(exclude_doc_ids=(gold,)))
    assert gold not in answer.retrieved_doc_ids and gold not in answer.cited_doc_ids


def test_exclude_doc_ids_is_a_list_of_ids() -> None:
    assert Filters.of(exclude_doc_ids=[" a.txt ", "a.txt", "", "b"]).exclude_doc_ids == ("a.txt", "b")
    assert chroma_where(Filters(exclude_doc_ids=("a.txt",))) == {"doc_id": {"$nin": ["a.txt"]}}
    with pytest.raises(QuestionError, match="exclude_doc_ids must be a list"):
        Filters(exclude_doc_ids="a.txt")  # type: ignore[arg-type]


def test_exact_names_come_from_bm25(sample_assistant: Assistant) -> None:
    passages = sample_assistant.retriever.search("Zarubezhneft Gazprom Petrovietnam", k=5)
    assert passages[0].doc_id == DUTCH
    assert passages[0].lexical_rank == 0


def test_langchain_retriever_wrapper(sample_assistant: Assistant) -> None:
    retriever = NewsRetriever(retriever=sample_assistant.retriever, k=2)
    documents = retriever.invoke("Joint Venture Bank")
    assert len(documents) == 2
    assert documents[0].metadata["doc_id"] == DUTCH
    assert "Joint Venture Bank" in documents[0].page_content


def test_where_clause_and_tokenizer() -> None:
    assert chroma_where(None) is None
    assert chroma_where(Filters(lang="EN")) == {"lang": "en"}
    assert chroma_where(Filters(lang="en", date_to="2025-04-02")) == {
        "$and": [{"lang": "en"}, {"date_int": {"$lte": 20250402}}]}
    with pytest.raises(QuestionError, match="From date 'April' is not a date: write it as YYYY-MM-DD"):
        chroma_where(Filters(date_from="April"))
    assert Filters.of(" nl ", "", " 2025-03-01 ", None) == Filters(lang="nl", date_from="2025-03-01")
    assert tokenize("Hà Nội, 2025!") == ["hà", "nội", "2025"]


def test_lexical_match_is_the_share_of_the_question_idf(sample_assistant: Assistant) -> None:
    retriever = sample_assistant.retriever
    vocabulary = retriever.vocabulary()
    names = "Zarubezhneft Gazprom Petrovietnam"
    best = retriever.search(names, k=1)[0]
    assert best.doc_id == DUTCH and best.lexical_coverage == pytest.approx(1.0)  # it names all three
    assert best.lexical_rank == 0 and best.lexical_score > 0

    def weight(term: str) -> float:
        return bm25_idf(vocabulary.get(term, 0), vocabulary.chunks)

    # a word no article has still counts in the question's weight: no passage matches it all
    partial = retriever.search(f"{names} Xylophonist", k=1)[0]
    assert partial.chunk_id == best.chunk_id
    assert partial.lexical_coverage == pytest.approx(
        sum(weight(t) for t in tokenize(names)) / sum(weight(t) for t in tokenize(f"{names} Xylophonist")))
    assert 0.3 < partial.lexical_coverage < 0.8
    assert not any(p.lexical_coverage for p in retriever.search("Xylophonist", k=5))
    # the fused score is the calibrated cosine plus the weighted lexical and sparse matches
    settings = sample_assistant.settings
    for passage in retriever.search(names, k=5):
        assert passage.score == pytest.approx(
            passage.calibrated + settings.lexical_weight * passage.lexical_coverage
            + settings.sparse_weight * (passage.sparse_similarity or 0.0), abs=1e-6)


def test_sparse_vectors_match_concepts_across_languages(sample_assistant: Assistant) -> None:
    """e5's latent terms: a Vietnamese phrase shares none of the words of the English passage that
    names the same centre, and still matches it far better than an unrelated passage."""
    index = sample_assistant.index
    assert index.sparse is not None
    rows = {chunk_id: (text, metadata) for chunk_id, metadata, text in index.iter_rows(["metadatas", "documents"])}
    assert all("sparse" in metadata for _, metadata in rows.values())  # every chunk carries its vector
    phrase = "Trung tâm Khoa học và Văn hóa Nga"
    query = index.sparse.query(phrase)

    def chunk(needle: str) -> tuple[str, float]:
        text, metadata = next(row for row in rows.values() if needle in str(row[0]))
        indices, values = SparseEncoder.unpack(metadata["sparse"])
        return str(text), float(values @ query[indices])

    centre_text, centre = chunk("Russian Center for Science and Culture")
    assert not set(tokenize(centre_text)) & set(tokenize(phrase))
    assert centre > chunk("Zarubezhneft")[1] + 0.05
    # the search uses them, and the packed vectors are internal: no passage or source shows them
    found = sample_assistant.retriever.search(phrase, k=5)
    centre_passage = next(p for p in found if p.doc_id == "000_9816ccc5144c5afd.txt")
    assert centre_passage.sparse_similarity is not None and centre_passage.sparse_similarity > 0.2
    for passage in found:
        assert "sparse" not in passage.metadata


def test_sparse_vectors_pack_and_score() -> None:
    encoder = SparseEncoder(terms=32)
    indices, values = encoder.encode("Murashkin directs the Russian Center for Science and Culture.")
    assert len(indices) == 32 and np.all(np.diff(indices.astype(int)) > 0)
    assert float(values @ values) == pytest.approx(1.0, abs=1e-5)
    unpacked = encoder.unpack(encoder.packed("Murashkin directs the Russian Center for Science and Culture."))
    assert np.array_equal(unpacked[0], indices) and np.allclose(unpacked[1], values, atol=1e-3)
    query = encoder.query("Who directs the Russian centre?")
    assert float(unpacked[1] @ query[unpacked[0]]) > 0.2


def test_a_replaced_article_is_searched_by_its_new_words_even_with_the_same_chunk_count(
    sample_settings: Settings, tmp_path: Path
) -> None:
    """The lexical side follows the collection's version, not its size."""
    from assistant.ingest.pipeline import ingest

    serving = Assistant.open(sample_settings)
    assert serving.retriever.search("Xylophonist Quortle", k=1)[0].lexical_coverage < 0.5
    folder = tmp_path / "articles"
    shutil.copytree(ARTICLES, folder)
    target = folder / "000_9816ccc5144c5afd.txt"
    target.write_text(target.read_text(encoding="utf-8").replace("Murashkin", "Xylophonist Quortle"),
                      encoding="utf-8")
    writer = Assistant.open(sample_settings)  # another client, as another process would be
    before = serving.index.count()
    ingest([folder], sample_settings, writer.index)
    assert serving.index.count() == before  # same number of chunks: a count would not notice
    best = serving.retriever.search("Xylophonist Quortle", k=1)[0]
    assert best.doc_id == "000_9816ccc5144c5afd.txt"
    assert best.lexical_coverage == pytest.approx(1.0)


def test_an_index_written_by_another_process_is_searched_fresh(sample_settings: Settings, tmp_path: Path) -> None:
    """`assistant ingest` and `assistant delete` in other processes while this one serves: new articles
    are found by every signal, deleted ones are never returned, nothing fails."""
    serving = Assistant.open(sample_settings)
    assert serving.ask("Who directs the Russian Center for Science and Culture in Vietnam?").sources
    new = tmp_path / "new"
    new.mkdir()
    (new / "harbour.txt").write_text(
        "Quortle harbour reopens after storm\n\nThe harbour of Quortle reopened on Monday after the storm "
        "Zephyrine damaged its piers. The harbour master, Anneliese Vandermolen, said 40 ships were waiting.\n",
        encoding="utf-8")
    env = {**os.environ, "CHROMA_PATH": str(sample_settings.chroma_path),
           "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken")}
    for command in (["ingest", str(new)], ["delete", "000_9816ccc5144c5afd.txt"]):
        result = subprocess.run([sys.executable, "-m", "assistant.cli", *command], env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    answer = serving.ask("Who is the harbour master of Quortle?")
    assert answer.sources[0].doc_id == "harbour.txt"
    assert "Vandermolen" in answer.text
    passages = serving.retriever.search("Who directs the Russian Center for Science and Culture in Vietnam?", k=10)
    assert "000_9816ccc5144c5afd.txt" not in [p.doc_id for p in passages]
    dense = serving.retriever.dense(serving.index.embedder.embed_query("harbour master Quortle"), 3, None)
    assert dense[0].doc_id == "harbour.txt"
