"""The reader's language over real HTTP: a Dutch question gets its labels, "as of" and refusal in Dutch."""

from __future__ import annotations

from assistant.storage import Store
from tests.web.api.test_chat import server
from tests.web.test_app import chat

__all__ = ["server"]


def test_a_dutch_question_is_answered_in_dutch_words(server: tuple[str, Store]) -> None:
    base, _ = server
    result = chat(base, {"question": "Wie is Bezdetko?"}).json()  # fastText alone: German
    assert result["lang"] == "nl" and not result["abstained"]
    assert result["answer"].startswith("Geciteerd in het Engels: ")
    assert result["as_of_label"] == "Stand van 2 april 2025"
    refusal = chat(base, {"question": "Wie won de Tour de France in 1998 en met welke fiets?"}).json()
    assert refusal["abstained"] and refusal["answer"] == "De artikelen beantwoorden deze vraag niet."


def test_each_reader_reads_their_own_language(server: tuple[str, Store]) -> None:
    base, _ = server
    asked = {"de": "Wer empfing den russischen Botschafter Bezdetko?",
             "ru": "Кто принял российского посла Бездетко?",
             "vi": "Ai đã tiếp Đại sứ Nga Bezdetko?"}
    labels = {"de": ("Zitiert auf Englisch: ", "Stand: 2. April 2025"),
              "ru": ("Цитата на языке: английский: ", "По состоянию на 2 апреля 2025\u202fг."),
              "vi": ("Trích dẫn bằng tiếng Anh: ", "Tính đến 2 tháng 4, 2025")}
    for lang, question in asked.items():
        result = chat(base, {"question": question}).json()
        label, as_of = labels[lang]
        assert result["lang"] == lang and not result["abstained"]
        assert result["answer"].startswith(label), result["answer"]
        assert result["as_of"] == "2025-04-02" and result["as_of_label"] == as_of
