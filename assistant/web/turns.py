"""A turn over HTTP, shared by /api/chat and /v1: the chain run in worker threads, the conversation
continued by id, the turn stored, and its result as every endpoint reports it.

    runner = TurnRunner(assistant, workers=settings.turn_workers)
    conversations = Conversations(store, desk, settings.conversation_ttl_hours)
    conversation_id, history = await conversations.turn(caller, body.conversation_id, history)
    answer = await runner.answer(question, history, filters)     # or: async for event in runner.events(...)
    turn_id = await conversations.save(conversation_id, answer, "api", caller)
    return result_of(answer, turn_id, conversation_id)
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from assistant.desk import Desk
from assistant.documents import Answer, Filters
from assistant.errors import ModelError
from assistant.service import Assistant
from assistant.storage import Store, new_conversation_id
from assistant.web.http import Caller

log = logging.getLogger("assistant.web.app")
CITATION = re.compile(r"\[(\d{1,3})\]")


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


def history_of(turns: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """The history the chain reads, from stored turns (``Store.conversation``)."""
    history = []
    for turn in turns:
        history.append({"role": "user", "content": str(turn["question"])})
        history.append({"role": "assistant", "content": str(turn["answer"].get("answer", ""))})
    return history


@dataclass(frozen=True)
class Conversations:
    """The stored conversations: continued by id, each turn kept, refusals put in the desk's queue."""

    store: Store
    desk: Desk | None
    ttl_hours: float

    async def turn(self, caller: Caller, conversation_id: str | None,
                   history: Sequence[dict[str, str]]) -> tuple[str, list[dict[str, str]]]:
        """(conversation id, history) of a turn: a new unguessable id when none is sent; the stored
        conversation's turns when an id comes without ``history`` (an explicit history wins). An id
        that is unknown, expired or another site's is a 404 (ConversationNotFound) either way."""
        if not conversation_id:
            return new_conversation_id(), list(history)
        turns = await asyncio.to_thread(self.store.continued, conversation_id, owner_of(caller),
                                        self.ttl_hours)
        return conversation_id, list(history) if history else history_of(turns)

    async def save(self, conversation_id: str, answer: Answer, source: str,
                   caller: Caller | None = None) -> str | None:
        """Store the turn (in a thread), and a refusal in the unanswered-questions queue; a storage
        failure is logged and does not lose the answer."""
        record = answer.to_dict()
        owner = owner_of(caller) if caller is not None else ""
        try:
            turn_id = await asyncio.to_thread(self.store.save_turn, conversation_id, answer.question, record,
                                              source, owner)
        except Exception:
            log.exception("could not store a turn of conversation %s", conversation_id)
            turn_id = None
        if answer.abstained and self.desk is not None:
            await asyncio.to_thread(self.desk.refused, answer.question, record, turn_id)
        return turn_id
