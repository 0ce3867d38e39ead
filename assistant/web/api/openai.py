"""The assistant as an OpenAI-compatible chat model: POST /v1/chat/completions (streaming too), /v1/models.

    client = openai.OpenAI(base_url="http://127.0.0.1:7860/v1", api_key="unused")
    reply = client.chat.completions.create(model="news-assistant", messages=[...])
    reply.choices[0].message.content      # the answer with [n] markers
    reply.model_extra["sources"]          # the passages behind them (also on the last stream chunk)

The one model is ``news-assistant`` (GET /v1/models); any other name is refused with OpenAI's
404 ``model_not_found`` error. The last message is the question; earlier user/assistant messages
are the history. System (or developer) messages are the reader's instructions: with a language
model they join the answer prompt, after its grounding rules (which win when the two conflict).
The extractive path (no model configured) quotes the articles as they are and cannot follow them:
its answers then say so in ``notice``, rather than pretend. Extra body fields `filters` and
`conversation_id` work as in /api/chat. ``usage`` counts tiktoken tokens (cl100k_base): the
messages sent, with OpenAI's overhead of 3 tokens a message and 3 for the reply, and the answer;
streaming sends it in a last chunk when asked with ``stream_options={"include_usage": true}``, as
OpenAI does.

The sources also travel in ``choices[0].logprobs`` (``{"content": null, "refusal": null,
"sources": [...], "citations": [...], "abstained": ..., ...}``): it is the one structured field
that LangChain's ChatOpenAI copies into ``response_metadata`` both for ``invoke`` and for
``stream`` (langchain-openai 1.7; it drops unknown top-level and message fields). So:

    chat = ChatOpenAI(base_url="http://127.0.0.1:7860/v1", api_key="unused", model="news-assistant")
    chat.invoke("Who directs ...?").response_metadata["logprobs"]["sources"]
    # streaming: the last chunk carries it; summed chunks keep it in response_metadata too

Streaming with a language model, the first chunk (the assistant's role, empty content) also carries
``evidence`` at its top level: this turn's sources and the articles quoted, citing them, as /api/chat's
``evidence`` event; something to show while the model writes, never part of the content. OpenAI
clients ignore it (the openai package keeps it in ``chunk.model_extra["evidence"]``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from assistant.documents import Answer
from assistant.errors import QuestionError
from assistant.languages import say
from assistant.tokens import get_encoding
from assistant.web.api.deps import ConversationsDep, RunnerDep, SecurityDep, SettingsDep
from assistant.web.http import CONVERSATION_ID, FiltersIn, authorize, dumps, error_body, to_filters
from assistant.web.turns import result_of, started

MODEL_NAME = "news-assistant"
USAGE_ENCODING = "cl100k_base"
MESSAGE_OVERHEAD = 3  # tokens OpenAI counts around each message, and to prime the reply
IGNORED_INSTRUCTIONS = "instructions_ignored"  # said in the reader's language (assistant/languages)
MODEL_CARD = {"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "news-assistant"}

router = APIRouter(prefix="/v1", tags=["openai"])


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class CompletionRequest(BaseModel):
    """OpenAI's request; sampling options (temperature, max_tokens, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = MODEL_NAME
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    filters: FiltersIn | None = None
    conversation_id: str | None = Field(None, pattern=CONVERSATION_ID)


def text_of(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if part.get("type") == "text")
    return content or ""


def split_messages(messages: list[Message]) -> tuple[str, list[dict[str, str]]]:
    """(question, history) from OpenAI messages (system messages: see ``instructions_of``)."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise QuestionError('The last message must be the question, with role "user".')
    history = [{"role": m.role, "content": text_of(m.content)} for m in turns[:-1] if text_of(m.content)]
    return text_of(turns[-1].content), history


def instructions_of(messages: list[Message]) -> str:
    """The reader's instructions: the text of the system (and developer) messages."""
    return "\n\n".join(text for m in messages if m.role in ("system", "developer")
                       if (text := text_of(m.content).strip()))


def extras(answer: Answer, turn_id: str | None, conversation_id: str) -> dict[str, Any]:
    """What travels with an OpenAI response besides the text: the sources and the turn's facts."""
    result = result_of(answer, turn_id, conversation_id)
    return {key: result[key] for key in
            ("sources", "citations", "abstained", "related", "turn_id", "conversation_id", "mode", "notice")}


def usage(messages: list[Message], answer: str, cache_dir: Any = None) -> dict[str, int]:
    """OpenAI's usage record, counted with tiktoken (see the module docstring)."""
    encoding = get_encoding(USAGE_ENCODING, cache_dir)
    prompt = MESSAGE_OVERHEAD + sum(
        MESSAGE_OVERHEAD + len(encoding.encode(m.role)) + len(encoding.encode(text_of(m.content)))
        for m in messages)
    completion = len(encoding.encode(answer))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def model_not_found(model: str) -> JSONResponse:
    """OpenAI's own refusal of an unknown model, naming the model to use."""
    message = (f"The model '{model}' does not exist here: this server offers one model, '{MODEL_NAME}'. "
               f"Use model=\"{MODEL_NAME}\" (GET /v1/models lists it).")
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": "model",
                                   "code": "model_not_found"}}, status_code=404)


def logprobs_with(extra: dict[str, Any]) -> dict[str, Any]:
    """``choices[0].logprobs``: no token logprobs, and the sources where ChatOpenAI keeps them."""
    return {"content": None, "refusal": None, **extra}


@router.get("/models", summary="The one model this server offers")
async def models() -> dict[str, Any]:
    return {"object": "list", "data": [MODEL_CARD]}

@router.get("/models/{model}", summary="One model, by name")
async def model(model: str) -> Any:
    return MODEL_CARD if model == MODEL_NAME else model_not_found(model)

@router.post("/chat/completions", summary="OpenAI-compatible chat completion (stream: true for SSE)")
async def completions(body: CompletionRequest, request: Request, security: SecurityDep, settings: SettingsDep,
                      runner: RunnerDep, conversations: ConversationsDep) -> Any:
    """The answer as `choices[0].message.content`; `sources`, `citations`, `abstained`, `turn_id`
    ride along at the top level of the response (or of the last chunk when streaming)."""
    caller = authorize(request, security)
    if body.model != MODEL_NAME:
        return model_not_found(body.model)
    question, history = split_messages(body.messages)
    conversation_id, history = await conversations.turn(caller, body.conversation_id, history)
    instructions = instructions_of(body.messages)
    cache_dir = settings.tiktoken_cache_dir

    def noted(answer: Answer) -> Answer:
        if instructions and not settings.llm_configured and not answer.notice:
            answer.notice = say(IGNORED_INSTRUCTIONS, answer.lang)
        return answer

    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if not body.stream:
        answer = noted(await runner.answer(question, history, to_filters(body.filters), instructions))
        turn_id = await conversations.save(conversation_id, answer, "openai", caller)
        extra = extras(answer, turn_id, conversation_id)
        return {
            "id": completion_id, "object": "chat.completion", "created": created, "model": MODEL_NAME,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                         "finish_reason": "stop", "logprobs": logprobs_with(extra)}],
            "usage": usage(body.messages, answer.text, cache_dir),
            **extra,
        }
    events = await started(runner.events(question, history, to_filters(body.filters), instructions))

    def chunk(delta: dict[str, Any] | None, finish: str | None = None, top: dict[str, Any] | None = None,
              **extra: Any) -> dict[str, str]:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish,
                                             "logprobs": logprobs_with(extra) if extra else None}]
        data = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                "model": MODEL_NAME, "choices": choices, **(top or {}), **extra}
        return {"data": dumps(data)}

    async def stream() -> AsyncIterator[dict[str, str]]:
        try:
            opened = False
            async for event in events:
                if not opened:  # the role; with a model the evidence too (the turn's first event)
                    evidence = event.get("evidence")
                    yield chunk({"role": "assistant", "content": ""},
                                top={"evidence": evidence.to_dict()} if evidence is not None else None)
                    opened = True
                if event.get("token"):
                    yield chunk({"content": event["token"]})
                if "answer" in event:
                    answer = noted(event["answer"])
                    turn_id = await conversations.save(conversation_id, answer, "openai", caller)
                    yield chunk({}, "stop", **extras(answer, turn_id, conversation_id))
                    if body.stream_options and body.stream_options.include_usage:
                        yield chunk(None, usage=usage(body.messages, answer.text, cache_dir))
                    break
            yield {"data": "[DONE]"}
        except Exception as exc:
            yield {"data": dumps(error_body(exc))}

    return EventSourceResponse(stream(), ping=15)

