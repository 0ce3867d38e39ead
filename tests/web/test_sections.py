"""Editorial controls on a real server: articles carry a section, EXCLUDE_SECTIONS keeps sections out of
retrieval entirely, and a request's filters may leave out more."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from assistant.config import Settings
from assistant.index.collection import Index
from assistant.index.embeddings import make_embedder
from tests.web.test_app import ADMIN, chat

ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}
QUESTION = "How long is the new cable ferry across the Zwartwater at Genemuiden?"
NEWS = {"title": "Genemuiden gets a cable ferry", "section": "News", "lang": "en", "date": "2026-11-20",
        "text": "A cable ferry now crosses the Zwartwater at Genemuiden. The new cable ferry is 34 metres long "
                "and carries twelve cars, the province said on Friday."}
OPINION = {"title": "Why the Genemuiden ferry matters", "section": " Opinion ", "lang": "en", "date": "2026-11-21",
           "text": "The new cable ferry across the Zwartwater at Genemuiden is 34 metres long, and every one of "
                   "those metres is a victory for the villages, our columnist argues."}
SPONSORED = {"title": "Cross the Zwartwater in style", "section": "Sponsored", "lang": "en", "date": "2026-11-22",
             "text": "The cable ferry across the Zwartwater at Genemuiden, 34 metres long, is the best way to "
                     "visit our waterfront restaurant."}


def put_all(url: str) -> None:
    for doc_id, body in (("news-1", NEWS), ("opinion-1", OPINION), ("sponsored-1", SPONSORED)):
        response = httpx.put(f"{url}/api/documents/{doc_id}", json=body, headers=ADMIN_HEADERS, timeout=300)
        assert response.status_code == 200, response.text


def retrieved(url: str, filters: dict[str, Any] | None = None) -> list[str]:
    body: dict[str, Any] = {"question": QUESTION}
    if filters is not None:
        body["filters"] = filters
    response = chat(url, body)
    assert response.status_code == 200, response.text
    result = response.json()
    return [doc for doc in result["retrieved_doc_ids"] if doc.endswith("-1")] + \
        [f"cited:{s['doc_id']}" for s in result["sources"]]


def sections_of(settings: Settings) -> dict[str, str]:
    index = Index.open(settings.index, make_embedder(settings.embedding, settings.model))
    firsts = index.get(where={"chunk_index": 0}, include=["metadatas"])["metadatas"]
    return {meta["doc_id"]: meta["section"] for meta in firsts if meta["doc_id"].endswith("-1")}


def test_a_publishers_section_is_stored_and_every_section_is_searched_by_default(
        serve: Callable[..., Any]) -> None:
    with serve() as (url, settings):
        put_all(url)
        found = retrieved(url)
        assert sections_of(settings) == {"news-1": "news", "opinion-1": "opinion", "sponsored-1": "sponsored"}
    assert {"news-1", "opinion-1", "sponsored-1"} <= set(found)  # without the setting, all three compete


def test_exclude_sections_keeps_those_articles_out_of_retrieval_and_requests_leave_out_more(
        serve: Callable[..., Any]) -> None:
    with serve(exclude_sections="opinion, SPONSORED") as (url, settings):
        put_all(url)
        found = retrieved(url)
        assert "news-1" in found and "cited:news-1" in found
        assert not {"opinion-1", "sponsored-1", "cited:opinion-1", "cited:sponsored-1"} & set(found)
        # a request's exclude_sections add to the setting (and never bring a section back)
        narrowed = retrieved(url, {"exclude_sections": ["News"]})
        assert not {"news-1", "opinion-1", "sponsored-1"} & set(narrowed)
        widened = retrieved(url, {"exclude_sections": []})
        assert "opinion-1" not in widened and "sponsored-1" not in widened
        refused = chat(url, {"question": QUESTION, "filters": {"exclude_sections": "opinion"}})
        from assistant.service import Assistant
        from assistant.web.ui import corpus_documents

        examples_from = {doc["doc_id"] for doc in corpus_documents(Assistant.open(settings))}
    assert refused.status_code == 422  # a list is expected: a lone string is not split into letters
    assert "news-1" in examples_from and not {"opinion-1", "sponsored-1"} & examples_from  # no example either


def test_a_request_can_leave_out_articles_by_id(serve: Callable[..., Any]) -> None:
    with serve() as (url, _):
        put_all(url)
        found = retrieved(url, {"exclude_doc_ids": ["news-1", "opinion-1"]})
        refused = chat(url, {"question": QUESTION, "filters": {"exclude_doc_ids": "news-1"}})
    assert "sponsored-1" in found
    assert not {"news-1", "opinion-1", "cited:news-1", "cited:opinion-1"} & set(found)
    assert refused.status_code == 422  # a list of ids, not one string
