"""What the assistant says besides the articles' own words, in the reader's language: one TOML file per
language in this folder (``en.toml``, ``nl.toml``, …), found by name; the code names no language.

    say("as_of", "nl", date=long_date("2025-04-02", "nl"))   # 'Stand van 2 april 2025'
    as_of("2025-04-02", "vi")                                 # 'Tính đến 2 tháng 4, 2025'
    long_date("2025-04-02", "ru")                             # '2 апреля 2025 г.'

A reader whose language has no file reads the file of the region's language (``text.message_language``:
Tatar → Russian) or else English. Adding a language is adding a file with every key of ``en.toml``
(``tests/test_wording.py`` checks that each file has them all).
"""

from __future__ import annotations

import functools
import threading
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import snowballstemmer
from babel.dates import format_date

FOLDER = Path(__file__).resolve().parent
FALLBACK = "en"

__all__ = ["as_of", "languages", "long_date", "phrases", "question_words", "say", "stems", "table",
           "word_list", "wording_language"]


@functools.cache
def languages() -> frozenset[str]:
    """The languages with a file here."""
    return frozenset(path.stem for path in FOLDER.glob("*.toml"))


@functools.cache
def _file(lang: str) -> dict[str, object]:
    with (FOLDER / f"{lang}.toml").open("rb") as file:
        return tomllib.load(file)


def phrases(lang: str) -> dict[str, str]:
    """The phrases of language ``lang`` (one with a file; see ``wording_language``)."""
    return {key: str(value) for key, value in _file(lang).items() if isinstance(value, str)}


def table(lang: str, name: str) -> dict[str, Any]:
    """A table of language ``lang``'s file (``answer_types``: what the answer-type checks read), or {}."""
    found = _file(lang).get(name, {}) if lang in languages() else {}
    return found if isinstance(found, dict) else {}


def word_list(lang: str, key: str) -> list[str]:
    """A list of words or phrases of language ``lang``'s file (``question_words``, ``news_phrases``),
    lower case; none for a language without a file or without that list."""
    if lang not in languages():
        return []
    words = _file(lang).get(key, [])
    return [str(word).lower() for word in words] if isinstance(words, list) else []


def question_words(lang: str) -> frozenset[str]:
    """The words that ask in language ``lang`` ("wie", "wat"; its file's ``question_words``), lower
    case; none for a language without a file. Language detection weighs short questions by them."""
    return frozenset(word_list(lang, "question_words"))


@functools.cache
def _stemmer(lang: str) -> tuple[Any, threading.Lock] | None:
    name = phrases(lang).get("stemmer", "") if lang in languages() else ""
    return (snowballstemmer.stemmer(name), threading.Lock()) if name else None  # a stemmer is not thread-safe


def stems(words: list[str], lang: str) -> list[str]:
    """Lower-cased ``words`` by their Snowball stems in language ``lang`` ("letzten" and "letztes" are
    both "letzt"), or as they are for a language without a stemmer (its file's ``stemmer``)."""
    lowered = [word.lower() for word in words]
    found = _stemmer(lang)
    if found is None:
        return lowered
    stemmer, lock = found
    with lock:
        return list(stemmer.stemWords(lowered))


def wording_language(lang: str) -> str:
    """The language of the file a reader of ``lang`` reads: their own, the region's, else English."""
    code = (lang or FALLBACK).lower().replace("_", "-").split("-")[0]
    if code in languages():
        return code
    from assistant.text import message_language  # text reads this package's question words

    regional = message_language(code)
    return regional if regional in languages() else FALLBACK


def long_date(iso_date: str, lang: str) -> str:
    """An ISO date written out in the reader's language ("2 April 2025", "2 april 2025")."""
    return format_date(date.fromisoformat(iso_date), format="long",
                       locale=phrases(wording_language(lang))["locale"])


def say(key: str, lang: str, **values: str) -> str:
    """Phrase ``key`` in the reader's language with its placeholders filled."""
    return phrases(wording_language(lang))[key].format(**values)


def as_of(iso_date: str | None, lang: str) -> str:
    """"As of 2 April 2025" in the reader's language; "" when the date is unknown."""
    return say("as_of", lang, date=long_date(iso_date, lang)) if iso_date else ""
