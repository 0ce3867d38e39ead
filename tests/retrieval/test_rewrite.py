"""Follow-ups without a model: which earlier turns a question continues, in each language."""

from __future__ import annotations

import pytest

from assistant.answering.generate import looks_like_abstention
from assistant.documents import Turn
from assistant.retrieval.rewrite import topic_turns
from assistant.text import no_answer_text


def conversation(first: str, then: str, lang: str) -> list[Turn]:
    """A question about one story, answered, then a question with a new name, refused."""
    return [Turn("user", first), Turn("assistant", "Vladimir Poetin bezocht Hanoi in juni 2024. [1]"),
            Turn("user", then), Turn("assistant", no_answer_text(lang))]


@pytest.mark.parametrize(("lang", "first", "then", "pointer"), [
    ("en", "Which treaty did Putin sign in Hanoi?", "When was Lula elected, and where did he grow up?", " he "),
    ("nl", "Welk verdrag tekende Poetin in Hanoi?", "Wanneer werd Lula gekozen en waar groeide hij op?", " hij "),
    ("de", "Welchen Vertrag unterzeichnete Putin in Hanoi?", "Wann wurde Lula gewählt und wo ist er aufgewachsen?",
     " er "),
])
def test_a_question_that_points_back_keeps_the_conversation(lang: str, first: str, then: str, pointer: str) -> None:
    """A refused question with a new name starts a topic of its own, unless it points back ("he",
    "hij", "er"): the Dutch pronouns are in nl.toml's follow_up_words like the other languages'."""
    pointing = conversation(first, then, lang)
    assert topic_turns("And since when?", pointing) == pointing
    new_topic = conversation(first, then.replace(pointer, " "), lang)
    assert topic_turns("And since when?", new_topic) == new_topic[2:]


@pytest.mark.parametrize(("lang", "first", "then"), [
    ("de", "Welche Verträge unterzeichnete Putin?", "Wann tritt der Vertrag mit Vietnam in Kraft?"),
    ("en", "Which universities did Putin visit?", "When was the University of Hanoi founded?"),
])
def test_a_question_sharing_a_word_in_another_form_keeps_the_conversation(lang: str, first: str,
                                                                         then: str) -> None:
    """"Vertrag" after "Verträge" is the same word to the language's stemmer (six first characters
    are not: "vertra", "verträ"), so the refused question does not start a topic of its own."""
    turns = conversation(first, then, lang)
    assert topic_turns("Und seit wann?", turns, lang) == turns


@pytest.mark.parametrize(("lang", "reply"), [
    ("en", "The sources do not mention the number of tourists."),
    ("nl", "De bronnen vermelden niet hoeveel toeristen er kwamen."),
    ("de", "Die Quellen enthalten keine Angaben zur Zahl der Touristen, es wird nicht erwähnt."),
    ("ru", "В источниках не упоминается число туристов."),
    ("vi", "Các nguồn không đề cập đến số lượng khách du lịch."),
])
def test_a_model_saying_the_sources_do_not_answer_is_read_in_the_questions_language(lang: str, reply: str) -> None:
    assert looks_like_abstention(reply, lang)
    assert not looks_like_abstention("Lula was elected in 2002 and grew up in São Paulo. [1]", lang)
