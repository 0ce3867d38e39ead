"""Everything a language needs, as data: one TOML file per language in this folder (``en.toml``,
``nl.toml``, …), found by name; the code names no language. A file holds what the assistant says in
that language (refusal, notices, "as of", news headings), the words it reads questions by (question
words, news and timeline phrases, follow-up words, "the latest", answer-type cues) and which Snowball
stemmer and Babel locale serve it; dateparser and CLDR know the rest (relative dates, month and
language names).

    say("as_of", "nl", date=long_date("2025-04-02", "nl"))   # 'Stand van 2 april 2025'
    as_of("2025-04-02", "vi")                                 # 'Tính đến 2 tháng 4, 2025'
    long_date("2025-04-02", "ru")                             # '2 апреля 2025 г.'

A full file has every phrase of ``en.toml`` (``languages()``: en, nl, vi, de, ru); adding a language is
adding such a file (``tests/test_languages.py`` checks each has them all). Many more languages have a
short file with only the refusal and a quote's label (``no_answer``, ``quoted_in``; ``message_language``
finds it). A reader reads their own language's file, else the file of the region's language (Babel's
CLDR data: Tatar → Russian, Javanese → Indonesian), else English.
"""

from __future__ import annotations

import functools
import threading
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import snowballstemmer
from babel.core import get_global
from babel.dates import format_date
from babel.languages import get_official_languages

FOLDER = Path(__file__).resolve().parent
FALLBACK = "en"

__all__ = ["alternatives", "as_of", "every_word", "languages", "long_date", "message_language",
           "message_languages", "phrases", "question_words", "say", "stem", "stems", "table", "word_list",
           "wording_language"]


@functools.cache
def _files() -> frozenset[str]:
    return frozenset(path.stem for path in FOLDER.glob("*.toml"))


@functools.cache
def languages() -> frozenset[str]:
    """The languages with a full file here (every phrase of English's)."""
    keys = set(phrases(FALLBACK))
    return frozenset(lang for lang in _files() if keys <= set(phrases(lang)))


@functools.cache
def message_languages() -> frozenset[str]:
    """The languages with at least the refusal and a quote's label."""
    return frozenset(lang for lang in _files() if {"no_answer", "quoted_in"} <= set(_file(lang)))


@functools.lru_cache(maxsize=512)
def message_language(lang: str) -> str:
    """The language whose refusal and quote label a reader of ``lang`` reads: their own, else the
    official language of the region where it is most spoken, else English."""
    return _reader_language(lang, message_languages())


def _reader_language(lang: str, have: frozenset[str]) -> str:
    code = (lang or FALLBACK).lower().replace("_", "-").split("-")[0]
    if code in have:
        return code
    likely = str(get_global("likely_subtags").get(code, ""))  # "tt" → "tt_Cyrl_RU"
    territory = next((part for part in likely.split("_")[1:] if part.isupper() or part.isdigit()), "")
    for official in get_official_languages(territory, de_facto=True) if territory else ():
        if official in have:
            return official
    return FALLBACK


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


@functools.cache
def every_word(key: str) -> frozenset[str]:
    """List ``key`` of every file here, full or short, lower case: words read whatever the language
    (a model's one-word verdict, ``model_yes``, may come in any)."""
    found: set[str] = set()
    for lang in _files():
        words = _file(lang).get(key, [])
        found.update(str(word).lower() for word in words if isinstance(words, list))
    return frozenset(found)


def alternatives(key: str) -> str:
    """Every file's list ``key`` as the alternatives of a regular expression, longest first."""
    return "|".join(sorted(every_word(key), key=lambda word: (-len(word), word)))


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


@functools.lru_cache(maxsize=200_000)
def stem(word: str, lang: str) -> str:
    """One lower-case word as the readers compare words: its Snowball stem in language ``lang``
    ("signed", "signing" → "sign"; "verträge" → "vertrag"), or its first six characters for a
    language without a stemmer (Vietnamese syllables are whole words). Numbers and words of up to
    three letters stay whole: a stemmer's endings make little words alike ("its" and "it")."""
    if word.isdigit() or len(word) <= 3:
        return word
    return stems([word], lang)[0] if _stemmer(lang) is not None else word[:6]


def wording_language(lang: str) -> str:
    """The full file a reader of ``lang`` reads: their own, the region's (as the refusal's, so that
    the two agree), else English."""
    regional = message_language(lang)
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
