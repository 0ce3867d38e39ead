"""The unanswered-questions queue over a real SQLite store and the bundled e5 embedder."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from assistant.config import Settings
from assistant.index.embeddings import make_embedder
from assistant.index.profile import profile_for
from assistant.questions import QuestionEmbedder, QuestionQueue, closest_of
from assistant.storage import Store
from tests.conftest import make_settings

HANOI = ["What is the population of Hanoi?", "How many people live in Hanoi?", "Hoeveel inwoners heeft Hanoi?"]
REFUSAL = {"answer": "The articles do not say.", "abstained": True, "sources": [],
           "related": [{"number": 1, "doc_id": "hanoi-metro", "title": "Hanoi opens a second metro line",
                        "url": "https://news.example/hanoi-metro", "outlet": "Example", "date": "2026-11-30",
                        "lang": "en", "passage": "…"}],
           "retrieved_doc_ids": ["hanoi-metro", "rice"]}


@pytest.fixture(scope="module")
def embedder() -> QuestionEmbedder:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return QuestionEmbedder(make_embedder(settings.embedding, settings.model))


def queue_in(tmp_path: Path, embedder: QuestionEmbedder, **settings: object) -> QuestionQueue:
    config = make_settings(tmp_path, **settings)
    return QuestionQueue(Store.open(config.database_url).engine, embedder, config.storage,
                         lookup=lambda ids: [{"doc_id": doc_id, "title": f"Title of {doc_id}"} for doc_id in ids],
                         group_similarity=profile_for(config.embedding).topics.question_groups)


def test_near_duplicates_in_any_language_are_one_item(tmp_path: Path, embedder: QuestionEmbedder) -> None:
    queue = queue_in(tmp_path, embedder)
    groups = {queue.record(question, REFUSAL, "refused") for question in HANOI}
    other = queue.record("Who won the cycling race in Hue?", REFUSAL, "refused")
    assert len(groups) == 1 and other not in groups
    items = queue.items()
    assert [item["count"] for item in items] == [3, 1]
    hanoi = items[0]
    assert hanoi["variants"] == HANOI and hanoi["question"] == HANOI[0]
    assert hanoi["languages"] == ["en", "nl"] and hanoi["refused"] == 3 and hanoi["answered_by"] == []
    assert hanoi["closest"][0]["title"] == "Hanoi opens a second metro line"
    assert hanoi["first_asked"] <= hanoi["last_asked"] and hanoi["last_asked"].endswith("Z")


def test_kept_without_reader_ids_for_the_retention_days_and_a_turn_counts_once(
        tmp_path: Path, embedder: QuestionEmbedder) -> None:
    queue = queue_in(tmp_path, embedder, question_retention_days=90)
    old = datetime.now(UTC) - timedelta(days=91)
    queue.record("When does the Hue festival start?", REFUSAL, "refused", asked_at=old)
    assert queue.record(HANOI[0], REFUSAL, "refused", turn_id="turn-1") is not None
    assert queue.record(HANOI[0], REFUSAL, "disliked", turn_id="turn-1") is None  # refused, then rated down
    assert [(item["question"], item["count"]) for item in queue.items("all")] == [(HANOI[0], 1)]
    columns = {c["name"] for c in inspect(Store.open(make_settings(tmp_path).database_url).engine)
               .get_columns("asked_questions")}
    assert columns == {"id", "group_id", "question", "lang", "reason", "asked_at", "closest", "vector", "turn_id"}


def test_answered_items_leave_the_unanswered_list_and_csv_has_the_same(
        tmp_path: Path, embedder: QuestionEmbedder) -> None:
    queue = queue_in(tmp_path, embedder)
    group = queue.record(HANOI[0], REFUSAL, "refused")
    queue.record("Who won the cycling race in Hue?", {"abstained": False, "sources": [
        {"doc_id": "race", "title": "Race", "url": ""}]}, "disliked")
    assert group is not None
    queue.mark_answered(group, ["hanoi-census"])
    assert [item["question"] for item in queue.items("answered")] == [HANOI[0]]
    assert [item["question"] for item in queue.items("unanswered")] == ["Who won the cycling race in Hue?"]
    assert queue.items("answered")[0]["answered_by"] == ["hanoi-census"]
    rows = list(csv.DictReader(io.StringIO(queue.as_csv("all"))))
    assert {row["question"]: (row["count"], row["answered_by"], row["closest"]) for row in rows} == {
        HANOI[0]: ("1", "hanoi-census", "hanoi-metro"), "Who won the cycling race in Hue?": ("1", "", "race")}
    assert [question for _, question, _ in queue.open_items()] == ["Who won the cycling race in Hue?"]


def test_the_closest_articles_are_related_else_cited_else_retrieved() -> None:
    assert [s["doc_id"] for s in closest_of(REFUSAL)] == ["hanoi-metro"]
    assert closest_of({"sources": [{"doc_id": "a", "title": "A"}]})[0]["title"] == "A"
    fallback = closest_of({"related": [], "retrieved_doc_ids": ["x", "y", "x"]},
                          lambda ids: [{"doc_id": "x", "title": "X"}])
    assert fallback == [{"doc_id": "x", "title": "X"}, {"doc_id": "y"}]
