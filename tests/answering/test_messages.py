"""The assistant's own words in the reader's language: the abstention and a quote's language label."""

from __future__ import annotations

from assistant.languages import languages, message_languages, phrases
from assistant.text import message_language, no_answer_text, quoted_in, without_label


def test_every_language_with_messages_has_both_and_a_language_slot() -> None:
    assert len(message_languages()) >= 70 and languages() <= message_languages()  # the full ones too
    for lang in message_languages():
        assert phrases(lang)["no_answer"] and "{language}" in phrases(lang)["quoted_in"], lang


def test_the_abstention_is_in_the_readers_language() -> None:
    assert no_answer_text("pl") == "Artykuły nie odpowiadają na to pytanie."
    assert no_answer_text("am") == "ጽሑፎቹ ይህንን ጥያቄ አይመልሱም።"
    assert no_answer_text("ja") == "記事はこの質問に答えていません。"


def test_a_language_without_messages_gets_its_regions_language_then_english() -> None:
    assert message_language("tt") == "ru"  # Tatar: Russia
    assert message_language("jv") == "id"  # Javanese: Indonesia
    assert message_language("lb") == "fr"  # Luxembourgish: Luxembourg's first official language
    assert message_language("xx") == "en"
    assert message_language("") == "en"
    assert no_answer_text("tt") == "В статьях нет ответа на этот вопрос."


def test_a_quote_is_labelled_with_its_language_in_the_readers_language() -> None:
    assert quoted_in("en", "nl") == "Quoted in Dutch"
    assert quoted_in("vi", "en") == "Trích dẫn bằng tiếng Anh"
    assert quoted_in("de", "vi") == "Zitiert auf Vietnamesisch"
    assert quoted_in("fr", "ru") == "Cité en russe"


def test_the_label_can_be_taken_off_again() -> None:
    """The search for a follow-up reads the last answer's words, not its label."""
    for reader, lang in (("en", "nl"), ("vi", "en"), ("ru", "vi"), ("zh", "ru"), ("de", "en")):
        assert without_label(f"{quoted_in(reader, lang)}: Een zin. [1]") == "Een zin. [1]"
    assert without_label("Note: the text. [1]") == "Note: the text. [1]"
