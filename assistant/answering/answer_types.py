"""What kind of answer a question expects, and whether a quote holds one.

    kind = expected_kind("How much will the Ninh Thuan plant cost?")       # "number"
    holds(kind, quote, question)                                            # False: no amount in it

Without a reader model the extractive answer cannot tell a quote that answers from one that only
shares the question's words ("What is the population of Hanoi?" → a sentence about a treaty to be
signed in Hanoi). The question word tells what an answer must contain: "how many" a number, "when"
a date, "in 2015" the year 2015, "who", "where" or "which company" a name the question does not
already give, "why" a reason. A quote without it is not an answer (measured in BENCHMARKS.md).
What each language contributes (its question words per kind, month and number words, the words
that give a reason or name an office…) is data: the table ``answer_types`` of its file in
``assistant/languages/`` (en, nl, de, vi, ru), so adding a language's cues is editing one file. A
question is read by its own language's question words, and a sentence by its own language's words
(``evidence_in``): the Vietnamese "do" (because) gives no English sentence a reason. Where the
language is unknown or has no cues, every language's are read; a question in a language without
question words of its own is read by the embedder's learned model (``index.profile.AnswerKinds``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.languages import languages, table
from assistant.text import fold

# the kinds of answer, in the order their question words are tried (first match wins)
KIND_ORDER = ("percent", "money", "date", "number", "office", "reason", "name")


def _cues(key: str, only: str | None = None) -> list[str]:
    """What the languages' files (assistant/languages/<lang>.toml, table ``answer_types``) list under
    ``key``: regular expressions; language ``only``'s, or every language's (None)."""
    return [cue for lang in sorted(languages()) if only in (None, lang)
            for cue in table(lang, "answer_types").get(key, [])]


def _by_name(key: str, only: str | None = None) -> dict[str, list[str]]:
    """A sub-table joined over the languages (language ``only``'s, or every language's): each office,
    noun or kind of answer (named in English) with its cues."""
    joined: dict[str, list[str]] = {}
    for lang in sorted(languages()):
        if only in (None, lang):
            for name, values in table(lang, "answer_types").get(key, {}).items():
                joined.setdefault(name, []).extend(values)
    return joined


def _own_cues(lang: str | None) -> str | None:
    """The language whose cues text in ``lang`` is read with: its own, or None (every language's) when
    it is unknown or has no cues."""
    return lang if lang in languages() and table(lang, "answer_types") else None


def _either(key: str, only: str | None = None) -> str:
    """The cues of ``key`` as one alternation ("(?!)", which never matches, when there are none)."""
    return "|".join(_cues(key, only)) or "(?!)"


def _words(key: str, only: str | None = None) -> str:
    """The cues of ``key`` as whole words."""
    return r"\b(" + _either(key, only) + r")\b"


@dataclass(frozen=True)
class SentenceCues:
    """What a sentence in one language is read for: the cues of its language (``evidence_in``)."""

    months: re.Pattern[str]
    number_words: re.Pattern[str]
    ordinal: re.Pattern[str]
    percent: re.Pattern[str]
    money: re.Pattern[str]
    reason: re.Pattern[str]
    people: re.Pattern[str]
    duration: re.Pattern[str]


@functools.cache
def evidence_in(lang: str | None) -> SentenceCues:
    """The cues a sentence in ``lang`` is read with: its language's own, or every language's when
    its language is unknown or has no cues (a sentence is read in its own language only: the
    Vietnamese "do" (because) gives no English sentence a reason, nor "da" a German one)."""
    only = _own_cues(lang)
    return SentenceCues(
        months=re.compile(_words("months", only)), number_words=re.compile(_words("number_words", only)),
        ordinal=re.compile(_either("ordinal", only)),
        percent=re.compile("|".join(["%", *_cues("percent", only)])),
        money=re.compile("|".join([r"[$€£¥₫₽]", *_cues("money", only)])),
        reason=re.compile(_either("reason", only)), people=re.compile(_words("people", only)),
        duration=re.compile(_words("duration", only)))


@functools.cache
def asks_in(lang: str | None) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The question words of each kind, in ``KIND_ORDER``, of language ``lang`` (every language's
    when it is unknown or has none)."""
    only = _own_cues(lang)
    asks = _by_name("asks", only)
    named = _cues("named_noun", only)
    patterns = {kind: [*asks.get(kind, []), *(named if kind == "name" else [])] for kind in KIND_ORDER}
    return tuple((kind, re.compile("|".join(patterns[kind]) or "(?!)")) for kind in KIND_ORDER)


# "which company", "at which Yorkshire hotel": the noun that the answer's name names
NAMED_NOUN = _either("named_noun")
YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b")
DIGITS = re.compile(r"\d")
MONTHS = re.compile(_words("months"))
NUMBER_WORDS = re.compile(_words("number_words"))

# Vietnamese ordinals and weekdays ("thứ hai": second, Monday) are no count
ORDINAL = re.compile(_either("ordinal"))

PERCENT = re.compile("|".join(["%", *_cues("percent")]))
MONEY = re.compile("|".join([r"[$€£¥₫₽]", *_cues("money")]))

# "$230,000", "12 percent", "€ 5": numbers that are amounts, no part of a date
AMOUNT = re.compile(r"[$€£¥₫₽]\s?\d[\d.,]*|\d[\d.,]*\s?(%|per ?cent\b|percent\b)")

REASON = re.compile(_either("reason"))
WHO = re.compile(_either("who"))
PEOPLE = re.compile(_words("people"))

# Capitalised words that are not names: titles, and the first word of a sentence is skipped.
NOT_NAMES = frozenset(_cues("not_names"))
CAPITALISED = re.compile(r"(?<![\w.])(?:(?:[A-Z]\.){2,}|[^\W\d_][\w'’-]*)", re.UNICODE)
# "Vietnamese", "English", "Russische", "Israeli-Palestinian": capitalised, yet no one's name
ADJECTIVE_OF_A_PLACE = re.compile("(" + _either("place_adjective_endings") + r")$|^[^\W\d_]+-[^\W\d_]+$")
TITLE = re.compile(_either("title_before_name"))

# Words that introduce a name: "…the law firm that filed the brief, now called Sidley Austin"
CALLED = re.compile(_either("called"))
TITLED = re.compile(_either("titled_name"))
# The nouns of "which hotel", "what company"… in each language, so that a quote in any of them is
# read for them too.
NOUN_IN: dict[str, tuple[str, ...]] = {noun: tuple(names) for noun, names in _by_name("nouns").items()}
# "how many colleges": English only (German "wie viele" was tried: its answers, quoted from English
# articles, never name the noun in German)
COUNTED = re.compile(_either("counted"))
NOT_COUNTED = frozenset(_cues("not_counted"))
DURATION_ASKED = re.compile(_either("duration_asked"))
DURATION = re.compile(_words("duration"))


# "Which federal judge…", "Which Castilian king…": news names an office holder with the office ("Judge
# Carlton Reeves", "King Henry III"), so a quote in the question's language that never says "judge"
# names none (Ms. Smith, the plaintiff, is no judge). Roles named by their work are left out: "What
# artist provided the woodcuts?" → "…woodcuts by Lucas Cranach".
ROLES = frozenset(_cues("roles"))
# Nouns of NAMED_NOUN that a person's name answers; for any other, "Ms. Francik" names nothing
PERSONS = ROLES | frozenset(_cues("persons"))
# "Who is the director of…", "Wie is de directeur van…", "Ai là giám đốc…", "Who founded…": the same,
# asked with "who", and read in any language: each office with its names (and the verbs that say it)
# in the languages the articles are in.
OFFICES: tuple[tuple[str, ...], ...] = tuple(tuple(names) for names in _by_name("offices").values())
HOLDER_OF = re.compile(
    "^(" + _either("holder_of") + ")(?P<office>"
    + "|".join(sorted({name for names in OFFICES for name in names}, key=len, reverse=True)) + ")")


# "What is his title?": any office, in any of the languages
OFFICE_WORDS = {name for names in OFFICES for name in names} | ROLES | set(_cues("office_words"))
OFFICE_NAMES = re.compile(r"(?<!\w)(" + "|".join(sorted(OFFICE_WORDS, key=len, reverse=True)) + ")")


def holds_office(quote: str, asked: str) -> bool | None:
    """Does the quote name the office the question asks the holder of ("Who is the director of
    the Russian Center?" → "…Murashkin, director of the Russian Center…"), in any language? None
    when the question asks for no office."""
    office = HOLDER_OF.search(asked)
    if not office:
        return None
    names = {name for names in OFFICES if office.group("office") in names for name in names}
    if "leader" in names:  # whoever heads something holds some office: "Who heads the center?" → "director"
        return OFFICE_NAMES.search(quote) is not None
    return any(re.search(rf"(?<!\w){re.escape(name)}", quote) for name in names)


def has_question_words(lang: str | None) -> bool:
    """Does language ``lang`` have a file with question words of each kind ([answer_types.asks])?
    A question in a language without one is read by the embedder's learned model instead
    (``ExtractiveAnswerer.kind_asked``), when there is one."""
    return lang in languages() and bool(table(lang, "answer_types").get("asks"))


def expected_kind(question: str, lang: str | None = None) -> str:
    """'percent', 'money', 'date', 'number', 'office', 'reason', 'name' or '' (nothing in particular),
    by the question words of its language ``lang`` (every language's when unknown)."""
    text = fold(question).strip()
    for kind, pattern in asks_in(lang):
        if pattern.search(text):
            return kind
    return ""


def words_of(pattern: re.Pattern[str], text: str) -> set[str]:
    """What ``pattern`` finds in ``text``, as the words found (whatever groups it has)."""
    return {found.group(0) for found in pattern.finditer(text)}


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:[.,]\d+)*", text))


def holds(kind: str, quote: str, question: str, same_language: bool | None = None,
          quote_lang: str | None = None) -> bool:
    """Does ``quote`` contain an answer of ``kind`` that the question does not already state?

    Some checks read the quote for the question's own words ("how many colleges" → "colleges"):
    only a quote in the question's language can fail them. ``same_language`` says whether it is; when
    unknown (None), a quote sharing two of the question's words is taken to be. The quote's own
    words (months, numbers, reasons…) are read in its language ``quote_lang`` (every language's when
    unknown)."""
    cue = evidence_in(quote_lang)
    if not kind:
        return True
    text, asked = fold(quote), fold(question)
    new_numbers = _numbers(text) - _numbers(asked)
    if kind == "percent":
        return bool(cue.percent.search(text))
    if kind == "money":
        return bool(cue.money.search(text)) and bool(new_numbers or cue.number_words.search(text))
    if kind == "reason":
        return bool(cue.reason.search(text))
    if kind == "office":
        return bool(OFFICE_NAMES.search(text))
    if kind == "name":
        if holds_office(text, asked) is False:
            return False
        noun = re.search(NAMED_NOUN, asked)
        if noun:
            found = names_near(quote, asked, noun.group("noun"))
            if found is not None:
                return found
            if same_language and noun.group("noun") in ROLES:
                return False
        if new_names(quote, question):
            return True
        # "Who makes the lanterns?" — "local families": people named by what they are
        return bool(WHO.search(asked)) and bool(words_of(cue.people, text) - words_of(PEOPLE, asked))
    if kind == "number":
        if DURATION_ASKED.search(asked) and cue.duration.search(text):
            return True
        counted = COUNTED.search(asked)
        if counted and counted.group("noun") not in NOT_COUNTED and not counted.group("noun").endswith("ed"):
            if same_language is None:
                same_language = len(prefixes(text, longer_than=3) & prefixes(asked, longer_than=3)) >= 2
            found = counts(text, asked, counted.group("noun"), same_language)
            if found is not None:
                return found
        spelled = words_of(cue.number_words, cue.ordinal.sub(" ", text))
        return bool(new_numbers) or bool(spelled - words_of(NUMBER_WORDS, asked))
    years = {y for y in YEAR.findall(text)} - set(YEAR.findall(asked))
    dates = new_numbers - _numbers(" ".join(m.group() for m in AMOUNT.finditer(text)))
    return bool(years) or bool(dates) or bool(cue.months.search(text))


def quote_holds(kind: str, quote: Sequence[str], question: str, same_language: bool | None = None,
                quote_lang: str | None = None) -> bool:
    """Does a quote (its best sentence first) hold an answer of ``kind``? One of its sentences must
    (``holds``); and when the best one speaks of the thing asked for without naming it ("Which
    companies…?" → "…to divest from three companies that…"), the sentences after it answer something
    else. (Any sentence instead of the best one: coqa +0.4, nyt +0.5.)"""
    asked = fold(question)
    noun = re.search(NAMED_NOUN, asked) if kind == "name" else None
    if noun and quote and names_near(quote[0], asked, noun.group("noun")) is False:
        return False
    return any(holds(kind, sentence, question, same_language, quote_lang) for sentence in quote)


def missing_years(question: str, passage: str) -> set[str]:
    """The years of the question that the passage does not mention: "in 2015" asked of a story
    about 2002."""
    return set(YEAR.findall(fold(question))) - set(YEAR.findall(fold(passage)))


def new_names(quote: str, question: str) -> set[str]:
    """Names in ``quote`` that the question does not contain: capitalised words and acronyms, the
    candidates for "who", "where" and "which company" answers. Titles do not count, nor a
    sentence's first word unless a capitalised word follows it ("Dr. Lam", "Crédit Agricole"): on its
    own it is as often a plain word ("Officials point to…") as a name."""
    asked = prefixes(fold(question))
    words = list(CAPITALISED.finditer(quote))
    names = set()
    for number, match in enumerate(words):
        word = match.group()
        lowered = fold(word).strip("'’-.")
        if not word[0].isupper() or lowered in NOT_NAMES or MONTHS.fullmatch(lowered) \
                or ADJECTIVE_OF_A_PLACE.search(lowered) \
                or lowered.replace(".", "")[:5] in asked:
            continue
        before = quote[: match.start()].rstrip()
        starts_sentence = not before or (before[-1] in ".!?:;\"“«—-(" and not TITLE.search(before))
        if starts_sentence:
            after = words[number + 1] if number + 1 < len(words) else None
            if after is None or not after.group()[:1].isupper() \
                    or quote[match.end():after.start()].strip() not in ("", "."):
                continue
        names.add(word)
    return names


def counts(text: str, asked: str, noun: str, same_language: bool) -> bool | None:
    """Does ``text`` count ``noun`` ("how many colleges" → "… 400 colleges")? A number the
    question does not give, at most four words before the noun (by its first five letters). A quote
    in the question's language that never names the noun does not count it ("How many fans
    attended?" → "In front of a friendly crowd…"); None when the quote is in another language (it
    cannot be read for the noun)."""
    words = [word.strip(".,()") for word in re.findall(r"[^\s\-–]+", text)]
    known = _numbers(asked) | set(NUMBER_WORDS.findall(asked))
    named = False
    for at, word in enumerate(words):
        if word[:5] != noun[:5]:
            continue
        named = True
        for before in words[max(0, at - 4):at]:
            if (DIGITS.search(before) or NUMBER_WORDS.fullmatch(before)) and before not in known:
                return True
    if named:
        return False
    return False if same_language else None


def names_near(quote: str, asked: str, noun: str) -> bool | None:
    """Does ``quote`` name a ``noun`` ("which hotel" → "… at the Simonstone Hall hotel", or "…các
    khách sạn ở New York" in a Vietnamese quote)? A new name at most four words from the noun; None
    when the quote never uses the noun, which may still name the thing ("In what city…?" → "…the
    synod in Cleveland"; requiring the noun cost nyt 3 points)."""
    words = list(re.finditer(r"[^\s\-–]+", quote))
    lowered = quote.lower()  # offsets as in the quote (lower() keeps its length but for a few letters)
    translations = NOUN_IN.get(noun, ()) if len(lowered) == len(quote) else ()
    other = {found.start() for name in translations
             for found in re.finditer(rf"(?<!\w){re.escape(name)}", lowered)}
    places = {at for at, word in enumerate(words)
              if fold(word.group()).strip(".,()\"'“”")[:5] == noun[:5] or word.start() in other}
    for at in sorted(places):
        after = 4  # or 8 when the name is introduced: "the law firm that filed it, now called Sidley Austin"
        if any(CALLED.fullmatch(word.group().lower()) for word in words[at + 1: at + 8]):
            after = 8
        window = quote[words[max(0, at - 4)].start(): words[min(len(words) - 1, at + after)].end()]
        if noun not in PERSONS:
            window = TITLED.sub(" ", window)  # "…at the clinic, Ms. Francik…": a person, not the clinic
        if new_names(window, asked):
            return True
    return False if places else None


def prefixes(text: str, longer_than: int = 0) -> set[str]:
    """The first five letters of each word of ``text`` (of more than ``longer_than`` letters): names
    and shared words compared across languages, where no one language's stemmer applies ("Hanoi's",
    "Hanoi"; "Poetin" is not "Putin" either way)."""
    return {word[:5] for word in re.findall(r"\w+", text) if len(word) > longer_than}
