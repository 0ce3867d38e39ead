"""Time in questions and in results: "yesterday", "this week", "the latest…", and copies of one story.

    frame = time_frame("What happened yesterday in Hanoi?", today=date(2026, 12, 2))
    frame.start, frame.end        # 2026-12-01, 2026-12-01: a filter on the publication date
    time_frame("Wat is het laatste nieuws over Rusland?", today).latest   # True: prefer the newest
    passages = collapse_copies(passages)   # syndicated/updated copies of a story: the newest one

Expressions about when an article appeared (today, yesterday, the day before, this/last week, month,
year) filter by publication date. The expressions and their meaning are dateparser's, in every language
with a language file (assistant/languages) that dateparser knows: its relative dates ("vorige week",
"на прошлой неделе") are found in the question by their Snowball stems (so "im letzten Jahr" is "letztes
Jahr") and resolved by dateparser against today; the span is the day, or the week (Monday to Sunday),
month or year that date falls in, up to today. A language's ``latest_words`` ("the latest", each form
written out: the stem of "neueste" is that of "neue") prefer the newest. A month named after one of the
language's ``month_prepositions`` ("in March", "im März 2025", "в марте"; the names are dateparser's)
may be the story's time or the article's, so it only puts that month's articles first among the nearly
equally relevant; a bare year ("GDP growth in 2024") is about the story and is left to the search.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateparser.date import DateDataParser
from dateparser.languages import default_loader

from assistant.documents import Passage
from assistant.languages import languages, stems, word_list
from assistant.text import WORD, tokenize

# dateparser's relative dates that name a day, week, month or year up to two back: "1 week ago" is
# "last week", "vorige week", "на прошлой неделе"; its abbreviations ("last wk", "в пр г") are left out
RELATIVE_KEY = re.compile(r"[012] (day|week|month|year) ago")
MONTH_KEYS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
              "october", "november", "december")
YEAR = re.compile(r"(?:19|20)\d\d")
# Two passages tell one story when most word 3-shingles of the shorter one are in the other: a
# syndicated copy shares nearly all; an update that changes a figure and adds a paragraph still
# shares most (0.76-0.88 in the tests' stories, where Jaccard gives 0.54-0.59); unrelated news ~0.
COPY_CONTAINMENT = 0.6
SHINGLE = 3


@dataclass(frozen=True)
class TimeFrame:
    """When the articles a question asks about appeared (inclusive), or that it wants the newest."""

    start: date | None = None
    end: date | None = None
    latest: bool = False
    expression: str = ""
    prefer: bool = False  # a named month: prefer articles of that span, do not filter by it

    @property
    def is_span(self) -> bool:
        """A span to filter by (a named month is only preferred)."""
        return self.start is not None and self.end is not None and not self.prefer


@dataclass(frozen=True)
class _Phrase:
    stems: tuple[str, ...]
    text: str  # as dateparser (or the language file) writes it
    lang: str  # whose stems ``stems`` are; "" for a latest word, matched word for word
    unit: str = ""  # day, week, month or year; "" for a latest word


@functools.cache
def _locale_info(lang: str) -> dict[str, object]:
    try:
        return dict(default_loader.get_locale(lang).info)
    except (KeyError, ValueError):  # a language dateparser does not know
        return {}


@functools.cache
def _phrases() -> tuple[_Phrase, ...]:
    """Every relative date and latest word of every language, longest first (the first match wins)."""
    found: list[_Phrase] = []
    for lang in sorted(languages()):
        relative = _locale_info(lang).get("relative-type", {})
        for key, texts in relative.items() if isinstance(relative, dict) else ():
            unit = RELATIVE_KEY.fullmatch(key)
            for text in texts if unit else ():
                words = WORD.findall(text)
                if all(len(word) > 2 for word in words[1:]):  # no abbreviations ("на пр нед")
                    found.append(_Phrase(tuple(stems(words, lang)), text, lang, unit.group(1)))  # type: ignore[union-attr]
        found += [_Phrase(tuple(WORD.findall(text)), text, "") for text in word_list(lang, "latest_words")]
    return tuple(sorted(found, key=lambda phrase: -len(phrase.stems)))


def _find(sequence: Sequence[str], part: Sequence[str], start: int = 0) -> int:
    """Where ``part`` starts in ``sequence`` (from ``start``), or -1."""
    for position in range(start, len(sequence) - len(part) + 1):
        if list(sequence[position:position + len(part)]) == list(part):
            return position
    return -1


def time_frame(question: str, today: date) -> TimeFrame | None:
    """The publication time a question asks about, relative to ``today``; None when it names none."""
    words = list(WORD.finditer(question))
    texts = [word.group(0) for word in words]
    by_lang = {lang: stems(texts, lang) for lang in languages()} | {"": [text.lower() for text in texts]}
    for phrase in _phrases():
        position = _find(by_lang[phrase.lang], phrase.stems)
        if position < 0:
            continue
        expression = question[words[position].start():words[position + len(phrase.stems) - 1].end()]
        if not phrase.unit:
            return TimeFrame(latest=True, expression=expression)
        span = _span(phrase, today)
        if span is not None:
            return TimeFrame(start=span[0], end=span[1], expression=expression)
    return _month_frame(question, words, by_lang, today)


def _span(phrase: _Phrase, today: date) -> tuple[date, date] | None:
    """The day, or the week, month or year (up to today), that dateparser reads a relative date as."""
    parser = DateDataParser(languages=[phrase.lang], settings={
        "RELATIVE_BASE": datetime(today.year, today.month, today.day, 12), "PREFER_DATES_FROM": "past"})
    parsed = parser.get_date_data(phrase.text)
    if parsed.date_obj is None:
        return None
    day = parsed.date_obj.date()
    if phrase.unit == "week":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=6)
    elif phrase.unit == "month":
        start = day.replace(day=1)
        end = (start + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    elif phrase.unit == "year":
        start, end = date(day.year, 1, 1), date(day.year, 12, 31)
    else:
        start = end = day
    return start, min(end, today)


@functools.cache
def _months(lang: str) -> tuple[tuple[tuple[str, ...], int], ...]:
    """Each month's names in ``lang`` (dateparser's) by their stems, with the month's number."""
    info = _locale_info(lang)
    names = [(tuple(stems(WORD.findall(str(name)), lang)), number)
             for number, key in enumerate(MONTH_KEYS, 1) for name in info.get(key, []) or []]  # type: ignore[union-attr]
    return tuple(sorted(names, key=lambda name: -len(name[0])))


def _month_frame(question: str, words: Sequence[re.Match[str]], by_lang: dict[str, list[str]],
                 today: date) -> TimeFrame | None:
    """A month named after a preposition, as a preferred span: of the year given (within the next two
    words), else the most recent such month up to ``today``. ``words`` are the question's, ``by_lang``
    their stems in each language (``time_frame`` has them)."""
    texts = [word.group(0) for word in words]
    for lang in sorted(languages()):
        prepositions = set(word_list(lang, "month_prepositions"))
        stemmed = by_lang[lang]
        for position, text in enumerate(texts):
            if text.lower() not in prepositions:
                continue
            for names, month in _months(lang):
                if tuple(stemmed[position + 1:position + 1 + len(names)]) != names:
                    continue
                after = position + len(names)
                year_at = next((i for i in range(after + 1, min(after + 3, len(texts)))
                                if YEAR.fullmatch(texts[i])), None)
                year = int(texts[year_at]) if year_at is not None else \
                    today.year if month <= today.month else today.year - 1
                last = words[year_at if year_at is not None else after]
                first = date(year, month, 1)
                end = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
                expression = question[words[position].start():last.end()]
                return TimeFrame(start=first, end=end, expression=expression, prefer=True)
    return None


def in_frame_first(passages: Sequence[Passage], frame: TimeFrame, margin: float = 0.05) -> list[Passage]:
    """For a preferred span ("in March"): among the documents nearly as relevant as the best one,
    those published in the span first; the rest keep their order."""
    if not passages or frame.start is None or frame.end is None:
        return list(passages)
    start, end = frame.start.isoformat(), frame.end.isoformat()
    best = passages[0].score
    close = [p for p in passages if p.score >= best - margin]
    rest = [p for p in passages if p.score < best - margin]
    close.sort(key=lambda p: not start <= str(p.metadata.get("date") or "")[:10] <= end)
    return close + rest


def newest_first(passages: Sequence[Passage], margin: float = 0.05) -> list[Passage]:
    """For "the latest …": among the documents nearly as relevant as the best one (fused score
    within ``margin``), the most recently published first; the rest keep their order."""
    if not passages:
        return []
    best = passages[0].score
    close = [p for p in passages if p.score >= best - margin]
    rest = [p for p in passages if p.score < best - margin]
    close.sort(key=lambda p: str(p.metadata.get("date") or ""), reverse=True)
    return close + rest


def shingles(text: str) -> set[tuple[str, ...]]:
    words = tokenize(text)
    return {tuple(words[i:i + SHINGLE]) for i in range(max(len(words) - SHINGLE + 1, 1))}


def collapse_copies(passages: Sequence[Passage]) -> list[Passage]:
    """One source per story: a passage that repeats an earlier one (a syndicated copy, or an older
    or newer version of an updated story under another id) is folded into it, and the newest
    version (by publication date) takes the place of the best-ranked one."""
    kept: list[tuple[Passage, set[tuple[str, ...]]]] = []
    for passage in passages:
        mine = shingles(passage.text)
        for position, (other, theirs) in enumerate(kept):
            smaller = min(len(mine), len(theirs))
            if smaller and len(mine & theirs) / smaller >= COPY_CONTAINMENT:
                if str(passage.metadata.get("date") or "") > str(other.metadata.get("date") or ""):
                    passage.score = other.score  # the newer copy stands where the story ranked
                    kept[position] = (passage, mine)
                break
        else:
            kept.append((passage, mine))
    return [passage for passage, _ in kept]
