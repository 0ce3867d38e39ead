"""The extractive answer's rules, each measured by leaving it out: offline, on dumped turns.

    python benchmarks/dump_turns.py --own sample-own nearmiss-own answerable-own   # once (~30 min)
    python benchmarks/answer_rules.py            # every variant: a table of turns refused, in seconds
    python benchmarks/answer_rules.py --decisions out.json   # the shipped answerer: rates, and each turn's

Each variant re-answers every dumped turn (dev sets normal and leave-gold-out, and the own sets) with
one rule of answer_types.py switched off, and counts against the shipped answerer the answerable
turns refused more (or fewer) and the near misses refused more (or fewer): on the *fit* half of the
dev turns (split by article, as the learned models are), on the *check* half, and on the own sets,
which nothing is fitted on. A rule earns its place when it refuses clearly more near misses than
answerable questions. The same answerer as the chain (``ExtractiveAnswerer.read``), on the passages
the chain retrieved; the figures equal quality.py's for the same code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import assistant.answering.answer_types as rules
import assistant.answering.extractive as extractive
from assistant.config import load_settings
from assistant.documents import Passage
from assistant.index.embeddings import E5Embeddings
from assistant.index.lexical import open_words
from assistant.index.profile import profile_for

ROOT = Path(__file__).resolve().parents[1]
TURNS = ROOT / "benchmarks" / "out" / "turns"
INDEXES = ROOT / "benchmarks" / "out"
INDEX_OF = {"coqa": "index-coqa_cnn", "seed": "index-articles", "sample-own": "index-articles"}
SETS = ("nyt", "xling", "abstain", "nearmiss", "coqa", "seed", "sample-own", "nearmiss-own", "answerable-own")
NEVER = re.compile("(?!)")
EMBEDDER = E5Embeddings()  # the question's vector, as the chain reads a language without question words


def without_kind(kind: str) -> Callable[[], None]:
    def switch() -> None:
        asked = rules.expected_kind
        extractive.expected_kind = lambda question, lang=None: "" if asked(question, lang) == kind else \
            asked(question, lang)
    return switch


def setter(module: Any, name: str, value: Any) -> Callable[[], None]:
    return lambda: setattr(module, name, value)


VARIANTS: dict[str, Callable[[], None]] = {
    "shipped": lambda: None,
    "no answer kinds at all": setter(extractive, "expected_kind", lambda question, lang=None: ""),
    "no name kind": without_kind("name"),
    "no reason kind": without_kind("reason"),
    "no office kind": without_kind("office"),
    "no years asked": setter(extractive, "missing_years", lambda question, passage: set()),
    "no office holder": setter(rules, "holds_office", lambda quote, asked: None),
    "no role in the quote": setter(rules, "ROLES", frozenset()),
    "no name beside the noun": setter(rules, "names_near", lambda quote, asked, noun: None),
    "no count of the noun": setter(rules, "counts", lambda text, asked, noun, same: None),
    "no people as answer": setter(rules, "WHO", NEVER),
    "no durations": setter(rules, "DURATION_ASKED", NEVER),
}


def passage_of(row: dict[str, Any]) -> Passage:
    scores = {k: row[k] for k in ("score", "dense_similarity", "calibrated", "lexical_score",
                                  "lexical_coverage", "sparse_similarity")}
    metadata = {k: row.get(k) for k in ("lang", "title", "chunk_index", "n_chunks", "date", "outlet")}
    return Passage(chunk_id=row["chunk_id"], doc_id=row["doc_id"], text=row["text"], metadata=metadata,
                   **scores)


def half(turn: dict[str, Any]) -> str:
    """fit, check (dev, by article) or own."""
    if turn["set"].endswith("-own"):
        return "own"
    about = str(turn.get("about_doc_id") or (turn["gold_doc_ids"] or [turn["id"]])[0])
    return ("fit", "check")[int(hashlib.md5(about.encode()).hexdigest(), 16) % 2]


def refusals(turns: list[dict[str, Any]]) -> dict[str, list[bool]]:
    """Per turn id: refused? (with the module state as the variant left it)."""
    answerers: dict[str, extractive.ExtractiveAnswerer] = {}
    refused = {}
    for turn in turns:
        name = INDEX_OF.get(turn["set"], "index-news")
        if name not in answerers:
            vocabulary = open_words(load_settings(chroma_path=INDEXES / name).index).vocabulary()
            settings = load_settings()
            answerers[name] = extractive.ExtractiveAnswerer(
                settings.answers, vocabulary, vocabulary.chunks, profile_for(settings.embedding),
                EMBEDDER.embed_query)
        reading = answerers[name].read(turn["question"], [passage_of(p) for p in turn["passages"]],
                                       turn["lang"], turn["context"])
        refused[turn["key"]] = reading.answer.abstained
    return refused


def print_rates(turns: list[dict[str, Any]], refused: dict[str, bool]) -> None:
    """% refused of the answerable turns and of the near misses, per half (fit, check, own) and per set."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for turn in turns:
        kind = "answerable" if turn["answerable"] and not turn["excluded"] else "near misses"
        for group in (half(turn), turn["set"]):
            counts[f"{group} {kind}"][0] += int(refused[turn["key"]])
            counts[f"{group} {kind}"][1] += 1
    for group, (count, total) in sorted(counts.items()):
        print(f"{group:28} {100 * count / total:5.1f}% of {total}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--decisions", type=Path,
                        help="only the shipped answerer: write each turn's refusal here (to compare two "
                             "commits turn by turn) and print the refusal rates per half and set")
    args = parser.parse_args()
    turns = []
    for name in SETS:
        path = TURNS / f"turns-dev-{name}.jsonl"
        if not path.exists():
            print(f"skip {name}: no {path} (benchmarks/dump_turns.py)", file=sys.stderr)
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            turn = json.loads(line)
            turn.update(set=name, key=f"{name}:{number}")
            turns.append(turn)
    shipped = refusals(turns)
    if args.decisions:
        print_rates(turns, shipped)
        args.decisions.write_text(json.dumps(shipped, sort_keys=True, indent=0) + "\n", encoding="utf-8")
        return
    rows = {}
    for variant, switch in VARIANTS.items():
        names = ("holds_office", "ROLES", "names_near", "counts", "WHO", "DURATION_ASKED")
        saved = {name: getattr(rules, name) for name in names}
        saved_ex = {name: getattr(extractive, name) for name in ("expected_kind", "missing_years")}
        switch()
        found = refusals(turns)
        for name, value in saved.items():
            setattr(rules, name, value)
        for name, value in saved_ex.items():
            setattr(extractive, name, value)
        counts: dict[str, int] = defaultdict(int)
        for turn in turns:
            kind = "answerable" if turn["answerable"] and not turn["excluded"] else "near_miss"
            counts[f"{half(turn)} {kind}"] += int(found[turn["key"]]) - int(shipped[turn["key"]])
            counts[f"all {kind}"] += int(found[turn["key"]])
        rows[variant] = dict(counts)
    total = defaultdict(int)
    for turn in turns:
        total["answerable" if turn["answerable"] and not turn["excluded"] else "near_miss"] += 1
    print(f"{len(turns)} turns ({total['answerable']} answerable, {total['near_miss']} near misses); "
          "refused turns against the shipped answerer (answerable / near misses):")
    print(f"{'variant':26} {'fit':>10} {'check':>10} {'own':>10}")
    for variant, counts in rows.items():
        cells = [f"{counts.get(f'{h} answerable', 0):+d} / {counts.get(f'{h} near_miss', 0):+d}"
                 for h in ("fit", "check", "own")]
        print(f"{variant:26} {cells[0]:>10} {cells[1]:>10} {cells[2]:>10}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
