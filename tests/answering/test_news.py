"""Which questions ask what is new, and their topic (the answers themselves: tests/web/test_news_api.py)."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.answering.news import news_request, timeline_request
from assistant.retrieval.recency import time_frame
from assistant.text import detect_language

TODAY = date(2025, 4, 3)


@pytest.mark.parametrize(("question", "topic", "span"), [
    ("What happened yesterday?", "", True),
    ("What happened this week?", "", True),
    ("What's new?", "", False),
    ("What is the latest news on Vietnam and Russia?", "vietnam russia", False),
    ("What's the latest on the Joint Venture Bank?", "joint venture bank", False),
    ("Có gì mới về Nga?", "nga", False),
    ("Wat is het laatste nieuws over Vietnam en Rusland?", "vietnam rusland", False),
    ("Wat is er gisteren gebeurd?", "", True),
    ("Was gibt es Neues über Russland?", "russland", False),
    ("Что нового о России?", "россии", False),
])
def test_questions_about_what_is_new(question: str, topic: str, span: bool) -> None:
    lang = detect_language(question)
    request = news_request(question, lang, time_frame(question, TODAY))
    assert request is not None and request.topic == topic and request.frame.is_span == span


@pytest.mark.parametrize("question", [
    "What did Putin sign last week?",  # about something that happened, at a time
    "Who directs the Russian Center for Science and Culture in Vietnam?",
    "What was agreed in March?",  # a named month is only preferred
])
def test_other_questions_are_not(question: str) -> None:
    assert news_request(question, detect_language(question), time_frame(question, TODAY)) is None


@pytest.mark.parametrize(("question", "topic", "since"), [
    ("How have Vietnam and Russia developed since 2024?", "vietnam russia", "2024-01-01"),
    ("Give me a timeline of the Quortle harbour", "quortle harbour", ""),
    ("Geef me een tijdlijn van de haven van Quortle", "haven quortle", ""),
    ("Wie hat sich der Hafen von Quortle seit 2023 entwickelt?", "hafen quortle entwickelt", "2023-01-01"),
    ("Хронология отношений России и Вьетнама", "россии вьетнама", ""),
])
def test_questions_asking_for_a_timeline(question: str, topic: str, since: str) -> None:
    request = timeline_request(question, detect_language(question))
    assert request is not None and (request.topic, request.since) == (topic, since)


def test_a_question_about_one_event_is_no_timeline() -> None:
    assert timeline_request("When did the harbour of Quortle reopen?", "en") is None
