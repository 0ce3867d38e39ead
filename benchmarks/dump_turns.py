"""Dump what the chain retrieves for every dev question, normally and leave-gold-out.

    python benchmarks/dump_turns.py                  # dev sets → benchmarks/out/turns/turns-dev-<set>.jsonl
    python benchmarks/dump_turns.py --sets --own sample-own nearmiss-own answerable-own

Each line is one turn: the question, its language, the earlier turns it follows up on (as the
search reads them), the passages retrieved (text, metadata, scores) and the labels: ``answerable``
(the set says so and, for leave-gold-out, false), the gold documents and answer strings.
benchmarks/answer_rules.py re-answers them offline, so that a retrieval run (minutes) is not
repeated for every idea (seconds).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from assistant.answering.chain import TurnSteps
from assistant.config import Settings, load_settings
from assistant.documents import Filters
from assistant.evaluation import load_questions
from assistant.index.collection import Index
from assistant.index.embeddings import make_embedder
from assistant.index.profile import profile_for
from assistant.ingest.pipeline import ingest
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.rewrite import history_context

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
OUT = ROOT / "benchmarks" / "out" / "turns"
INDEXES = ROOT / "benchmarks" / "out"
CORPUS = {"xling": "news", "nyt": "news", "abstain": "news", "nearmiss": "news", "coqa": "coqa_cnn",
          "seed": "articles"}
OWN = ROOT / "benchmarks" / "sets"  # question sets written for this project (see its README)
PASSAGES = 5
PASSAGE_FIELDS = ("score", "dense_similarity", "calibrated", "lexical_score", "lexical_coverage",
                  "sparse_similarity")
METADATA = ("lang", "title", "chunk_index", "n_chunks", "date", "outlet")


def corpus_path(name: str) -> Path:
    return ROOT / "data" / "articles" if name == "articles" else EVAL / "corpora" / f"{name}.jsonl"


def open_steps(settings: Settings) -> tuple[Index, TurnSteps]:
    """The index and the chain's steps up to retrieval."""
    index = Index.open(settings.index, make_embedder(settings.embedding, settings.model))
    return index, TurnSteps(settings.answers, settings.retrieval, HybridRetriever(index, settings.retrieval),
                            profile=profile_for(settings.embedding))


def turn(steps: TurnSteps, question: dict[str, Any], excluded: list[str]) -> dict[str, Any]:
    filters = Filters(exclude_doc_ids=tuple(excluded)) if excluded else None
    state = steps.prepare({"question": question["question"], "history": question.get("history"),
                           "filters": filters})
    state = steps.retrieve(steps.rewrite(state))
    return {
        "id": question["id"], "question": state.question, "lang": state.lang,
        "set_lang": question.get("lang", ""),
        "context": history_context(state.topic, steps.answers.max_history_turns),
        "answerable": bool(question.get("answerable", True)) and not excluded,
        "gold_doc_ids": question.get("gold_doc_ids") or [], "answers": question.get("answers") or [],
        "excluded": excluded, "about_doc_id": question.get("about_doc_id", ""),
        "retrieved_doc_ids": state.retrieved_doc_ids,
        "passages": [{"doc_id": p.doc_id, "chunk_id": p.chunk_id, "text": p.text,
                      **{k: p.metadata.get(k) for k in METADATA},
                      **{k: getattr(p, k) for k in PASSAGE_FIELDS}} for p in state.passages[:PASSAGES]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    parser.add_argument("--sets", nargs="*", default=["seed", "nearmiss", "nyt", "xling", "abstain", "coqa"])
    parser.add_argument("--own", nargs="*", default=[], help="our own sets in benchmarks/sets (NAME.jsonl)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    jobs = [(name, EVAL / args.split / f"{name}.jsonl", CORPUS[name]) for name in args.sets]
    jobs += [(name, OWN / f"{name}.jsonl", "articles" if name.startswith("sample") else "news")
             for name in args.own]
    for name, path, corpus in jobs:
        settings = load_settings(chroma_path=INDEXES / f"index-{corpus_path(corpus).stem}")
        index, steps = open_steps(settings)
        ingest([corpus_path(corpus)], settings, index)
        questions = load_questions(path)
        target = OUT / f"turns-{args.split}-{name}.jsonl"
        with target.open("w", encoding="utf-8") as handle:
            for number, question in enumerate(questions, 1):
                runs = [[]]
                if question.get("answerable", True) and question.get("gold_doc_ids"):
                    runs.append(list(question["gold_doc_ids"]))  # leave-gold-out
                for excluded in runs:
                    row = turn(steps, question, excluded)
                    row["set"] = name
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                if number % 100 == 0:
                    print(f"{name}: {number}/{len(questions)}", file=sys.stderr)
        print(f"{name}: {len(questions)} questions → {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
