"""The Gradio chat UI's behaviour: streamed cited answers, sources, filters, feedback, export; admin
upload and statistics.

    app = gr.mount_gradio_app(app, build_ui(assistant, settings, store), path="/", **mount_options())
    handlers = Handlers(assistant, settings, store, ExportFolders(), security, desk)  # what events call

``mount_options`` (in ``assistant.ui_layout``, with the theme, the CSS and the page's pieces) drops
Gradio's developer footer and sets the neutral theme. The reader's page shows the conversation, the
sources and the filters; the index statistics and feedback counts are in the Admin tab, behind the
admin token; the Editors page (``assistant.web.ui_editors``) behind it too. Rendering of untrusted text
lives in ``assistant.ui_render``, the export files in ``assistant.web.ui_exports``. Here: pure helpers,
the event handlers (``Handlers``: every read and write through ``service.Assistant``), the wiring, and
``build_ui``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.config import Settings
from assistant.desk import Desk
from assistant.documents import Answer, Filters
from assistant.errors import AssistantError, IndexNotReady, ModelError, QuestionError
from assistant.feed_store import FeedStore
from assistant.ingest.pipeline import Progress
from assistant.service import Assistant
from assistant.storage import Store, new_conversation_id
from assistant.text import detect_language
from assistant.web.security import AdminRequired, RateLimited, Security
from assistant.web.ui_editors import WRONG_TOKEN, editors_tab, wire_editors
from assistant.web.ui_exports import ExportFolders
from assistant.web.ui_layout import ANY, UPLOAD_TYPES, AdminTab, ChatTab, admin_tab, chat_tab, header
from assistant.web.ui_render import (
    EMPTY_SOURCES,
    announcement,
    answer_html,
    error_html,
    esc,
    example_questions,
    question_html,
    sources_html,
    stats_html,
    writing_html,
)

log = logging.getLogger(__name__)

# --- pure helpers -------------------------------------------------------------------------------
def parse_filters(lang: str | None, outlet: str | None, date_from: str | None,
                  date_to: str | None) -> Filters | None:
    """Filters from the UI's fields; a malformed or reversed date range is a QuestionError."""
    filters = Filters.of(lang, outlet, date_from, date_to)
    return None if filters.is_empty() else filters


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
    """(doc_id, title, lang, date, opening) of up to ``limit`` indexed documents, from their first chunks;
    none of EXCLUDE_SECTIONS (an example question about one would only be refused)."""
    try:
        articles = assistant.first_passages(limit=limit,
                                            leave_out_sections=assistant.settings.retrieval.excluded_sections)
    except Exception as exc:  # Chroma raises its own types; the examples are not worth a failure
        raise IndexNotReady(f"Cannot list the indexed documents: {exc}") from exc
    return [{**{key: str(article.get(key) or "") for key in ("doc_id", "title", "lang", "date")},
             "opening": article["text"][:200]} for article in articles]


# --- the events -----------------------------------------------------------------------------------


class Handlers:
    """The functions the UI's events call (the layout and the wiring are below), over the service.

    ``security`` is the app's, so the admin token is checked, and counted, as the API does; an upload
    goes through the service (``Assistant.ingest``), so it waits for a write running through the API.
    """

    def __init__(self, assistant: Assistant, settings: Settings, store: Store | None, exports: ExportFolders,
                 security: Security, desk: Desk | None = None) -> None:
        self.assistant, self.settings, self.store, self.exports = assistant, settings, store, exports
        self.security, self.desk = security, desk
        self.feed_store = FeedStore(store.engine) if store is not None else None

    def admin_refusal(self, token: str, request: gr.Request | None) -> str | None:
        """Why ``token`` is refused (None when it is the admin token): the API's one check
        (``Security.check_admin``, counted per address); the Editors page asks it too."""
        try:
            client = getattr(request, "client", None) if request is not None else None
            self.security.check_admin((token or "").strip() or None, client.host if client else "unknown")
        except AdminRequired:
            return WRONG_TOKEN
        except RateLimited as exc:
            return str(exc)
        return None

    def stats_view(self) -> str:
        try:
            stats = self.assistant.stats()
        except AssistantError as exc:
            return stats_html(None, None, str(exc))
        feedback = self.store.feedback_counts() if self.store is not None else None
        feeds = [feed.to_dict() for feed in self.feed_store.all()] if self.feed_store is not None else []
        return stats_html(stats, feedback, feeds=feeds)

    def admin_stats(self, token: str, request: gr.Request) -> str:
        """Index statistics and feedback counts, for the admin only."""
        if self.settings.admin_token is None:
            return error_html("Statistics are shown to the admin only, and no ADMIN_TOKEN is configured.")
        refusal = self.admin_refusal(token, request)
        if refusal is not None:
            return error_html(f"{refusal} Enter the ADMIN_TOKEN to see the statistics.")
        return self.stats_view()

    def filter_choices(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]], str]:
        try:
            stats = self.assistant.stats()
        except AssistantError:
            stats = {}
        counted = {kind: [(f"{k} ({v})", k) for k, v in (stats.get(kind) or {}).items()]
                   for kind in ("languages", "outlets")}
        langs = [("Any language", ANY), *counted["languages"]]
        outlets = [("Any outlet", ANY), *counted["outlets"]]
        span = stats.get("date_range")
        hint = f"Articles are dated {esc(span[0])} – {esc(span[1])}." if span else "No article has a date."
        return langs, outlets, hint

    def examples_now(self) -> list[dict[str, str]]:
        try:
            return [{"text": q} for q in example_questions(corpus_documents(self.assistant))]
        except AssistantError:
            log.exception("cannot list the corpus for example questions")
            return []

    @staticmethod
    def pick_example(selected: gr.SelectData) -> str:
        value = selected.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value)

    def respond(self, question: str, turns: list[dict[str, Any]], conversation_id: str, lang: str,
                outlet: str, date_from: str, date_to: str) -> Iterator[tuple[Any, ...]]:
        """Stream one turn: (question box, chat, sources, turns, conversation id, md, json, announcement);
        the announcement (for screen readers) is made once, with the finished answer."""
        question = (question or "").strip()
        skip = gr.skip()
        try:
            if not question:
                raise QuestionError("Type a question about the articles first.")
            filters = parse_filters(lang, outlet, date_from, date_to)
        except QuestionError as exc:  # a toast; the question and the conversation stay as they are
            gr.Warning(esc(exc))
            yield (skip,) * 8
            return
        conversation_id = conversation_id or new_conversation_id()
        shown = [*chat_messages(turns), {"role": "user", "content": question_html(question)}]

        def showing(reply_html: str, sources: Any = skip) -> tuple[Any, ...]:  # the reply so far
            chat = [*shown, {"role": "assistant", "content": reply_html}]
            return skip, chat, sources, skip, skip, skip, skip, skip

        yield "", shown, skip, turns, conversation_id, skip, skip, ""
        text, answer, evidence = "", None, None
        try:
            for event in self.assistant.stream(question, history_of(turns), filters):
                if "evidence" in event:  # with a model: the articles quoted while it writes, not the answer
                    evidence = event["evidence"].to_dict()
                    yield showing(writing_html(evidence, text, len(turns)), sources_html(turns, evidence))
                elif "token" in event:
                    text += event["token"]
                    yield showing(writing_html(evidence, text, len(turns)) if evidence is not None
                                  else answer_html({"answer": text}, None))
                elif "answer" in event:
                    answer = event["answer"]
        except AssistantError as exc:
            log.warning("turn failed: %s", exc)
            message = exc.for_reader(detect_language(question) or "en") if isinstance(exc, ModelError) \
                else str(exc)  # no server address
            yield showing(error_html((text + "\n\n" if text else "") + message), sources_html(turns))
            return
        except Exception:
            log.exception("turn failed")
            yield showing(error_html("Something went wrong while answering; the cause is in the server log. "
                                     "Try again."), sources_html(turns))
            return
        if not isinstance(answer, Answer):
            yield showing(error_html("No answer came back; try again."), sources_html(turns))
            return
        record = answer.to_dict()
        turn_id = None
        if self.store is not None:
            try:
                turn_id = self.store.save_turn(conversation_id, question, record, "ui")
            except Exception:
                log.exception("could not store the turn")
                gr.Warning("This answer could not be saved, so it cannot be rated.")
        if self.desk is not None:
            self.desk.refused(question, record, turn_id)
        turns = [*turns, {"question": question, "answer": record, "turn_id": turn_id}]
        markdown, as_json = self.exports.write(turns, conversation_id)
        yield (skip, chat_messages(turns), sources_html(turns), turns, conversation_id,
               gr.DownloadButton(value=str(markdown), interactive=True),
               gr.DownloadButton(value=str(as_json), interactive=True), esc(announcement(record)))

    def rate(self, turns: list[dict[str, Any]], data: gr.LikeData) -> None:
        index = data.index if isinstance(data.index, int) else data.index[0]
        if data.liked not in (True, False):
            return  # un-liking keeps what was given
        turn = turns[index // 2] if index % 2 == 1 and index // 2 < len(turns) else None
        if turn is None or not turn.get("turn_id") or self.store is None:
            gr.Warning("This reply was not saved, so it cannot be rated.")
            return
        try:
            self.store.add_feedback(turn["turn_id"], 1 if data.liked else -1)
        except AssistantError as exc:
            gr.Warning(esc(exc))
        else:
            if not data.liked and self.desk is not None:
                self.desk.disliked(turn["turn_id"])
            gr.Info("Thanks for the feedback.")

    def new_conversation(self, previous: str) -> tuple[Any, ...]:
        self.exports.discard(previous)
        return ("", [], EMPTY_SOURCES, [], new_conversation_id(),
                gr.DownloadButton(value=None, interactive=False),
                gr.DownloadButton(value=None, interactive=False), "")

    @staticmethod
    def refused_upload(message: str) -> tuple[Any, ...]:
        """The message in the result and a toast; the chosen files stay chosen."""
        gr.Warning(esc(message))
        return (error_html(message), *(gr.skip(),) * 6)

    def admin_ingest(self, token: str, files: list[str] | None, request: gr.Request,
                     progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        if self.settings.admin_token is None:
            return self.refused_upload("Uploading is disabled: no ADMIN_TOKEN is configured on the server.")
        if not files:  # before the token: a token is checked (and counted) only with files to upload
            return self.refused_upload(f"Choose one or more files to upload ({', '.join(UPLOAD_TYPES)}).")
        refusal = self.admin_refusal(token, request)
        if refusal is not None:
            return self.refused_upload(f"{refusal} Nothing was uploaded.")
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

            # batches are written one at a time, the API's writes included: the lock is held per batch
            report = self.assistant.ingest([folder], progress=on_progress)
            answers = self.desk.check_new([*report.added, *report.updated]) if self.desk is not None else []
        except AssistantError as exc:
            log.warning("upload failed: %s", exc)
            return self.refused_upload(str(exc))
        except Exception:
            log.exception("upload failed")
            return self.refused_upload("The upload failed; the cause is in the server log.")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        problems = refused + report.skipped
        items = "".join(f"<li>{esc(name)}: {esc(reason)}</li>" for name, reason in problems)
        answered = "".join(f"<li>{esc(item['question'])}</li>" for item in answers)
        result = (f'<p class="nwa-ingest-result">{esc(report.summary())}.</p>'
                  + (f"<p>Not indexed:</p><ul>{items}</ul>" if items else "")
                  + (f"<p>Readers asked this and can now be answered:</p><ul>{answered}</ul>"
                     if answered else ""))
        langs, outlets, hint = self.filter_choices()
        return (result, None, self.stats_view(), gr.Chatbot(examples=self.examples_now()),
                gr.Dropdown(choices=langs), gr.Dropdown(choices=outlets), hint)


# --- the wiring -----------------------------------------------------------------------------------
def wire_chat(chat: ChatTab, turns: gr.State, conversation: gr.State, handlers: Handlers) -> None:
    inputs = [chat.question, turns, conversation, chat.lang, chat.outlet, chat.date_from, chat.date_to]
    outputs = [chat.question, chat.chatbot, chat.sources, turns, conversation, chat.export_md,
               chat.export_json, chat.announce]
    options: dict[str, Any] = {"show_progress": "minimal", "concurrency_limit": 4, "concurrency_id": "chat",
                               "api_visibility": "undocumented"}
    chat.question.submit(handlers.respond, inputs, outputs, **options)
    chat.ask.click(handlers.respond, inputs, outputs, **options)
    chat.chatbot.example_select(handlers.pick_example, None, chat.question, api_visibility="undocumented") \
        .then(handlers.respond, inputs, outputs, **options)
    chat.chatbot.clear(handlers.new_conversation, conversation, outputs, api_visibility="undocumented")
    chat.chatbot.like(handlers.rate, turns, None, api_visibility="undocumented")
    chat.new.click(handlers.new_conversation, conversation, outputs, api_visibility="undocumented")


def wire_admin(admin: AdminTab, chat: ChatTab, handlers: Handlers) -> None:
    admin.show_stats.click(handlers.admin_stats, admin.token, admin.stats, api_visibility="undocumented")
    admin.upload.click(handlers.admin_ingest, [admin.token, admin.uploads],
                       [admin.result, admin.uploads, admin.stats, chat.chatbot, chat.lang, chat.outlet,
                        chat.dates_hint],
                       show_progress_on=admin.result, concurrency_limit=1, concurrency_id="ingest",
                       api_visibility="undocumented")


# --- the app --------------------------------------------------------------------------------------
def build_ui(assistant: Assistant, settings: Settings, store: Store | None, *,
             security: Security | None = None,
             desk: Desk | None = None) -> gr.Blocks:
    """The whole chat UI as one Blocks, for ``gr.mount_gradio_app(..., **mount_options())``.

    ``security`` is the app's (app.py passes the one its API checks with).
    """
    exports = ExportFolders()
    security = security or Security.from_settings(settings.security)
    handlers = Handlers(assistant, settings, store, exports, security, desk)
    # Gradio keeps a copy of every export it served: drop the copies older than an hour, hourly.
    with gr.Blocks(title="News assistant", delete_cache=(3600, 3600)) as demo:
        turns, conversation = gr.State([]), gr.State("")
        header()
        with gr.Tab("Chat"):
            chat = chat_tab(settings, handlers.examples_now(), *handlers.filter_choices())
        with gr.Tab("Admin"):
            admin = admin_tab(settings)
        with gr.Tab("Editors"):
            editors = editors_tab(settings.security)
        wire_chat(chat, turns, conversation, handlers)
        wire_admin(admin, chat, handlers)
        wire_editors(editors, desk, handlers.admin_refusal, settings.security)
    return demo
