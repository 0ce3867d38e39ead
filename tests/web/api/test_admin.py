"""The unanswered-questions queue on a real server: readers' refusals and thumbs-down answers go in, grouped
across languages; the editors read it (admin token) as JSON or CSV; an article published later answers
an item."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import httpx

from tests.web.test_app import ADMIN, QUESTION, assert_error, chat

ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}
HANOI = ["What is the population of Hanoi?", "How many people live in Hanoi?", "Hoeveel inwoners heeft Hanoi?"]
CENSUS = {"title": "Hanoi's population passes nine million", "lang": "en", "date": "2026-12-01",
          "outlet": "Example News", "section": "news",
          "text": "Hanoi's population reached 9.2 million people this year, the city's statistics office said "
                  "on Tuesday. The population of Hanoi grew by 2.1 percent as families moved to the capital."}


def questions(url: str, status: str = "unanswered", **params: str) -> httpx.Response:
    return httpx.get(f"{url}/api/admin/questions", params={"status": status, **params}, headers=ADMIN_HEADERS,
                     timeout=60)


def test_refusals_are_grouped_across_languages_and_an_article_published_later_answers_them(
        serve: Callable[..., Any]) -> None:
    with serve() as (url, _):
        refused = 0
        for question in HANOI:  # the sample articles do not say: refused, or an answer the reader rates down
            answer = chat(url, {"question": question}).json()
            refused += answer["abstained"]
            if not answer["abstained"]:
                httpx.post(f"{url}/api/feedback", json={"turn_id": answer["turn_id"], "rating": -1}, timeout=30)
        assert refused >= 1
        assert chat(url, {"question": QUESTION}).json()["abstained"] is False  # an answer is not kept

        assert_error(httpx.get(f"{url}/api/admin/questions", timeout=30), 401, "AdminRequired", "ADMIN_TOKEN")
        listed = questions(url).json()["questions"]
        assert [(item["question"], item["count"], item["languages"]) for item in listed] == [
            (HANOI[0], 3, ["en", "nl"])]
        item = listed[0]
        assert item["variants"] == HANOI and item["answered_by"] == []
        assert (item["refused"], item["disliked"]) == (refused, 3 - refused)
        assert set(item) >= {"question", "variants", "count", "languages", "first_asked", "last_asked",
                             "closest", "answered_by"}
        assert all({"doc_id", "title", "url"} <= set(source) for source in item["closest"])

        as_csv = questions(url, "all", format="csv")
        assert as_csv.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(as_csv.text)))
        assert [(row["question"], row["count"], row["languages"]) for row in rows] == [(HANOI[0], "3", "en | nl")]

        published = httpx.put(f"{url}/api/documents/hanoi-census", json=CENSUS, headers=ADMIN_HEADERS,
                              timeout=300)
        assert published.status_code == 200, published.text
        assert [(a["question"], a["answered_by"]) for a in published.json()["answers"]] == [
            (HANOI[0], ["hanoi-census"])]
        assert questions(url).json()["questions"] == []
        answered = questions(url, "answered").json()["questions"]
        assert [(a["question"], a["count"], a["answered_by"]) for a in answered] == [
            (HANOI[0], 3, ["hanoi-census"])]
        assert_error(questions(url, "open"), 422, "InvalidRequest", "status")


def test_a_thumbs_down_puts_the_question_in_the_queue_once(serve: Callable[..., Any]) -> None:
    with serve() as (url, _):
        answer = chat(url, {"question": QUESTION}).json()
        for _ in range(2):
            rated = httpx.post(f"{url}/api/feedback", json={"turn_id": answer["turn_id"], "rating": -1}, timeout=30)
            assert rated.status_code == 200
        liked = chat(url, {"question": QUESTION}).json()  # asked again and rated up: nothing more is kept
        httpx.post(f"{url}/api/feedback", json={"turn_id": liked["turn_id"], "rating": 1}, timeout=30)
        other = chat(url, {"question": HANOI[0]}).json()
        httpx.post(f"{url}/api/feedback", json={"turn_id": other["turn_id"], "rating": -1}, timeout=30)
        listed = {item["question"]: item for item in questions(url).json()["questions"]}
    assert set(listed) == {QUESTION, HANOI[0]}, listed
    assert (listed[QUESTION]["count"], listed[QUESTION]["disliked"], listed[QUESTION]["refused"]) == (1, 1, 0)
    assert listed[QUESTION]["closest"][0]["doc_id"] == answer["sources"][0]["doc_id"]  # what it cited
    # refused (or answered) and then rated down: counted once
    assert (listed[HANOI[0]]["count"], listed[HANOI[0]]["refused"] + listed[HANOI[0]]["disliked"]) == (1, 1)


def test_an_article_ingested_from_the_command_line_answers_an_item(sample_settings: Any, tmp_path: Any,
                                                                   monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app
    from assistant.desk import Desk
    from assistant.service import Assistant
    from assistant.storage import Store

    desk = Desk.open(sample_settings, Assistant.open(sample_settings), Store.open(sample_settings.database_url))
    desk.refused(HANOI[2], {"abstained": True, "related": [], "retrieved_doc_ids": []}, None)
    article = tmp_path / "census.txt"
    article.write_text(f"{CENSUS['title']}\n\n{CENSUS['text']}\n", encoding="utf-8")
    for name, value in {"CHROMA_PATH": str(sample_settings.chroma_path),
                        "DATABASE_URL": sample_settings.database_url}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["ingest", str(article)])
    assert result.exit_code == 0, result.output
    assert f"answers a reader's question: {HANOI[2]} (census.txt)" in result.stdout
    assert [item["answered_by"] for item in desk.queue.items("answered")] == [["census.txt"]]
