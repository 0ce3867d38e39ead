"""What the web routes share: request records, error → HTTP status, the caller check, turns in threads.

Errors are mapped to statuses in one place (``error_status``); bodies are always
``{"error": {"type": ..., "message": ...}}`` and never carry a stack trace (the log does).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from assistant.documents import Answer, Filters
from assistant.errors import (
    AssistantError,
    ConfigError,
    DocumentNotFound,
    IndexNotReady,
    ModelError,
    QuestionError,
    SourceError,
)
from assistant.service import Assistant
from assistant.storage import new_conversation_id
from assistant.web.security import (
    AccessDenied,
    AdminRequired,
    RateLimited,
    RequestTooLarge,
    SessionInvalid,
    normalize_origin,
)

log = logging.getLogger("assistant.web.app")

WIDGET_TOKEN_HEADER = "X-Widget-Token"
CITATION = re.compile(r"\[(\d{1,3})\]")
CONVERSATION_ID = r"^[A-Za-z0-9_.:-]{1,128}$"

# --- records --------------------------------------------------------------------------------


class HistoryTurn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class FiltersIn(BaseModel):
    lang: str | None = Field(None, max_length=16, description="Only articles in this language, e.g. en.")
    outlet: str | None = Field(None, max_length=300)
    date_from: str | None = Field(None, max_length=32, description="YYYY-MM-DD, inclusive.")
    date_to: str | None = Field(None, max_length=32, description="YYYY-MM-DD, inclusive.")
    exclude_sections: list[str] = Field(
        default_factory=list, max_length=50,
        description="Leave out articles of these sections (e.g. [\"opinion\"]), besides EXCLUDE_SECTIONS.")
    exclude_doc_ids: list[Annotated[str, Field(max_length=500)]] = Field(
        default_factory=list, max_length=200,
        description="Leave out these articles (their ids, as sent with PUT /api/documents/{id}).")

    def to_filters(self) -> Filters:
        """The checked Filters; a bad date is a QuestionError (400), worded as everywhere else."""
        return Filters.of(self.lang, self.outlet, self.date_from, self.date_to,
                          exclude_sections=[section[:200] for section in self.exclude_sections],
                          exclude_doc_ids=self.exclude_doc_ids)


def to_filters(filters: FiltersIn | None) -> Filters | None:
    return filters.to_filters() if filters is not None else None


def citations_in(text: str, sources: Sequence[dict[str, Any]]) -> list[int]:
    """The source numbers the answer text cites, in order of first use."""
    numbers = {int(s["number"]) for s in sources}
    seen: list[int] = []
    for match in CITATION.finditer(text):
        number = int(match.group(1))
        if number in numbers and number not in seen:
            seen.append(number)
    return seen


def result_of(answer: Answer, turn_id: str | None, conversation_id: str) -> dict[str, Any]:
    """The final result of a turn as every endpoint reports it."""
    body = answer.to_dict()
    body["citations"] = citations_in(answer.text, body["sources"])
    body["turn_id"] = turn_id
    body["conversation_id"] = conversation_id
    return body


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- errors ---------------------------------------------------------------------------------

STATUSES: list[tuple[type[AssistantError], int]] = [
    (QuestionError, 400),
    (SessionInvalid, 401),
    (AdminRequired, 401),
    (AccessDenied, 403),
    (DocumentNotFound, 404),
    (RequestTooLarge, 413),
    (SourceError, 422),
    (RateLimited, 429),
    (ConfigError, 500),
    (ModelError, 502),
    (IndexNotReady, 503),
]
HIDDEN = "Something went wrong on the server; it has been logged. Try again later."


def error_status(exc: BaseException) -> int:
    if isinstance(exc, AdminRequired) and exc.disabled:
        return 403
    return next((status for kind, status in STATUSES if isinstance(exc, kind)), 500)


def error_body(exc: BaseException) -> dict[str, Any]:
    """The JSON error for ``exc``; causes of 500s stay in the log."""
    status = error_status(exc)
    if status >= 500 and not isinstance(exc, IndexNotReady | ModelError):
        log.error("request failed", exc_info=exc)
        return {"error": {"type": "ServerError", "message": HIDDEN}}
    if status >= 500:
        log.warning("request failed: %s: %s", type(exc).__name__, exc)
    message = exc.reader if isinstance(exc, ModelError) else str(exc)  # the model's address stays in the log
    return {"error": {"type": type(exc).__name__, "message": message}}


def error_response(exc: BaseException) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return JSONResponse(error_body(exc), status_code=error_status(exc), headers=headers)


# --- callers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    kind: Literal["api", "widget"]
    ip: str
    site_key: str | None = None


def own_origin(request: Request) -> str:
    return normalize_origin(f"{request.url.scheme}://{request.headers.get('host', '')}")


def authorize(request: Request) -> Caller:
    """Cross-origin (browser) callers need a widget session for their origin (rate-limited per site;
    the per-IP limit is counted before, by middleware.RateLimit)."""
    security = request.app.state.security
    ip = request.client.host if request.client else "unknown"
    origin = request.headers.get("origin")
    token = request.headers.get(WIDGET_TOKEN_HEADER)
    if token:
        claims = security.verify_session(token, origin)
        security.limit_site(claims.site_key)
        return Caller("widget", ip, claims.site_key)
    if origin and normalize_origin(origin) != own_origin(request):
        raise AccessDenied(f"Requests from {origin} need a widget session: load the widget with a site key "
                           f"that allows this origin, or call the API from a server.")
    return Caller("api", ip)


# --- turns ----------------------------------------------------------------------------------


class TurnRunner:
    """Runs the (blocking) chain in worker threads and hands its events to async code.

    A whole turn runs in one thread, so the chain's context stays put; when the client goes
    away the turn stops at its next event. A turn waiting on the model holds its thread for at
    most LLM_FIRST_TOKEN_TIMEOUT before the answer starts (the circuit breaker then skips the
    model), and waiting threads are cheap: TURN_WORKERS (32) keeps a hanging model from starving
    the turns that answer from the articles.
    """

    def __init__(self, assistant: Assistant, workers: int = 32) -> None:
        self.assistant = assistant
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="turn")

    async def events(self, question: str, history: Sequence[Any], filters: Filters | None,
                     instructions: str = "") -> AsyncIterator[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()

        def put(item: tuple[str, Any]) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def produce() -> None:
            try:
                for event in self.assistant.stream(question, list(history), filters, instructions):
                    if stop.is_set():
                        break
                    put(("event", event))
            except BaseException as exc:  # handed to the awaiting request, which renders it
                put(("error", exc))
            else:
                put(("end", None))

        worker = loop.run_in_executor(self.executor, produce)
        try:
            while True:
                kind, value = await queue.get()
                if kind == "error":
                    raise value
                if kind == "end":
                    return
                yield value
        finally:
            stop.set()
            del worker

    async def answer(self, question: str, history: Sequence[Any], filters: Filters | None,
                     instructions: str = "") -> Answer:
        """Run a turn to its end."""
        final: Answer | None = None
        async for event in self.events(question, history, filters, instructions):
            final = event.get("answer", final)
        if final is None:
            raise ModelError("The answer stream ended without an answer; try again.")
        return final

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


async def started(events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    """Wait for the first event, so that errors before any output still get a proper status."""
    try:
        first = await anext(events)
    except StopAsyncIteration as exc:
        raise ModelError("The answer stream ended without an answer; try again.") from exc

    async def replay() -> AsyncIterator[dict[str, Any]]:
        yield first
        async for event in events:
            yield event

    return replay()


def owner_of(caller: Caller) -> str:
    """Who may continue a conversation ``caller`` starts: a widget's stays with its site."""
    return f"widget:{caller.site_key}" if caller.kind == "widget" else ""


async def conversation_turn(request: Request, caller: Caller, conversation_id: str | None,
                            history: Sequence[dict[str, str]]) -> tuple[str, list[dict[str, str]]]:
    """(conversation id, history) of a turn: a new unguessable id when none is sent; the stored
    conversation's turns when an id comes without ``history`` (an explicit history wins). An id
    that is unknown, expired or another site's is a 404 (ConversationNotFound) either way."""
    if not conversation_id:
        return new_conversation_id(), list(history)
    state = request.app.state
    turns = await asyncio.to_thread(state.store.continued, conversation_id, owner_of(caller),
                                    state.settings.conversation_ttl_hours)
    return conversation_id, list(history) if history else history_of(turns)


def history_of(turns: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """The history the chain reads, from stored turns (``Store.conversation``)."""
    history = []
    for turn in turns:
        history.append({"role": "user", "content": str(turn["question"])})
        history.append({"role": "assistant", "content": str(turn["answer"].get("answer", ""))})
    return history


async def save_turn(request: Request, conversation_id: str, answer: Answer, source: str,
                    caller: Caller | None = None) -> str | None:
    """Store the turn (in a thread), and a refusal in the unanswered-questions queue; a storage failure
    is logged and does not lose the answer."""
    store = request.app.state.store
    record = answer.to_dict()
    owner = owner_of(caller) if caller is not None else ""
    try:
        turn_id = await asyncio.to_thread(store.save_turn, conversation_id, answer.question, record, source,
                                          owner)
    except Exception:
        log.exception("could not store a turn of conversation %s", conversation_id)
        turn_id = None
    if answer.abstained:
        await asyncio.to_thread(request.app.state.desk.refused, answer.question, record, turn_id)
    return turn_id
