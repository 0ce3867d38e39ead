"""The bundled e5 embedder: a question read several times in a turn is embedded once."""

from __future__ import annotations

import pytest

from assistant.index.embeddings import E5Embeddings


def test_a_question_is_embedded_once_however_often_a_turn_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search, a follow-up's topic check and the answer-kind model each read the question's
    vector; the model runs once, and each caller gets a list of its own."""
    embedder = E5Embeddings()
    asked: list[str] = []
    query = embedder.model.query
    monkeypatch.setattr(embedder.model, "query", lambda text: asked.append(text) or query(text))
    first = embedder.embed_query("Who directs the Russian Center?")
    first.append(1.0)
    again = embedder.embed_query("Who directs the Russian Center?")
    other = embedder.embed_query("Who directs the Russian Centre?")
    assert asked == ["Who directs the Russian Center?", "Who directs the Russian Centre?"]
    assert len(again) == 384 and again != other
