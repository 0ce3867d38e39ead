"""Fit the similarity at which two readers' questions are one item of the unanswered-questions queue.

    uv run python benchmarks/fit_question_groups.py            # fits on dev/xling, reports on test/xling

The xling sets ask each question in four languages (en, vi, ru, de): the translations of one question
are near-duplicates (one item), two different questions are not, least of all two questions about the
same article (the hard case: same topic, different question). Each question is embedded as the queue
embeds it (``assistant.questions.QuestionEmbedder``: e5's query vector). The threshold chosen is the
one with the best F0.5 over the dev set's pairs: precision counts twice as much as recall, because a
wrong merge hides a question from the editors while a missed one only shows it twice. Its precision
and recall on the held-out test set's pairs are printed with the curve, and the three questions of the
issue (two English phrasings and a Dutch one about Hanoi's population) are checked to be one item.
"""

from __future__ import annotations

import json
import sys
from itertools import combinations
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.index.embeddings import make_embedder  # noqa: E402
from assistant.questions import QuestionEmbedder  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
HANOI = ["What is the population of Hanoi?", "How many people live in Hanoi?",
         "Hoeveel inwoners heeft Hanoi?"]


def pairs(path: Path, embed: QuestionEmbedder) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(similarity, same question, same article) of every pair of questions in the set."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    vectors = np.asarray([embed.vector(row["question"]) for row in rows])
    base = [row["id"].rsplit("-", 1)[0] for row in rows]
    doc = [tuple(row["gold_doc_ids"]) for row in rows]
    sims, same, topic = [], [], []
    for i, j in combinations(range(len(rows)), 2):
        sims.append(float(vectors[i] @ vectors[j]))
        same.append(base[i] == base[j])
        topic.append(doc[i] == doc[j] and base[i] != base[j])
    return np.asarray(sims), np.asarray(same), np.asarray(topic)


def scores(sims: np.ndarray, same: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """Precision, recall and F0.5 of "one item when the cosine is at least ``threshold``"."""
    grouped = sims >= threshold
    true = float(np.sum(grouped & same))
    precision = true / max(1.0, float(np.sum(grouped)))
    recall = true / max(1.0, float(np.sum(same)))
    return precision, recall, 1.25 * precision * recall / max(1e-9, 0.25 * precision + recall)


def main() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    embed = QuestionEmbedder(make_embedder(settings.embedding, settings.model))
    dev = pairs(EVAL / "dev" / "xling.jsonl", embed)
    grid = np.round(np.arange(0.80, 0.97, 0.005), 3)
    best = max(grid, key=lambda t: scores(dev[0], dev[1], t)[2])
    test = pairs(EVAL / "test" / "xling.jsonl", embed)
    print(f"threshold (best F0.5 on dev pairs): {best:.3f}: the profile's topics.question_groups")
    print("threshold  dev P / R / F0.5      test P / R / F0.5")
    for threshold in grid[::2]:
        d, t = scores(dev[0], dev[1], threshold), scores(test[0], test[1], threshold)
        print(f"{threshold:.3f}      " + " / ".join(f"{v:.3f}" for v in d) + "   "
              + " / ".join(f"{v:.3f}" for v in t))
    for name, (sims, same, topic) in (("dev", dev), ("test", test)):
        precision, recall, f_half = scores(sims, same, best)
        merged_topic = float(np.mean(sims[topic] >= best)) if topic.any() else 0.0
        print(f"{name}: {int(same.sum())} same-question pairs of {len(sims)}; "
              f"precision {precision:.3f} recall {recall:.3f} F0.5 {f_half:.3f}; "
              f"different questions on one article merged: {merged_topic:.3f}")
    hanoi = [embed.vector(q) for q in HANOI]
    print("Hanoi questions, pairwise:", [round(float(a @ b), 3) for a, b in combinations(hanoi, 2)])


if __name__ == "__main__":
    main()
