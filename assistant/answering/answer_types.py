"""What kind of answer a question expects, and whether a quote holds one.

    kind = expected_kind("How much will the Ninh Thuan plant cost?")       # "number"
    holds(kind, quote, question)                                            # False: no amount in it

Without a reader model the extractive answer cannot tell a quote that answers from one that only
shares the question's words ("What is the population of Hanoi?" → a sentence about a treaty to be
signed in Hanoi). The question word tells what an answer must contain: "how many" a number, "when"
a date, "in 2015" the year 2015. A quote without it is not an answer (measured in BENCHMARKS.md).
Only English, Vietnamese, Russian and German question words are known (the evaluation's
languages); any other question expects nothing in particular.
"""

from __future__ import annotations

import re
import unicodedata

# Question word patterns, first match wins; matched against the lower-cased question.
KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("percent", re.compile(
        r"\b(what|which) (percentage|percent|proportion|share)\b"
        r"|\b(growth|inflation|unemployment|interest) rate\b"
        r"|\bbao nhiêu phần trăm\b|\btỷ lệ\b|\bсколько процентов\b|\bкакой процент\b|\bwie viel prozent\b"
        r"|\bwachstumsrate\b|\binflationsrate\b")),
    ("money", re.compile(
        r"\bhow much money\b"
        r"|\bhow much\b.*\b(cost|costs|pay|paid|spend|spent|worth|fined|charge|charged|earn|earned"
        r"|raise|raised)\b"
        r"|^what (is|was|were|are|will be) (the )?((?!of\b)[\w']+ ){0,3}(cost|price|budget|fine|salary)\b"
        r"|\bbao nhiêu tiền\b|\bchi phí\b|\bсколько (стоит|стоил|будет стоить)\b|\bстоимость\b"
        r"|\bwie viel (kostet|kostete|kosten)\b|\bkosten\b")),
    ("date", re.compile(
        r"^(when|what year|which year|in what year|in which year|what date|on what date)\b"
        r"|\b(in|by) (what|which) year\b|\bnăm nào\b|\bkhi nào\b|\bbao giờ\b|\bngày nào\b|\bnăm bao nhiêu\b"
        r"|^когда\b|\bв каком году\b|\bкакого числа\b|^wann\b|\bin welchem jahr\b|\bseit wann\b")),
    ("number", re.compile(
        r"^how (many|much)\b|\bhow (many|much)\b|\bwhat (percentage|percent|proportion|share|number)\b"
        r"|\bhow (long|old|tall|high|far|large|big|fast)\b"
        r"|\bbao nhiêu\b|\bmấy\b|\bсколько\b|\bкакой (длины|высоты|ширины)\b"
        r"|\bкаков[аоы]? (численность|стоимость|длина)\b"
        r"|\bwie (viele?|hoch|lange?|groß|alt|weit)\b"
        r"|^what (is|was|were|are|will be) (the )?((?!of\b)[\w']+ ){0,3}"
        r"(population|cost|price|rate|percentage"
        r"|amount|budget|salary|revenue|value|size|length|height|area|total|death toll|turnout)\b"
        r"|\bdân số\b|\bчисленность населения\b|\beinwohnerzahl\b")),
)
YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b")
DIGITS = re.compile(r"\d")
MONTHS = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|monday|tuesday|wednesday|thursday|friday"
    r"|saturday|sunday|century|centuries|decade|yesterday|today|tomorrow|tháng|thế kỷ|thập niên"
    r"|январ[ья]|феврал[ья]|март[а]?|апрел[ья]|ма[йя]|июн[ья]|июл[ья]|август[а]?|сентябр[ья]"
    r"|октябр[ья]|ноябр[ья]|декабр[ья]|век[а]?|januar|februar|märz|mai|juni|juli|oktober|dezember"
    r"|jahrhundert|januari|februari|maart|mei|augustus)\b")
NUMBER_WORDS = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty"
    r"|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|quarter|double|twice"
    r"|một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười|trăm|nghìn|ngàn|triệu|tỷ|tỉ"
    r"|од(ин|на|но)|два|две|три|четыре|пять|шесть|семь|восемь|девять|десять|сто|тысяч[иа]?"
    r"|миллион(а|ов)?|миллиард(а|ов)?|ein|eine|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn"
    r"|hundert|tausend|millionen|milliarden?)\b")


PERCENT = re.compile(r"%|\bper ?cent\b|\bpercentage points?\b|\bphần trăm\b|\bпроцент|\bprozent")
MONEY = re.compile(
    r"[$€£¥₫₽]|\b(dollars?|usd|euros?|eur|pounds?|yen|yuan|rubles?|roubles?|vnd|dong|đồng|cents?"
    r"|долл|евро|рубл|dollar|franc|francs|rupees?)")


def normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def expected_kind(question: str) -> str:
    """'percent', 'money', 'date', 'number' or '' (nothing in particular)."""
    text = normal(question).strip()
    for kind, pattern in KINDS:
        if pattern.search(text):
            return kind
    return ""


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:[.,]\d+)*", text))


def holds(kind: str, quote: str, question: str) -> bool:
    """Does ``quote`` contain an answer of ``kind`` that the question does not already state?"""
    if not kind:
        return True
    text, asked = normal(quote), normal(question)
    new_numbers = _numbers(text) - _numbers(asked)
    if kind == "percent":
        return bool(PERCENT.search(text))
    if kind == "money":
        return bool(MONEY.search(text)) and bool(new_numbers or NUMBER_WORDS.search(text))
    if kind == "number":
        return bool(new_numbers) or bool(set(NUMBER_WORDS.findall(text)) - set(NUMBER_WORDS.findall(asked)))
    years = {y for y in YEAR.findall(text)} - set(YEAR.findall(asked))
    return bool(years) or bool(new_numbers) or bool(MONTHS.search(text))


def missing_years(question: str, passage: str) -> set[str]:
    """The years of the question that the passage does not mention: "in 2015" asked of a story
    about 2002."""
    return set(YEAR.findall(normal(question))) - set(YEAR.findall(normal(passage)))
