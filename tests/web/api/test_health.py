"""/api/health over real HTTP: the index reachable and searchable, the model reachable and its calls, in
the statuses a monitor reads (200 ok, 503 degraded or unavailable)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from assistant.answering.generate import UNAVAILABLE
from assistant.languages import say
from assistant.service import Assistant
from tests.conftest import free_port
from tests.web.test_app import ADMIN_AUTH, QUESTION, base, chat, shared

__all__ = ["base", "shared"]


def test_health_and_stats(base: str) -> None:
    health = httpx.get(f"{base}/api/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["index"] == {"reachable": True, "chunks": 66, "searchable": True}
    assert health.json()["model"] == {"configured": False, "mode": "extractive", "reachable": None}
    # the shipped embedder's thresholds were fitted for it (assistant/index/profiles)
    assert health.json()["embedder"] == {"profile": "multilingual-e5-small", "calibrated": True}
    stats = httpx.get(f"{base}/api/stats", headers=ADMIN_AUTH, timeout=10).json()
    assert stats["index"]["documents"] == 5
    assert stats["index"]["languages"] == {"en": 4, "nl": 1}
    assert stats["mode"] == "extractive"


def test_health_reports_an_unreachable_model(serve: Callable[..., Any]) -> None:
    port = free_port()
    with serve(openai_base_url=f"http://127.0.0.1:{port}/v1", llm_max_retries=0) as (url, _):
        health = httpx.get(f"{url}/api/health", timeout=20)
        reply = chat(url, {"question": QUESTION})  # connection refused: the articles are quoted
        dutch = chat(url, {"question": "In welk jaar ondertekenden Rusland en Vietnam het Verdrag inzake de basisbeginselen?"})
    assert health.status_code == 503
    assert health.json()["status"] == "degraded"  # the service answers, from the articles
    assert health.json()["index"]["reachable"] is True
    assert health.json()["model"]["reachable"] is False
    assert reply.status_code == 200
    assert reply.json()["mode"] == "extractive"
    assert reply.json()["notice"] == say(UNAVAILABLE, "en", reason="It cannot be reached.")
    assert str(port) not in reply.text and "127.0.0.1" not in reply.text
    assert dutch.json()["lang"] == "nl" and not dutch.json()["abstained"]  # the notice in the reader's language
    assert dutch.json()["notice"] == ("Het taalmodel is niet beschikbaar, dus dit antwoord citeert de artikelen. "
                                      "Het is niet bereikbaar.")


def test_health_reports_a_failing_search(serve: Callable[..., Any]) -> None:
    """A damaged chunk (here: its sparse vector, written by another client) breaks every search while
    the index still counts its chunks: health must say so, not "ok"."""
    with serve() as (url, settings):
        assert httpx.get(f"{url}/api/health", timeout=20).json()["status"] == "ok"
        other = Assistant.open(settings)  # another client, as another process would be
        chunk = other.index.get(limit=1, include=["metadatas", "documents", "embeddings"])
        damaged = {**chunk["metadatas"][0], "sparse": "not base64 at all!"}
        other.index.write_rows(chunk["ids"], chunk["embeddings"], chunk["documents"], [damaged])
        other.index.touch()
        health = httpx.get(f"{url}/api/health", timeout=20)
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert health.json()["index"] == {"reachable": True, "chunks": 66, "searchable": False,
                                      "error": "Searching the index fails; see the server log."}
