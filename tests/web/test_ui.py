"""The chat UI's helpers: filters, the admin token check, history, exports, and the built Blocks."""

from __future__ import annotations

import json

import gradio as gr
import pytest
from pydantic import SecretStr

from assistant.config import Settings
from assistant.documents import Filters
from assistant.errors import QuestionError
from assistant.service import Assistant
from assistant.storage import Store
from assistant.web.ui import (
    admin_token_ok,
    build_ui,
    chat_messages,
    corpus_documents,
    history_of,
    parse_filters,
    write_exports,
)


def test_parse_filters() -> None:
    assert parse_filters("", "", "", "") is None
    assert parse_filters("nl", "VNS", " 2025-01-01 ", "2025-12-31") == Filters(
        lang="nl", outlet="VNS", date_from="2025-01-01", date_to="2025-12-31")
    assert parse_filters(None, None, None, "2025-02-28") == Filters(date_to="2025-02-28")


@pytest.mark.parametrize(("date_from", "date_to", "message"), [
    ("2025-13-01", "", "From date '2025-13-01' is not a date"),
    ("", "yesterday", "To date 'yesterday' is not a date"),
    ("2025-1-1", "", "YYYY-MM-DD"),
    ("2025-05-01", "2025-04-01", "reversed"),
])
def test_parse_filters_rejects_bad_dates_clearly(date_from: str, date_to: str, message: str) -> None:
    with pytest.raises(QuestionError, match=message):
        parse_filters("", "", date_from, date_to)


def test_admin_token(settings: Settings) -> None:
    assert not admin_token_ok("anything", settings)  # no token configured: nobody is admin
    configured = settings.model_copy(update={"admin_token": SecretStr("correct horse battery")})
    assert admin_token_ok("correct horse battery", configured)
    assert admin_token_ok("  correct horse battery\n", configured)
    assert not admin_token_ok("correct horse", configured)
    assert not admin_token_ok("", configured)
    assert not admin_token_ok(None, configured)
    assert not admin_token_ok("ünïcode", configured)


def test_history_is_plain_text_and_chat_is_escaped() -> None:
    turns = [{"question": "<b>Who?</b>", "turn_id": "t",
              "answer": {"answer": "Bezdetko [1].", "sources": [{"number": 1, "title": "T", "doc_id": "d"}]}}]
    assert history_of(turns) == [{"role": "user", "content": "<b>Who?</b>"},
                                 {"role": "assistant", "content": "Bezdetko [1]."}]
    messages = chat_messages(turns)
    assert messages[0] == {"role": "user", "content": "&lt;b&gt;Who?&lt;/b&gt;"}
    assert 'href="#nwa-src-0-1"' in messages[1]["content"]


def test_write_exports(tmp_path_factory: pytest.TempPathFactory) -> None:
    turns = [{"question": "Q?", "turn_id": "t1", "answer": {"answer": "A [1].", "sources": []}}]
    markdown, as_json = write_exports(turns, "c1")
    assert markdown.name == "conversation.md" and "## 1. Q?" in markdown.read_text(encoding="utf-8")
    assert json.loads(as_json.read_text(encoding="utf-8"))["turns"][0]["turn_id"] == "t1"


def test_build_ui_over_the_sample_index(sample_assistant: Assistant, sample_settings: Settings) -> None:
    store = Store.open(sample_settings.database_url)
    try:
        demo = build_ui(sample_assistant, sample_settings, store)
    finally:
        store.close()
    assert isinstance(demo, gr.Blocks)
    chatbot = next(b for b in demo.blocks.values() if isinstance(b, gr.Chatbot))
    assert chatbot.examples and all("“" in e["text"] for e in chatbot.examples)
    docs = corpus_documents(sample_assistant)
    assert len(docs) == sample_assistant.index.stats()["documents"]
    assert {d["doc_id"] for d in docs} >= {"003_024cb3686d4085ed.txt"}
