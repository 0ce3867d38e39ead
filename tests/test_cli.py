"""The `assistant` command, through typer's runner, on a copy of the sample index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import EXIT_SKIPPED, app
from assistant.config import Settings

from .conftest import ARTICLES, SHARED_EVAL

runner = CliRunner()


@pytest.fixture
def env(sample_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CHROMA_PATH", str(sample_settings.chroma_path))
    monkeypatch.setenv("DATABASE_URL", sample_settings.database_url)
    return sample_settings


def test_ask_prints_a_cited_answer_and_its_sources(env: Settings) -> None:
    result = runner.invoke(app, ["ask", "Who directs the Russian Center for Science and Culture in Vietnam?"])
    assert result.exit_code == 0, result.output
    assert "Murashkin" in result.output
    assert "[1]" in result.output
    assert "Sources:" in result.output
    assert "id: 000_9816ccc5144c5afd.txt" in result.output
    assert "VOV.VN" in result.output


def test_ask_json_and_filters(env: Settings) -> None:
    result = runner.invoke(app, ["ask", "Joint Venture Bank", "--json", "--lang", "nl"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["cited_doc_ids"] == ["003_024cb3686d4085ed.txt"]
    assert answer["retrieved_doc_ids"] == ["003_024cb3686d4085ed.txt"]


@pytest.mark.parametrize(("question", "message"), [
    ("", "empty"), ("x" * 1_000_000, "limit"),
    ("\udcff Warsaw", "lone surrogate (U+DCFF)"),  # an undecodable byte in argv arrives as one
])
def test_bad_questions_get_one_clear_line(env: Settings, question: str, message: str) -> None:
    result = runner.invoke(app, ["ask", question])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_stats_json(env: Settings) -> None:
    result = runner.invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["documents"] == 5
    assert stats["chunks"] > 5


def test_delete_known_and_unknown_documents(env: Settings) -> None:
    result = runner.invoke(app, ["delete", "004_c372befab5d8349c.txt"])
    assert result.exit_code == 0 and "Deleted 004_c372befab5d8349c.txt" in result.output
    result = runner.invoke(app, ["delete", "004_c372befab5d8349c.txt"])
    assert result.exit_code == 1
    assert "No document '004_c372befab5d8349c.txt'" in result.output


def test_ingest_reports_skipped_files_in_its_exit_status(env: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    shutil.copytree(ARTICLES, folder)
    (folder / "scan.pdf").write_bytes(b"\x00\x01binary junk")
    result = runner.invoke(app, ["ingest", str(folder)])
    assert result.exit_code == EXIT_SKIPPED, result.output
    assert "scan.pdf" in result.output
    assert "5 unchanged" in result.output


def test_chat_keeps_the_history_for_follow_ups(env: Settings) -> None:
    conversation = ("Who is the head of the Russian Trade Representative Office in Vietnam?\n"
                    "What did he say about exports?\n"
                    "Who co-chaired the political consultation in Hanoi on February 21?\n/quit\n")
    result = runner.invoke(app, ["chat"], input=conversation)
    assert result.exit_code == 0, result.output
    first, follow_up, new_topic = result.output.split("\n> ")[1:4]
    assert "Kharinov" in first
    assert "priority policies focusing on exports" in follow_up  # "he" is Kharinov
    assert "Rudenko co-chaired" in new_topic  # a new topic is not pulled back to the old one


def test_eval_writes_details_and_summary(env: Settings, tmp_path: Path) -> None:
    questions = SHARED_EVAL / "dev" / "seed.jsonl"
    if not questions.exists():
        pytest.skip("../shared/eval is not there")
    details, summary = tmp_path / "details.jsonl", tmp_path / "summary.json"
    result = runner.invoke(app, ["eval", "--corpus", str(ARTICLES), "--questions", str(questions),
                                 "--details", str(details), "--json", str(summary)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in details.read_text().splitlines()]
    assert len(rows) == 8
    for row in rows:
        assert {"id", "retrieved_doc_ids", "answer", "cited_doc_ids", "abstained", "latency_ms"} <= set(row)
        assert set(row["cited_doc_ids"]) <= set(row["retrieved_doc_ids"])
    figures = json.loads(summary.read_text())
    assert figures["recall@5"] >= 85.0
    assert set(figures["by_lang"]) == {"en", "nl", "vi"}


def test_missing_setting_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHUNK_TOKENS", "lots")
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 1
    assert "CHUNK_TOKENS" in result.output
