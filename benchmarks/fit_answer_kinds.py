"""Fit the answer-kind model: the kind of answer a question asks for, learned from its e5 vector.

    python benchmarks/dump_turns.py --own sample-own nearmiss-own answerable-own   # once (~30 min)
    python benchmarks/fit_answer_kinds.py            # the choice and its figures (~3 min)
    python benchmarks/fit_answer_kinds.py --write    # and save it beside the embedder's profile

A question in a language with a file of question words (assistant/languages: en, nl, de, ru, vi) is
read by them ("how many" asks for a number); in any other language it was read by none, and a quote
without the number, date or name asked for was let through. This model reads the question's vector,
which the embedder makes alike across languages, so it serves every language the embedder reads.

Data: the answerable questions of ../shared/train (SQuAD 2.0 sample, English; IDK-MRC, Indonesian)
and of the *fit* half of the dev turns (nyt, xling in en/de/ru/vi, coqa; split by article as
``answer_rules.half``), each labelled by its gold answer's text (``answer_kind``). A class-balanced
softmax regression (``calibration.fit_softmax``: deterministic) over the standardised vector.

Chosen as a language without question words would meet it: each xling language in turn is *held
out* (its questions left out of the fitting, its own question words switched off) and its dumped
turns, answerable and near misses (leave-gold-out), are answered again with the held-out model's
kind. On the fit half: the L2 strength by the held-out languages' label accuracy, and the threshold
(a kind only when its probability reaches it) that lets the model name the most kinds while the
held-out languages keep within MAX_WRONG of their answerable turns refused, and each within
MAX_WRONG_PER_LANGUAGE (fit_abstention's limits). The check half
and our own sets (Dutch among them, which nothing was fitted on) are only scored, in aggregate,
against the same languages with no question words (what such a language has today) and with their
own. Dev only: never fit on test/.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import answer_rules as rules

import assistant.answering.extractive as extractive
from assistant.answering.answer_types import YEAR, evidence_in, expected_kind
from assistant.calibration import fit_softmax
from assistant.config import load_settings
from assistant.index.embeddings import E5Embeddings
from assistant.index.lexical import open_words
from assistant.index.profile import AnswerKinds, kinds_path, profile_for, profile_path, write_answer_kinds
from assistant.text import fold

TRAIN = rules.ROOT.parent / "shared" / "train"
TRAIN_FILES = ("squad2_train_sample_en", "idk_mrc_id")
VECTORS = rules.INDEXES / "question-vectors.npz"
KINDS = ("", "percent", "money", "date", "number", "name")  # "": nothing in particular
HELD_OUT = ("de", "ru", "vi")  # the xling languages with enough turns to hold out
L2_STRENGTHS = (0.01, 0.1, 0.3)
THRESHOLDS = tuple(round(0.9 - 0.05 * i, 2) for i in range(12))  # 0.9 … 0.35
# answerable fit turns refused, at most (fit_abstention's limits): of the held-out languages' pooled,
# and of any one's
MAX_WRONG = 0.07
MAX_WRONG_PER_LANGUAGE = 0.12
# German writes every noun with a capital: its answers' capitals name nothing
NOUNS_CAPITALISED = {"de"}
SMALL_WORDS = {"the", "of", "and", "a", "an", "in", "for", "de", "van", "der", "von", "la", "le", "dan", "di"}


def answer_kind(answer: str, lang: str) -> str | None:
    """The kind of a gold answer, read from its text with its language's words (months, currencies);
    None when it cannot say (a German answer without a number: its capitals do not tell names)."""
    text = answer.strip().strip(".")
    if not text:
        return None
    cue, folded = evidence_in(lang), fold(text)
    if cue.percent.search(folded):
        return "percent"
    digits = re.search(r"\d", text) is not None
    if cue.money.search(folded) and (digits or cue.number_words.search(folded)):
        return "money"
    if YEAR.search(folded) or (digits and cue.months.search(folded)):
        return "date"
    if digits or cue.number_words.fullmatch(folded):
        return "number"
    if lang in NOUNS_CAPITALISED:
        return None
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", text) if w.lower() not in SMALL_WORDS]
    return "name" if words and len(words) <= 6 and all(w[0].isupper() for w in words) else ""


def training_questions() -> list[tuple[str, str, str]]:
    """(question, lang, kind) of ../shared/train's answerable questions (their train split)."""
    found = []
    for name in TRAIN_FILES:
        with gzip.open(TRAIN / f"{name}.jsonl.gz", "rt", encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                if row["unanswerable"] or not row["answers"] or row.get("split", "train") != "train":
                    continue
                kind = answer_kind(row["answers"][0], row["lang"])
                if kind is not None:
                    found.append((row["question"], row["lang"], kind))
    return found


def dev_turns() -> list[dict[str, Any]]:
    turns = []
    for name in rules.SETS:
        path = rules.TURNS / f"turns-dev-{name}.jsonl"
        if not path.exists():
            sys.exit(f"no {path}: run benchmarks/dump_turns.py first")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            turn = json.loads(line)
            turn.update(set=name, key=f"{name}:{number}", half=rules.half(turn | {"set": name}))
            turns.append(turn)
    return turns


def vectors_of(texts: list[str]) -> dict[str, np.ndarray]:
    """Each question's query vector, kept in benchmarks/out between runs."""
    known: dict[str, np.ndarray] = {}
    if VECTORS.exists():
        with np.load(VECTORS) as data:
            known = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
    missing = sorted(set(texts) - set(known))
    if missing:
        model = E5Embeddings().model
        for first in range(0, len(missing), 64):
            batch = missing[first:first + 64]
            known.update(zip(batch, model.query(batch).reshape(len(batch), -1), strict=True))
        VECTORS.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(VECTORS, texts=np.array(list(known)), vectors=np.array(list(known.values())))
    return known


def fit(rows: list[tuple[str, str, str]], vectors: dict[str, np.ndarray], l2: float) -> AnswerKinds:
    x = np.array([vectors[question] for question, _, _ in rows], dtype=np.float64)
    y = np.array([KINDS.index(kind) for _, _, kind in rows])
    means, scales = x.mean(0), x.std(0) + 1e-6
    weights = fit_softmax((x - means) / scales, y, len(KINDS), l2)
    return AnswerKinds(KINDS, weights.astype(np.float32), means.astype(np.float32),
                       scales.astype(np.float32), threshold=0.0)


class Replay:
    """The dumped turns answered again as the chain answers them, with some languages' question words
    switched off and their kind read by a model (or by nothing)."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        settings = load_settings()
        self.profile = profile_for(settings.embedding)
        self.answerers: dict[str, extractive.ExtractiveAnswerer] = {}
        for index in {*rules.INDEX_OF.values(), "index-news"}:
            words = open_words(load_settings(chroma_path=rules.INDEXES / index).index).vocabulary()
            self.answerers[index] = extractive.ExtractiveAnswerer(
                settings.answers, words, words.chunks, self.profile, lambda question: vectors[question])

    def refused(self, turns: list[dict[str, Any]], held: str | None, model: AnswerKinds | None) -> np.ndarray:
        """Whether each turn is refused when language ``held`` has no question words of its own and
        ``model`` (None: nothing) reads its questions."""
        own_words, asked = extractive.has_question_words, extractive.expected_kind
        extractive.has_question_words = lambda lang: lang != held and own_words(lang)
        extractive.expected_kind = lambda question, lang=None: "" if lang == held else asked(question, lang)
        for answerer in self.answerers.values():
            answerer.profile = replace(self.profile, answer_kinds=model)
        try:
            return np.array([
                self.answerers[rules.INDEX_OF.get(t["set"], "index-news")].read(
                    t["question"], [rules.passage_of(p) for p in t["passages"]], t["lang"], t["context"]
                ).answer.abstained for t in turns])
        finally:
            extractive.has_question_words, extractive.expected_kind = own_words, asked


def rates(refused: np.ndarray, turns: list[dict[str, Any]]) -> tuple[float, float]:
    """(% answerable refused, % near misses refused)."""
    answerable = np.array([t["answerable"] and not t["excluded"] for t in turns])
    return 100 * refused[answerable].mean(), 100 * refused[~answerable].mean()


def shown(found: dict[str, tuple[float, float]]) -> str:
    return "  ".join(f"{lang} {answerable:4.1f}/{near:4.1f}" for lang, (answerable, near) in found.items())


def choose_l2(train: list[tuple[str, str, str]], labelled: list[tuple[str, str, str, dict[str, Any]]],
              vectors: dict[str, np.ndarray]) -> float:
    """The L2 strength whose held-out models name the most fit-half kinds of their language right."""
    accuracy = {}
    for l2 in L2_STRENGTHS:
        right = []
        for lang in HELD_OUT:
            model = fit(without(train, lang), vectors, l2)
            right += [model.kinds[int(model.probabilities(vectors[q]).argmax())] == kind
                      for q, lang_of, kind, t in labelled if lang_of == lang and t["half"] == "fit"]
        accuracy[l2] = float(np.mean(right))
        print(f"L2 {l2}: held-out languages' fit-half answer kinds right {100 * accuracy[l2]:.1f}%")
    return max(accuracy, key=lambda strength: accuracy[strength])


def choose_threshold(replay: Replay, turns: list[dict[str, Any]],
                     held_models: dict[str, AnswerKinds]) -> float:
    """The lowest threshold (the most kinds named) within the limits, on the held-out languages' fit half."""
    fit_turns = {lang: [t for t in turns if t["set"] == "xling" and t["lang"] == lang and t["half"] == "fit"]
                 for lang in HELD_OUT}
    print("\nheld out, fit half: % answerable refused / % near misses refused")
    none = {lang: rates(replay.refused(fit_turns[lang], lang, None), fit_turns[lang]) for lang in HELD_OUT}
    print("  no question words " + shown(none))
    chosen = None
    for threshold in THRESHOLDS:
        found = {lang: rates(replay.refused(fit_turns[lang], lang, replace(model, threshold=threshold)),
                             fit_turns[lang]) for lang, model in held_models.items()}
        print(f"  threshold {threshold:<5}     " + shown(found))
        wrong = [answerable for answerable, _ in found.values()]
        if max(wrong) > 100 * MAX_WRONG_PER_LANGUAGE or np.mean(wrong) > 100 * MAX_WRONG:
            break
        chosen = threshold
    if chosen is None:
        sys.exit("no threshold keeps the held-out languages within the limits")
    return chosen


def report(replay: Replay, turns: list[dict[str, Any]], held_models: dict[str, AnswerKinds],
           final: AnswerKinds) -> None:
    """The check half and our own sets, per language: with no question words, with the model that
    never saw the language, and with the language's own question words."""
    print("\nscored only: % answerable refused / % near misses refused")
    print(f"{'':22}{'no question words':>20}{'learned (held out)':>20}{'its own words':>16}")
    for lang in (*HELD_OUT, "nl"):
        model = replace(held_models.get(lang, final), threshold=final.threshold)
        for where in ("check", "own"):
            picked = [t for t in turns if t["lang"] == lang and (
                t["half"] == "own" if where == "own" else t["set"] == "xling" and t["half"] == "check")]
            if picked:
                cells = [rates(replay.refused(picked, held, m), picked)
                         for held, m in ((lang, None), (lang, model), (None, None))]
                print(f"  {lang} {where:6} ({len(picked):3} turns)" + "".join(
                    f"{f'{a:4.1f} / {n:4.1f}':>20}" for a, n in cells))


def without(train: list[tuple[str, str, str]], lang: str) -> list[tuple[str, str, str]]:
    return [row for row in train if row[1] != lang]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="save the model beside the embedder's profile")
    args = parser.parse_args()
    turns = [t for t in dev_turns() if t["passages"]]
    labelled = [(t["question"], t["lang"], answer_kind(t["answers"][0], t["lang"]), t)
                for t in turns if t["set"] in ("nyt", "xling", "coqa") and t["answerable"]
                and not t["excluded"] and t["answers"]]
    labelled = [row for row in labelled if row[2] is not None]
    train = training_questions() + [(q, lang, kind) for q, lang, kind, t in labelled if t["half"] == "fit"]
    print(f"{len(train)} labelled questions:", dict(Counter(kind or "other" for *_, kind in train)))
    vectors = vectors_of([q for q, *_ in train] + [t["question"] for t in turns])

    l2 = choose_l2(train, labelled, vectors)
    replay = Replay(vectors)
    held_models = {lang: fit(without(train, lang), vectors, l2) for lang in HELD_OUT}
    threshold = choose_threshold(replay, turns, held_models)
    print(f"chosen on the fit half: L2 {l2}, threshold {threshold}")
    final = replace(fit(train, vectors, l2), threshold=threshold)
    report(replay, turns, held_models, final)
    english = [q for q, lang, *_ in labelled if lang == "en"]
    agree = [final.predict(vectors[q]) == expected_kind(q, "en") for q in english]
    print(f"\nthe final model names the kind the English question words name for {100 * np.mean(agree):.1f}% "
          f"of the {len(english)} English dev questions")
    if args.write:
        path = kinds_path(profile_path(replay.profile.name))
        write_answer_kinds(final, path)
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    sys.exit(main())
