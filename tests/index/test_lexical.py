"""The word index (BM25 in SQLite FTS5, or PostgreSQL): it grows and shrinks in place, and its counts stay
exact."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.documents import Filters
from assistant.errors import IndexNotReady
from assistant.index import lexical
from assistant.index.lexical import Entry, LexicalStore, PostgresWords
from assistant.service import Assistant
from tests.conftest import ARTICLES, make_settings


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], LexicalStore]:
    """A new, empty word index: a SQLite file, or a schema of its own in a real PostgreSQL server."""
    if request.param == "sqlite":
        return lambda: LexicalStore.open(tmp_path / "words.sqlite3")
    url = request.getfixturevalue("postgres_url")
    collection = f"t{uuid.uuid4().hex[:12]}"
    return lambda: PostgresWords.connect_to(url, collection)


def entry(chunk_id: str, text: str, lang: str = "en", date_int: int = 0) -> Entry:
    return Entry.of(chunk_id, text, {"doc_id": chunk_id.split("#")[0], "lang": lang, "date_int": date_int,
                                     "title": ""})


def test_words_are_counted_as_chunks_come_and_go(open_store: Callable[[], LexicalStore]) -> None:
    store = open_store()
    store.upsert([entry("a#0", "Harbour harbour reopens"), entry("b#0", "Harbour master speaks", "nl")])
    vocabulary = store.vocabulary()
    assert (vocabulary.chunks, len(vocabulary), vocabulary.largest) == (2, 4, 2)
    assert (vocabulary["harbour"], vocabulary.get("master"), vocabulary.get("storm", 0)) == (2, 1, 0)
    assert "storm" not in vocabulary and store.languages() == ["en", "nl"]
    # a replaced chunk loses its old words; a deleted one loses all of them
    store.upsert([entry("a#0", "Storm closes the port")])
    vocabulary = store.vocabulary()
    assert (vocabulary.chunks, vocabulary.get("harbour"), vocabulary.get("reopens", 0), vocabulary.get("storm")) \
        == (2, 1, 0, 1)
    store.delete(["b#0", "never-added#3"])
    vocabulary = store.vocabulary()
    assert (vocabulary.chunks, len(vocabulary), vocabulary.get("harbour", 0)) == (1, 4, 0)
    assert store.languages() == ["en"]
    assert [cid for cid, _ in store.search("storm harbour", 10)] == ["a#0"]


def test_search_ranks_by_bm25_and_filters_like_chroma(open_store: Callable[[], LexicalStore]) -> None:
    store = open_store()
    store.upsert([
        entry("old#0", "Zephyrine storm damaged the piers", date_int=20240105),
        entry("new#0", "Zephyrine Zephyrine storm again, Zephyrine", "nl", date_int=20250301),
        entry("other#0", "Elections in the north", date_int=20250301),
    ])
    found = store.search("Zephyrine storm", 10)
    assert [cid for cid, _ in found] == ["new#0", "old#0"] and found[0][1] > found[1][1] > 0
    assert [cid for cid, _ in store.search("Zephyrine", 10, Filters(lang="EN"))] == ["old#0"]
    assert [cid for cid, _ in store.search("Zephyrine", 10, Filters(date_from="2025-01-01"))] == ["new#0"]
    assert store.search("Xylophonist", 10) == [] and store.search("", 10) == []
    # quotes and FTS5 syntax in a question are words, never query syntax
    assert store.search('Zephyrine" OR NOT "x*', 10)[0][0] == "new#0"


def test_very_common_words_do_not_propose_candidates(
    open_store: Callable[[], LexicalStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lexical, "COMMON_MIN", 2)
    store = open_store()
    store.upsert([entry(f"d{i}#0", f"the report number {i}") for i in range(9)] + [entry("x#0", "the storm")])
    assert store.search("the", 10) == []  # in every chunk: proposes nothing
    assert [cid for cid, _ in store.search("the storm", 10)] == ["x#0"]
    assert store.vocabulary()["the"] == 10  # still counted for the IDF weights


def test_the_rarest_words_propose_until_their_chunks_reach_the_budget(
    open_store: Callable[[], LexicalStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lexical, "POSTINGS", 4)
    store = open_store()
    store.upsert([entry(f"r{i}#0", f"harbour report {i}") for i in range(4)]
                 + [entry("q#0", "Quortle harbour"), entry("s#0", "Quortle storm")])
    # "quortle" (2 chunks) proposes; "harbour" (5) would pass the budget of 4: it does not propose
    assert {cid for cid, _ in store.search("Quortle harbour", 10)} == {"q#0", "s#0"}
    # the rarest word proposes even alone above the budget
    assert len(store.search("harbour", 10)) == 5


def test_an_index_without_its_word_index_gets_one_on_open(sample_settings: Settings) -> None:
    """An index built before the word index existed (or whose word file was lost) is completed from
    Chroma when opened, and searched by its words again."""
    settings = sample_settings  # a private copy of the sample index
    assistant = Assistant.open(settings)
    chunks = assistant.index.count()
    assert chunks and assistant.index.words.size == chunks
    assistant.index.words.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.index.words_path}{suffix}").unlink(missing_ok=True)
    reopened = Assistant.open(settings)
    assert reopened.index.words.size == chunks
    best = reopened.retriever.search("Zarubezhneft Gazprom Petrovietnam", k=1)[0]
    assert best.lexical_coverage == pytest.approx(1.0) and best.lexical_rank == 0


def test_a_word_entry_without_vectors_is_skipped(sample_settings: Settings) -> None:
    """A crash between the word write and the vector write leaves words without a chunk: searches
    pass over it (the next ingest writes both)."""
    assistant = Assistant.open(sample_settings)
    assistant.index.words.upsert([entry("ghost.txt#0", "Xylophonist Quortle harbour")])
    found = assistant.retriever.search("Xylophonist Quortle", k=5)
    assert "ghost.txt" not in [p.doc_id for p in found]


def test_bm25_is_lucenes_over_the_chunks_words(open_store: Callable[[], LexicalStore]) -> None:
    store = open_store()
    store.upsert([entry("a#0", "storm storm harbour"), entry("b#0", "harbour master of the north")])
    vocabulary = store.vocabulary()
    assert vocabulary.average_length == 4.0
    idf = math.log(1 + (2 - 1 + 0.5) / (1 + 0.5))  # "storm": one chunk of two
    norm = 1.5 * (1 - 0.75 + 0.75 * 3 / 4.0)
    assert vocabulary.bm25(["storm"], ["storm", "storm", "harbour"]) == pytest.approx(idf * 2 / (norm + 2))
    assert vocabulary.bm25(["storm", "storm"], ["storm", "storm", "harbour"]) == pytest.approx(2 * idf * 2 / (norm + 2))
    assert vocabulary.bm25(["gale"], ["storm"]) == 0.0


def test_a_word_index_of_an_older_version_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "words.sqlite3"
    store = LexicalStore.open(path)
    store.upsert([entry("a#0", "storm")])
    store.db.execute("UPDATE facts SET value = 1 WHERE key = 'schema'")
    store.close()
    assert LexicalStore.open(path).size == 0  # emptied; Index.open fills it again from Chroma


def test_statistics_come_from_the_document_table(open_store: Callable[[], LexicalStore]) -> None:
    store = open_store()
    store.upsert([entry("a#0", "one", date_int=20250105), entry("a#1", "two", date_int=20250105),
                  entry("b#0", "three", "nl", date_int=20240301), entry("c#0", "four")])
    assert store.stats() == {"documents": 3, "languages": {"en": 2, "nl": 1}, "outlets": {},
                             "date_range": ["2024-03-01", "2025-01-05"]}
    store.delete(["a#0"])
    assert store.stats()["documents"] == 3  # a#1 is still there
    store.delete(["a#1", "b#0"])
    assert store.stats() == {"documents": 1, "languages": {"en": 1}, "outlets": {}, "date_range": None}


def test_an_index_whose_words_are_in_postgresql(tmp_path: Path, postgres_url: str) -> None:
    """LEXICAL_URL: the words of every replica in one PostgreSQL server; what one writes, another
    finds by its words at once; a wrong address is a clear error."""
    from assistant.ingest.pipeline import ingest

    settings = make_settings(tmp_path, lexical_url=postgres_url, collection="pgtest")
    writer = Assistant.open(settings)
    assert isinstance(writer.index.words, PostgresWords)
    ingest([ARTICLES], settings, writer.index)
    reader = Assistant.open(make_settings(tmp_path, lexical_url=postgres_url, collection="pgtest"))
    best = reader.retriever.search("Zarubezhneft Gazprom Petrovietnam", k=3)[0]
    assert best.doc_id == "003_024cb3686d4085ed.txt" and best.lexical_rank == 0
    assert reader.index.stats()["documents"] == 5 and reader.index.words.size == reader.index.count()
    assert not (tmp_path / "vectorstore" / "words-pgtest.sqlite3").exists()
    writer.index.delete_document("003_024cb3686d4085ed.txt")
    assert "003_024cb3686d4085ed.txt" not in [p.doc_id for p in reader.retriever.search("Zarubezhneft", k=5)]
    with pytest.raises(IndexNotReady, match="LEXICAL_URL"):
        Assistant.open(make_settings(tmp_path, lexical_url="postgresql://nobody@127.0.0.1:1/none"))


def test_excluded_sections_are_left_out_and_chunks_without_one_stay(open_store: Callable[[], LexicalStore]) -> None:
    store = open_store()
    store.upsert([Entry.of("op#0", "Zephyrine storm column", {"doc_id": "op", "section": "opinion"}),
                  Entry.of("ad#0", "Zephyrine storm offer", {"doc_id": "ad", "section": "sponsored"}),
                  Entry.of("plain#0", "Zephyrine storm report", {"doc_id": "plain"})])
    kept = store.search("Zephyrine storm", 10, Filters(exclude_sections=("Opinion", "sponsored")))
    assert [cid for cid, _ in kept] == ["plain#0"]
    assert {cid for cid, _ in store.search("Zephyrine storm", 10, Filters(exclude_sections=("opinion",)))} == \
        {"ad#0", "plain#0"}


def test_excluded_articles_are_left_out_of_the_word_search(tmp_path: Path) -> None:
    store = LexicalStore.open(tmp_path / "words.sqlite3")
    store.upsert([entry("gold#0", "Zephyrine storm damaged the piers"),
                  entry("gold#1", "Zephyrine storm closed the port"),
                  entry("other#0", "Zephyrine storm reports")])
    kept = store.search("Zephyrine storm", 10, Filters(exclude_doc_ids=("gold",)))
    assert [cid for cid, _ in kept] == ["other#0"]
    assert lexical.filter_sql(Filters(exclude_doc_ids=("gold", "x"))) == (" AND c.doc_id NOT IN (?,?)",
                                                                          ["gold", "x"])


def test_a_word_file_from_before_sections_gets_the_column_and_keeps_its_chunks(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "words.sqlite3"
    store = LexicalStore.open(path)
    store.upsert([entry("old#0", "Zephyrine storm damaged the piers")])
    store.close()
    with sqlite3.connect(path) as db:  # the chunks table as files made before sections have it
        db.execute("ALTER TABLE chunks DROP COLUMN section")
    reopened = LexicalStore.open(path)
    assert "section" in {row[1] for row in reopened.db.execute("PRAGMA table_info(chunks)")}
    assert [cid for cid, _ in reopened.search("Zephyrine", 10, Filters(exclude_sections=("opinion",)))] == \
        ["old#0"]
    reopened.upsert([Entry.of("op#0", "Zephyrine column", {"doc_id": "op", "section": "opinion"})])
    assert [cid for cid, _ in reopened.search("Zephyrine", 10, Filters(exclude_sections=("opinion",)))] == \
        ["old#0"]


def test_filters_name_their_sections_for_chroma_and_sql() -> None:
    from assistant.retrieval.hybrid import chroma_where

    filters = Filters.of(lang="en", exclude_sections=[" Opinion ", "opinion", "", "Sponsored  Content"])
    assert filters.exclude_sections == ("opinion", "sponsored content")
    assert chroma_where(filters) == {"$and": [{"lang": "en"},
                                              {"section": {"$nin": ["opinion", "sponsored content"]}}]}
    assert lexical.filter_sql(filters) == (" AND c.lang = ? AND c.section NOT IN (?,?)",
                                           ["en", "opinion", "sponsored content"])
