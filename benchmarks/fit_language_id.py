"""Fit text.UNSURE_BELOW: misdetected dev questions at each confidence below which the function words
decide between fastText's three best guesses (0 = fastText alone).

    python benchmarks/fit_language_id.py     # reads ../shared/eval/dev/*.jsonl (their "lang" fields)

Prints one line per threshold; BENCHMARKS.md has the figures. Nothing is random.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from assistant.text import detect_language

DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev"
THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def questions() -> list[tuple[str, str]]:
    found = []
    for path in sorted(DEV.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("lang") and record.get("question"):
                found.append((str(record["question"]), str(record["lang"])))
    return found


def main() -> None:
    asked = questions()
    print(f"{len(asked)} dev questions: {dict(Counter(lang for _, lang in asked))}")
    for threshold in THRESHOLDS:
        wrong = Counter((lang, found) for question, lang in asked
                        if (found := detect_language(question, threshold)) != lang)
        total = sum(wrong.values())
        print(f"unsure below {threshold:4.2f}: {total:3d} misdetected ({100 * total / len(asked):.2f}%)"
              f"  {dict(wrong.most_common(4))}")


if __name__ == "__main__":
    main()
