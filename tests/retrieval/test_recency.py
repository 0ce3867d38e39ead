"""Time in questions (yesterday, this week, the latest) and copies of one story, on a real index."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant.answering.chain import stream
from assistant.documents import Passage
from assistant.ingest.pipeline import chunking_signature, ingest
from assistant.ingest.sources import pushed_document
from assistant.retrieval.recency import collapse_copies, in_frame_first, time_frame
from assistant.service import Assistant
from tests.conftest import make_settings

TODAY = date(2026, 12, 2)  # a Wednesday


@pytest.mark.parametrize(("question", "start", "end"), [
    ("What happened yesterday in Hanoi?", "2026-12-01", "2026-12-01"),
    ("Wat gebeurde er gisteren in Hanoi?", "2026-12-01", "2026-12-01"),
    ("Was ist heute in Moskau passiert?", "2026-12-02", "2026-12-02"),
    ("Chuyện gì đã xảy ra hôm qua?", "2026-12-01", "2026-12-01"),
    ("Что произошло вчера в Москве?", "2026-12-01", "2026-12-01"),
    ("Which agreements were signed this week?", "2026-11-30", "2026-12-02"),
    ("Welke akkoorden zijn vorige week getekend?", "2026-11-23", "2026-11-29"),
    ("Welche Abkommen wurden letzte Woche unterzeichnet?", "2026-11-23", "2026-11-29"),
    ("Những thỏa thuận nào được ký tuần này?", "2026-11-30", "2026-12-02"),
    ("Какие соглашения подписали в прошлом месяце?", "2026-11-01", "2026-11-30"),
    ("What did Russia and Vietnam agree last year?", "2025-01-01", "2025-12-31"),
])
def test_publication_spans_in_five_languages(question: str, start: str, end: str) -> None:
    frame = time_frame(question, TODAY)
    assert frame is not None and frame.is_span
    assert (frame.start.isoformat(), frame.end.isoformat()) == (start, end)  # type: ignore[union-attr]


@pytest.mark.parametrize(("question", "today", "start", "end"), [
    # dateparser's phrases, found by their stems: other inflections of them count too
    ("Was ist im letzten Jahr passiert?", TODAY, "2025-01-01", "2025-12-31"),
    ("Was geschah in der letzten Woche?", TODAY, "2026-11-23", "2026-11-29"),
    ("Что случилось позавчера?", TODAY, "2026-11-30", "2026-11-30"),
    ("What happened the day before yesterday?", TODAY, "2026-11-30", "2026-11-30"),
    ("Что нового в этом году?", TODAY, "2026-01-01", "2026-12-02"),
    ("Có gì mới năm ngoái?", TODAY, "2025-01-01", "2025-12-31"),
    # resolved against the day given, across month and year ends
    ("What happened last month?", date(2026, 1, 2), "2025-12-01", "2025-12-31"),
    ("Wat gebeurde er vorige week?", date(2026, 1, 2), "2025-12-22", "2025-12-28"),
    ("What happened yesterday?", date(2024, 3, 1), "2024-02-29", "2024-02-29"),
])
def test_relative_dates_are_read_by_dateparser(question: str, today: date, start: str, end: str) -> None:
    frame = time_frame(question, today)
    assert frame is not None and frame.is_span
    assert (frame.start.isoformat(), frame.end.isoformat()) == (start, end)  # type: ignore[union-attr]


def test_the_expression_is_the_questions_own_words() -> None:
    frame = time_frame("Was geschah in der letzten Woche in Berlin?", TODAY)
    assert frame is not None and frame.expression == "letzten Woche"  # news answers drop it from the topic


@pytest.mark.parametrize("question", [
    "Wann wurde die neue Vereinbarung geschlossen?",  # 'neue' shares the stem of 'neueste', not its meaning
    "Welchen Beruf hatte ein Freund des jungen Picasso?",
])
def test_a_latest_word_counts_only_as_written(question: str) -> None:
    assert time_frame(question, TODAY) is None


@pytest.mark.parametrize("question", [
    "What is the latest news about the harbour?", "Wat is het laatste nieuws over Rusland?",
    "Was sind die neuesten Nachrichten?", "Tin mới nhất về Nga là gì?", "Какие последние новости?",
])
def test_latest_asks_for_the_newest(question: str) -> None:
    frame = time_frame(question, TODAY)
    assert frame is not None and frame.latest and not frame.is_span


@pytest.mark.parametrize("question", [
    "What was Vietnam's GDP growth rate in 2024?",  # the year of the story, not of the article
    "When was the March agreement signed?",
    "Who directs the Russian Center for Science and Culture in Vietnam?",
    "What will happen this weekend?",  # not 'this week'
    "Who may attend the ceremony?",  # a verb, not the month
])
def test_questions_that_name_no_publication_time(question: str) -> None:
    assert time_frame(question, TODAY) is None


@pytest.mark.parametrize(("question", "start", "end"), [
    ("What happened in March?", "2026-03-01", "2026-03-31"),
    ("What happened in December?", "2026-12-01", "2026-12-31"),  # this month: it has begun
    ("Was geschah im März 2025?", "2025-03-01", "2025-03-31"),
    ("Wat gebeurde er in maart?", "2026-03-01", "2026-03-31"),
    ("Что произошло в марте?", "2026-03-01", "2026-03-31"),
    ("Chuyện gì xảy ra vào tháng 3?", "2026-03-01", "2026-03-31"),
])
def test_a_named_month_is_preferred_not_filtered(question: str, start: str, end: str) -> None:
    frame = time_frame(question, TODAY)
    assert frame is not None and frame.prefer and not frame.is_span
    assert (frame.start.isoformat(), frame.end.isoformat()) == (start, end)  # type: ignore[union-attr]


def test_the_preferred_month_goes_first_among_the_nearly_equal() -> None:
    frame = time_frame("What did the harbour board decide in March?", TODAY)
    assert frame is not None
    found = in_frame_first([passage("nov", "A", "2026-11-02", 0.30), passage("mar", "B", "2026-03-12", 0.28),
                            passage("far", "C", "2026-03-20", 0.10)], frame)
    assert [p.doc_id for p in found] == ["mar", "nov", "far"]  # 'far' is not nearly as relevant


def passage(doc_id: str, text: str, day: str, score: float) -> Passage:
    return Passage(chunk_id=f"{doc_id}#0", doc_id=doc_id, text=text, metadata={"date": day}, score=score)


def test_copies_of_a_story_collapse_into_the_newest() -> None:
    story = ("The harbour of Quortle reopened on Monday after the storm Zephyrine damaged its piers, "
             "harbour master Anneliese Vandermolen said.")
    found = collapse_copies([
        passage("wire.txt", story, "2026-11-20", 0.30),
        passage("other.txt", "Gold prices rose again in Hanoi on Tuesday as buyers returned.", "2026-11-21", 0.2),
        passage("paper.txt", story.replace("said.", "said on Tuesday."), "2026-11-22", 0.10),
    ])
    assert [p.doc_id for p in found] == ["paper.txt", "other.txt"]
    assert found[0].score == 0.30  # the newest copy takes the story's place


STORIES = {
    "wire-1": ("Quortle harbour reopens", "2026-11-20", "Wire", "The harbour of Quortle reopened on Monday "
               "after the storm Zephyrine damaged its piers. Harbour master Anneliese Vandermolen said 40 ships "
               "had been waiting outside the harbour."),
    "paper-1": ("Quortle harbour reopens", "2026-11-20", "Daily Paper", "The harbour of Quortle reopened on "
                "Monday after the storm Zephyrine damaged its piers. Harbour master Anneliese Vandermolen said "
                "40 ships had been waiting outside the harbour, the Daily Paper reports."),
    "wire-1-update": ("Quortle harbour reopens, repairs to cost 3 million", "2026-11-27", "Wire",
                      "The harbour of Quortle reopened on Monday after the storm Zephyrine damaged its piers. "
                      "Harbour master Anneliese Vandermolen said 55 ships had been waiting outside the harbour. "
                      "Repairs to the piers will cost 3 million euros."),
    "gold": ("Gold prices climb in Hanoi", "2026-12-01", "Wire", "Gold prices in Hanoi climbed on Tuesday as "
             "buyers returned to the jewellery shops of Hang Bac street before the new year."),
}


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    settings = make_settings(Path(tmp_path_factory.mktemp("dated")))
    assistant = Assistant.open(settings)
    documents = [pushed_document(doc_id, {"title": title, "date": day, "outlet": outlet, "text": text, "lang": "en"},
                                 chunking_signature(settings.chunking, settings.tokenizer))
                 for doc_id, (title, day, outlet, text) in STORIES.items()]
    report = ingest([], settings, assistant.index, documents_read=documents)
    assert sorted(report.added) == sorted(STORIES)
    return assistant


def test_a_story_is_cited_once_in_its_newest_version(dated: Assistant) -> None:
    answer = dated.ask("How many ships were waiting outside Quortle harbour?", today=TODAY)
    assert [s.doc_id for s in answer.sources] == ["wire-1-update"]
    assert answer.sources[0].date == "2026-11-27"
    assert "55" in answer.text
    assert len([d for d in answer.retrieved_doc_ids if d in ("wire-1", "paper-1", "wire-1-update")]) == 1


def test_yesterday_means_articles_published_yesterday(dated: Assistant) -> None:
    answer = dated.ask("What happened yesterday?", today=TODAY)
    assert answer.retrieved_doc_ids == ["gold"]
    # nothing is from that day: the answer says so, with the date, and gives the latest there is
    nothing = dated.ask("What happened yesterday in Quortle harbour?", today=date(2026, 11, 25))
    assert nothing.text.startswith("Nothing in the articles is from yesterday (24 November 2026); the latest")
    assert not nothing.abstained and nothing.sources and nothing.retrieved_doc_ids[0] == nothing.sources[0].doc_id


def test_a_span_no_article_of_which_answers_is_answered_from_another_date_said_first(dated: Assistant) -> None:
    """"This week" filters by publication date; when no article of that week answers (here only the gold
    story is from it), the articles of any date are read, and the answer says so first."""
    question = "How much will the repairs to the Quortle piers cost this week?"
    answer = dated.ask(question, today=TODAY)
    first, quote = answer.text.split("\n", 1)
    assert first == "No article from this week (30 November 2026 – 2 December 2026) answers this. From outside that time:"
    assert not answer.abstained and "3 million euros" in quote
    assert [s.doc_id for s in answer.sources] == ["wire-1-update"] == answer.retrieved_doc_ids[:1]
    assert answer.as_of == "2026-11-27"  # the date shown with it
    streamed = list(stream(dated.chain, question, today=TODAY))
    assert "".join(event["token"] for event in streamed if "token" in event) == answer.text
    # the week the update appeared in answers it as usual; a span nothing answers at all is refused
    assert not dated.ask(question, today=date(2026, 11, 28)).text.startswith("No article")
    refused = dated.ask("Who won the football cup final this week?", today=TODAY)
    assert refused.abstained and not refused.text.startswith("No article") and not refused.sources


def test_in_a_corpus_without_dates_time_words_are_only_words(tmp_path: Path) -> None:
    """"What contract was ratified last week?" over undated articles (the eval corpora): no filter."""
    settings = make_settings(tmp_path)
    assistant = Assistant.open(settings)
    text = ("The dockworkers' union ratified a new three-year contract with the port authority last week, "
            "ending a strike that had closed the harbour of Quortle for nine days.")
    report = ingest([], settings, assistant.index, documents_read=[
        pushed_document("union", {"title": "Dockworkers ratify contract", "text": text, "lang": "en"},
                        chunking_signature(settings.chunking, settings.tokenizer))])
    assert report.added == ["union"]
    answer = assistant.ask("What contract was ratified last week?", today=TODAY)
    assert answer.retrieved_doc_ids == ["union"] and not answer.abstained
