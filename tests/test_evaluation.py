"""Evaluation metrics, on hand-made details whose figures are known."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.evaluation import evaluate, score
from assistant.service import Assistant
from assistant.text import normalise


def test_normalise_follows_the_readme() -> None:
    assert normalise("  Luke  Kuechly. ") == "luke kuechly"
    assert normalise("Russia–Ukraine") == "russia ukraine"
    assert normalise("ＡＢＣ “quoted”") == "abc quoted"


def test_score_counts_recall_answers_citations_and_abstention() -> None:
    questions = [
        {"id": "a", "lang": "en", "gold_doc_ids": ["d1"], "answers": ["Murashkin"], "answerable": True},
        {"id": "b", "lang": "en", "gold_doc_ids": ["d2"], "answers": ["October"], "answerable": True},
        {"id": "c", "lang": "vi", "gold_doc_ids": [], "answers": [], "answerable": False},
        {"id": "d", "lang": "vi", "gold_doc_ids": ["d4"], "answers": ["x"], "answerable": True},
    ]
    details = [
        {"retrieved_doc_ids": ["d1", "d9"], "answer": "V.V. Murashkin said [1]", "cited_doc_ids": ["d1"],
         "abstained": False, "latency_ms": 10.0},
        {"retrieved_doc_ids": ["d9", "d8", "d7", "d6", "d5", "d2"], "answer": "In october [1] [2]",
         "cited_doc_ids": ["d9", "d2"], "abstained": False, "latency_ms": 20.0},
        {"retrieved_doc_ids": ["d1"], "answer": "The articles do not answer this question.",
         "cited_doc_ids": [], "abstained": True, "latency_ms": 30.0},
        {"retrieved_doc_ids": ["d4"], "answer": "No answer.", "cited_doc_ids": [], "abstained": True,
         "latency_ms": 40.0},
    ]
    summary = score(questions, details)
    assert summary["recall@1"] == round(100 * 2 / 3, 1)
    assert summary["recall@5"] == round(100 * 2 / 3, 1)
    assert summary["recall@10"] == 100.0
    assert summary["mrr@10"] == round((1 + 1 / 6 + 1) / 3, 3)
    assert summary["answer_contains"] == round(100 * 2 / 3, 1)
    assert summary["citation_precision"] == round(100 * 2 / 3, 1)
    assert summary["citation_coverage"] == 100.0
    assert summary["abstained_unanswerable"] == 100.0
    assert summary["abstained_answerable"] == round(100 / 3, 1)
    assert summary["latency_ms_p50"] == 25.0
    assert summary["by_lang"]["vi"]["abstained_unanswerable"] == 100.0
    assert summary["by_lang"]["en"]["recall@1"] == 50.0


def test_leave_gold_out_scores_the_near_misses_whose_answer_is_elsewhere_apart() -> None:
    questions = [{"id": i, "lang": "en", "gold_doc_ids": [], "answers": ["x"], "answerable": False}
                 for i in "abc"]
    details = [
        {"retrieved_doc_ids": ["d2"], "answer": "No.", "cited_doc_ids": [], "abstained": True,
         "latency_ms": 1.0, "excluded_doc_ids": ["d1"], "answer_elsewhere": False},
        {"retrieved_doc_ids": ["d2"], "answer": "x [1]", "cited_doc_ids": ["d2"], "abstained": False,
         "latency_ms": 1.0, "excluded_doc_ids": ["d1"], "answer_elsewhere": False},
        {"retrieved_doc_ids": ["d3"], "answer": "x [1]", "cited_doc_ids": ["d3"], "abstained": False,
         "latency_ms": 1.0, "excluded_doc_ids": ["d1"], "answer_elsewhere": True},
    ]
    summary = score(questions, details)
    assert summary["abstained_unanswerable"] == 50.0  # the third may rightly be answered: apart
    assert summary["answer_elsewhere"] == 1
    assert summary["abstained_answer_elsewhere"] == 0.0


def test_leave_gold_out_answers_each_question_without_its_gold_articles(
    sample_assistant: Assistant, tmp_path: Path
) -> None:
    gold = "000_9816ccc5144c5afd.txt"
    questions = tmp_path / "questions.jsonl"
    rows = [
        {"id": "q1", "lang": "en", "question": "Who directs the Russian Center for Science and Culture?",
         "gold_doc_ids": [gold], "answers": ["Murashkin"], "answerable": True},
        {"id": "q2", "lang": "en", "question": "What is the population of Hanoi?", "gold_doc_ids": [],
         "answers": [], "answerable": False},
    ]
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    details = tmp_path / "details.jsonl"
    normal = evaluate(sample_assistant, None, questions)
    assert normal["questions"] == 2 and normal["recall@1"] == 100.0
    near = evaluate(sample_assistant, None, questions, details, leave_gold_out=True)
    assert near["set"] == "questions.jsonl (leave-gold-out)"
    assert near["questions"] == 1 and near["unanswerable"] == 1  # only the answerable one, as a near miss
    [record] = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    assert record["id"] == "q1" and record["excluded_doc_ids"] == [gold]
    assert record["retrieved_doc_ids"] and gold not in record["retrieved_doc_ids"]
    assert record["answer_elsewhere"] is False  # no other sample article names the director
