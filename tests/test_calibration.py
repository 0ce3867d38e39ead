"""`assistant calibrate`: a profile fitted on a tiny dev set over the sample index (real e5), written,
loaded, and refusing in the chain exactly what the fit said it would."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from assistant.answering.chain import TurnSteps
from assistant.answering.extractive import Evidence
from assistant.calibration import Row, examine, fit_floors, fit_softmax, floor_for
from assistant.cli import app
from assistant.config import Settings
from assistant.index.profile import load_profile
from assistant.service import Assistant

runner = CliRunner()
CENTRE = "Which United Nations convention will be signed in Hanoi?"
DEV = [
    ("Who directs the Russian Center for Science and Culture in Vietnam?", True, []),
    ("How did To Lam describe Russia's place in Vietnam's foreign policy?", True, []),
    ("What joint bank do Vietnam and Russia operate?", True, []),
    ("Wanneer vindt de 26e zitting van de intergouvernementele commissie plaats?", True, []),
    ("Ai đã tiếp Thứ trưởng Ngoại giao Nga Rudenko sau cuộc tham vấn?", True, []),
    ("When is it expected to be signed?", True,
     [{"role": "user", "content": CENTRE}, {"role": "assistant", "content": "The cybercrime convention."}]),
    ("What did the Russian ambassador say about the football World Cup?", False, []),
    ("What is the recipe for lasagne?", False, []),
    ("Who won the Eurovision Song Contest in 2023?", False, []),
    ("How many students study Russian at the Russian Center each year?", False, []),
]


def refused(settings: Settings) -> dict[str, int]:
    """The dev questions the chain refuses with these settings, as calibrate counts them."""
    assistant = Assistant.open(settings)
    found = {"answerable": 0, "unanswerable": 0}
    for question, answerable, history in DEV:
        if assistant.ask(question, history).abstained:
            found["answerable" if answerable else "unanswerable"] += 1
    return found


def test_calibrate_writes_a_profile_that_refuses_what_it_fitted(
        sample_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMA_PATH", str(sample_settings.chroma_path))
    monkeypatch.setenv("DATABASE_URL", sample_settings.database_url)
    dev = tmp_path / "dev.jsonl"
    dev.write_text("".join(json.dumps({"question": q, "answerable": a, "history": h}) + "\n"
                           for q, a, h in DEV), encoding="utf-8")
    target = tmp_path / "fitted.toml"
    result = runner.invoke(app, ["calibrate", "--questions", str(dev), "--out", str(target), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert (figures["questions"], figures["answerable"], figures["unanswerable"]) == (10, 6, 4)

    fitted = load_profile(target)
    shipped = load_profile("multilingual-e5-small")
    assert fitted.name == "multilingual-e5-small" and fitted.calibrated  # e5's other thresholds stay e5's
    assert vars(fitted.floors) == figures["floors"] and figures["l2"] is not None
    assert list(fitted.abstention.weights) == figures["abstention"]["weights"] != list(shipped.abstention.weights)
    assert fitted.floors.similarity_same > shipped.floors.similarity_same  # 6 answerable: their lowest
    assert fitted.abstention.languages == ("en",)  # 8 English questions; one Dutch, one Vietnamese
    assert (fitted.ranking, fitted.citations, fitted.topics) == (shipped.ranking, shipped.citations, shipped.topics)

    # the chain refuses with each profile exactly what calibrate counted, and the fitted one differs
    assert refused(sample_settings) == figures["refused_before"]
    assert refused(sample_settings.model_copy(update={"embedder_profile": target})) == figures["refused_after"]
    assert figures["refused_after"] != figures["refused_before"]
    assert figures["refused_after"]["answerable"] == 0  # the floors cost none of 6 (3% of 6 is 0)

    human = runner.invoke(app, ["calibrate", "--questions", str(dev), "--out", str(tmp_path / "again.toml")])
    assert human.exit_code == 0, human.output
    assert f"refused before: {figures['refused_before']['answerable']} of 6 answerable" in human.output
    assert "EMBEDDER_PROFILE=" in human.output


def test_leave_gold_out_adds_each_answerable_question_without_its_articles_as_a_near_miss(
        sample_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMA_PATH", str(sample_settings.chroma_path))
    monkeypatch.setenv("DATABASE_URL", sample_settings.database_url)
    gold = {DEV[0][0]: ["000_9816ccc5144c5afd.txt"]}  # the one article about the Center
    dev = tmp_path / "dev.jsonl"
    dev.write_text("".join(json.dumps({"question": q, "answerable": a, "history": h,
                                       "gold_doc_ids": gold.get(q, [])}) + "\n" for q, a, h in DEV),
                   encoding="utf-8")
    result = runner.invoke(app, ["calibrate", "--questions", str(dev), "--out", str(tmp_path / "lgo.toml"),
                                 "--json", "--leave-gold-out"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    # one more row, unanswerable: the question asked without its article
    assert (figures["questions"], figures["answerable"], figures["unanswerable"]) == (11, 6, 5)
    assistant = Assistant.open(sample_settings)
    steps = TurnSteps(sample_settings.answers, sample_settings.retrieval, assistant.retriever,
                      profile=assistant.profile)
    question = {"question": DEV[0][0], "answerable": True}
    asked, near_miss = examine(steps, question), examine(steps, question, without=gold[DEV[0][0]])
    assert asked.answerable and not near_miss.answerable
    assert near_miss.evidence.similarity < asked.evidence.similarity  # its article was not searched


def test_a_dev_set_without_answerable_questions_is_refused_with_what_to_do(
        sample_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMA_PATH", str(sample_settings.chroma_path))
    dev = tmp_path / "dev.jsonl"
    dev.write_text(json.dumps({"question": "What is the recipe for lasagne?", "answerable": False}) + "\n")
    result = runner.invoke(app, ["calibrate", "--questions", str(dev)])
    assert result.exit_code == 1 and "no answerable one" in result.output
    dev.write_text('{"question": "no label"}\n')
    result = runner.invoke(app, ["calibrate", "--questions", str(dev)])
    assert result.exit_code == 1 and 'line 1: needs "question" (text) and "answerable"' in result.output


def test_a_floor_costs_at_most_three_percent_of_the_answerable_questions() -> None:
    assert floor_for([0.9, 0.85, 0.95]) == 0.85  # under 34 values: none below
    values = [0.5 + i / 100 for i in range(100)]  # 0.50 ... 1.49
    assert floor_for(values) == 0.53  # 3 of 100 below
    assert floor_for([]) is None
    e5 = load_profile("multilingual-e5-small")
    rows = [Row(Evidence(0.9, 0.0, 1.0, 0.5, True, sparse=None, profile=e5), False, True)]
    floors, kept = fit_floors(rows, e5.floors)
    assert floors.similarity_same == 0.9 and floors.similarity_cross == e5.floors.similarity_cross
    assert set(kept) == {"floors.similarity_cross", "floors.sparse"}


def test_fit_softmax_learns_classes_and_is_deterministic() -> None:
    """Three classes apart on two features, one of them rare: each point is given its class (the
    balance keeps the rare one), and a second fit is the same to the last digit."""
    rng = np.random.default_rng(0)
    centres = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    y = np.array([0] * 200 + [1] * 200 + [2] * 12)
    x = centres[y] + rng.normal(0, 0.5, (len(y), 2))
    weights = fit_softmax(x, y, 3, l2=0.01)
    predicted = (np.hstack([np.ones((len(x), 1)), x]) @ weights).argmax(1)
    assert weights.shape == (3, 3)
    assert (predicted == y).mean() > 0.97 and (predicted[y == 2] == 2).mean() > 0.9
    assert np.array_equal(weights, fit_softmax(x, y, 3, l2=0.01))
