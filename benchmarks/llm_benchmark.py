"""The model path against a real OpenAI-compatible server: citations, answers, abstention, rewriting, speed.

    local-llm serve        # prints OPENAI_BASE_URL=... LLM_MODEL=...
    OPENAI_BASE_URL=http://127.0.0.1:8090/v1 LLM_MODEL=qwen2.5-coder-0.5b-instruct \\
    LLM_CONTEXT_TOKENS=4096 python benchmarks/llm_benchmark.py --nyt 50 --abstain 50 --coqa 60

For seed, a sample of nyt and a sample of abstain (dev sets) it answers every question twice, with
the model (streamed, as users get it) and with the extractive default, and reports for both:
citation precision, answer-contains, abstention, plus citations of documents not retrieved for the
turn (must be 0), and the model's time to first token and total time (p50, p95). For coqa
follow-ups it compares recall@5 of the heuristic query and the model's rewrite. Indexes are
copies under --work (default /tmp/llm-benchmark); results go to benchmarks/out/llm-*.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answering.generate import QuestionRewriter
from assistant.config import Settings, load_settings
from assistant.documents import Turn
from assistant.evaluation import load_questions, score
from assistant.ingest.pipeline import ingest
from assistant.retrieval.rewrite import heuristic_query
from assistant.service import Assistant

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
OUT = ROOT / "benchmarks" / "out"
CORPUS = {"seed": ROOT / "data" / "articles", "nyt": EVAL / "corpora" / "news.jsonl",
          "abstain": EVAL / "corpora" / "news.jsonl", "coqa": EVAL / "corpora" / "coqa_cnn.jsonl"}


def open_index(settings: Settings, name: str, work: Path) -> Settings:
    """Settings over a private index of the set's corpus (copied from benchmarks/out if built)."""
    corpus = CORPUS[name]
    folder = work / corpus.stem
    built = OUT / f"index-{corpus.stem}"
    if not folder.exists() and built.exists():
        shutil.copytree(built, folder)
    scoped = settings.model_copy(update={"chroma_path": folder})
    assistant = Assistant.open(scoped.model_copy(update={"openai_base_url": None, "openai_api_key": None}))
    report = ingest([corpus], scoped, assistant.index)
    print(f"[{name}] index {folder}: {report.summary()}", file=sys.stderr)
    return scoped


def percentile(values: list[float], q: int) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def answer_all(assistant: Assistant, questions: list[dict[str, Any]], streamed: bool) -> list[dict[str, Any]]:
    rows = []
    for number, question in enumerate(questions, 1):
        started = time.perf_counter()
        first = None
        answer = None
        for event in assistant.stream(question["question"], question.get("history") or []):
            if "token" in event and first is None and event["token"].strip():
                first = time.perf_counter() - started
            if "answer" in event:
                answer = event["answer"]
        total = time.perf_counter() - started
        assert answer is not None
        top = set(answer.retrieved_doc_ids[: assistant.settings.top_k])
        rows.append({
            "id": question["id"], "lang": question.get("lang", ""), "answer": answer.text,
            "retrieved_doc_ids": answer.retrieved_doc_ids, "cited_doc_ids": answer.cited_doc_ids,
            "abstained": answer.abstained, "mode": answer.mode, "notice": answer.notice,
            "latency_ms": round(total * 1000, 1),
            "first_token_ms": round(first * 1000, 1) if first is not None else None,
            "not_retrieved_citations": sum(doc not in top for doc in answer.cited_doc_ids),
        })
        if streamed:
            print(f"  {number}/{len(questions)} {rows[-1]['mode']:10} {total:5.1f}s {answer.text[:90]!r}",
                  file=sys.stderr)
    return rows


def summarise(questions: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    figures = score(questions, rows)
    figures.pop("by_lang", None)
    firsts = [r["first_token_ms"] for r in rows if r["first_token_ms"] is not None and r["mode"] == "llm"]
    totals = [r["latency_ms"] for r in rows if r["mode"] == "llm"]
    figures.update({
        "not_retrieved_citations": sum(r["not_retrieved_citations"] for r in rows),
        "model_answers": sum(r["mode"] == "llm" for r in rows),
        "fallbacks_with_notice": sum(bool(r["notice"]) for r in rows),
        "first_token_ms_p50": percentile(firsts, 50), "first_token_ms_p95": percentile(firsts, 95),
        "model_total_ms_p50": percentile(totals, 50), "model_total_ms_p95": percentile(totals, 95),
    })
    return figures


def rewrite_recall(settings: Settings, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """recall@5 on follow-ups: heuristic query vs the model's standalone question, and both joined
    (what the chain searches with)."""
    assistant = Assistant.open(settings)
    rewriter = QuestionRewriter(settings.model, settings.answers, assistant.chat_model)
    hits = {"heuristic": 0, "model": 0, "model+heuristic": 0}
    examples = []
    followups = [q for q in questions if q.get("history") and q.get("gold_doc_ids")]
    for number, question in enumerate(followups, 1):
        history = [Turn(t["role"], t["content"]) for t in question["history"]]
        heuristic = heuristic_query(question["question"], history, settings.max_history_turns)
        standalone = rewriter.rewrite(question["question"], history) or heuristic
        queries = {"heuristic": heuristic, "model": standalone,
                   "model+heuristic": f"{standalone}\n{heuristic}" if standalone != heuristic else heuristic}
        for name, query in queries.items():
            found = [p.doc_id for p in assistant.retriever.search(query, None, k=5)]
            hits[name] += bool(set(found) & set(question["gold_doc_ids"]))
        if len(examples) < 10:
            examples.append({"question": question["question"], "standalone": standalone})
        print(f"  coqa {number}/{len(followups)} {standalone[:90]!r}", file=sys.stderr)
    total = len(followups)
    return {"followups": total, **{f"recall@5 {k}": round(100 * v / total, 1) for k, v in hits.items()},
            "examples": examples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nyt", type=int, default=50, help="questions of dev/nyt.jsonl (first N)")
    parser.add_argument("--abstain", type=int, default=50, help="questions of dev/abstain.jsonl (first N)")
    parser.add_argument("--coqa", type=int, default=60, help="follow-up turns of dev/coqa.jsonl (first N)")
    parser.add_argument("--skip", type=int, default=0,
                        help="start nyt and abstain after their first N questions (held-out checks)")
    parser.add_argument("--sets", default="seed,nyt,abstain,coqa")
    parser.add_argument("--work", type=Path, default=Path("/tmp/llm-benchmark"))
    args = parser.parse_args()

    settings = load_settings()
    if not settings.llm_configured:
        sys.exit("Set OPENAI_BASE_URL (e.g. from `local-llm serve`) or OPENAI_API_KEY first.")
    OUT.mkdir(parents=True, exist_ok=True)
    limits = {"seed": None, "nyt": args.nyt, "abstain": args.abstain}
    saved = OUT / "llm-benchmark.json"  # a run of some sets keeps the others' last figures
    results: dict[str, Any] = json.loads(saved.read_text()) if saved.exists() else {}
    results.update({"model": settings.llm_model, "endpoint": settings.openai_base_url,
                    "context_tokens": settings.llm_context_tokens, "max_tokens": settings.llm_max_tokens})
    for name in args.sets.split(","):
        scoped = open_index(settings, name, args.work)
        questions = load_questions(EVAL / "dev" / f"{name}.jsonl")
        if name == "coqa":
            followups = [q for q in questions if q.get("history")][: args.coqa]
            results["coqa"] = rewrite_recall(scoped, followups)
            print(json.dumps({"coqa": results["coqa"]}, indent=1), file=sys.stderr)
            continue
        if name != "seed":
            questions = questions[args.skip:]
        questions = questions[: limits[name]] if limits[name] else questions
        model_rows = answer_all(Assistant.open(scoped), questions, streamed=True)
        no_model = scoped.model_copy(update={"openai_base_url": None, "openai_api_key": None})
        extractive_rows = answer_all(Assistant.open(no_model), questions, streamed=False)
        key = f"{name}-from-{args.skip}" if args.skip and name != "seed" else name
        results[key] = {"llm": summarise(questions, model_rows),
                        "extractive": summarise(questions, extractive_rows)}
        (OUT / f"llm-{key}.details.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in model_rows), encoding="utf-8")
        print(json.dumps({key: results[key]}, indent=1), file=sys.stderr)
        (OUT / "llm-benchmark.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (OUT / "llm-benchmark.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
