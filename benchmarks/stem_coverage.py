"""Snowball stems or the six-character prefix for the abstention model's word coverage: each refitted the
same way, compared by how well the model tells answerable turns from near misses (AUC), offline.

    python benchmarks/dump_turns.py --own sample-own nearmiss-own answerable-own   # once (~30 min)
    python benchmarks/stem_coverage.py

For every dumped turn (dev normal and leave-gold-out, and the own sets) the Evidence features of
``extractive.Evidence.of``; the coverage feature (the question's IDF weight found in the best passage) is
computed twice: with the six-character prefix (what the shipped model was fitted on until stop 23), and with
each text's own Snowball stemmer (``assistant.languages.stems``; six characters for a language without
one). For each, a logistic model (``assistant.calibration.fit_logistic``, the fitting ``assistant
calibrate`` does) is fitted on the *fit* half of the dev turns (split by article, as ``answer_rules.py``
splits them) and its AUC printed on the fit and *check* halves, the own sets and nyt and xling; also the
coverage feature alone.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import answer_rules as rules

from assistant.answering.extractive import Evidence
from assistant.calibration import fit_logistic, standardised
from assistant.config import load_settings
from assistant.documents import Passage
from assistant.index.lexical import largest_count, open_words
from assistant.index.profile import profile_for
from assistant.languages import languages, phrases, stems
from assistant.text import idf, tokenize

L2 = 0.001


def prefix(term: str, lang: str) -> str:
    return term if term.isdigit() else term[:6]


@functools.lru_cache(maxsize=500_000)
def snowball(term: str, lang: str) -> str:
    if term.isdigit():
        return term
    has_stemmer = lang in languages() and bool(phrases(lang).get("stemmer"))
    return stems([term], lang)[0] if has_stemmer else term[:6]


def coverage(question: str, best: Passage, frequency: Any, lang: str,
             stem: Callable[[str, str], str]) -> float:
    """The share of the question's IDF weight whose stems are in the best passage (Evidence's feature)."""
    total = largest_count(frequency)
    weights = {t: idf(frequency[t], total) for t in set(tokenize(question)) if t in frequency}
    best_lang = str(best.metadata.get("lang") or "")
    words = {stem(t, best_lang) for t in tokenize(best.text)}
    found = sum(w for t, w in weights.items() if stem(t, lang) in words)
    return found / sum(weights.values()) if weights else 0.0


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """The probability that a near miss (label 1) scores above an answerable turn (ties half)."""
    positive, negative = scores[labels == 1], scores[labels == 0]
    above = (positive[:, None] > negative[None, :]).sum()
    above += 0.5 * (positive[:, None] == negative[None, :]).sum()
    return float(above / (len(positive) * len(negative)))


def main() -> None:
    profile = profile_for(load_settings().embedding)
    vocabularies: dict[str, Any] = {}
    rows = []
    for name in rules.SETS:
        path = rules.TURNS / f"turns-dev-{name}.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
            turn = json.loads(line) | {"set": name}
            passages = [rules.passage_of(p) for p in turn["passages"]]
            if not passages:
                continue
            index = rules.INDEX_OF.get(name, "index-news")
            if index not in vocabularies:
                words = open_words(load_settings(chroma_path=rules.INDEXES / index).index)
                vocabularies[index] = words.vocabulary()
            vocabulary = vocabularies[index]
            features = list(Evidence.of(turn["question"], passages, vocabulary, turn["lang"], profile=profile)
                            .features())
            question, lang = turn["question"], turn["lang"]
            rows.append({"half": rules.half(turn), "set": name, "features": features,
                         "near_miss": int(not (turn["answerable"] and not turn["excluded"])),
                         "prefix": coverage(question, passages[0], vocabulary, lang, prefix),
                         "snowball": coverage(question, passages[0], vocabulary, lang, snowball)})
    groups = {"fit": lambda r: r["half"] == "fit", "check": lambda r: r["half"] == "check",
              "own": lambda r: r["half"] == "own", "nyt": lambda r: r["set"] == "nyt",
              "xling": lambda r: r["set"] == "xling"}
    print(f"{len(rows)} turns; AUC (near misses above answerable)")
    print(f"{'coverage by':12} " + " ".join(f"{g:>7}" for g in groups) + "   coverage alone: check, own")
    for variant in ("prefix", "snowball"):
        def raw(selected: list[dict[str, Any]], variant: str = variant) -> np.ndarray:
            return np.array([[*r["features"][:3], r[variant], r["features"][4]] for r in selected])
        fit = [r for r in rows if groups["fit"](r)]
        means, scales = raw(fit).mean(axis=0), raw(fit).std(axis=0) + 1e-9
        labels = np.array([r["near_miss"] for r in fit])
        weights = fit_logistic(standardised(raw(fit), means, scales), labels, L2)
        figures = []
        for chosen in groups.values():
            selected = [r for r in rows if chosen(r)]
            scores = standardised(raw(selected), means, scales) @ weights
            figures.append(auc(np.array([r["near_miss"] for r in selected]), scores))
        alone = [auc(np.array([r["near_miss"] for r in rows if groups[g](r)]),
                     -np.array([r[variant] for r in rows if groups[g](r)])) for g in ("check", "own")]
        shown = " ".join(f"{f:7.3f}" for f in figures)
        print(f"{variant:12} {shown}   {alone[0]:.3f}, {alone[1]:.3f}")


if __name__ == "__main__":
    main()
