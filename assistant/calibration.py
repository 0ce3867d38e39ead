"""Fitting an embedder profile from a dev set: the abstention model and the similarity floors.

    steps = TurnSteps(assistant.settings.answers, assistant.settings.retrieval, assistant.retriever,
                      profile=assistant.profile)
    result = calibrate(steps, read_questions(Path("dev.jsonl")))
    write_profile(result.profile, Path("profile.toml"), comment=result.comment("dev.jsonl"))
    result.before, result.after       # Refusals with the profile in use and with the fitted one

Each question is retrieved as the chain retrieves it and read by the extractive answerer, which
gives its Evidence features and whether the answer's other rules (the kind of answer asked for,
the years, "not a question") refuse it anyway. From those: each floor is the highest that refuses
at most MAX_FLOOR_COST of the answerable questions (dense similarity, same language and across
languages; sparse cosine), and the abstention model is a class-balanced logistic regression over
the standardised features (unanswerable = 1) at the L2 strength that refuses the most unanswerable
questions while refusing at most MAX_WRONG of the answerable ones (at ABSTAIN_THRESHOLD).
``benchmarks/fit_abstention.py`` fits the shipped model with the same functions, on dumped dev turns
(leave-gold-out near misses among them).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answering.chain import TurnSteps, history_context
from assistant.answering.extractive import FEATURE_CLIP, Evidence, ExtractiveAnswerer
from assistant.documents import Filters
from assistant.errors import ConfigError
from assistant.index.profile import Abstention, EmbedderProfile, Floors

MAX_FLOOR_COST = 0.03  # share of answerable questions a floor may refuse
MAX_WRONG = 0.08  # share of answerable questions refused the abstention model may reach (the Trust limit)
# a language with at least this many questions is one the abstention model is fitted on (its
# ``languages``); a question in another, in another script than its passage, has its words' evidence
# read as not known (Evidence.words_read)
MIN_LANGUAGE_QUESTIONS = 5
L2_STRENGTHS = (0.001, 0.01, 0.03, 0.1)
FITTED = ("abstention.weights", "abstention.feature_means", "abstention.feature_scales",
          "floors.similarity_same", "floors.similarity_cross", "floors.sparse")
NO_FLOORS = Floors(similarity_same=-math.inf, similarity_cross=-math.inf, sparse=-math.inf)


@dataclass
class Row:
    """One question as the chain reads it, without a model."""

    evidence: Evidence
    other_rules: bool  # the answer refuses whatever the abstention model and the floors say
    answerable: bool = True
    lang: str = ""  # the question's


@dataclass
class Refusals:
    answerable: int
    unanswerable: int


@dataclass
class Calibration:
    """A fitted profile and what it changes on the questions it was fitted on."""

    profile: EmbedderProfile
    rows: list[Row]
    before: Refusals  # with the profile in use
    after: Refusals  # with the fitted profile
    l2: float | None  # the regression's L2 strength (None: the abstention model was not fitted)
    kept: dict[str, str]  # threshold → why it was not fitted

    def comment(self, source: str) -> str:
        answerable = sum(row.answerable for row in self.rows)
        return (f"Embedder profile of {self.profile.name}, written by "
                f"`assistant calibrate --questions {source}`:\n"
                f"[abstention] and [floors] fitted on {len(self.rows)} questions ({answerable} answerable, "
                f"{len(self.rows) - answerable} unanswerable); see assistant/calibration.py.\n"
                "Use it with EMBEDDER_PROFILE=<this file>.")

    def summary(self) -> dict[str, Any]:
        """The figures, as JSON."""
        answerable = sum(row.answerable for row in self.rows)
        return {"embedder": self.profile.name, "questions": len(self.rows), "answerable": answerable,
                "unanswerable": len(self.rows) - answerable, "l2": self.l2,
                "refused_before": vars(self.before), "refused_after": vars(self.after),
                "floors": vars(self.profile.floors), "abstention": vars(self.profile.abstention),
                "kept": self.kept, "uncalibrated": list(self.profile.uncalibrated)}


def read_questions(path: Path) -> list[dict[str, Any]]:
    """A question set (JSON Lines, ../shared/eval format: "question", "answerable", "history"?)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"Cannot read the questions {path}: {exc}") from exc
    questions = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            question = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}, line {number}: not JSON ({exc}); write one question a line.") from exc
        if not isinstance(question, dict) or not isinstance(question.get("question"), str) \
                or not isinstance(question.get("answerable"), bool):
            raise ConfigError(f'{path}, line {number}: needs "question" (text) and "answerable" (true or '
                              "false), as in ../shared/eval/README.md.")
        questions.append(question)
    return questions


def examine(steps: TurnSteps, question: dict[str, Any], without: Sequence[str] = ()) -> Row:
    """The question as the chain retrieves and answers it without a model; ``other_rules`` leave the
    abstention model and the floors out (``evidence.off_topic()`` adds the floors). ``without``: article
    ids left out of the search (its gold articles: the question becomes a near miss, unanswerable)."""
    filters = Filters(exclude_doc_ids=tuple(without)) if without else None
    state = steps.prepare({"question": question["question"], "history": question.get("history"),
                           "filters": filters})
    state = steps.retrieve(steps.rewrite(state))
    context = history_context(state.topic, steps.answers.max_history_turns)
    vocabulary = steps.retriever.vocabulary()
    never = replace(steps.answers, abstain_threshold=1.0)
    # every language's words read as a fitted language's: the model fitted here will be fitted on them
    every_language = replace(steps.profile.abstention, languages=())
    unfloored = replace(steps.profile, floors=NO_FLOORS, abstention=every_language)
    answerer = ExtractiveAnswerer(never, vocabulary, vocabulary.chunks, unfloored,
                                  steps.retriever.index.embedder.embed_query)
    reading = answerer.read(state.question, state.passages, state.lang, context)
    evidence = reading.evidence or answerer.evidence(state.question, state.passages, state.lang, context)
    return Row(replace(evidence, profile=steps.profile), reading.answer.abstained,
               question.get("answerable", True) and not without, state.lang)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 4000,
                 rate: float = 0.1) -> np.ndarray:
    """Weights of a class-balanced logistic regression of ``y`` (1: unanswerable) on ``x`` (its first
    column the bias), by gradient descent with an L2 penalty."""
    weights = np.zeros(x.shape[1])
    balance = np.where(y == 1, (1 - y).sum() / max(y.sum(), 1), 1.0)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ weights))
        weights -= rate * (x.T @ ((p - y) * balance) / len(y) + l2 * weights)
    return weights


def fit_softmax(x: np.ndarray, y: np.ndarray, classes: int, l2: float, steps: int = 1500,
                rate: float = 0.5) -> np.ndarray:
    """Weights (features + 1, classes) of a class-balanced multinomial logistic regression of ``y``
    (class numbers) on the standardised ``x`` (no bias column: the first row of the weights is the
    bias), by gradient descent from zero with an L2 penalty: deterministic."""
    design = np.hstack([np.ones((len(x), 1)), x])
    counts = np.bincount(y, minlength=classes)
    balance = (len(y) / (classes * np.maximum(counts, 1)))[y]
    target = np.eye(classes)[y]
    weights = np.zeros((design.shape[1], classes))
    penalty = np.ones((design.shape[1], 1))
    penalty[0] = 0.0  # the bias is not penalised
    for _ in range(steps):
        z = design @ weights
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        gradient = design.T @ ((p - target) * balance[:, None]) / balance.sum()
        weights -= rate * (gradient + l2 * penalty * weights)
    return weights


def standardised(raw: np.ndarray, means: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """The design matrix: a bias column, then each feature standardised and clipped as Evidence reads it
    (a feature it cannot read, NaN, as its mean: 0)."""
    scaled = np.nan_to_num(np.clip((raw - means) / scales, -FEATURE_CLIP, FEATURE_CLIP), nan=0.0)
    return np.hstack([np.ones((len(raw), 1)), scaled])


def floor_for(values: Iterable[float], cost: float = MAX_FLOOR_COST) -> float | None:
    """The highest floor (3 decimals) that at most ``cost`` of ``values`` fall below; None without values."""
    ordered = sorted(values)
    if not ordered:
        return None
    return math.floor(ordered[int(cost * len(ordered))] * 1000) / 1000


def fit_floors(rows: Sequence[Row], fallback: Floors) -> tuple[Floors, dict[str, str]]:
    """The floors from the answerable rows; a floor without any row keeps ``fallback``'s value."""
    answerable = [row.evidence for row in rows if row.answerable]
    found = {"similarity_same": floor_for(e.similarity for e in answerable if e.same_language),
             "similarity_cross": floor_for(e.similarity for e in answerable if not e.same_language),
             "sparse": floor_for(e.sparse for e in answerable if e.sparse is not None)}
    why = {"similarity_same": "no answerable question in its passage's language",
           "similarity_cross": "no answerable question in another language than its passage",
           "sparse": "the index has no sparse vectors"}
    kept = {f"floors.{name}": why[name] for name, value in found.items() if value is None}
    return replace(fallback, **{k: v for k, v in found.items() if v is not None}), kept


def refusals(rows: Sequence[Row], profile: EmbedderProfile, threshold: float) -> Refusals:
    """The answerable and unanswerable rows the answer refuses with ``profile``."""
    refused = [row for row in rows if refuses(row, profile, threshold)]
    answerable = sum(row.answerable for row in refused)
    return Refusals(answerable, len(refused) - answerable)


def refuses(row: Row, profile: EmbedderProfile, threshold: float) -> bool:
    evidence = replace(row.evidence, profile=profile)
    return row.other_rules or evidence.off_topic() or evidence.unanswerable_probability() > threshold


def fit_abstention(rows: Sequence[Row], base: EmbedderProfile, threshold: float,
                   strengths: Sequence[float] = L2_STRENGTHS) -> tuple[Abstention, float] | None:
    """The abstention model (rounded as written) at the best of ``strengths``, with ``base``'s floors;
    None unless there are answerable and unanswerable rows."""
    y = np.array([0.0 if row.answerable else 1.0 for row in rows])
    if not 0 < y.sum() < len(y):
        return None
    raw = np.array([row.evidence.features() for row in rows])
    means, scales = np.nanmean(raw, 0), np.nanstd(raw, 0)  # NaN: a feature a row cannot read
    scales = np.where(scales < 1e-4, 1.0, scales)  # a constant feature: no information, no division by 0
    x = standardised(raw, means, scales)
    answerable = max(int(len(y) - y.sum()), 1)
    counts = Counter(row.lang for row in rows if row.lang)
    languages = tuple(sorted(lang for lang, count in counts.items() if count >= MIN_LANGUAGE_QUESTIONS))
    best: tuple[tuple[bool, int, int], Abstention, float] | None = None
    for l2 in strengths:
        model = Abstention(weights=tuple(round(float(w), 3) for w in fit_logistic(x, y, l2)),
                           feature_means=tuple(round(float(m), 4) for m in means),
                           feature_scales=tuple(round(float(s), 4) for s in scales), languages=languages)
        found = refusals(rows, replace(base, abstention=model), threshold)
        # within the limit first, then the most unanswerable refused, then the fewest answerable
        rank = (found.answerable / answerable <= MAX_WRONG, found.unanswerable, -found.answerable)
        if best is None or rank > best[0]:
            best = (rank, model, l2)
    assert best is not None
    return best[1], best[2]


def calibrate(steps: TurnSteps, questions: Sequence[dict[str, Any]],
              progress: Callable[[int, int], None] | None = None,
              leave_gold_out: bool = False) -> Calibration:
    """Fit the floors and the abstention model of ``steps.profile``'s embedder on ``questions``.

    ``leave_gold_out``: each answerable question with ``gold_doc_ids`` is also read with those
    articles left out of the search, as an unanswerable near miss on its own topic (the floors are
    fitted on the answerable rows only)."""
    if not any(question.get("answerable", True) for question in questions):
        raise ConfigError("The questions have no answerable one: the floors are fitted on answerable "
                          'questions ("answerable": true, with their gold_doc_ids in the index).')
    rows = []
    for number, question in enumerate(questions, 1):
        rows.append(examine(steps, question))
        gold = [str(doc_id) for doc_id in question.get("gold_doc_ids") or []]
        if leave_gold_out and question.get("answerable", True) and gold:
            rows.append(examine(steps, question, without=gold))
        if progress:
            progress(number, len(questions))
    current, threshold = steps.profile, steps.answers.abstain_threshold
    floors, kept = fit_floors(rows, current.floors)
    fitted = fit_abstention(rows, replace(current, floors=floors), threshold)
    if fitted is None:
        kept.update({name: "the questions need answerable and unanswerable ones" for name in FITTED
                     if name.startswith("abstention.")})
    abstention, l2 = fitted or (current.abstention, None)
    # what this run fitted is calibrated now; the rest stays as calibrated as it was
    uncalibrated = [name for name in current.thresholds()
                    if name in current.uncalibrated and (name not in FITTED or name in kept)]
    profile = replace(current, floors=floors, abstention=abstention, uncalibrated=tuple(uncalibrated),
                      source="")
    return Calibration(profile, rows, refusals(rows, current, threshold), refusals(rows, profile, threshold),
                       l2, kept)
