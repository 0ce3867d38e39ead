"""The model path shows the articles first, and asks the model whether they answer before it writes.

A real chain over the sample index, and the scripted OpenAI-compatible server on 127.0.0.1 as the
model (its answer calls are ``stub.requests``, its judge calls ``stub.judge_requests``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from assistant.answering.generate import UNAVAILABLE
from assistant.answering.judge import JUDGE_MAX_TOKENS, read_verdict
from assistant.config import Settings
from assistant.documents import Answer, QuotedEvidence
from assistant.languages import say
from assistant.service import Assistant
from assistant.text import split_sentences
from tests.openai_stub import OpenAIStub, Reply, sources_in
from tests.openai_stub import with_model as stub_model

QUESTION = "Who directs the Russian Center for Science and Culture in Vietnam?"
DUTCH_QUESTION = "Welk verdrag tegen cybercriminaliteit wordt in Hanoi ondertekend?"


def with_model(settings: Settings, url: str, **overrides: Any) -> Settings:
    """The stub as the model, no retries and no rewriting: one answer call a turn."""
    return stub_model(settings, url, **{"llm_max_retries": 0, "llm_rewrite": False, **overrides})


def grounded() -> Any:
    """A reply quoting the first sentence of source 2 (not the extractive answer's quote)."""
    def reply(body: dict[str, Any]) -> Reply:
        first = split_sentences(sources_in(body)[2], "en")[0].rstrip(".")
        return Reply(text=f"{first} [2].")
    return reply


def events(assistant: Assistant, question: str, stub: OpenAIStub) -> list[tuple[str, Any, int]]:
    """(kind, value, model calls received so far) for each event of the turn, as it comes."""
    seen = []
    for event in assistant.stream(question, []):
        (kind, value), = ((k, v) for k, v in event.items())
        seen.append((kind, value, len(stub.requests) + len(stub.judge_requests)))
    return seen


def test_sources_and_quoted_evidence_come_before_any_model_call(sample_settings: Settings,
                                                                 stub: OpenAIStub) -> None:
    stub.default = grounded()
    quoted = Assistant.open(sample_settings).ask(QUESTION)  # the extractive answer, no model
    assert not quoted.abstained
    seen = events(Assistant.open(with_model(sample_settings, stub.url, llm_judge=True)), QUESTION, stub)

    kinds = [kind for kind, *_ in seen]
    assert kinds[0] == "evidence" and kinds[-1] == "answer" and set(kinds[1:-1]) == {"token"}
    _, evidence, calls_before = seen[0]
    assert isinstance(evidence, QuotedEvidence)
    assert calls_before == 0  # shown before the judge's call and the answer's
    request = stub.requests[0]
    assert len(stub.judge_requests) == 1 and stub.judge_requests[0].received < request.received

    answer: Answer = seen[-1][1]
    top = answer.retrieved_doc_ids[:sample_settings.top_k]
    assert [s.doc_id for s in evidence.sources] == top
    assert [s.number for s in evidence.sources] == list(range(1, len(top) + 1))
    for number, text in sources_in(request.body).items():  # numbered as the model reads them
        assert evidence.sources[number - 1].passage == text
    # the quote is the extractive answer, its [1] now the number of that passage among the sources
    (cited,) = evidence.citations
    assert evidence.sources[cited - 1].doc_id == quoted.sources[0].doc_id
    assert evidence.sources[cited - 1].supporting == quoted.sources[0].supporting
    assert evidence.text.replace(f"[{cited}]", "[1]") == quoted.text
    assert not evidence.abstained
    # and it is not the answer: the model's answer follows, and is what the tokens spell
    assert answer.mode == "llm" and answer.text != evidence.text
    assert "".join(value for kind, value, *_ in seen if kind == "token") == answer.text
    assert answer.sources[0].passage == sources_in(request.body)[2]


def test_evidence_of_a_turn_that_abstains_before_the_model(sample_settings: Settings,
                                                           stub: OpenAIStub) -> None:
    seen = events(Assistant.open(with_model(sample_settings, stub.url)), "What is the capital of Australia?",
                  stub)
    assert [kind for kind, *_ in seen] == ["evidence", "token", "answer"]
    evidence, answer = seen[0][1], seen[-1][1]
    assert evidence.abstained and evidence.text == answer.text == "The articles do not answer this question."
    assert evidence.citations == [] and len(evidence.sources) == sample_settings.top_k
    assert stub.requests == [] and stub.judge_requests == []


def test_judge_saying_no_abstains_without_the_long_call(sample_settings: Settings, stub: OpenAIStub) -> None:
    stub.judge = "No"
    stub.default = grounded()
    assistant = Assistant.open(with_model(sample_settings, stub.url, llm_judge=True))
    answer = assistant.ask(QUESTION)
    assert answer.abstained and answer.mode == "llm"
    assert answer.text.startswith("The articles do not answer this question.") and answer.sources == []
    assert stub.requests == []  # the answer was never written
    (judged,) = stub.judge_requests
    assert judged.body["max_tokens"] == JUDGE_MAX_TOKENS
    assert QUESTION in judged.messages[-1]["content"] and "NONE" in judged.messages[-1]["content"]
    assert sources_in(judged.body)  # the judge reads the numbered sources


def test_judge_saying_no_abstains_in_the_readers_language(sample_settings: Settings, stub: OpenAIStub) -> None:
    stub.judge = "nee"
    answer = Assistant.open(with_model(sample_settings, stub.url, llm_judge=True)).ask(DUTCH_QUESTION)
    assert len(stub.judge_requests) == 1 and stub.requests == []
    assert answer.abstained and answer.text.startswith("De artikelen beantwoorden deze vraag niet. De meest verwante")


def test_judge_saying_yes_lets_the_model_answer(sample_settings: Settings, stub: OpenAIStub) -> None:
    stub.judge = "Yes"
    stub.default = grounded()
    answer = Assistant.open(with_model(sample_settings, stub.url, llm_judge=True)).ask(QUESTION)
    assert answer.mode == "llm" and not answer.abstained and answer.text.endswith("[1].")
    (judged,), (written,) = stub.judge_requests, stub.requests
    # the judge's messages are the answer's plus its question: a prefix cache reads the sources once
    assert judged.messages[:-1] == written.messages


def test_a_judge_fault_quotes_the_articles_with_a_notice_at_once(sample_settings: Settings,
                                                                   stub: OpenAIStub) -> None:
    stub.judge = None  # the judge's call is scripted like any other: it fails
    stub.script(Reply(status=500), grounded())
    answer = Assistant.open(with_model(sample_settings, stub.url, llm_judge=True)).ask(QUESTION)
    quoted = Assistant.open(sample_settings).ask(QUESTION)
    assert answer.mode == "extractive" and answer.text == quoted.text
    assert answer.notice == say(UNAVAILABLE, "en", reason="It failed (HTTP 500).")
    assert len(stub.requests) == 1  # the judge's; no second wait for the answer call


def test_the_judge_is_off_by_default(sample_settings: Settings, stub: OpenAIStub) -> None:
    stub.judge = "no"
    stub.default = grounded()
    answer = Assistant.open(with_model(sample_settings, stub.url)).ask(QUESTION)
    assert answer.mode == "llm" and not answer.abstained
    assert stub.judge_requests == [] and len(stub.requests) == 1


SOURCES = ('<source n="1">Murashkin Viktor Nikolaevich directs the Russian Center for Science and '
           'Culture in Hanoi. The center opened in 1983.</source>')


@pytest.mark.parametrize(("reply", "verdict"), [
    # a copy of the sources is an answer, even reworded a little; words of the model's own are not
    ("Murashkin Viktor Nikolaevich", True), ("Murashkin directs the center.", True),
    ("Nguyen Van An directs it", None), ("The director is Ivanov, appointed in 2019.", None),
    # NONE, a bare no, or the fixed abstention: the sources hold no answer
    ("NONE", False), ("None.", False), ("none of the sources say", False), ("Nein", False),
    ("нет", False), ("không", False), ("The articles do not answer", False),
    # the judge's earlier form, as a model may still reply
    ("Yes", True), ("No", False), ("", None), ("[1]", None),
])
def test_read_verdict(reply: str, verdict: bool | None) -> None:
    assert read_verdict(reply, SOURCES) is verdict


def test_a_vietnamese_copy_starting_with_khong_is_a_copy() -> None:
    """ "không" alone is no; a copied Vietnamese sentence that starts with it is a copy."""
    sources = '<source n="1">Không ai được phép vào khu vực này sau 10 giờ tối.</source>'
    assert read_verdict("Không ai được phép vào khu vực này", sources) is True


def test_quoted_evidence_numbers_stay_within_the_sources() -> None:
    from assistant.answering.generate import quoted_evidence
    from assistant.documents import Passage, make_source

    passages = [Passage(chunk_id=f"c{i}", doc_id=f"d{i}", text=f"Text {i}.", metadata={"title": f"T{i}"})
                for i in range(1, 4)]
    source = make_source(1, passages[2])
    source.supporting = ["Text 3."]
    quote = Answer(question="q?", text="“Text 3.” [1] and [1, 7]", sources=[source], abstained=False)
    evidence = quoted_evidence(quote, passages)
    assert evidence.text == "“Text 3.” [3] and [3]"
    assert evidence.citations == [3]
    assert [s.number for s in evidence.sources] == [1, 2, 3]
    assert evidence.sources[2].supporting == ["Text 3."] and evidence.sources[0].supporting == []
    assert re.findall(r"\[(\d+)\]", evidence.text) == ["3", "3"]
