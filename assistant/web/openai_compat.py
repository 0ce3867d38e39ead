"""The assistant as an OpenAI-compatible chat model: POST /v1/chat/completions (streaming too).

    client = openai.OpenAI(base_url="http://127.0.0.1:7860/v1", api_key="unused")
    reply = client.chat.completions.create(model="news-assistant", messages=[...])
    reply.choices[0].message.content      # the answer with [n] markers
    reply.model_extra["sources"]          # the passages behind them (also on the last stream chunk)

The last message is the question; earlier user/assistant messages are the history; system
messages are ignored (the assistant keeps its own instructions). Extra body fields `filters` and
`conversation_id` work as in /api/chat.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from assistant.documents import Answer
from assistant.errors import QuestionError
from assistant.web.http import (
    CONVERSATION_ID,
    FiltersIn,
    TurnRunner,
    authorize,
    dumps,
    error_body,
    result_of,
    save_turn,
    started,
    to_filters,
)

MODEL_NAME = "news-assistant"


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class CompletionRequest(BaseModel):
    """OpenAI's request; sampling options (temperature, max_tokens, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = MODEL_NAME
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    filters: FiltersIn | None = None
    conversation_id: str | None = Field(None, pattern=CONVERSATION_ID)


def text_of(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if part.get("type") == "text")
    return content or ""


def split_messages(messages: list[Message]) -> tuple[str, list[dict[str, str]]]:
    """(question, history) from OpenAI messages."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise QuestionError('The last message must be the question, with role "user".')
    history = [{"role": m.role, "content": text_of(m.content)} for m in turns[:-1] if text_of(m.content)]
    return text_of(turns[-1].content), history


def extras(answer: Answer, turn_id: str | None, conversation_id: str) -> dict[str, Any]:
    """What travels with an OpenAI response besides the text: the sources and the turn's facts."""
    result = result_of(answer, turn_id, conversation_id)
    return {key: result[key] for key in
            ("sources", "citations", "abstained", "turn_id", "conversation_id", "mode", "notice")}


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["openai"])

    @router.get("/models", summary="The one model this server offers")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [
            {"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "news-assistant"}]}

    @router.post("/chat/completions", summary="OpenAI-compatible chat completion (stream: true for SSE)")
    async def completions(body: CompletionRequest, request: Request) -> Any:
        """The answer as `choices[0].message.content`; `sources`, `citations`, `abstained`, `turn_id`
        ride along at the top level of the response (or of the last chunk when streaming)."""
        authorize(request)
        question, history = split_messages(body.messages)
        runner: TurnRunner = request.app.state.runner
        conversation_id = body.conversation_id or uuid.uuid4().hex
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if not body.stream:
            answer = await runner.answer(question, history, to_filters(body.filters))
            turn_id = await save_turn(request, conversation_id, answer, "openai")
            return {
                "id": completion_id, "object": "chat.completion", "created": created, "model": MODEL_NAME,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                             "finish_reason": "stop", "logprobs": None}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                **extras(answer, turn_id, conversation_id),
            }
        events = await started(runner.events(question, history, to_filters(body.filters)))

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, str]:
            data = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                    "model": MODEL_NAME,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                    **extra}
            return {"data": dumps(data)}

        async def stream() -> AsyncIterator[dict[str, str]]:
            try:
                yield chunk({"role": "assistant", "content": ""})
                async for event in events:
                    if event.get("token"):
                        yield chunk({"content": event["token"]})
                    if "answer" in event:
                        answer = event["answer"]
                        turn_id = await save_turn(request, conversation_id, answer, "openai")
                        yield chunk({}, "stop", **extras(answer, turn_id, conversation_id))
                        break
                yield {"data": "[DONE]"}
            except Exception as exc:
                yield {"data": dumps(error_body(exc))}

        return EventSourceResponse(stream(), ping=15)

    return router

