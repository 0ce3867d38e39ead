"""Answers without a language model: the retrieved sentences that best answer the question, cited.

    reading = ExtractiveAnswerer(settings.answers, vocabulary, chunks, profile, embedder.embed_query).read(
        question, passages, lang)
    reading.abstain, reading.answer      # the decision (for a model too), the quote or the refusal

Each chosen sentence is quoted as it stands in its article and followed by [n]; source n is the
retrieved passage the sentence comes from, so a citation can only point at something retrieved for
this question. When the evidence is too weak (see ``Evidence``) the answer says so and cites
nothing; when the passages are on the question's topic all the same, the refusal lists the closest
articles apart (``Answer.related``): coverage to read, clearly not an answer. The thresholds in the
embedder's units (the abstention model, the floors, the picker's) come from its ``EmbedderProfile``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from assistant.answering.answer_types import (
    expected_kind,
    has_question_words,
    holds,
    missing_years,
    quote_holds,
)
from assistant.config import AnswerSettings
from assistant.documents import Answer, Passage, make_source
from assistant.index.lexical import largest_count
from assistant.index.profile import EmbedderProfile
from assistant.languages import languages, say, stem
from assistant.text import idf, no_answer_text, quoted_in, script, split_sentences, tokenize

OWN_MARKERS = re.compile(r"\s*\[\d+\]")
SENTENCE_FINAL = (".", "!", "?", "…", '"', "”", "’", "'", ")", "»", ":", ";")
# The abstention model (a logistic regression over Evidence.features()), the similarity floors and
# the picker's score units are the embedder's: EmbedderProfile (assistant/index/profiles/*.toml).
# A standardised feature is read at most this many standard deviations from its dev mean.
FEATURE_CLIP = 3.0
# How much a sentence holding the kind of answer the question expects (a number for "how many",
# a date for "when") gains over one that does not, in the picker's units (share of the question's
# IDF weight). On gold passages (nyt, xling, coqa dev) it lifted answer-contains; the quoted
# sentences must then hold it, or the answer abstains.
KIND_BONUS = 0.1
RELATED = 3  # a refusal's closest articles, at most
# Text that is not a question about the news: instructions to the assistant, SQL, markup. It gets
# the abstention, never a quote that shares a word with it.
NOT_A_QUESTION = re.compile(
    r"\b(ignore|disregard|forget)\s+(all\s+|any\s+)?(the\s+|of\s+)?(your\s+)?(previous|prior|above|earlier"
    r"|your|these|those|system)\s+(instructions?|prompts?|rules|directions)\b"
    r"|\bsystem prompt\b|\byou are now\b|\bjailbreak\b"
    r"|'\s*(or|and)\s+'?\w+'?\s*=\s*'?\w+|\b(drop|truncate|alter)\s+table\b|\bunion\s+select\b"
    r"|;\s*--|<\s*script\b",
    re.IGNORECASE | re.DOTALL,
)


def quotable(sentence: str) -> str:
    """A sentence as it can be quoted: the article's own "[9]"-style markers would read as ours."""
    return OWN_MARKERS.sub("", sentence).strip()


def quoted(passage: Passage, sentence: str, index: int, count: int) -> str:
    """Sentence ``index`` of the ``count`` of a passage, quoted, with "…" where the passage cut it:
    a sentence longer than a chunk is split across chunks, and a quote must not pass a fragment off
    as whole."""
    text = quotable(sentence)
    if index == 0 and text[:1].islower():
        text = f"… {text}"
    last_chunk = int(passage.metadata.get("chunk_index", 0)) >= int(passage.metadata.get("n_chunks", 1)) - 1
    if index == count - 1 and not last_chunk and not text.endswith(SENTENCE_FINAL):
        text = f"{text} …"
    return text


@dataclass(frozen=True)
class Evidence:
    """How well the retrieved passages cover the question; decides abstention."""

    similarity: float  # cosine of question and best passage (e5)
    calibrated: float  # the same, relative to the other passages of its language
    lexical: float  # BM25 score of the best lexical hit
    coverage: float  # share of the question's known words (IDF-weighted) in the best passage
    same_language: bool  # question and best passage are in the same language
    sparse: float | None = None  # best sparse cosine of the passages (None: the index has none)
    # the best passage's retrieval score above the next one's (None: one passage): an article that
    # stands out answers more often than the best of several alike (leave-gold-out near misses)
    lead: float | None = None
    # can the words' evidence (lexical, coverage) be read? Not for a question in a language the
    # abstention model was not fitted on, written in another script than the best passage: the two
    # share no words, answerable or not, and a model that never saw the language reads those zeros
    # as doubt (held out of the fitting, Russian questions on English articles: 35% of the answerable
    # refused; read as not known, 6%: BENCHMARKS.md). Languages it was fitted on are read as fitted.
    words_read: bool = True
    # the embedder's abstention model and floors, which read the features above
    profile: EmbedderProfile = field(kw_only=True, repr=False, compare=False)

    @classmethod
    def of(cls, question: str, passages: Sequence[Passage], frequency: Mapping[str, int],
           lang: str = "", *, profile: EmbedderProfile) -> Evidence:
        if not passages:
            return cls(0.0, 0.0, 0.0, 0.0, False, profile=profile)
        sparse = [p.sparse_similarity for p in passages if p.sparse_similarity is not None]
        best = passages[0]
        total = largest_count(frequency)
        weights = {t: idf(frequency[t], total) for t in set(tokenize(question))
                   if t in frequency}
        best_lang = str(best.metadata.get("lang") or "")  # both sides in the passage's stems
        same = bool(lang) and lang == best.metadata.get("lang")
        found = shared_weight(by_stem(weights, best_lang), tokenize(best.text), best_lang,
                              lambda word: idf(frequency.get(word, 0), total))
        return cls(
            similarity=best.dense_similarity,
            calibrated=best.calibrated,
            lexical=max(p.lexical_score for p in passages),
            coverage=found / sum(weights.values()) if weights else 0.0,
            same_language=same,
            sparse=max(sparse) if sparse else None,
            lead=best.score - passages[1].score if len(passages) > 1 else None,
            words_read=same or not lang or profile.abstention.fitted_on(lang)
            or script(question) == script(best.text),
            profile=profile,
        )

    def features(self) -> tuple[float, ...]:
        """The abstention model's inputs; NaN for one it cannot read (no second passage to lead; the
        words' evidence when ``words_read`` is false), which counts as that feature's mean."""
        words = self.words_read
        return (self.similarity, self.calibrated, math.log1p(self.lexical) if words else math.nan,
                self.coverage if words else math.nan, float(self.same_language),
                math.nan if self.lead is None else self.lead)

    def unanswerable_probability(self) -> float:
        """Near misses: a logistic model of the features (the profile's ``abstention``)."""
        model = self.profile.abstention
        z = model.weights[0]
        for weight, value, mean, scale in zip(
            model.weights[1:], self.features(), model.feature_means, model.feature_scales, strict=True
        ):
            z += 0.0 if math.isnan(value) else weight * clip((value - mean) / scale)
        return 1.0 / (1.0 + math.exp(-z))

    def off_topic(self) -> bool:
        """Nothing retrieved is even about the question: dense similarity below the profile's floor,
        or no passage sharing a latent term with it.

        Cross-language pairs score lower (in e5) for the same relevance, hence two floors.
        """
        floors = self.profile.floors
        floor = floors.similarity_same if self.same_language else floors.similarity_cross
        return self.similarity < floor or (self.sparse is not None and self.sparse < floors.sparse)


@dataclass
class Reading:
    """One turn's evidence and decision, computed once (``ExtractiveAnswerer.read``)."""

    evidence: Evidence | None  # None: nothing was retrieved
    abstain: bool  # the evidence is too weak for any answer: the extractive one or a model's
    # the quote, or the refusal (also when no passage holds the kind of answer asked for, which a
    # model may still find); the refusal lists the closest articles when they are on the topic
    answer: Answer
    kind: str = ""  # the kind of answer the question asks for (``ExtractiveAnswerer.kind_asked``)


class ExtractiveAnswerer:
    """Pick, quote and cite the best sentences of the retrieved passages."""

    def __init__(self, answers: AnswerSettings, frequency: Mapping[str, int], total: int,
                 profile: EmbedderProfile,
                 embed_query: Callable[[str], Sequence[float]] | None = None) -> None:
        self.answers = answers
        self.profile = profile
        self.frequency = frequency
        self.total = max(total, 1)
        self.embed_query = embed_query  # the question's vector, for the profile's answer-kind model

    def kind_asked(self, question: str, lang: str) -> str:
        """The kind of answer the question asks for: by its language's question words, or for a
        language without a file of them (French, Swedish…), by the embedder's model of the question's
        vector (``EmbedderProfile.answer_kinds``), which reads it in any language. Measured with a
        language's own words held out: BENCHMARKS.md, "The kind of answer, learned"."""
        model = self.profile.answer_kinds
        if lang and not has_question_words(lang) and model is not None and self.embed_query is not None:
            return model.predict(self.embed_query(question))
        return expected_kind(question, lang)

    def idf(self, term: str) -> float:
        return idf(self.frequency.get(term, 0), self.total)

    def should_abstain(self, evidence: Evidence, question: str = "") -> bool:
        return NOT_A_QUESTION.search(question) is not None or evidence.off_topic() \
            or evidence.unanswerable_probability() > self.answers.abstain_threshold

    def read(self, question: str, passages: Sequence[Passage], lang: str, context: str = "") -> Reading:
        """The turn's one reading: the evidence, whether it abstains, and the quote (or the refusal),
        for the extractive answer and the model path alike.

        A follow-up has few words of its own ("and when was it signed?"): like the search, the test
        reads it with the earlier questions (``context``). On coqa dev this cut wrong abstentions
        from 17.4% to 11.4%.
        """
        kind = self.kind_asked(question, lang)
        if not passages:
            return Reading(None, True, refusal(question, passages, lang, related=False), kind)
        evidence = self.evidence(question, passages, lang, context)
        abstain = self.should_abstain(evidence, question)
        on_topic = NOT_A_QUESTION.search(question) is None and not evidence.off_topic()
        quote = None if abstain else self.quote(question, passages, lang, context, kind)
        return Reading(evidence, abstain, quote or refusal(question, passages, lang, on_topic, kind), kind)

    def evidence(self, question: str, passages: Sequence[Passage], lang: str, context: str = "") -> Evidence:
        """The Evidence of the passages for the question (read with ``context``, as above)."""
        asked = f"{question} {context}".strip()
        return Evidence.of(asked, passages, self.frequency, lang, profile=self.profile)

    def answer(
        self, question: str, passages: Sequence[Passage], lang: str, context: str = ""
    ) -> Answer:
        """The reading's answer: a quote, or an abstention (``read``)."""
        return self.read(question, passages, lang, context).answer

    def quote(self, question: str, passages: Sequence[Passage], lang: str,
              context: str = "", kind: str | None = None) -> Answer | None:
        """An Answer quoting up to ``answer_sentences`` sentences of one passage (None: no passage
        holds the kind of answer asked for).

        One passage, not a mix: quoting several articles in one breath made a wrong source look as
        good as the right one (measured on nyt dev: citation precision 65% → 86%). The passage of the
        best sentence, unless its quote does not hold the kind of answer asked for and another
        passage retrieved as well (within the profile's ``near_tie``: passages whose retrieval scores
        differ by at most this are as good a source as each other) has one that does. ``kind``: the
        kind of answer asked for (None: ``kind_asked``'s).
        """
        kind = self.kind_asked(question, lang) if kind is None else kind
        ranked = self.rank_sentences(question, passages, context, lang, kind)
        if not ranked:
            return None
        first = passages[ranked[0][1]].score
        candidates = [index for index in dict.fromkeys(r[1] for r in ranked)
                      if abs(passages[index].score - first) <= self.profile.ranking.near_tie]
        for best_passage in candidates:
            passage = passages[best_passage]
            chosen = self.pick_sentences(question, [r for r in ranked if r[1] == best_passage],
                                         same_language(passage, lang), lang,
                                         str(passage.metadata.get("lang") or "") or None, kind)
            if answers_kind(question, passage, [sentence for *_, sentence in chosen], lang, kind):
                break
        else:
            return None
        source = make_source(1, passage)  # best sentence first
        source.supporting = [sentence for *_, sentence in chosen]
        count = sum(1 for r in ranked if r[1] == best_passage)  # ranked holds every sentence of it
        text = " ".join(f"{quoted(passage, sentence, index, count)} [1]" for _, _, index, sentence in chosen)
        passage_lang = str(passage.metadata.get("lang") or "")
        if passage_lang and lang and passage_lang != lang:
            text = f"{quoted_in(lang, passage_lang)}: {text}"
        return Answer(question=question, text=text, sources=[source], abstained=False)

    def pick_sentences(self, question: str, ranked: Sequence[tuple[float, int, int, str]],
                       same: bool | None, lang: str = "", passage_lang: str | None = None,
                       kind: str | None = None) -> list[tuple[float, int, int, str]]:
        """The sentences of one passage to quote (``ranked``: its sentences, best first): the best,
        and up to ``answer_sentences`` - 1 more at least a quarter as relevant."""
        kind = self.kind_asked(question, lang) if kind is None else kind

        def relevance(score: float, sentence: str) -> float:
            """The score without the answer-kind bonus: a sentence joins the best one for its words,
            not for merely holding a number ("…cite it as source number 4")."""
            held = kind and holds(kind, sentence, question, same, passage_lang)
            return score - (KIND_BONUS if held else 0.0)

        best_score = relevance(ranked[0][0], ranked[0][3])
        chosen = [r for r in ranked
                  if r is ranked[0] or relevance(r[0], r[3]) >= 0.25 * best_score or best_score <= 0]
        return chosen[: self.answers.answer_sentences]

    def rank_sentences(
        self, question: str, passages: Sequence[Passage], context: str = "", lang: str = "",
        kind: str | None = None,
    ) -> list[tuple[float, int, int, str]]:
        """(score, passage index, sentence index, sentence) for the top passages, best first.

        A sentence scores by the share of the question's words it contains (rarer words weigh
        more; words of earlier turns, ``context``, a quarter), plus its passage's retrieval score
        relative to the best passage (times the profile's ``passage_prior``), so that a question in
        another language, which shares no words with the passages, still gets the best passage's
        sentences.
        """
        weights = {t: self.idf(t) for t in set(tokenize(question))}
        for term in set(tokenize(context)) - set(weights):
            weights[term] = 0.25 * self.idf(term)
        total = sum(weights.values()) or 1.0
        ranked = []
        top_score = passages[0].score
        kind = self.kind_asked(question, lang) if kind is None else kind
        for p_index, passage in enumerate(passages[:3]):
            prior = self.profile.ranking.passage_prior * (passage.score - top_score)
            same = same_language(passage, lang)
            passage_lang = str(passage.metadata.get("lang") or "en")
            asked = by_stem(weights, passage_lang)  # the question's words in the passage's stems
            for s_index, sentence in enumerate(split_sentences(passage.text, passage_lang)):
                overlap = shared_weight(asked, tokenize(sentence), passage_lang, self.idf) / total
                score = overlap + prior - 0.01 * s_index - (0.5 if len(sentence) < 25 else 0.0)
                if kind and holds(kind, sentence, question, same, passage_lang):
                    score += KIND_BONUS
                ranked.append((score, p_index, s_index, sentence))
        ranked.sort(key=lambda r: -r[0])
        return ranked


def refusal(question: str, passages: Sequence[Passage], lang: str, related: bool,
            kind: str | None = None) -> Answer:
    """The abstention; when the passages are on the question's topic (only not answering it), the
    closest articles go with it, listed apart as ``related``: never cited, never an answer, and the
    refusal says what they do not state ("The closest articles do not say when.") in the reader's
    language (one with a language file), by the kind of answer the question expects (``kind``; None:
    by its question words)."""
    closest = list({p.doc_id: p for p in passages[:RELATED]}.values()) if related else []  # one per article
    text = no_answer_text(lang)
    if closest and lang in languages():
        kind = expected_kind(question, lang) if kind is None else kind
        text += " " + (say("not_stated", lang, what=say(f"what_{kind}", lang)) if kind
                       else say("not_stated_any", lang))
    return Answer(question=question, text=text, sources=[], abstained=True,
                  related=[make_source(number, passage) for number, passage in enumerate(closest, 1)])


def clip(standardised: float) -> float:
    """A feature at most FEATURE_CLIP standard deviations from its dev mean: the model was fitted
    there, and a linear model read far outside (a one-chunk article matching its question far above
    its index's other passages) says what it never saw."""
    return max(-FEATURE_CLIP, min(FEATURE_CLIP, standardised))


def same_language(passage: Passage, lang: str) -> bool | None:
    """Is the passage in the question's language ``lang``? None when either is unknown."""
    passage_lang = passage.metadata.get("lang")
    return passage_lang == lang if passage_lang and lang else None


def answers_kind(question: str, passage: Passage, quote: Sequence[str], lang: str = "",
                 kind: str | None = None) -> bool:
    """Can the quote be an answer? It holds the kind of answer the question expects ("how many":
    a number; "when": a date), and the passage mentions the years the question names.

    "What is the population of Hanoi?" is not answered by a sentence that merely mentions Hanoi,
    nor "Vietnam's GDP growth rate in 2024" by one about 2024 that gives no rate.
    """
    kind = expected_kind(question, lang) if kind is None else kind
    same = same_language(passage, lang)
    if not quote_holds(kind, quote, question, same, str(passage.metadata.get("lang") or "") or None):
        return False
    return not missing_years(question, f"{passage.title} {passage.text}")


def by_stem(weights: Mapping[str, float], lang: str) -> dict[str, float]:
    """Words' weights by their Snowball stems in language ``lang`` (``languages.stem``); words with one
    stem weigh as the heaviest of them."""
    stems: dict[str, float] = {}
    for term, weight in weights.items():
        key = stem(term, lang)
        stems[key] = max(weight, stems.get(key, 0.0))
    return stems


def shared_weight(asked: Mapping[str, float], words: Iterable[str], lang: str,
                  weight: Callable[[str], float]) -> float:
    """The weight of the stems ``asked`` that ``words`` (in language ``lang``) have, each at most the
    weight of the text's own word for it: rare "nationals" asked and common "nation" found (one stem)
    counts as "nation", so that a stem does not lend a common word a rare one's weight."""
    found: dict[str, float] = {}
    for word in words:
        key = stem(word, lang)
        if key in asked:
            found[key] = max(found.get(key, 0.0), min(asked[key], weight(word)))
    return sum(found.values())
