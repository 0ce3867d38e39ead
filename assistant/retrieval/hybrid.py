"""Hybrid retrieval: dense (Chroma, multilingual e5) + lexical (BM25), fused, grouped by document.

    retriever = HybridRetriever(index, settings.retrieval)
    passages = retriever.search("Who directs the Russian Center?", Filters(lang="en"), k=5)

Dense search carries questions across languages; BM25 catches exact names, numbers and rare words
that embeddings blur; e5's sparse "latent terms" (SparseEncoder) match concepts across languages
where BM25 cannot. Dense search (Chroma, per language) and BM25 (the word index, SQLite FTS5)
propose chunks; each chunk's fused score is its calibrated cosine, plus a small weight times its
lexical match (the share of the question's IDF weight that the chunk contains: BM25 with k1 = 0,
over the question's total IDF), plus a weight times the cosine of the sparse vectors, which travel
with each chunk in Chroma. A document is as good as its best chunk. Nothing here holds the whole
corpus: each search reads only its candidates, so a new article counts the moment it is written.

Why these choices, measured on the dev sets: score fusion rather than rank fusion, because for a
cross-language question BM25 finds only noise and ranks would give that noise a full vote
(reciprocal-rank fusion lost 7 points of xling recall); and an absolute lexical match rather than
BM25 relative to its best hit, because the best hit of a poor match still got the full bonus and
pulled same-language passages above the other-language article that answers (xling recall@1
76.0 → 79.3, MRR@10 0.827 → 0.849, nyt 85.5 → 86.0). The sparse vectors then lifted xling
recall@5 91.7 → 94.8 (Russian 86.7 → 93.3) and nyt recall@1 86.0 → 88.5, recall@5 95.0 → 96.5.
Weighing them 0.5 rather than 0.3 put the cited article right more often (citation precision nyt
88.8 → 90.4, xling 81.9 → 83.4; recall@1 nyt 88.5 → 89.0, xling 80.7 → 81.5) for a little recall@5
(xling 94.8 → 94.2).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.config import RetrievalSettings
from assistant.documents import Filters, Passage
from assistant.index.collection import SPARSE_KEY, Index, partition_key
from assistant.index.lexical import Vocabulary, chunk_words
from assistant.text import bm25_idf, tokenize

CHROMA_OPERATORS = {"=": "$eq", ">=": "$gte", "<=": "$lte", "not in": "$nin"}


def chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    """Filters as a Chroma ``where`` clause (None when nothing filters). ``$nin`` keeps the chunks
    that lack the field (an article without a section is never excluded by one)."""
    clauses: list[dict[str, Any]] = [
        {field: value} if operator == "=" else
        {field: {CHROMA_OPERATORS[operator]: list(value) if isinstance(value, tuple) else value}}
        for field, operator, value in (filters.conditions() if filters else [])
    ]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def idf_weights(question_terms: set[str], vocabulary: Vocabulary) -> dict[str, float]:
    """Each word of the question with its BM25 IDF (a word no chunk has weighs the most)."""
    return {t: bm25_idf(vocabulary.get(t, 0), vocabulary.chunks) for t in question_terms}


def coverage(weights: dict[str, float], words: set[str], vocabulary: Vocabulary) -> float:
    """The share of the question's IDF weight among a chunk's words, 0..1 (a word no chunk has is
    never covered)."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in words and t in vocabulary) / total if total else 0.0


class HybridRetriever:
    """Dense + BM25 (+ sparse) retrieval over one Index; safe to share between threads."""

    def __init__(self, index: Index, retrieval: RetrievalSettings) -> None:
        self.index = index
        self.retrieval = retrieval
        # the word index is asked while Chroma is (at 1M chunks each took about half of a search);
        # long-lived threads keep their word index connections (and SQLite's page cache)
        self._words_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="words")

    def vocabulary(self) -> Vocabulary:
        """How many chunks have each word, for IDF weights (read fresh: the index grows)."""
        return self.index.words.vocabulary()

    def search(self, query: str, filters: Filters | None = None, k: int | None = None) -> list[Passage]:
        """The best passage of each of the ``k`` best documents, best first.

        Dense similarities are calibrated per document language: e5 scores a question higher
        against passages in its own language, so each language's similarities are shifted by the
        mean of its own top candidates before languages compete. Without that a Vietnamese
        question ranks unrelated Vietnamese passages above the English article that answers it.
        """
        k = k or self.retrieval.top_k
        if not query.strip():
            return []
        # another process or replica may have written: an embedded Chroma client is reopened
        self.index.follow(self.index.version())
        if self.index.words.size == 0:
            return []
        superseded = self.index.superseded_ids()  # a correction's predecessor is never quoted
        if superseded:
            filters = replace(filters or Filters(), exclude_doc_ids=(
                *(filters.exclude_doc_ids if filters else ()), *superseded))
        with self.index.lock.reading():
            return self._search(query, filters, k)

    def _search(self, query: str, filters: Filters | None, k: int) -> list[Passage]:
        proposed = self._words_pool.submit(self.index.words.search, query, self.retrieval.candidates, filters)
        vector = self.index.embedder.embed_query(query)
        chunks: dict[str, Passage] = {}
        packed: dict[str, str] = {}  # chunk id → its sparse vector, as stored
        shifts: dict[str, float] = {}
        languages = [partition_key(filters.lang)] if filters and filters.lang else list(self.index.partitions)
        for language in languages:
            found = self.dense(vector, self.retrieval.candidates,
                               replace(filters or Filters(), lang=language), packed)
            if found:
                shifts[language] = float(np.mean([p.dense_similarity for p in found]))
            for passage in found:
                chunks[passage.chunk_id] = passage

        hits = [chunk_id for chunk_id, _ in proposed.result()]
        chunks.update(self._stored(vector, [cid for cid in hits if cid not in chunks], packed))

        vocabulary = self.vocabulary()
        asked = tokenize(query)
        terms = set(asked)
        vocabulary.prefetch(terms)
        weights = idf_weights(terms, vocabulary)
        words = {cid: chunk_words(str(p.metadata.get("title") or ""), p.text) for cid, p in chunks.items()}
        # BM25 scores of the chunks the word index proposed (a chunk deleted from Chroma meanwhile is
        # left out), computed here so that they mean the same whichever engine proposed them
        scored = sorted(((vocabulary.bm25(asked, words[cid]), cid) for cid in hits if cid in chunks),
                        reverse=True)
        for rank, (score, chunk_id) in enumerate(scored):
            chunks[chunk_id].lexical_rank = rank
            chunks[chunk_id].lexical_score = score

        encoder = self.index.sparse if self.retrieval.sparse_weight > 0 else None
        sparse_query = encoder.query(query) if encoder is not None else None
        for passage in chunks.values():
            language = partition_key(str(passage.metadata.get("lang") or ""))
            shift = shifts.get(language, passage.dense_similarity)
            passage.calibrated = passage.dense_similarity - shift
            passage.lexical_coverage = coverage(weights, set(words[passage.chunk_id]), vocabulary)
            if sparse_query is not None and encoder is not None:
                stored = packed.get(passage.chunk_id)
                indices, values = encoder.unpack(stored) if stored else ([], [])
                passage.sparse_similarity = float(np.dot(values, sparse_query[indices])) if stored else 0.0
            passage.score = (passage.calibrated + self.retrieval.lexical_weight * passage.lexical_coverage
                             + self.retrieval.sparse_weight * (passage.sparse_similarity or 0.0))
        best: dict[str, Passage] = {}
        for passage in sorted(chunks.values(), key=lambda p: -p.score):
            best.setdefault(passage.doc_id, passage)
        return list(best.values())[:k]

    def dense(self, vector: list[float], limit: int, filters: Filters | None,
              packed: dict[str, str] | None = None) -> list[Passage]:
        """The nearest chunks by cosine, in the filters' language (every language when none, by its
        own collection: no filter scan); their sparse vectors go into ``packed`` when given."""
        keys = [partition_key(filters.lang)] if filters and filters.lang else list(self.index.partitions)
        where = chroma_where(replace(filters, lang=None) if filters else None)
        found = sorted(
            (hit for key in keys if key in self.index.partitions
             for hit in self.index.store(key).similarity_search_by_vector_with_relevance_scores(
                 vector, k=limit, filter=where)),
            key=lambda hit: hit[1])[:limit]
        passages = []
        for rank, (doc, distance) in enumerate(found):
            metadata = dict(doc.metadata)
            sparse = metadata.pop(SPARSE_KEY, None)
            if packed is not None and isinstance(sparse, str):
                packed[str(doc.id)] = sparse
            passages.append(Passage(
                chunk_id=str(doc.id), doc_id=str(metadata.get("doc_id")), text=doc.page_content,
                metadata=metadata, dense_similarity=1.0 - float(distance), dense_rank=rank,
            ))
        return passages

    def _stored(self, vector: list[float], chunk_ids: list[str],
                packed: dict[str, str]) -> dict[str, Passage]:
        """Chunks that BM25 alone proposed, read from Chroma with their cosine to the query; a
        chunk deleted meanwhile is left out."""
        if not chunk_ids:
            return {}
        stored = self.index.get(ids=chunk_ids, include=["embeddings", "metadatas", "documents"])
        similarities = cosines(stored, vector)
        passages = {}
        rows = zip(stored["ids"], stored["metadatas"], stored["documents"], strict=True)
        for chunk_id, metadata, text in rows:
            metadata = dict(metadata or {})
            sparse = metadata.pop(SPARSE_KEY, None)
            if isinstance(sparse, str):
                packed[chunk_id] = sparse
            passages[chunk_id] = Passage(chunk_id=chunk_id, doc_id=str(metadata.get("doc_id")),
                                         text=text or "", metadata=metadata,
                                         dense_similarity=similarities[chunk_id])
        return passages

    def similarities(self, vector: list[float], chunk_ids: list[str]) -> dict[str, float]:
        """Cosine similarity of the query to stored chunks; a chunk deleted meanwhile is left out."""
        if not chunk_ids:
            return {}
        with self.index.lock.reading():
            return cosines(self.index.get(ids=chunk_ids, include=["embeddings"]), vector)


def cosines(stored: Any, vector: list[float]) -> dict[str, float]:
    """Chunk id → cosine with the query, for what a Chroma ``get`` with embeddings returned."""
    if not stored["ids"]:
        return {}
    matrix = np.asarray(stored["embeddings"], dtype=np.float32).reshape(len(stored["ids"]), -1)
    return dict(zip(stored["ids"], (matrix @ np.asarray(vector, dtype=np.float32)).tolist(), strict=True))


class NewsRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain retriever (one Document per source document, the scores in
    ``metadata["retrieval"]``), for chains of one's own; the assistant's chain keeps Passages."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: HybridRetriever
    filters: Filters | None = None
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [to_document(p) for p in self.retriever.search(query, self.filters, self.k)]


SCORE_FIELDS = ("score", "dense_similarity", "calibrated", "lexical_score", "lexical_coverage",
                "sparse_similarity", "dense_rank", "lexical_rank")


def to_document(passage: Passage) -> Document:
    """A Passage as a LangChain Document; the scores travel in ``metadata["retrieval"]``."""
    scores = {name: getattr(passage, name) for name in SCORE_FIELDS}
    return Document(
        id=passage.chunk_id,
        page_content=passage.text,
        metadata={**passage.metadata, "chunk_id": passage.chunk_id, "retrieval": scores},
    )
