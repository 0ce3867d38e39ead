"""Time in questions and in results: "yesterday", "this week", "the latest…", and copies of one story.

    frame = time_frame("What happened yesterday in Hanoi?", today=date(2026, 12, 2))
    frame.start, frame.end        # 2026-12-01, 2026-12-01: a filter on the publication date
    time_frame("Wat is het laatste nieuws over Rusland?", today).latest   # True: prefer the newest
    passages = collapse_copies(passages)   # syndicated/updated copies of a story: the newest one

Expressions about when an article appeared (today, yesterday, this/last week, month, year) filter
by publication date, and "the latest" prefers the newest, in English, Dutch, German, Vietnamese and
Russian. A month named after a preposition ("in March", "im März 2025", "в марте") may be the
story's time or the article's, so it only puts that month's articles first among the nearly
equally relevant; a bare year ("GDP growth in 2024") is about the story and is left to the search.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from assistant.documents import Passage
from assistant.text import tokenize

# (pattern, frame name); the first match wins, so longer expressions come first.
EXPRESSIONS: list[tuple[str, str]] = [
    # last week / month / year
    (r"last week|past week|previous week|vorige week|afgelopen week|letzte[n]? woche|vergangene[n]? woche"
     r"|tuần trước|tuần qua|на прошлой неделе|прошлой недели|за последнюю неделю", "last_week"),
    (r"last month|past month|previous month|vorige maand|afgelopen maand|letzte[nm]? monat"
     r"|vergangene[nm]? monat|tháng trước|tháng qua|в прошлом месяце|прошлого месяца|за последний месяц",
     "last_month"),
    (r"last year|past year|previous year|vorig jaar|afgelopen jaar|letzte[ns]? jahr|vergangene[ns]? jahr"
     r"|năm ngoái|năm qua|в прошлом году|прошлого года|за последний год", "last_year"),  # not "năm trước":
    # "505 triệu năm trước" is "505 million years ago"
    # this week / month / year
    (r"this week|deze week|diese[rn]? woche|tuần này|на этой неделе|этой недели", "this_week"),
    (r"this month|deze maand|diese[nm]? monat|tháng này|в этом месяце|этого месяца", "this_month"),
    (r"this year|dit jaar|diese[sm]? jahr|năm nay|в этом году|этого года", "this_year"),
    # days
    (r"day before yesterday|eergisteren|vorgestern|hôm kia|позавчера", "day_before_yesterday"),
    (r"yesterday|gisteren|gestern|hôm qua|вчера", "yesterday"),
    (r"today|tonight|this morning|vandaag|heute|hôm nay|сегодня", "today"),
    # the newest, without a span
    (r"latest|newest|most recent|recent(?:ly)?|laatste nieuws|nieuwste|recent(?:e|elijk)?|neueste[nrs]?"
     r"|jüngste[nrs]?|aktuell(?:e[nrs]?)?|mới nhất|gần đây|последн(?:ие|ий|яя|ее|их|юю)|свеж(?:ие|ий|ая|ее)"
     r"|недавн(?:о|ие|ий|яя|ее)", "latest"),
]
# "in March", "im März", "in maart", "в марте", "tháng 3" (a year may follow): a month named after a
# preposition. Such a month may be the story's ("the March agreement") rather than the article's, so
# it is a preference among nearly equally relevant documents, never a filter.
MONTHS = {
    1: "january|januari|januar|январ[еья]|tháng (?:1|một|giêng)",
    2: "february|februari|februar|феврал[еья]|tháng (?:2|hai)",
    3: "march|maart|märz|марте?а?|tháng (?:3|ba)",
    4: "april|апрел[еья]|tháng (?:4|tư|bốn)",
    5: "may|mei|mai|ма[еяй]|tháng (?:5|năm)",
    6: "june|juni|июн[еья]|tháng (?:6|sáu)",
    7: "july|juli|июл[еья]|tháng (?:7|bảy)",
    8: "august|augustus|август[еа]?|tháng (?:8|tám)",
    9: "september|сентябр[еья]|tháng (?:9|chín)",
    10: "october|oktober|октябр[еья]|tháng (?:10|mười)",
    11: "november|ноябр[еья]|tháng (?:11|mười một)",
    12: "december|dezember|декабр[еья]|tháng (?:12|mười hai)",
}
MONTH = re.compile(
    r"\b(?:in|during|since|from|of|im|seit|sinds|tijdens|во?|vào|trong)\s+(?:the\s+month\s+of\s+)?(?:"
    + "|".join(f"(?P<m{number}>{names})" for number, names in MONTHS.items())
    + r")\b(?:\s+(?:năm\s+)?(?P<year>(?:19|20)\d\d))?",
    re.IGNORECASE)
PATTERN = re.compile("|".join(rf"(?P<{name}>\b(?:{pattern})\b)" for pattern, name in EXPRESSIONS),
                     re.IGNORECASE)
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


def time_frame(question: str, today: date) -> TimeFrame | None:
    """The publication time a question asks about, relative to ``today``; None when it names none."""
    found = PATTERN.search(question)
    if found is None:
        return month_frame(question, today)
    name, expression = found.lastgroup or "", found.group(0)
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    spans: dict[str, tuple[date, date]] = {
        "today": (today, today),
        "yesterday": (today - timedelta(days=1),) * 2,  # type: ignore[dict-item]
        "day_before_yesterday": (today - timedelta(days=2),) * 2,  # type: ignore[dict-item]
        "this_week": (monday, today),
        "last_week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "this_month": (first_of_month, today),
        "last_month": ((first_of_month - timedelta(days=1)).replace(day=1),
                       first_of_month - timedelta(days=1)),
        "this_year": (today.replace(month=1, day=1), today),
        "last_year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    }
    if name == "latest":
        return TimeFrame(latest=True, expression=expression)
    start, end = spans[name]
    return TimeFrame(start=start, end=end, expression=expression)


def month_frame(question: str, today: date) -> TimeFrame | None:
    """A month named in the question, as a preferred span: of the year given, else the most recent
    such month up to ``today``."""
    found = MONTH.search(question)
    if found is None:
        return None
    month = next(int(key[1:]) for key, value in found.groupdict().items() if key != "year" and value)
    year = int(found.group("year")) if found.group("year") else \
        today.year if month <= today.month else today.year - 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1))
    return TimeFrame(start=date(year, month, 1), end=last, expression=found.group(0), prefer=True)


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
