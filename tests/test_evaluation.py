"""Evaluation metrics, on hand-made details whose figures are known."""

from __future__ import annotations

from assistant.evaluation import score
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
