"""Evaluation: run a question set through the user's pipeline and score it (../shared/eval format).

    summary = evaluate(assistant, corpus=Path("news.jsonl"), questions=Path("dev/nyt.jsonl"),
                       details=Path("out.jsonl"))
    summary = evaluate(..., leave_gold_out=True)   # every answerable question as a near miss

Per question it records the retrieved documents, the answer, the cited documents, whether the
assistant abstained and the latency; the summary holds recall@k, MRR@10, answer-contains, citation
precision and coverage, abstention, latency p50/p95, overall and per question language.

Leave-gold-out answers each answerable question with its gold documents excluded from retrieval
(``Filters.exclude_doc_ids``: a query-time filter, no re-index). The question keeps its topic and
its language, but the articles left no longer answer it: a realistic near miss, so the share
abstained is the abstention figure. A question whose answer string also occurs in a retrieved
document is marked ``answer_elsewhere`` and scored apart (``abstained_answer_elsewhere``): there the
assistant may rightly answer.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from assistant.documents import Filters
from assistant.errors import AssistantError, SourceError
from assistant.ingest.pipeline import IngestReport
from assistant.service import Assistant
from assistant.text import normalise

RECALL_AT = (1, 5, 10)
ELSEWHERE_TOP = 5  # leave-gold-out: the retrieved documents searched for the answer string


def load_questions(path: Path) -> list[dict[str, Any]]:
    questions = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    questions.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise SourceError(f"{path}:{number}", f"is not valid JSON ({exc.msg})") from exc
    return questions


def as_near_misses(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answerable questions as near misses: each keeps its gold documents in ``excluded``
    (left out of retrieval) and counts as unanswerable."""
    return [{**q, "excluded": list(q["gold_doc_ids"]), "gold_doc_ids": [], "answerable": False}
            for q in questions if q.get("answerable", True) and q.get("gold_doc_ids")]


def run_question(assistant: Assistant, question: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    excluded = question.get("excluded") or []
    try:
        answer = assistant.ask(question["question"], question.get("history") or [],
                               Filters(exclude_doc_ids=tuple(excluded)) if excluded else None)
        record: dict[str, Any] = {
            "retrieved_doc_ids": answer.retrieved_doc_ids,
            "answer": answer.text,
            "cited_doc_ids": answer.cited_doc_ids,
            "abstained": answer.abstained,
            "mode": answer.mode,
            "notice": answer.notice,
        }
        if excluded:
            record["excluded_doc_ids"] = excluded
            record["answer_elsewhere"] = answer_elsewhere(assistant, answer.retrieved_doc_ids[:ELSEWHERE_TOP],
                                                          question.get("answers") or [])
    except AssistantError as exc:  # one bad question must not end the run
        record = {"retrieved_doc_ids": [], "answer": "", "cited_doc_ids": [], "abstained": True,
                  "error": str(exc)}
    record["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return {"id": question["id"], "lang": question.get("lang", ""), **record}


def answer_elsewhere(assistant: Assistant, doc_ids: list[str], answers: list[str]) -> bool:
    """Does any of the answer strings occur (normalised) in these documents' text?"""
    wanted = [normalise(a) for a in answers if normalise(a)]
    if not wanted or not doc_ids:
        return False
    stored = assistant.passages(doc_ids, include=["documents"])
    text = normalise(" ".join(t or "" for t in stored["documents"]))
    return any(a in text for a in wanted)


def score(questions: list[dict[str, Any]], details: list[dict[str, Any]]) -> dict[str, Any]:
    """Summary figures over all questions and per question language."""
    groups: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = defaultdict(list)
    for question, detail in zip(questions, details, strict=True):
        groups["all"].append((question, detail))
        groups[question.get("lang") or "?"].append((question, detail))
    summary = _figures(groups.pop("all"))
    summary["by_lang"] = {lang: _figures(pairs) for lang, pairs in sorted(groups.items())}
    return summary


def _figures(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    answerable = [(q, d) for q, d in pairs if q.get("answerable", True) and q.get("gold_doc_ids")]
    unanswerable = [(q, d) for q, d in pairs if not q.get("answerable", True)]
    figures: dict[str, Any] = {"questions": len(pairs), "answerable": len(answerable),
                               "unanswerable": len(unanswerable)}

    def pct(count: float, total: int) -> float | None:
        return round(100.0 * count / total, 1) if total else None

    for k in RECALL_AT:
        hits = sum(bool(set(d["retrieved_doc_ids"][:k]) & set(q["gold_doc_ids"])) for q, d in answerable)
        figures[f"recall@{k}"] = pct(hits, len(answerable))
    reciprocal = 0.0
    for q, d in answerable:
        for rank, doc_id in enumerate(d["retrieved_doc_ids"][:10], start=1):
            if doc_id in q["gold_doc_ids"]:
                reciprocal += 1 / rank
                break
    figures["mrr@10"] = round(reciprocal / len(answerable), 3) if answerable else None
    with_answers = [(q, d) for q, d in answerable if q.get("answers")]
    contains = sum(  # a refusal contains no answer, whatever words it says are missing
        not d.get("abstained")
        and any(normalise(a) and normalise(a) in normalise(d["answer"]) for a in q["answers"])
        for q, d in with_answers
    )
    figures["answer_contains"] = pct(contains, len(with_answers))
    cited = [(doc, q) for q, d in answerable for doc in d["cited_doc_ids"]]
    figures["citation_precision"] = pct(sum(doc in q["gold_doc_ids"] for doc, q in cited), len(cited))
    answered = [(q, d) for q, d in answerable if not d["abstained"]]
    figures["citation_coverage"] = pct(sum(bool(d["cited_doc_ids"]) for _, d in answered), len(answered))
    figures["abstained_unanswerable"] = pct(sum(d["abstained"] for _, d in unanswerable), len(unanswerable))
    figures["abstained_answerable"] = pct(sum(d["abstained"] for _, d in answerable), len(answerable))
    elsewhere = [d for _, d in unanswerable if d.get("answer_elsewhere")]
    if any("answer_elsewhere" in d for _, d in unanswerable):  # a leave-gold-out run
        figures["abstained_unanswerable"] = pct(sum(d["abstained"] for _, d in unanswerable
                                                    if not d.get("answer_elsewhere")),
                                                len(unanswerable) - len(elsewhere))
        figures["answer_elsewhere"] = len(elsewhere)
        figures["abstained_answer_elsewhere"] = pct(sum(d["abstained"] for d in elsewhere), len(elsewhere))
    latencies = [d["latency_ms"] for _, d in pairs]
    figures["latency_ms_p50"] = round(float(np.percentile(latencies, 50)), 1) if latencies else None
    figures["latency_ms_p95"] = round(float(np.percentile(latencies, 95)), 1) if latencies else None
    figures["errors"] = sum("error" in d for _, d in pairs)
    return figures


def evaluate(
    assistant: Assistant,
    corpus: Path | None,
    questions: Path,
    details: Path | None = None,
    limit: int | None = None,
    on_ingest: Callable[[IngestReport], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    leave_gold_out: bool = False,
) -> dict[str, Any]:
    """Ingest ``corpus`` (incrementally) if given, answer every question, write details, score.

    ``leave_gold_out``: answer the answerable questions only, each without its gold documents
    (see the module's docstring)."""
    if corpus is not None:
        report = assistant.ingest([corpus])
        if on_ingest:
            on_ingest(report)
    items = load_questions(questions)[:limit] if limit else load_questions(questions)
    if leave_gold_out:
        items = as_near_misses(items)
    results = []
    for number, question in enumerate(items, start=1):
        results.append(run_question(assistant, question))
        if progress:
            progress(number, len(items))
    if details is not None:
        write_jsonl(details, results)
    summary = score(items, results)
    summary["set"] = questions.name + (" (leave-gold-out)" if leave_gold_out else "")
    summary["mode"] = "llm" if assistant.chat_model is not None else "extractive"
    return summary


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
