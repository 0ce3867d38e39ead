"""Readers' questions: POST /api/chat (JSON, or server-sent events) and POST /api/feedback.

    curl -s http://127.0.0.1:7860/api/chat -H 'Content-Type: application/json' \\
         -d '{"question": "Who directs the Russian Center?", "conversation_id": null}'
    curl -N http://127.0.0.1:7860/api/chat -H 'Accept: text/event-stream' -d '{"question": "..."}' ...
    curl -s http://127.0.0.1:7860/api/feedback -d '{"turn_id": "...", "rating": -1}' ...

A conversation continues by its id alone (the server reads the earlier turns; ``web.turns``); a
widget's conversations stay with its site. Refusals and thumbs-down go to the unanswered-questions queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from assistant.errors import AssistantError
from assistant.web.api.deps import ConversationsDep, DeskDep, RunnerDep, SecurityDep, StoreDep
from assistant.web.http import CONVERSATION_ID, Caller, FiltersIn, authorize, dumps, error_body, to_filters
from assistant.web.turns import Conversations, result_of, started

router = APIRouter(tags=["chat"])


class HistoryTurn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    question: str = Field(description="The question, in any language.")
    history: list[HistoryTurn] = Field(default_factory=list, description="Earlier turns, oldest first.")
    filters: FiltersIn | None = None
    conversation_id: str | None = Field(
        None, pattern=CONVERSATION_ID,
        description="Continue this stored conversation (every answer returns its id): without `history`"
        " the server reads the earlier turns itself. Unknown, expired (CONVERSATION_TTL_HOURS after its last"
        " turn) or another site's: 404.")


class FeedbackRequest(BaseModel):
    turn_id: str = Field(max_length=64)
    rating: Literal[1, -1] = Field(description="+1 (helpful) or -1 (not helpful).")
    comment: str = Field("", max_length=2000)


def wants_events(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


@router.post("/api/chat", summary="Ask a question (JSON, or server-sent events)",
             responses={200: {"content": {"text/event-stream": {}}}})
async def chat(body: ChatRequest, request: Request, security: SecurityDep, runner: RunnerDep,
               conversations: ConversationsDep) -> Any:
    """With `Accept: text/event-stream`: with a language model first an `evidence` event (this
    turn's sources and the articles quoted, citing them: `{"answer", "abstained", "sources",
    "citations"}`; to read while the model writes, never the answer), then `token` events
    (`{"text"}`), a `sources` event, then `done` with the final result; otherwise the final result
    as JSON: answer, sources, citations, abstained, turn_id, conversation_id, lang (the question's),
    as_of (the publication date, YYYY-MM-DD, of the newest article cited; null when none is dated)
    and as_of_label (the same in the question's language: "As of 2 April 2025"; "" without a date),
    revision_label ("Corrected on 29 November 2026" when a cited article corrects an earlier one, see
    `supersedes` in PUT /api/documents; "" otherwise). Questions about what is new ("What happened
    this week?") and timelines ("Give me a timeline of X") answer with one cited line per article."""
    caller = authorize(request, security)
    conversation_id, history = await conversations.turn(
        caller, body.conversation_id, [turn.model_dump() for turn in body.history])
    source = "widget" if caller.kind == "widget" else "api"
    if not wants_events(request):
        final = await runner.answer(body.question, history, to_filters(body.filters))
        turn_id = await conversations.save(conversation_id, final, source, caller)
        return result_of(final, turn_id, conversation_id)
    events = await started(runner.events(body.question, history, to_filters(body.filters)))
    return EventSourceResponse(chat_events(conversations, events, conversation_id, source, caller), ping=15)


@router.post("/api/feedback", summary="Thumbs up (+1) or down (-1) on an answer")
async def feedback(body: FeedbackRequest, request: Request, security: SecurityDep, store: StoreDep,
                   desk: DeskDep) -> dict[str, Any]:
    """A thumbs down puts the turn's question in the unanswered-questions queue (once per turn)."""
    authorize(request, security)
    await asyncio.to_thread(store.add_feedback, body.turn_id, body.rating, body.comment)
    if body.rating == -1:
        await asyncio.to_thread(desk.disliked, body.turn_id)
    return {"stored": True, "turn_id": body.turn_id, "rating": body.rating}


async def chat_events(conversations: Conversations, events: AsyncIterator[dict[str, Any]],
                      conversation_id: str, source: str, caller: Caller) -> AsyncIterator[dict[str, str]]:
    """`evidence` (with a model), `token` events, then `sources`, then `done`; an `error` event if the
    turn fails midway."""
    try:
        async for event in events:
            if "evidence" in event:
                yield {"event": "evidence", "data": dumps(event["evidence"].to_dict())}
            if event.get("token"):
                yield {"event": "token", "data": dumps({"text": event["token"]})}
            if "answer" in event:
                answer = event["answer"]
                yield {"event": "sources", "data": dumps({"sources": [s.to_dict() for s in answer.sources]})}
                turn_id = await conversations.save(conversation_id, answer, source, caller)
                yield {"event": "done", "data": dumps(result_of(answer, turn_id, conversation_id))}
                return
        raise AssistantError("The answer stream ended without an answer; try again.")
    except Exception as exc:
        yield {"event": "error", "data": dumps(error_body(exc))}
