"""The assistant's own phrases: one file per language, each complete, dates written by Babel."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.documents import Source, revision_label
from assistant.languages import as_of, languages, long_date, phrases, say, stem, wording_language


def test_every_language_file_has_every_phrase_of_the_english_one() -> None:
    assert {"en", "nl", "vi", "de", "ru"} <= languages()
    for lang in languages():
        assert set(phrases(lang)) == set(phrases("en")), lang


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "As of 2 April 2025"), ("nl", "Stand van 2 april 2025"), ("vi", "Tính đến 2 tháng 4, 2025"),
    ("de", "Stand: 2. April 2025"), ("ru", "По состоянию на 2 апреля 2025\u202fг."),
])
def test_as_of_is_said_in_the_readers_language(lang: str, expected: str) -> None:
    assert as_of("2025-04-02", lang) == expected


def test_a_language_without_a_file_reads_its_regions_or_english() -> None:
    assert wording_language("tt") == "ru"  # Tatar → Russia's Russian
    assert wording_language("ja") == "en"
    assert wording_language("nl-BE") == "nl"
    assert as_of(None, "en") == "" and long_date("2025-02-22", "en") == "22 February 2025"
    assert say("corrected", "de", date="3. April 2025") == "Korrigiert am 3. April 2025"


def test_a_correction_or_update_is_labelled_in_the_readers_language() -> None:
    corrected = Source(1, "b", "b#1", "T", "", "2026-11-29", "", "en", "x", supersedes="a", revision="correction")
    assert revision_label([corrected], "nl") == "Gecorrigeerd op 29 november 2026"
    assert revision_label([replace(corrected, revision="update", date="")], "de") == "Aktualisiert"
    assert revision_label([replace(corrected, revision="", supersedes="")], "en") == ""


def test_each_languages_answer_type_cues_are_its_own_and_valid() -> None:
    import re

    from assistant.answering.answer_types import KIND_ORDER, NAMED_NOUN, OFFICES
    from assistant.languages import table

    nouns = set(re.search(r"\(\?P<noun>([^)]*)\)", NAMED_NOUN).group(1).split("|"))  # type: ignore[union-attr]
    offices = set(table("en", "answer_types")["offices"])
    for lang in ("en", "nl", "de", "vi", "ru"):
        cues = table(lang, "answer_types")
        assert cues["asks"], lang  # every language says how it asks for each kind of answer it knows
        assert set(cues["asks"]) <= set(KIND_ORDER), lang
        assert set(cues.get("offices", {})) <= offices, lang  # offices are named as English names them
        assert set(cues.get("nouns", {})) <= nouns, lang
        for value in cues.values():
            for cue in value if isinstance(value, list) else [c for v in value.values() for c in v]:
                re.compile(cue)  # each a valid regular expression
    # the Dutch director is read in a quote for "Who is the director of…?" in any language
    assert any("directeur" in names and "director" in names for names in OFFICES)


def test_a_models_one_word_verdict_is_read_in_every_language_with_a_file() -> None:
    """The judge's yes/no/none words are each language's own (model_yes, model_no, model_none), short
    files included: "Oui" is a yes, "Nee" and "Geen" a no."""
    from assistant.answering.judge import read_verdict
    from assistant.languages import word_list

    for lang in languages():
        assert word_list(lang, "model_yes") and word_list(lang, "model_no"), lang
    assert read_verdict("Oui.", "") is True and read_verdict("Да", "") is True
    assert read_verdict("Nee.", "") is False and read_verdict("Geen", "") is False
    assert read_verdict("không", "") is False and read_verdict("Maybe so", "") is None


@pytest.mark.parametrize(("lang", "words", "same"), [
    ("en", ("signed", "signing", "signs"), True),
    ("de", ("Verträge", "Vertrag", "Verträgen"), True),
    ("nl", ("verkiezingen", "verkiezing"), True),
    ("ru", ("договора", "договор", "договором"), True),
    ("en", ("university", "universe"), False),  # six first characters would say "univer" for both
])
def test_words_are_compared_by_their_languages_stems(lang: str, words: tuple[str, ...], same: bool) -> None:
    assert (len({stem(word.lower(), lang) for word in words}) == 1) is same


def test_a_language_without_a_stemmer_compares_six_characters_and_numbers_stay_whole() -> None:
    assert stem("nguyễn", "vi") == "nguyễn" and stem("thượngviện", "vi") == "thượngviện"[:6]
    assert stem("2025", "en") == "2025" and stem("2025", "vi") == "2025"
