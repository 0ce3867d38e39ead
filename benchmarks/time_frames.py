"""The publication times read from questions (``retrieval.recency.time_frame``): how many of each kind,
how fast, and a listing to compare two commits by.

    python benchmarks/time_frames.py                          # the dev and own questions
    python benchmarks/time_frames.py --out before.jsonl       # then at another commit, and diff

Every question of ``../shared/eval/dev`` and ``benchmarks/sets`` is read against the same day (a
Wednesday), so two commits' listings differ only where the reading differs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.retrieval.recency import time_frame

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "eval" / "dev"
TODAY = date(2026, 12, 2)


def questions(dev: Path) -> list[str]:
    found: list[str] = []
    for folder in (dev, ROOT / "benchmarks" / "sets"):
        for path in sorted(folder.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                turns = [record.get("question")] + [t.get("question") for t in record.get("turns") or []
                                                      if isinstance(t, dict)]
                found += [q for q in turns if isinstance(q, str)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "time-frames.jsonl")
    parser.add_argument("--dev", type=Path, default=DEV, help="the dev question sets' folder")
    args = parser.parse_args()
    asked = questions(args.dev)
    kinds: Counter[str] = Counter()
    rows, spent = [], 0.0
    for question in asked:
        started = time.perf_counter()
        frame = time_frame(question, TODAY)
        spent += time.perf_counter() - started
        kind = "none" if frame is None else "latest" if frame.latest else "month" if frame.prefer else "span"
        kinds[kind] += 1
        rows.append({"question": question, "kind": kind, "start": str(frame.start) if frame else None,
                     "end": str(frame.end) if frame else None,
                     "expression": frame.expression if frame else ""})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    print(f"{len(asked)} questions: " + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())))
    print(f"mean {1000 * spent / max(len(asked), 1):.2f} ms a question; listing in {args.out}")


if __name__ == "__main__":
    main()
