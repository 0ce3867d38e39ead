"""The Gradio chat UI: streamed cited answers, sources, filters, feedback, export, stats and admin upload.

    app = gr.mount_gradio_app(app, build_ui(assistant, settings, store), path="/")

The UI carries its own CSS and its citation-click script (in the sources panel's ``head`` and
``js_on_load``), so it looks and works the same however it is mounted. Rendering of untrusted text
lives in ``assistant.ui_render``; here are the events.
"""

from __future__ import annotations

import hmac
import logging
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.config import Settings
from assistant.documents import Answer, Filters
from assistant.errors import AssistantError, IndexNotReady, QuestionError
from assistant.feed_store import FeedStore
from assistant.ingest.pipeline import Progress, ingest
from assistant.service import Assistant
from assistant.storage import Store
from assistant.web.ui_render import (
    EMPTY_SOURCES,
    answer_html,
    conversation_json,
    conversation_markdown,
    error_html,
    esc,
    example_questions,
    question_html,
    sources_html,
    stats_html,
)

log = logging.getLogger(__name__)

UPLOAD_TYPES = [".txt", ".md", ".html", ".pdf", ".jsonl"]
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ANY = ""

STYLE = """<style>
.nwa-cite{font-weight:600;text-decoration:none;padding:0 .1em;border-radius:3px;
  color:var(--color-accent, #2563eb);cursor:pointer}
.nwa-cite:hover,.nwa-cite:focus{text-decoration:underline;background:var(--color-accent-soft, #dbeafe)}
.nwa-notice{font-size:.85em;opacity:.8;font-style:italic;margin-top:.4em}
.nwa-error{color:var(--error-text-color, #b91c1c)}
.nwa-sources .nwa-hint{opacity:.75;font-size:.9em}
.nwa-turn>summary{font-weight:600;cursor:pointer;margin:.3em 0}
.nwa-source{border:1px solid var(--border-color-primary, #ddd);border-radius:8px;
  padding:.4em .6em;margin:.4em 0;background:var(--block-background-fill, #fff)}
.nwa-source>summary{cursor:pointer}
.nwa-source.nwa-active{outline:2px solid var(--color-accent, #2563eb);outline-offset:1px}
.nwa-num{font-weight:700}
.nwa-meta{opacity:.7;font-size:.85em}
.nwa-fields{display:grid;grid-template-columns:max-content 1fr;gap:.1em .8em;font-size:.85em;margin:.5em 0}
.nwa-fields dt{font-weight:600}
.nwa-fields dd{margin:0;overflow-wrap:anywhere}
.nwa-passage{margin:.4em 0;padding:.3em .7em;border-left:3px solid var(--border-color-accent, #999);
  font-size:.9em;white-space:normal;max-height:18em;overflow:auto}
.nwa-support{background:#fde68a;color:#1f2937;padding:0 .1em}
.nwa-sources{padding-top:1.4em}
.nwa-stats th{text-align:left;padding-right:1em;font-weight:600}
</style>"""

# Runs once per page: a click (or Enter) on a citation [n] opens that source's card.
CITATION_SCRIPT = """
if (!window.__nwaCitations) {
  window.__nwaCitations = true;
  document.addEventListener('click', function (event) {
    const link = event.target instanceof Element ? event.target.closest('a.nwa-cite') : null;
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const card = document.getElementById((link.getAttribute('href') || '').slice(1));
    if (!card) return;
    for (let d = card.parentElement && card.parentElement.closest('details'); d;
         d = d.parentElement && d.parentElement.closest('details')) { d.open = true; }
    card.open = true;
    document.querySelectorAll('.nwa-source.nwa-active').forEach(function (el) {
      el.classList.remove('nwa-active');
    });
    card.classList.add('nwa-active');
    card.scrollIntoView({block: 'nearest'});
    const summary = card.querySelector('summary');
    if (summary) { summary.setAttribute('tabindex', '-1'); summary.focus({preventScroll: true}); }
  }, true);
}
"""


# --- pure helpers -------------------------------------------------------------------------------
def parse_filters(lang: str | None, outlet: str | None, date_from: str | None,
                  date_to: str | None) -> Filters | None:
    """Filters from the UI's fields; a malformed or reversed date range is a QuestionError."""
    dates: list[str | None] = []
    for label, value in (("From", date_from), ("To", date_to)):
        value = (value or "").strip()
        if value:
            try:
                if not ISO_DATE.match(value):
                    raise ValueError
                date.fromisoformat(value)
            except ValueError:
                raise QuestionError(
                    f"{label} date {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2025-04-02."
                ) from None
        dates.append(value or None)
    if dates[0] and dates[1] and dates[0] > dates[1]:
        raise QuestionError(f"The date range is reversed: {dates[0]} is after {dates[1]}.")
    filters = Filters(lang=lang or None, outlet=outlet or None, date_from=dates[0], date_to=dates[1])
    return None if filters.is_empty() else filters


def admin_token_ok(given: str | None, settings: Settings) -> bool:
    """Whether ``given`` is the configured ADMIN_TOKEN (constant-time comparison)."""
    if settings.admin_token is None or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), settings.admin_token.get_secret_value().encode())


def chat_messages(turns: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The Chatbot's messages for the stored turns (HTML we built; every text in it escaped)."""
    messages = []
    for number, turn in enumerate(turns):
        messages.append({"role": "user", "content": question_html(turn["question"])})
        messages.append({"role": "assistant", "content": answer_html(turn["answer"], number)})
    return messages


def history_of(turns: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The plain-text history the chain reads."""
    history = []
    for turn in turns:
        history.append({"role": "user", "content": turn["question"]})
        history.append({"role": "assistant", "content": turn["answer"].get("answer", "")})
    return history


def corpus_documents(assistant: Assistant, limit: int = 2000) -> list[dict[str, str]]:
    """(doc_id, title, lang, date, opening) of up to ``limit`` indexed documents, from their first chunks."""
    try:
        rows = assistant.index.collection.get(where={"chunk_index": 0}, include=["metadatas", "documents"],
                                              limit=limit)
    except Exception as exc:  # Chroma raises its own types; the examples are not worth a failure
        raise IndexNotReady(f"Cannot list the indexed documents: {exc}") from exc
    documents = []
    for meta, text in zip(rows.get("metadatas") or [], rows.get("documents") or [], strict=False):
        record = {key: str(meta.get(key) or "") for key in ("doc_id", "title", "lang", "date")}
        record["opening"] = (text or "")[:200]
        documents.append(record)
    return documents


def write_exports(turns: list[dict[str, Any]], conversation_id: str) -> tuple[Path, Path]:
    """Markdown and JSON files of the conversation, in a private temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="news-assistant-export-"))
    markdown = folder / "conversation.md"
    markdown.write_text(conversation_markdown(turns, conversation_id), encoding="utf-8")
    as_json = folder / "conversation.json"
    as_json.write_text(conversation_json(turns, conversation_id), encoding="utf-8")
    return markdown, as_json


# --- the app ------------------------------------------------------------------------------------
def build_ui(assistant: Assistant, settings: Settings, store: Store | None) -> gr.Blocks:
    """The whole chat UI as one Blocks, ready for gr.mount_gradio_app."""

    feed_store = FeedStore(store.engine) if store is not None else None

    def stats_view() -> str:
        try:
            stats = assistant.index.stats()
        except AssistantError as exc:
            return stats_html(None, None, str(exc))
        feedback = store.feedback_counts() if store is not None else None
        feeds = [feed.to_dict() for feed in feed_store.all()] if feed_store is not None else []
        return stats_html(stats, feedback, feeds=feeds)

    def filter_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]], str]:
        try:
            stats = assistant.index.stats()
        except AssistantError:
            stats = {}
        counted = {kind: [(f"{k} ({v})", k) for k, v in (stats.get(kind) or {}).items()]
                   for kind in ("languages", "outlets")}
        langs = [("Any language", ANY), *counted["languages"]]
        outlets = [("Any outlet", ANY), *counted["outlets"]]
        span = stats.get("date_range")
        hint = f"Articles are dated {esc(span[0])} – {esc(span[1])}." if span else "No article has a date."
        return langs, outlets, hint

    def examples_now() -> list[dict[str, str]]:
        try:
            return [{"text": q} for q in example_questions(corpus_documents(assistant))]
        except AssistantError:
            log.exception("cannot list the corpus for example questions")
            return []

    def pick_example(selected: gr.SelectData) -> str:
        value = selected.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value)

    def respond(question: str, turns: list[dict[str, Any]], conversation_id: str, lang: str,
                outlet: str, date_from: str, date_to: str) -> Iterator[tuple[Any, ...]]:
        """Stream one turn: (question box, chat, sources, turns, conversation id, md, json)."""
        question = (question or "").strip()
        skip = gr.skip()
        try:
            if not question:
                raise QuestionError("Type a question about the articles first.")
            filters = parse_filters(lang, outlet, date_from, date_to)
        except QuestionError as exc:  # a toast; the question and the conversation stay as they are
            gr.Warning(esc(exc))
            yield (skip,) * 7
            return
        conversation_id = conversation_id or uuid.uuid4().hex
        shown = [*chat_messages(turns), {"role": "user", "content": question_html(question)}]

        def showing(reply_html: str) -> tuple[Any, ...]:  # the chat with the reply so far; nothing else
            return skip, [*shown, {"role": "assistant", "content": reply_html}], skip, skip, skip, skip, skip

        yield "", shown, skip, turns, conversation_id, skip, skip
        text, answer = "", None
        try:
            for event in assistant.stream(question, history_of(turns), filters):
                if "token" in event:
                    text += event["token"]
                    yield showing(answer_html({"answer": text}, None))
                elif "answer" in event:
                    answer = event["answer"]
        except AssistantError as exc:
            log.warning("turn failed: %s", exc)
            yield showing(error_html((text + "\n\n" if text else "") + str(exc)))
            return
        except Exception:
            log.exception("turn failed")
            yield showing(error_html("Something went wrong while answering; the cause is in the server log. "
                                     "Try again."))
            return
        if not isinstance(answer, Answer):
            yield showing(error_html("No answer came back; try again."))
            return
        record = answer.to_dict()
        turn_id = None
        if store is not None:
            try:
                turn_id = store.save_turn(conversation_id, question, record, "ui")
            except Exception:
                log.exception("could not store the turn")
                gr.Warning("This answer could not be saved, so it cannot be rated.")
        turns = [*turns, {"question": question, "answer": record, "turn_id": turn_id}]
        markdown, as_json = write_exports(turns, conversation_id)
        yield (skip, chat_messages(turns), sources_html(turns), turns, conversation_id,
               gr.DownloadButton(value=str(markdown), interactive=True),
               gr.DownloadButton(value=str(as_json), interactive=True))

    def rate(turns: list[dict[str, Any]], data: gr.LikeData) -> str:
        index = data.index if isinstance(data.index, int) else data.index[0]
        if data.liked not in (True, False):
            return stats_view()  # un-liking keeps what was given
        turn = turns[index // 2] if index % 2 == 1 and index // 2 < len(turns) else None
        if turn is None or not turn.get("turn_id") or store is None:
            gr.Warning("This reply was not saved, so it cannot be rated.")
            return stats_view()
        try:
            store.add_feedback(turn["turn_id"], 1 if data.liked else -1)
        except AssistantError as exc:
            gr.Warning(esc(exc))
        else:
            gr.Info("Thanks for the feedback.")
        return stats_view()

    def new_conversation() -> tuple[Any, ...]:
        return ("", [], EMPTY_SOURCES, [], uuid.uuid4().hex,
                gr.DownloadButton(value=None, interactive=False),
                gr.DownloadButton(value=None, interactive=False))

    def refused_upload(message: str) -> tuple[Any, ...]:
        """The message in the result and a toast; the chosen files stay chosen."""
        gr.Warning(esc(message))
        return (error_html(message), *(gr.skip(),) * 6)

    def admin_ingest(token: str, files: list[str] | None,
                     progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        if settings.admin_token is None:
            return refused_upload("Uploading is disabled: no ADMIN_TOKEN is configured on the server.")
        if not admin_token_ok(token, settings):
            return refused_upload("Wrong admin token: nothing was uploaded.")
        if not files:
            return refused_upload(f"Choose one or more files to upload ({', '.join(UPLOAD_TYPES)}).")
        folder = Path(tempfile.mkdtemp(prefix="news-assistant-upload-"))
        refused: list[tuple[str, str]] = []
        try:
            for file in files:
                name = Path(file).name
                if Path(name).suffix.lower() not in UPLOAD_TYPES:
                    refused.append((name, f"is not one of {', '.join(UPLOAD_TYPES)}"))
                    continue
                shutil.copyfile(file, folder / name)
            progress(0, desc="Reading the documents…")

            def on_progress(step: Progress) -> None:
                progress((step.done, step.total), desc=f"Indexing {step.current} ({step.chunks} passages)",
                         unit="documents")

            report = ingest([folder], settings, assistant.index, progress=on_progress)
            assistant.retriever.refresh()
        except AssistantError as exc:
            log.warning("upload failed: %s", exc)
            return refused_upload(str(exc))
        except Exception:
            log.exception("upload failed")
            return refused_upload("The upload failed; the cause is in the server log.")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        problems = refused + report.skipped
        items = "".join(f"<li>{esc(name)}: {esc(reason)}</li>" for name, reason in problems)
        result = (f'<p class="nwa-ingest-result">{esc(report.summary())}.</p>'
                  + (f"<p>Not indexed:</p><ul>{items}</ul>" if items else ""))
        langs, outlets, hint = filter_choices()
        return (result, None, stats_view(), gr.Chatbot(examples=examples_now()),
                gr.Dropdown(choices=langs), gr.Dropdown(choices=outlets), hint)

    langs, outlets, date_hint = filter_choices()
    with gr.Blocks(title="News assistant") as demo:
        turns_state = gr.State([])
        conversation_state = gr.State("")
        gr.Markdown("## News assistant\nAsk about the news in your own language. Answers quote the "
                    "articles; click a citation such as **[1]** to see its passage.")
        with gr.Tab("Chat"), gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Conversation", elem_id="nwa-chat", height=480, render_markdown=False,
                    sanitize_html=True, allow_tags=False, latex_delimiters=[],
                    feedback_options=("Like", "Dislike"), buttons=["copy", "copy_all"],
                    placeholder="Ask a question about the articles, or pick one of these examples.",
                    examples=examples_now(),
                )
                with gr.Row():
                    question = gr.Textbox(show_label=False, placeholder="Ask about the news…", scale=5,
                                          elem_id="nwa-question", max_length=settings.max_question_chars)
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="nwa-ask")
                with gr.Row():
                    new = gr.Button("New conversation", elem_id="nwa-new")
                    export_md = gr.DownloadButton("Export Markdown", interactive=False,
                                                  elem_id="nwa-export-md")
                    export_json = gr.DownloadButton("Export JSON", interactive=False,
                                                    elem_id="nwa-export-json")
            with gr.Column(scale=2):
                sources = gr.HTML(EMPTY_SOURCES, label="Sources", show_label=True, container=True,
                                  elem_id="nwa-sources", head=STYLE, js_on_load=CITATION_SCRIPT,
                                  max_height=640)
                with gr.Accordion("Filters", open=False):
                    lang = gr.Dropdown(langs, value=ANY, label="Language", elem_id="nwa-lang")
                    outlet = gr.Dropdown(outlets, value=ANY, label="Outlet", elem_id="nwa-outlet")
                    with gr.Row():
                        date_from = gr.Textbox(label="From (YYYY-MM-DD)", elem_id="nwa-from")
                        date_to = gr.Textbox(label="To (YYYY-MM-DD)", elem_id="nwa-to")
                    dates_hint = gr.Markdown(date_hint)
                with gr.Accordion("Index statistics", open=True):
                    stats = gr.HTML(stats_view(), elem_id="nwa-stats", js_on_load=None)
                    refresh = gr.Button("Refresh", size="sm")
        with gr.Tab("Admin"):
            if settings.admin_token is None:
                gr.Markdown("Uploading is **disabled**: no admin token is configured. Set `ADMIN_TOKEN` "
                            "(a long random secret) in `.env` or the environment and restart the server.")
            else:
                gr.Markdown("Upload articles (" + ", ".join(UPLOAD_TYPES) + ") to add them to the index. "
                            "Enter the admin token first.")
            enabled = settings.admin_token is not None
            token = gr.Textbox(label="Admin token", type="password", interactive=enabled, elem_id="nwa-token")
            uploads = gr.File(label="Documents", file_count="multiple", file_types=UPLOAD_TYPES,
                              type="filepath", interactive=enabled, elem_id="nwa-upload")
            upload = gr.Button("Upload and index", variant="primary", interactive=enabled,
                               elem_id="nwa-ingest")
            result = gr.HTML("", elem_id="nwa-ingest-result", js_on_load=None, min_height=40)

        chat_inputs = [question, turns_state, conversation_state, lang, outlet, date_from, date_to]
        chat_outputs = [question, chatbot, sources, turns_state, conversation_state, export_md, export_json]
        chat_options: dict[str, Any] = {"show_progress": "minimal", "concurrency_limit": 4,
                                        "concurrency_id": "chat", "api_visibility": "undocumented"}
        question.submit(respond, chat_inputs, chat_outputs, **chat_options)
        ask.click(respond, chat_inputs, chat_outputs, **chat_options)
        chatbot.example_select(pick_example, None, question, api_visibility="undocumented") \
            .then(respond, chat_inputs, chat_outputs, **chat_options)
        chatbot.clear(new_conversation, None, chat_outputs, api_visibility="undocumented")
        chatbot.like(rate, turns_state, stats, api_visibility="undocumented")
        new.click(new_conversation, None, chat_outputs, api_visibility="undocumented")
        refresh.click(stats_view, None, stats, api_visibility="undocumented")
        upload.click(admin_ingest, [token, uploads],
                     [result, uploads, stats, chatbot, lang, outlet, dates_hint],
                     show_progress_on=result, concurrency_limit=1, concurrency_id="ingest",
                     api_visibility="undocumented")
    return demo
