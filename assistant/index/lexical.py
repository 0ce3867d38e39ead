"""The words side of the index: BM25 over every chunk in SQLite FTS5, grown and shrunk in place.

    words = LexicalStore.open(settings.index.words_path)
    words.upsert(chunks)                        # in one transaction: FTS5 rows and word counts
    words.search("Murashkin centre", limit=50)  # [(chunk_id, BM25 score)], best first
    words.vocabulary().get("murashkin")         # in how many chunks a word is
    words.delete(["000_article.txt#0"])

Why a database and not a copy in each process: adding one article touches only its rows, so it is
searchable the moment its transaction commits, in this process and every other one reading the same
file (WAL: readers never wait for the writer), and nothing is rebuilt from all chunks. Memory stays
flat as the corpus grows: SQLite pages in what a query reads. The chunk texts and vectors stay in
Chroma; this file holds each chunk's words (as our ``tokenize`` reads them, so every language splits
the same way), the filter fields, and each word's document frequency, which the answerers' IDF
weights need (FTS5's own counts are per term of its tokenizer; ours are per word of ``tokenize``).
Open-source Chroma has no BM25 and no sparse index of its own ("not enabled in local", "not
implemented for local executor", Chroma 1.5), so the words cannot live in the collection.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import IndexSettings
from assistant.documents import Filters
from assistant.errors import IndexNotReady
from assistant.text import bm25_idf, tokenize

SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS words USING fts5(
    text, tokenize = "unicode61 remove_diacritics 0 tokenchars '_'");
CREATE TABLE IF NOT EXISTS chunks (
    row INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL,
    lang TEXT NOT NULL, outlet TEXT NOT NULL, date_int INTEGER NOT NULL, section TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS terms (term TEXT PRIMARY KEY, chunks INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS languages (lang TEXT PRIMARY KEY, chunks INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, lang TEXT NOT NULL, outlet TEXT NOT NULL, date_int INTEGER NOT NULL,
    chunks INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
"""
SCHEMA_VERSION = 3  # bump when what the tables hold changes: older files are rebuilt
BM25_K1 = 1.5
BM25_B = 0.75
ADD_DOCUMENT = ("INSERT INTO documents VALUES (?, ?, ?, ?, 1) ON CONFLICT(doc_id) DO UPDATE SET "
                "chunks = documents.chunks + 1, lang = excluded.lang, outlet = excluded.outlet, "
                "date_int = excluded.date_int")
ADD_LANGUAGE = ("INSERT INTO languages VALUES (?, ?) ON CONFLICT(lang) DO UPDATE SET "
                "chunks = languages.chunks + ?")
# A word in more than this share of the chunks (and in more than COMMON_MIN of them) does not
# propose candidates: its BM25 weight is near nothing, and scoring every chunk that has "the" is
# what makes a query slow on a million chunks. It still counts in the lexical match of candidates.
COMMON_SHARE = 0.2
COMMON_MIN = 10_000
# The rarest words propose until the chunks they are in add up to this many: FTS5 scores every
# chunk a proposing word is in, and a question's rare words decide its best BM25 chunks (their IDF
# is what counts). On the news index grown to 1M chunks, search p50 / p95: 100,000 → 224 / 319 ms,
# 30,000 → 166 / 273 ms, 10,000 → 137 / 196 ms (benchmarks/scale.py); xling and nyt dev figures
# within 0.1 at 30,000 (a question's words are in at most 2,473 chunks each there).
POSTINGS = 30_000


def chunk_words(title: str, text: str) -> list[str]:
    """The words of a chunk as BM25 and the IDF weights count them: its headline and its text."""
    return tokenize(f"{title} {text}")


@dataclass(frozen=True)
class Entry:
    """One chunk as the words side keeps it."""

    chunk_id: str
    words: list[str]
    doc_id: str = ""
    lang: str = ""
    outlet: str = ""
    date_int: int = 0
    section: str = ""

    @classmethod
    def of(cls, chunk_id: str, text: str, metadata: Mapping[str, Any]) -> Entry:
        return cls(chunk_id, chunk_words(str(metadata.get("title") or ""), text),
                   str(metadata.get("doc_id") or ""), str(metadata.get("lang") or ""),
                   str(metadata.get("outlet") or ""), int(metadata.get("date_int") or 0),
                   str(metadata.get("section") or ""))


class Vocabulary(Mapping[str, int]):
    """Word → number of chunks that have it, read from the store as asked (and remembered for
    this one turn); ``len()`` is the number of distinct words, ``largest`` the most chunks any word
    is in, ``chunks`` the number of chunks."""

    def __init__(self, store: LexicalStore) -> None:
        self.store = store
        self._known: dict[str, int] = {}
        self.chunks, self.largest, self._size, words = store.facts("chunks", "largest", "vocabulary", "words")
        self.average_length = words / self.chunks if self.chunks else 1.0

    def __getitem__(self, term: str) -> int:
        if term not in self._known:
            self._known.update(self.store.frequencies([term]))
            self._known.setdefault(term, 0)
        if not self._known[term]:
            raise KeyError(term)
        return self._known[term]

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term, 0) > 0

    def __iter__(self) -> Iterator[str]:
        raise TypeError("the vocabulary is looked up word by word, not listed")

    def __len__(self) -> int:
        return self._size

    def bm25(self, query_terms: list[str], chunk_words: list[str]) -> float:
        """A chunk's BM25 score for the question's words (Lucene's IDF, k1 = 1.5, b = 0.75, each
        word of the question counted as often as it is asked), computed the same way whichever
        engine proposed the chunk."""
        counts: dict[str, int] = {}
        for word in chunk_words:
            counts[word] = counts.get(word, 0) + 1
        norm = BM25_K1 * (1 - BM25_B + BM25_B * len(chunk_words) / max(self.average_length, 1e-9))
        score = 0.0
        for term in query_terms:
            tf = counts.get(term, 0)
            if tf:
                score += bm25_idf(self.get(term, 0), self.chunks) * tf / (norm + tf)
        return score

    def prefetch(self, terms: Iterable[str]) -> None:
        """Look up many words in one query."""
        wanted = [t for t in set(terms) if t not in self._known]
        if wanted:
            found = self.store.frequencies(wanted)
            self._known.update({t: found.get(t, 0) for t in wanted})


def largest_count(frequency: Mapping[str, int]) -> int:
    """The most chunks any word is in (a Vocabulary knows it; a plain dict is counted)."""
    if isinstance(frequency, Vocabulary):
        return max(frequency.largest, 1)
    return max(frequency.values(), default=1)


class LexicalStore:
    """BM25 (FTS5) and word counts in one SQLite file, shared by every process that opens it.

    What is engine-specific is in a few methods (connecting, the tables, writing and removing a
    chunk's words, the candidate query): PostgresWords replaces them for replicas on several
    machines. Everything else is plain SQL both engines run.
    """

    WORD_TABLES: tuple[str, ...] = ("words",)  # tables of words, emptied by clear()

    def __init__(self, path: Path) -> None:
        self.path: Any = path
        self._setup()

    def _setup(self) -> None:
        self._local = threading.local()
        self._write_lock = threading.Lock()
        with self._write_lock:
            self._create_tables()
            self._add_columns()
        if self.facts("schema") != (SCHEMA_VERSION,):
            # written by an older version: emptied, and filled again from Chroma by Index.open
            self.clear()
            with self._transaction() as db:
                db.execute("INSERT INTO facts VALUES ('schema', ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                           (SCHEMA_VERSION, SCHEMA_VERSION))

    @classmethod
    def open(cls, path: Path) -> LexicalStore:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return cls(path)
        except (sqlite3.Error, OSError) as exc:
            raise IndexNotReady(f"Cannot open the word index {path} ({exc}). Check that the folder is "
                                "writable, or set LEXICAL_PATH to another file.") from exc

    # --- connections (what another engine replaces) ----------------------------------------------
    @property
    def db(self) -> Any:
        """This thread's connection (connections are not shared between threads)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connect()
            self._local.connection = connection
        return connection

    def _connect(self) -> Any:
        connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    def _create_tables(self) -> None:
        self.db.executescript(SCHEMA)

    def _add_columns(self) -> None:
        """Columns added since a file was made (its rows get the default: no section)."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(chunks)")}
        if "section" not in columns:
            self.db.execute("ALTER TABLE chunks ADD COLUMN section TEXT NOT NULL DEFAULT ''")

    def _insert(self, db: Any, entry: Entry) -> None:
        """One chunk's row and its words."""
        cursor = db.execute(
            "INSERT INTO chunks (chunk_id, doc_id, lang, outlet, date_int, section) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (entry.chunk_id, entry.doc_id, entry.lang, entry.outlet, entry.date_int, entry.section))
        db.execute("INSERT INTO words (rowid, text) VALUES (?, ?)", (cursor.lastrowid, " ".join(entry.words)))

    def _rows(self, db: Any, marks: str, batch: list[str]) -> list[tuple[int, str, str, str]]:
        """(row, lang, doc id, words) of the chunks with these ids."""
        return list(db.execute(
            f"SELECT c.row, c.lang, c.doc_id, w.text FROM chunks c JOIN words w ON w.rowid = c.row "
            f"WHERE c.chunk_id IN ({marks})", batch).fetchall())

    def _delete_row(self, db: Any, row: int) -> None:
        db.execute("DELETE FROM words WHERE rowid = ?", (row,))
        db.execute("DELETE FROM chunks WHERE row = ?", (row,))

    def _candidates(self, terms: dict[str, float], filters: Filters | None,
                    limit: int) -> list[tuple[str, float]]:
        """(chunk id, the engine's score) of the chunks best matching any of the words (word → its
        IDF, for an engine without its own)."""
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)  # FTS5's bm25() has IDF
        where, values = filter_sql(filters)
        return list(self.db.execute(
            "SELECT c.chunk_id, -bm25(words) FROM words JOIN chunks c ON c.row = words.rowid "
            f"WHERE words MATCH ? {where} ORDER BY bm25(words) LIMIT ?", (match, *values, limit)).fetchall())

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._write_lock:
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # --- writing -------------------------------------------------------------------------------
    def upsert(self, entries: Iterable[Entry]) -> None:
        """Add chunks, replacing any with the same id, in one transaction."""
        entries = list(entries)
        if not entries:
            return
        with self._transaction() as db:
            self._remove(db, [e.chunk_id for e in entries])
            counts: dict[str, int] = {}
            languages: dict[str, int] = {}
            words = 0
            for entry in entries:
                self._insert(db, entry)
                db.execute(ADD_DOCUMENT, (entry.doc_id, entry.lang, entry.outlet, entry.date_int))
                for term in set(entry.words):
                    counts[term] = counts.get(term, 0) + 1
                languages[entry.lang] = languages.get(entry.lang, 0) + 1
                words += len(entry.words)
            self._count(db, counts, languages, words, +1)

    def delete(self, chunk_ids: Iterable[str]) -> None:
        """Remove chunks (ids it does not have are ignored)."""
        chunk_ids = list(chunk_ids)
        if chunk_ids:
            with self._transaction() as db:
                self._remove(db, chunk_ids)

    def clear(self) -> None:
        with self._transaction() as db:
            for table in (*self.WORD_TABLES, "chunks", "terms", "languages", "documents"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM facts WHERE key != 'schema'")

    def _remove(self, db: Any, chunk_ids: list[str]) -> None:
        counts: dict[str, int] = {}
        languages: dict[str, int] = {}
        words = 0
        for first in range(0, len(chunk_ids), 500):
            batch = chunk_ids[first:first + 500]
            marks = ",".join("?" * len(batch))
            for row, lang, doc_id, text in self._rows(db, marks, batch):
                terms = text.split()
                for term in set(terms):
                    counts[term] = counts.get(term, 0) + 1
                languages[lang] = languages.get(lang, 0) + 1
                words += len(terms)
                self._delete_row(db, row)
                db.execute("UPDATE documents SET chunks = chunks - 1 WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM documents WHERE chunks <= 0")
        self._count(db, counts, languages, words, -1)

    def _count(self, db: Any, counts: dict[str, int], languages: dict[str, int],
               words: int, sign: int) -> None:
        """Apply added (+1) or removed (-1) chunks to the word, language and chunk counts
        (``words``: how many words the chunks have in all, for BM25's average length)."""
        if not counts and not languages:
            return
        new_words = gone_words = 0
        largest = self._fact(db, "largest")
        terms = sorted(counts)  # one order: concurrent writers never deadlock
        had = self.frequencies(terms)  # read inside the writers' lock: nobody else changes them
        kept, gone = [], []
        for term in terms:
            before = had.get(term, 0)
            after = before + sign * counts[term]
            new_words += before == 0 and after > 0
            gone_words += before > 0 and after <= 0
            if after > 0:
                kept.append((term, after, after))
                largest = max(largest, after)  # a removal leaves it as an upper bound
            else:
                gone.append((term,))
        # many rows per statement: a round trip per word made PostgreSQL writes 10× slower than SQLite
        if kept:
            db.executemany("INSERT INTO terms VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET chunks = ?", kept)
        if gone:
            db.executemany("DELETE FROM terms WHERE term = ?", gone)
        for lang, count in languages.items():
            db.execute(ADD_LANGUAGE, (lang, sign * count, sign * count))
        db.execute("DELETE FROM languages WHERE chunks <= 0")
        chunks = self._fact(db, "chunks") + sign * sum(languages.values())
        vocabulary = self._fact(db, "vocabulary") + new_words - gone_words
        total = self._fact(db, "words") + sign * words
        facts = {"chunks": chunks, "vocabulary": vocabulary, "largest": largest, "words": total}
        for key, value in facts.items():
            db.execute("INSERT INTO facts VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                       (key, value, value))

    @staticmethod
    def _fact(db: Any, key: str) -> int:
        found = db.execute("SELECT value FROM facts WHERE key = ?", (key,)).fetchone()
        return int(found[0]) if found else 0

    # --- reading -------------------------------------------------------------------------------
    def facts(self, *keys: str) -> tuple[int, ...]:
        return tuple(self._fact(self.db, key) for key in keys)

    @property
    def size(self) -> int:
        """How many chunks it holds."""
        return self._fact(self.db, "chunks")

    def newest_documents(self, limit: int, start: int = 1, end: int = 99_991_231) -> list[tuple[str, int]]:
        """(doc id, date as yyyymmdd) of the ``limit`` most recently published documents whose date is
        within [start, end] (yyyymmdd), newest first; undated documents never."""
        rows = self.db.execute(
            f"SELECT doc_id, date_int FROM documents WHERE date_int >= {max(int(start), 1)} AND date_int <= "
            f"{int(end)} ORDER BY date_int DESC, doc_id LIMIT {int(limit)}").fetchall()
        return [(str(doc_id), int(date_int)) for doc_id, date_int in rows]

    def stats(self) -> dict[str, Any]:
        """Documents in all, and per language and outlet; the publication dates' range."""
        def per(field: str) -> dict[str, int]:
            rows = self.db.execute(f"SELECT {field}, COUNT(*) FROM documents WHERE {field} != '' "
                                   f"GROUP BY {field} ORDER BY COUNT(*) DESC, {field}").fetchall()
            return {str(value): int(count) for value, count in rows}

        documents, first, last = self.db.execute(
            "SELECT COUNT(*), MIN(NULLIF(date_int, 0)), MAX(date_int) FROM documents").fetchone()
        return {"documents": int(documents), "languages": dict(sorted(per("lang").items())),
                "outlets": per("outlet"),
                "date_range": [iso_date(first), iso_date(last)] if first else None}

    def chunk_ids(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT chunk_id FROM chunks")}

    def languages(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT lang FROM languages ORDER BY lang")]

    def languages_of(self, chunk_ids: list[str]) -> dict[str, str]:
        """Chunk id → its language, for the chunks it holds."""
        return self._lookup("SELECT chunk_id, lang FROM chunks WHERE chunk_id IN ({marks})", chunk_ids)

    def _lookup(self, sql: str, keys: list[str]) -> dict[Any, Any]:
        """A two-column query over ``IN ({marks})`` as a dict, 500 keys at a time."""
        found: dict[Any, Any] = {}
        for first in range(0, len(keys), 500):
            batch = keys[first:first + 500]
            found.update(self.db.execute(sql.format(marks=",".join("?" * len(batch))), batch).fetchall())
        return found

    def vocabulary(self) -> Vocabulary:
        return Vocabulary(self)

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        """Word → number of chunks with it, for the words it has."""
        return self._lookup("SELECT term, chunks FROM terms WHERE term IN ({marks})", terms)

    def search(self, query: str, limit: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best chunks for the query's words, best first."""
        terms = list(dict.fromkeys(tokenize(query)))
        frequency = self.frequencies(terms)
        size = self.size
        common = max(COMMON_MIN, COMMON_SHARE * size)
        proposing: list[str] = []
        postings = 0
        for term in sorted((t for t in terms if 0 < frequency.get(t, 0) <= common), key=frequency.get):
            if proposing and postings + frequency[term] > POSTINGS:
                break
            proposing.append(term)
            postings += frequency[term]
        if not proposing or limit <= 0:
            return []
        rows = self._candidates({t: bm25_idf(frequency[t], size) for t in proposing}, filters, limit)
        return [(str(chunk_id), float(score)) for chunk_id, score in rows if score > 0]


def iso_date(date_int: int) -> str:
    text = f"{date_int:08d}"
    return f"{text[:4]}-{text[4:6]}-{text[6:]}"


def filter_sql(filters: Filters | None) -> tuple[str, list[Any]]:
    """The filters as SQL conditions on the chunks table (the same test as Chroma's ``where``)."""
    sql, values = "", list[Any]()
    for field, operator, value in filters.conditions() if filters else []:
        if isinstance(value, tuple):  # "not in": one placeholder per value
            sql += f" AND c.{field} {operator.upper()} ({','.join('?' * len(value))})"
            values.extend(value)
        else:
            sql += f" AND c.{field} {operator} ?"
            values.append(value)
    return sql, values


POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    id BIGSERIAL PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL,
    lang TEXT NOT NULL, outlet TEXT NOT NULL, date_int INTEGER NOT NULL, text TEXT NOT NULL,
    section TEXT NOT NULL DEFAULT '',
    words tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED);
CREATE INDEX IF NOT EXISTS chunks_words ON chunks USING GIN (words);
CREATE TABLE IF NOT EXISTS terms (term TEXT PRIMARY KEY, chunks INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS languages (lang TEXT PRIMARY KEY, chunks INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, lang TEXT NOT NULL, outlet TEXT NOT NULL, date_int INTEGER NOT NULL,
    chunks INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
"""


class PostgresWords(LexicalStore):
    """The word index in PostgreSQL (LEXICAL_URL): one for replicas on several machines.

    The same tables and counts as the SQLite file, in a schema of their own per collection
    (``words_news``); a chunk's words are a ``tsvector`` with a GIN index, which proposes the
    candidates (ranked by ``ts_rank``; their BM25 scores are computed by the retriever from the
    word counts, as with SQLite). Writers take one advisory lock, so counts are updated by one
    writer at a time, as SQLite's file lock does; readers never wait.
    """

    WORD_TABLES = ()  # a chunk's words are in its row

    def __init__(self, url: str, collection: str) -> None:
        import psycopg  # only the PostgreSQL word index needs it

        self._psycopg = psycopg
        self.url = url
        self.schema = "words_" + re.sub(r"[^a-z0-9_]+", "_", collection.lower())
        self.lock_key = zlib.crc32(self.schema.encode())
        address = psycopg.conninfo.conninfo_to_dict(url)
        self.path = f"postgresql://{address.get('host', 'localhost')}:{address.get('port', 5432)}/" \
                    f"{address.get('dbname', '')} (schema {self.schema})"  # for messages: no password
        self._setup()

    @classmethod
    def connect_to(cls, url: str, collection: str) -> PostgresWords:
        import psycopg

        try:
            return cls(url, collection)
        except psycopg.Error as exc:
            raise IndexNotReady(f"Cannot open the word index in PostgreSQL ({str(exc).strip()}). Check "
                                "LEXICAL_URL and that the server is running, or unset LEXICAL_URL to "
                                "use a SQLite file.") from exc

    def _connect(self) -> Any:
        connection = self._psycopg.connect(self.url, autocommit=True)
        connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        connection.execute(f'SET search_path TO "{self.schema}"')
        return _QuestionMarks(connection)

    def _create_tables(self) -> None:
        db = self.db
        with db.connection.transaction():
            db.execute("SELECT pg_advisory_xact_lock(?)", (self.lock_key,))  # replicas starting together
            for statement in POSTGRES_SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    def _add_columns(self) -> None:
        with self.db.connection.transaction():
            self.db.execute("SELECT pg_advisory_xact_lock(?)", (self.lock_key,))
            self.db.execute("ALTER TABLE chunks ADD COLUMN IF NOT EXISTS section TEXT NOT NULL DEFAULT ''")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._write_lock:
            db = self.db
            with db.connection.transaction():
                db.execute("SELECT pg_advisory_xact_lock(?)", (self.lock_key,))
                yield db

    def _insert(self, db: Any, entry: Entry) -> None:
        row = (entry.chunk_id, entry.doc_id, entry.lang, entry.outlet, entry.date_int, " ".join(entry.words),
               entry.section)
        db.execute("INSERT INTO chunks (chunk_id, doc_id, lang, outlet, date_int, text, section) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)", row)

    def _rows(self, db: Any, marks: str, batch: list[str]) -> list[tuple[int, str, str, str]]:
        return list(db.execute(f"SELECT id, lang, doc_id, text FROM chunks WHERE chunk_id IN ({marks})",
                               batch).fetchall())

    def _delete_row(self, db: Any, row: int) -> None:
        db.execute("DELETE FROM chunks WHERE id = ?", (row,))

    def _candidates(self, terms: dict[str, float], filters: Filters | None,
                    limit: int) -> list[tuple[str, float]]:
        """Each word's chunks by the GIN index, scored by the word's IDF times ``ts_rank`` (which
        counts its occurrences, over the log of the chunk's length), summed per chunk: ``ts_rank``
        alone knows no IDF, and shared 51% of its top 50 with BM25's (benchmarks/words_engines.py)."""
        where, values = filter_sql(filters)
        select = ("SELECT c.chunk_id, ? * ts_rank(c.words, to_tsquery('simple', ?), 1) AS score "
                  f"FROM chunks c WHERE c.words @@ to_tsquery('simple', ?) {where}")
        params: list[Any] = []
        for term, idf in terms.items():
            quoted = "'" + term.replace("\\", "").replace("'", "''") + "'"
            params += [idf, quoted, quoted, *values]
        union = " UNION ALL ".join([select] * len(terms))
        return list(self.db.execute(f"SELECT chunk_id, SUM(score) FROM ({union}) AS hits GROUP BY chunk_id "
                                    "ORDER BY 2 DESC LIMIT ?", (*params, limit)).fetchall())


class _QuestionMarks:
    """A psycopg connection that takes the SQL the SQLite store runs (``?`` placeholders)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.connection.execute(sql.replace("?", "%s"), tuple(params))

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self.connection.cursor() as cursor:  # psycopg pipelines the rows: one round trip
            cursor.executemany(sql.replace("?", "%s"), rows)

    def close(self) -> None:
        self.connection.close()


def open_words(settings: IndexSettings) -> LexicalStore:
    """The word index the settings name: PostgreSQL (LEXICAL_URL), or a SQLite file."""
    if settings.lexical_url:
        return PostgresWords.connect_to(settings.lexical_url, settings.collection)
    return LexicalStore.open(settings.words_path)
