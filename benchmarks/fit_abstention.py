"""Fit the abstention model (assistant/extractive.py) on the dev sets and print the trade-off.

    CHROMA_PATH=/tmp/evalidx python benchmarks/fit_abstention.py

Runs every dev question of xling, nyt and abstain through the real retrieval (the index must hold
../shared/eval/corpora/news.jsonl: `assistant eval --corpus ... --questions ...` builds it), computes
the Evidence features, fits a logistic regression (unanswerable = 1) and prints, for thresholds,
the share of unanswerable questions abstained and of answerable ones wrongly abstained, then the
constants to paste into extractive.py. Dev only: never fit on test/.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from assistant.answer import parse_history
from assistant.cleaning import detect_language
from assistant.config import load_settings
from assistant.extractive import Evidence
from assistant.rewrite import heuristic_query
from assistant.service import Assistant

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev"
OUT = Path(__file__).resolve().parent / "out"


def features(assistant: Assistant, question: dict) -> tuple[float, ...]:
    query = heuristic_query(question["question"], parse_history(question.get("history")))
    passages = assistant.retriever.search(query, k=assistant.settings.top_k)
    lexical = assistant.retriever.lexical
    lang = detect_language(question["question"])
    return Evidence.of(question["question"], passages, lexical.document_frequency, lang).features()


def fit(x: np.ndarray, y: np.ndarray, steps: int = 4000, rate: float = 0.1) -> np.ndarray:
    weights = np.zeros(x.shape[1])
    balance = np.where(y == 1, (1 - y).sum() / max(y.sum(), 1), 1.0)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ weights))
        weights -= rate * (x.T @ ((p - y) * balance) / len(y) + 1e-3 * weights)
    return weights


def main() -> None:
    assistant = Assistant.open(load_settings())
    rows, labels, sets = [], [], []
    for name in ("xling", "nyt", "abstain"):
        for line in (EVAL / f"{name}.jsonl").open(encoding="utf-8"):
            question = json.loads(line)
            rows.append(features(assistant, question))
            labels.append(0.0 if question.get("answerable", True) else 1.0)
            sets.append(name)
    raw = np.array(rows)
    np.save(OUT / "abstention-features.npy", np.hstack([raw, np.array(labels)[:, None]]))
    names = np.array(sets)
    for same_floor in (0.76, 0.77, 0.78, 0.79, 0.80):
        for cross_floor in (0.74, 0.75, 0.755, 0.76):
            floor = np.where(raw[:, 4] > 0, same_floor, cross_floor)
            low = raw[:, 0] < floor
            shares = {n: round(100 * low[names == n].mean(), 1) for n in ("abstain", "xling", "nyt")}
            print(f"floors {same_floor}/{cross_floor}: {shares}")
    means, scales = raw.mean(0), raw.std(0) + 1e-9
    x = np.hstack([np.ones((len(raw), 1)), (raw - means) / scales])
    y = np.array(labels)
    weights = fit(x, y)
    p = 1 / (1 + np.exp(-x @ weights))
    print("threshold  abstained(unanswerable)  wrongly-abstained(answerable)  xling  nyt")
    for threshold in np.arange(0.30, 0.95, 0.05):
        abstain = p > threshold
        print(f"{threshold:9.2f}  {100 * abstain[y == 1].mean():23.1f}  {100 * abstain[y == 0].mean():29.1f}"
              f"  {100 * abstain[names == 'xling'].mean():5.1f}  {100 * abstain[names == 'nyt'].mean():4.1f}")
    print("ABSTENTION_WEIGHTS =", tuple(round(float(w), 3) for w in weights))
    print("FEATURE_MEANS =", tuple(round(float(m), 4) for m in means))
    print("FEATURE_SCALES =", tuple(round(float(s), 4) for s in scales))


if __name__ == "__main__":
    sys.exit(main())
