"""The index: Chroma collections, one per language (vectors, texts, metadata), and the word index.

    index = Index.open(settings.index, embedder)
    index.add_chunks(chunks)                 # embeds with our embedder, upserts by stable id
    index.delete_document("000_article.txt")

Every write goes to both, in an order that a crash cannot turn into a missing word entry: words
are written before vectors (ingest judges a document complete by its vectors, so an interrupted
write is redone), and vectors are deleted before words (a word entry without vectors is skipped by
searches). An index built before the word index existed gets one on first open.

The index records the embedding model that built it; opening it with another model raises
IndexNotReady, so vectors of two models are never mixed. It also records whether its chunks carry
sparse vectors (SparseEncoder, in the metadata key ``sparse``): that is decided when it is created
(SPARSE_RETRIEVAL) and every chunk added later follows it, so an index is never half sparse.
Chroma's own default embedding function (which downloads a model) is never used: vectors always
come from our embedder.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import chromadb
from chromadb.errors import ChromaError, NotFoundError
from langchain_chroma import Chroma

from assistant.config import IndexSettings
from assistant.documents import Chunk
from assistant.errors import DocumentNotFound, IndexNotReady
from assistant.index.embeddings import E5Embeddings, OpenAICompatibleEmbeddings, SparseEncoder
from assistant.index.lexical import Entry, LexicalStore, open_words

Embedder = E5Embeddings | OpenAICompatibleEmbeddings
PAGE = 2000  # rows per Chroma get(): bounded memory on large collections
WRITE_BATCH = 1000  # chunks embedded and upserted at a time: flat memory, under Chroma's max batch
SPARSE_KEY = "sparse"  # chunk metadata: the packed sparse vector (never shown to users)
# How widely the HNSW graph is searched (Chroma's default: 100). On the news index replicated to
# 100k chunks, the 50 nearest chunks of a language were found with recall 0.904 at 100 (the one
# article that answers missed entirely), 0.975 at 200, 0.998 at 400, in 4–5 ms (benchmarks/scale.py).
SEARCH_EF = 400

log = logging.getLogger(__name__)


@dataclass
class DocumentState:
    """What the index holds for one document: chunk ids per content hash, and expected counts."""

    chunks_by_hash: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    expected: dict[str, int] = field(default_factory=dict)

    def is_complete(self, content_hash: str) -> bool:
        found = self.chunks_by_hash.get(content_hash, [])
        return bool(found) and len(found) == self.expected.get(content_hash, -1)

    def stale_ids(self, keep_hash: str | None) -> list[str]:
        return [cid for h, ids in self.chunks_by_hash.items() if h != keep_hash for cid in ids]


def connect(settings: IndexSettings) -> chromadb.ClientAPI:
    """A Chroma client: the server at CHROMA_HOST:CHROMA_PORT, or the folder CHROMA_PATH."""
    client_settings = chromadb.config.Settings(anonymized_telemetry=False)
    try:
        if settings.uses_chroma_server:
            client = chromadb.HttpClient(
                host=settings.chroma_host or "localhost", port=settings.chroma_port,
                ssl=settings.chroma_ssl, settings=client_settings,
            )
            client.heartbeat()
            return client
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=client_settings)
    except (ChromaError, ValueError, OSError, ConnectionError) as exc:
        where = (f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
                 if settings.uses_chroma_server else f"the index folder {settings.chroma_path}")
        raise IndexNotReady(
            f"Cannot open {where} ({exc}). Check that it is running / writable, "
            "or unset CHROMA_HOST to use the local folder."
        ) from exc


def embedding_text(chunk: Chunk) -> str:
    title = str(chunk.metadata.get("title") or "")
    return f"{title}. {chunk.text}" if title else chunk.text


class ReadWriteLock:
    """Many readers at once, or one writer; a waiting writer holds back new readers."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        with self._condition:
            while self._writer or self._waiting_writers:
                self._condition.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                self._condition.notify_all()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._condition:
            self._waiting_writers += 1
            while self._writer or self._readers:
                self._condition.wait()
            self._waiting_writers -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._condition:
                self._writer = False
                self._condition.notify_all()


class Index:
    """The chunks in Chroma, one collection per language, with the embedder that built them.

    Why a collection per language: each search asks every language for its own nearest chunks (a
    question ranks passages in its own language higher, so the other languages need their own
    turn), and Chroma's filtered search scans every chunk the filter matches: 1.2 s for English at
    100k chunks, against 6 ms for the same query unfiltered (benchmarks/scale.py). A language's own
    collection answers unfiltered. The index's own collection (``settings.collection``) holds no
    chunks, only what the index is: its embedding model, whether chunks carry sparse vectors, and
    its version. An index built before (all chunks in one collection) is moved on first open.

    Every write ends by giving the index a new ``version`` (a random token in that collection's
    metadata), so that readers in this and other processes know it changed without counting or
    scanning (``version()``). An embedded (folder) index written by another process is reopened
    when its version changes: the embedded client keeps its vector index in memory and would
    otherwise search stale vectors, and fail on deleted ones.
    """

    def __init__(self, client: Any, manifest: Any, embedder: Embedder, words: LexicalStore,
                 sparse: SparseEncoder | None = None, settings: IndexSettings | None = None,
                 write_batch: int = WRITE_BATCH) -> None:
        self.client = client
        self.manifest = manifest  # the index's own collection: its facts and version, no chunks
        self.name = str(manifest.name)
        self.words = words
        self.embedder = embedder
        self.sparse = sparse  # set when the collection's chunks carry sparse vectors
        self.settings = settings
        self.lock = ReadWriteLock()  # searches read; reopening the embedded client writes
        self._own_versions: set[str] = set()  # versions this process wrote (its client is current)
        self.write_batch = write_batch  # at most the client's max batch size (one upsert)
        self.partitions: dict[str, Any] = {}  # language key → its collection
        self._stores: dict[str, Chroma] = {}
        self._superseded: tuple[str, tuple[str, ...]] = ("", ())  # (index version, superseded ids)
        self._discover()

    @classmethod
    def open(cls, settings: IndexSettings, embedder: Embedder, client: Any = None) -> Index:
        client = client or connect(settings)
        wanted = {"embedding_model": embedder.model_id, "hnsw:space": "cosine"}
        if settings.sparse_retrieval:
            wanted["sparse_model"] = SparseEncoder.model_id
        try:
            manifest = client.get_or_create_collection(
                name=settings.collection, metadata=wanted, embedding_function=None
            )
        except (ChromaError, ValueError) as exc:
            raise IndexNotReady(f"Cannot open collection {settings.collection!r}: {exc}") from exc
        built_with = (manifest.metadata or {}).get("embedding_model")
        if built_with != embedder.model_id:
            raise IndexNotReady(
                f"The index {settings.collection!r} was built with the embedding model {built_with!r}, "
                f"but {embedder.model_id!r} is configured. Re-index: `assistant ingest --rebuild PATH`, "
                "or set EMBEDDING_PROVIDER/EMBEDDING_MODEL back, or use another COLLECTION."
            )
        sparse = (manifest.metadata or {}).get("sparse_model") == SparseEncoder.model_id
        if settings.sparse_retrieval and not sparse:
            log.info("the index %r has no sparse vectors (built without them): searching without; "
                     "`assistant ingest --rebuild PATH` adds them", settings.collection)
        shared = embedder if isinstance(embedder, E5Embeddings) else None
        try:
            write_batch = min(WRITE_BATCH, int(client.get_max_batch_size()))
            index = cls(client, manifest, embedder, open_words(settings),
                        SparseEncoder(dense=shared) if sparse else None,
                        settings=settings, write_batch=write_batch)
            index.move_into_partitions()
        except (ChromaError, ValueError, OSError, ConnectionError) as exc:
            raise IndexNotReady(f"Cannot open the index {settings.collection!r}: {exc}") from exc
        index.complete_words()
        return index

    @staticmethod
    def drop(settings: IndexSettings, client: Any = None) -> None:
        """Delete the whole index and its words (for a rebuild with another embedding model)."""
        client = client or connect(settings)
        prefix = partition_prefix(settings.collection)
        names = [settings.collection] + [name for name in collection_names(client) if name.startswith(prefix)]
        for name in names:
            with contextlib.suppress(NotFoundError, ValueError):
                client.delete_collection(name)
        open_words(settings).clear()

    # --- the per-language collections ----------------------------------------------------------
    def _discover(self) -> None:
        """Find the languages' collections (another process may have added one)."""
        prefix = partition_prefix(self.name)
        self.partitions = {name[len(prefix):]: self.client.get_collection(name, embedding_function=None)
                           for name in sorted(collection_names(self.client)) if name.startswith(prefix)}
        self._stores = {}

    def partition(self, lang: str) -> Any:
        """The collection of one language's chunks, created for its first chunk."""
        key = partition_key(lang)
        if key not in self.partitions:
            self.partitions[key] = self.client.get_or_create_collection(
                partition_prefix(self.name) + key, embedding_function=None,
                metadata={"embedding_model": self.embedder.model_id},
                configuration={"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}})
        return self.partitions[key]

    def store(self, key: str) -> Chroma:
        """One language's collection as a LangChain vector store (for nearest-neighbour search)."""
        if key not in self._stores:
            self._stores[key] = Chroma(client=self.client, collection_name=self.partitions[key].name,
                                       embedding_function=self.embedder,
                                       create_collection_if_not_exists=False)
        return self._stores[key]

    def move_into_partitions(self) -> int:
        """Move the chunks of an index built with one collection into per-language collections (once;
        an interrupted move goes on at the next open). Returns how many chunks moved."""
        moved = 0
        while True:
            page = self.manifest.get(include=["embeddings", "metadatas", "documents"], limit=PAGE)
            if not page["ids"]:
                break
            if not moved:
                log.info("moving the chunks of %r into one collection per language (once)", self.name)
            self.write_rows(page["ids"], page["embeddings"], page["documents"] or [], page["metadatas"] or [])
            self.manifest.delete(ids=page["ids"])
            moved += len(page["ids"])
        if moved:
            self.touch()
        return moved

    def complete_words(self) -> int:
        """Give the word index the chunks it lacks (an index built before it existed, or a write
        another tool made to Chroma alone); returns how many. Cheap when the counts agree."""
        if self.words.size >= self.count():
            return 0
        have = self.words.chunk_ids()
        missing = [chunk_id for chunk_id, _, _ in self.iter_rows(include=[]) if chunk_id not in have]
        log.info("adding %d chunks to the word index %s", len(missing), self.words.path)
        for first in range(0, len(missing), PAGE):
            page = self.get(ids=missing[first:first + PAGE], include=["metadatas", "documents"])
            rows = zip(page["ids"], page["metadatas"], page["documents"], strict=True)
            self.words.upsert(Entry.of(chunk_id, text or "", meta or {}) for chunk_id, meta, text in rows)
        return len(missing)

    # --- writing -------------------------------------------------------------------------
    def add_chunks(self, chunks: list[Chunk], on_chunk: Callable[[], None] | None = None) -> None:
        """Embed and upsert chunks (ids are stable, so a repeat overwrites).

        The vector is of "title. passage": the headline says what a short passage is about
        (measured: it helps questions that name the topic but not the passage's words).
        ``on_chunk`` is called as each chunk's vectors are done: the dense pass runs a batch at a
        time (batches are cheaper), the sparse pass a chunk at a time.
        A long document (thousands of chunks) is embedded and written ``write_batch`` chunks at a
        time: one upsert may not exceed the client's max batch size, and vectors are not held for
        the whole document.
        """
        for first in range(0, len(chunks), self.write_batch):
            batch = chunks[first:first + self.write_batch]
            vectors = self.embedder.embed_documents([embedding_text(c) for c in batch])
            metadatas = [c.metadata for c in batch]
            if self.sparse is not None:
                metadatas = []
                for c in batch:
                    metadatas.append({**c.metadata, SPARSE_KEY: self.sparse.packed(c.text)})
                    if on_chunk:
                        on_chunk()
            elif on_chunk:
                for _ in batch:
                    on_chunk()
            ids = [c.chunk_id for c in batch]
            before = self.words.languages_of(ids)  # a chunk whose language changed leaves its old collection
            self.words.upsert(Entry.of(c.chunk_id, c.text, c.metadata) for c in batch)
            self.write_rows(ids, vectors, [c.text for c in batch], metadatas, before)
        if chunks:
            self.touch()

    def write_rows(self, ids: list[str], vectors: Any, texts: list[str], metadatas: list[Any],
                   before: dict[str, str] | None = None) -> None:
        """Upsert chunks' rows into their languages' collections (``before``: chunk id → the
        language it had, when it may have had another)."""
        groups: dict[str, list[int]] = defaultdict(list)
        for position, metadata in enumerate(metadatas):
            groups[partition_key(str((metadata or {}).get("lang") or ""))].append(position)
        for key, positions in groups.items():
            chosen = [ids[i] for i in positions]
            moved: dict[str, list[str]] = defaultdict(list)  # old language → its chunks that left it
            for chunk_id in chosen:
                old = partition_key(before[chunk_id]) if before and chunk_id in before else key
                if old != key:
                    moved[old].append(chunk_id)
            for old, gone in moved.items():
                if old in self.partitions:
                    self.partitions[old].delete(ids=gone)
            self.partition(key).upsert(
                ids=chosen, embeddings=[vectors[i] for i in positions],
                documents=[texts[i] for i in positions], metadatas=[metadatas[i] for i in positions])

    def delete_ids(self, ids: list[str]) -> None:
        for first in range(0, len(ids), PAGE):
            batch = ids[first:first + PAGE]
            known = self.words.languages_of(batch)
            for key, collection in self.partitions.items():
                # each chunk from its language's collection; one the word index lacks, from all
                mine = [i for i in batch if i not in known or partition_key(known[i]) == key]
                if mine:
                    collection.delete(ids=mine)
            self.words.delete(batch)
        if ids:
            self.touch()

    # --- versions ----------------------------------------------------------------------------
    def touch(self) -> str:
        """Give the index a new version (after a write): readers everywhere see a change."""
        version = uuid.uuid4().hex
        metadata = {key: value for key, value in (self.manifest.metadata or {}).items()
                    if not key.startswith("hnsw:")}  # the distance is fixed at creation
        metadata["version"] = version
        self._own_versions.add(version)
        self.manifest.modify(metadata=metadata)
        return version

    def version(self) -> str:
        """The index's current version, read fresh (another process may have written)."""
        current = self.client.get_collection(self.name)
        return str((current.metadata or {}).get("version", ""))

    def follow(self, version: str) -> None:
        """Catch up with a version another process wrote: its new languages' collections are found,
        and an embedded client is reopened, since it keeps the vectors it loaded in memory (a Chroma
        server serves every client fresh)."""
        if version in self._own_versions or self.settings is None:
            return
        with self.lock.writing():
            if not self.settings.uses_chroma_server:
                log.info("the index was changed by another process: reopening %s", self.settings.chroma_path)
                with contextlib.suppress(ChromaError, ValueError, OSError):
                    self.client.close()
                self.client = connect(self.settings)
                self.manifest = self.client.get_collection(self.name, embedding_function=None)
            self._discover()
            self._own_versions.add(version)

    def delete_document(self, doc_id: str) -> int:
        """Remove every chunk of a document; returns how many. Unknown ids raise DocumentNotFound."""
        found = self.get(where={"doc_id": doc_id}, include=[])["ids"]
        if not found:
            raise DocumentNotFound(
                f"No document {doc_id!r} in the index. `assistant stats --json` lists the counts; "
                "document ids are paths relative to the folder you ingested."
            )
        self.delete_ids(found)
        return len(found)

    # --- reading -------------------------------------------------------------------------
    def get(self, ids: list[str] | None = None, where: dict[str, Any] | None = None,
            include: list[str] | None = None, limit: int | None = None) -> dict[str, list[Any]]:
        """Chroma's ``get`` over every language's collection: ids, and the lists ``include`` names
        (metadatas, documents, embeddings), each in the same order."""
        include = include if include is not None else ["metadatas", "documents"]
        merged: dict[str, list[Any]] = {"ids": [], **{field: [] for field in include}}
        for collection in self.partitions.values():
            if limit is not None and len(merged["ids"]) >= limit:
                break
            left = None if limit is None else limit - len(merged["ids"])
            page = collection.get(ids=ids, where=where, include=include, limit=left)  # type: ignore[arg-type]
            merged["ids"].extend(page["ids"])
            for name in include:
                values = page.get(name)  # type: ignore[misc]
                merged[name].extend(list(values) if values is not None else [None] * len(page["ids"]))
        return merged

    def _pages(self, include: list[str], where: dict[str, Any] | None = None) -> Iterator[Any]:
        """Every language's rows (that match ``where``), ``PAGE`` at a time."""
        for collection in list(self.partitions.values()):
            offset = 0
            while True:
                page = collection.get(where=where, include=include, limit=PAGE,  # type: ignore[arg-type]
                                      offset=offset)
                if not page["ids"]:
                    break
                yield page
                offset += len(page["ids"])

    def iter_rows(self, include: list[str]) -> Iterator[tuple[str, dict[str, Any], str | None]]:
        """Every (id, metadata, document text or None) in the index, page by page."""
        for page in self._pages(include):
            ids = page["ids"]
            metadatas = page.get("metadatas") or [{}] * len(ids)
            documents = page.get("documents") or [None] * len(ids)
            yield from zip(ids, metadatas, documents, strict=True)

    def document_states(self, doc_ids: Iterable[str] | None = None) -> dict[str, DocumentState]:
        """doc_id → what the index holds for it (used by incremental ingest).

        With ``doc_ids``, only those documents are looked up (by metadata filter, in pages): an
        ingest of a few articles does not read the metadata of the whole collection.
        """
        states: dict[str, DocumentState] = defaultdict(DocumentState)
        if doc_ids is None:
            rows: Iterable[tuple[str, dict[str, Any], str | None]] = self.iter_rows(include=["metadatas"])
        else:
            rows = self._rows_of(list(dict.fromkeys(doc_ids)))
        for chunk_id, metadata, _ in rows:
            state = states[str(metadata.get("doc_id"))]
            content_hash = str(metadata.get("doc_hash"))
            state.chunks_by_hash[content_hash].append(chunk_id)
            state.expected[content_hash] = int(metadata.get("n_chunks", -1))
        return dict(states)

    def _rows_of(self, doc_ids: list[str], batch: int = 100) -> Iterator[tuple[str, dict[str, Any], None]]:
        for first in range(0, len(doc_ids), batch):
            wanted = doc_ids[first:first + batch]
            where = {"doc_id": wanted[0]} if len(wanted) == 1 else {"doc_id": {"$in": wanted}}
            found = self.get(where=where, include=["metadatas"])
            yield from ((i, m or {}, None) for i, m in zip(found["ids"], found["metadatas"], strict=True))

    def superseded_ids(self) -> tuple[str, ...]:
        """The articles that an article in the index supersedes (a publisher's correction): no search
        returns them while their successor is here. Read once per index version."""
        version = self.version()
        if self._superseded[0] != version:
            rows = self.get(where={"$and": [{"chunk_index": 0}, {"supersedes": {"$ne": ""}}]},
                            include=["metadatas"])
            self._superseded = (version, tuple(sorted({str(m["supersedes"]) for m in rows["metadatas"]
                                                       if m and m.get("supersedes")})))
        return self._superseded[1]

    def has_dates(self) -> bool:
        """Does any article carry a publication date? (An undated corpus is never filtered by date.)"""
        return bool(self.get(where={"date_int": {"$gt": 0}}, limit=1, include=[])["ids"])

    def document_ids(self) -> set[str]:
        """Every document id in the index (for --prune): one row per document, not per chunk."""
        return {str((m or {}).get("doc_id")) for page in self._pages(["metadatas"], {"chunk_index": 0})
                for m in page["metadatas"] or []}

    def count(self) -> int:
        return sum(int(collection.count()) for collection in self.partitions.values())

    def stats(self) -> dict[str, Any]:
        """What the index holds, from the word index's document table (no scan of the chunks)."""
        return {
            **self.words.stats(),
            "chunks": self.count(),
            "embedding_model": self.embedder.model_id,
            "sparse_model": self.sparse.model_id if self.sparse else None,
        }


def partition_prefix(collection: str) -> str:
    return f"{collection}-lang-"


def partition_key(lang: str) -> str:
    """The name part of a language's collection (what Chroma accepts in a name; 'none' for none)."""
    return re.sub(r"[^a-z0-9]+", "-", lang.lower()).strip("-")[:40] or "none"


def collection_names(client: Any) -> list[str]:
    """The names of every collection the client sees (Chroma 1.x lists collections, not names)."""
    return [str(getattr(found, "name", found)) for found in client.list_collections()]
