"""Text helpers shared by ingest and answering."""

from __future__ import annotations

import pytest

from assistant.text import detect_language, function_words, quoted_in, script, split_sentences


def test_a_title_does_not_end_a_sentence() -> None:
    """ "Ms. Phillips" stays in one sentence (sentencex alone splits after "Ms."), so a quote never
    reads "… Ms. [1] Phillips, who …"; a real sentence end after a title still splits."""
    text = ("Because of the adoption ban, Ms. Phillips, who is a captain, waited. "
            "Then Mr. Smith and Mx. Lee came. The last word went to Ms. Phillips. It rained.")
    assert split_sentences(text, "en") == [
        "Because of the adoption ban, Ms. Phillips, who is a captain, waited.",
        "Then Mr. Smith and Mx. Lee came.",
        "The last word went to Ms. Phillips.",
        "It rained.",
    ]
    assert split_sentences("Đây là câu một. Đây là câu hai.", "vi") == ["Đây là câu một.", "Đây là câu hai."]


@pytest.mark.parametrize(("question", "lang"), [
    # short Dutch questions full of names, which fastText alone took for German or English
    ("Wat is de Joint Venture Bank?", "nl"), ("Wat gebeurde er gisteren?", "nl"), ("Wat zei Poetin?", "nl"),
    ("Wie is Bezdetko?", "nl"), ("Wie ontving de ambassadeur?", "nl"), ("Wat is er gisteren gebeurd?", "nl"),
    ("Wat is het laatste nieuws over Vietnam en Rusland?", "nl"),
    # and the others stay what they are
    ("Who is Bezdetko?", "en"), ("When?", "en"), ("Wer ist Bezdetko?", "de"), ("Wie heißt der Botschafter?", "de"),
    ("Кто такой Бездетко?", "ru"), ("Ai là Bezdetko?", "vi"),
])
def test_short_questions_are_read_in_their_language(question: str, lang: str) -> None:
    assert detect_language(question) == lang


def test_without_the_function_words_fasttext_alone_misread_them() -> None:
    assert detect_language("Wie is Bezdetko?", unsure_below=0) == "de"
    assert detect_language("Wat is de Joint Venture Bank?", unsure_below=0) == "en"
    assert {"wie", "wat", "het"} <= function_words("nl") and "wie" not in function_words("en")
    assert function_words("xx") == frozenset()


def test_a_dutch_reader_gets_a_dutch_label() -> None:
    assert quoted_in("nl", "en") == "Geciteerd in het Engels"


def test_the_script_a_text_is_written_in() -> None:
    assert script("Who is the Russian ambassador to Vietnam?") == "LATIN"
    assert script("Đại sứ Nga tại Việt Nam là ai?") == "LATIN"
    assert script("Кто посол России во Вьетнаме? (Vietnam)") == "CYRILLIC"
    assert script("ロシアの駐ベトナム大使は誰ですか") in ("KATAKANA", "HIRAGANA", "CJK")
    assert script("من هو سفير روسيا في فيتنام؟") == "ARABIC"
    assert script("2025 – 15 %") == ""
