"""The chat UI's helpers: filters, the admin token check, history, exports, and the built Blocks."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from pydantic import SecretStr

from assistant.config import Settings
from assistant.documents import Filters
from assistant.errors import QuestionError
from assistant.service import Assistant
from assistant.storage import Store
from assistant.web.security import RateLimited, Security
from assistant.web.ui import (
    ExportFolders,
    Handlers,
    build_ui,
    chat_messages,
    corpus_documents,
    history_of,
    parse_filters,
)
from tests.conftest import WatchedLock


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


ADMIN = "correct horse battery"


def upload_event(demo: gr.Blocks) -> Callable[..., tuple[Any, ...]]:
    """The Admin tab's upload handler, as Gradio calls it."""
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "admin_ingest")


def shown(result: tuple[Any, ...]) -> str:
    return str(result[0])


def article(folder: Path) -> list[str]:
    path = folder / "ferry.txt"
    path.write_text("Ferry news\n\nThe ferry Marijke of Oosthaven sails again on Monday.\n", encoding="utf-8")
    return [str(path)]


@pytest.mark.filterwarnings("ignore::UserWarning")  # refusals are toasts too: gr.Warning outside a server
def test_the_ui_admin_check_is_the_apis_and_is_limited(sample_assistant: Assistant, sample_settings: Settings,
                                                     tmp_path: Path) -> None:
    settings = sample_settings.model_copy(update={"admin_token": SecretStr(ADMIN)})
    security = Security.from_settings(settings.security)
    upload = upload_event(build_ui(sample_assistant, settings, None, security=security))
    reader = gr.Request(client={"host": "10.0.0.7"})
    # without files a wrong and a right token get the same answer: the page is no token oracle
    assert shown(upload("wrong", None, reader)) == shown(upload(ADMIN, None, reader))
    assert "Choose one or more files" in shown(upload(ADMIN, [], reader))
    files = article(tmp_path)
    for wrong in ("wrong", "", ADMIN[:-1], f"Bearer {ADMIN}", "ünïcode"):
        assert "Wrong admin token" in shown(upload(wrong, files, reader))
    refused = shown(upload(ADMIN, files, reader))  # five wrong tokens: the right one waits too
    assert "Too many wrong admin tokens from your address (limit 5 a minute)" in refused
    with pytest.raises(RateLimited):  # the same count as the API's
        security.check_admin(ADMIN, "10.0.0.7")
    assert "ferry.txt" not in {d["doc_id"] for d in corpus_documents(sample_assistant)}
    accepted = shown(upload(f"  {ADMIN}\n", files, gr.Request(client={"host": "10.0.0.8"})))
    assert "1 added" in accepted
    assert "ferry.txt" in {d["doc_id"] for d in corpus_documents(sample_assistant)}


@pytest.mark.filterwarnings("ignore::UserWarning")  # refusals are toasts too: gr.Warning outside a server
def test_a_ui_upload_waits_for_the_ingest_lock(sample_assistant: Assistant, sample_settings: Settings,
                                             tmp_path: Path) -> None:
    settings = sample_settings.model_copy(update={"admin_token": SecretStr(ADMIN)})
    lock = WatchedLock()  # the service's lock, watched
    upload = upload_event(build_ui(replace(sample_assistant, lock=lock), settings, None))
    results: list[tuple[Any, ...]] = []
    lock.acquire()  # an ingest through the API is running
    lock.asked.clear()
    worker = threading.Thread(target=lambda: results.append(
        upload(ADMIN, article(tmp_path), gr.Request(client={"host": "10.0.0.7"}))))
    worker.start()
    assert lock.asked.wait(timeout=120)  # the upload asks for the lock ...
    assert worker.is_alive() and not results  # ... and waits for it
    assert "ferry.txt" not in {d["doc_id"] for d in corpus_documents(sample_assistant)}
    lock.release()
    worker.join(timeout=300)
    assert "1 added" in shown(results[0])
    assert "ferry.txt" in {d["doc_id"] for d in corpus_documents(sample_assistant)}


def test_history_is_plain_text_and_chat_is_escaped() -> None:
    turns = [{"question": "<b>Who?</b>", "turn_id": "t",
              "answer": {"answer": "Bezdetko [1].", "sources": [{"number": 1, "title": "T", "doc_id": "d"}]}}]
    assert history_of(turns) == [{"role": "user", "content": "<b>Who?</b>"},
                                 {"role": "assistant", "content": "Bezdetko [1]."}]
    messages = chat_messages(turns)
    assert messages[0] == {"role": "user", "content": "&lt;b&gt;Who?&lt;/b&gt;"}
    assert 'href="#nwa-src-0-1"' in messages[1]["content"]


def turn(number: int) -> dict[str, object]:
    return {"question": f"Q{number}?", "turn_id": f"t{number}",
            "answer": {"answer": f"A{number} [1].", "sources": []}}


def test_exports_reuse_one_folder_per_conversation() -> None:
    exports = ExportFolders()
    try:
        first = exports.write([turn(1)], "c1")
        markdown, as_json = exports.write([turn(1), turn(2)], "c1")  # the next turn: same files, rewritten
        assert (markdown, as_json) == first
        assert markdown.name == "conversation.md" and "## 2. Q2?" in markdown.read_text(encoding="utf-8")
        assert [t["turn_id"] for t in json.loads(as_json.read_text(encoding="utf-8"))["turns"]] == ["t1", "t2"]
        other, _ = exports.write([turn(1)], "c2")
        assert other.parent != markdown.parent
        assert sorted(exports.root.iterdir()) == sorted([markdown.parent, other.parent])
        assert sorted(f.name for f in markdown.parent.iterdir()) == ["conversation.json", "conversation.md"]
    finally:
        exports.close()
    assert not exports.root.exists()


def test_exports_of_a_finished_conversation_are_removed() -> None:
    exports = ExportFolders(keep=2)
    try:
        markdown, _ = exports.write([turn(1)], "c1")
        exports.discard("c1")  # "New conversation"
        assert not markdown.parent.exists()
        exports.discard("")  # nothing asked yet: nothing to remove
        folders = [exports.write([turn(1)], f"abandoned-{n}")[0].parent for n in range(3)]
        assert [f.exists() for f in folders] == [False, True, True]  # beyond `keep`, the oldest goes
        assert len(list(exports.root.iterdir())) == 2
    finally:
        exports.close()


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


def test_statistics_are_for_the_admin_only(sample_assistant: Assistant, sample_settings: Settings) -> None:
    demo = build_ui(sample_assistant, sample_settings, None)
    page = json.dumps(demo.get_config_file(), default=str)
    for developer_text in ("Embedding model", "Passages (chunks)", "not helpful"):
        assert developer_text not in page  # the reader's page carries no statistics
    assert "Show statistics" in page

    configured = sample_settings.model_copy(update={"admin_token": SecretStr("correct horse battery")})
    exports = ExportFolders()
    try:
        handlers = Handlers(sample_assistant, configured, None, exports,
                                  Security.from_settings(configured.security))
        reader = gr.Request()
        assert "Wrong admin token" in handlers.admin_stats("wrong", reader)
        assert "Embedding model" not in handlers.admin_stats("", reader)
        shown = handlers.admin_stats("correct horse battery", reader)
        assert "Embedding model" in shown and "Documents" in shown
        unconfigured = Handlers(sample_assistant, sample_settings, None, exports,
                                      Security.from_settings(sample_settings.security))
        assert "no ADMIN_TOKEN is configured" in unconfigured.admin_stats("anything", reader)
    finally:
        exports.close()


def test_the_admin_statistics_show_feed_addresses_redacted(sample_assistant: Assistant,
                                                           sample_settings: Settings) -> None:
    from assistant.feed_store import FeedStore

    configured = sample_settings.model_copy(update={"admin_token": SecretStr(ADMIN)})
    store = Store.open(configured.database_url)
    feed = "https://editor:hunter2@wire.example/rss?token=abc123def456"
    FeedStore(store.engine).add(feed)
    FeedStore(store.engine).record(feed, "error", error=f"cannot be fetched (ConnectError at {feed})")
    exports = ExportFolders()
    try:
        handlers = Handlers(sample_assistant, configured, store, exports, Security.from_settings(configured.security))
        shown = handlers.admin_stats(ADMIN, gr.Request())
    finally:
        exports.close()
        store.close()
    assert "https://***@wire.example/rss?token=***" in shown
    assert "hunter2" not in shown and "abc123def456" not in shown
