"""A scripted OpenAI-compatible HTTP server for tests: real HTTP on 127.0.0.1, replies set per test.

    with OpenAIStub() as stub:
        stub.script(Reply(status=429, headers={"Retry-After": "1"}), Reply(text="Answer [1]."))
        settings = ...(openai_base_url=stub.url)
        ...
        stub.requests[0].body["messages"]

Each POST to /v1/chat/completions takes the next scripted Reply (or ``stub.default``); a Reply may
also be a function of the request body. The answerability judge's short call (``max_tokens`` of
JUDGE_MAX_TOKENS) is answered apart, with ``stub.judge`` ("yes" unless a test says otherwise; None: script it like
any other) and recorded in ``stub.judge_requests``, so scripts stay those of the answer calls. Streams are real server-sent events over chunked
transfer encoding, so a "cut" is a connection closed in the middle of the body, as a crashing
server would leave it.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from assistant.answering.judge import JUDGE_MAX_TOKENS
from assistant.config import Settings

GATE_TIMEOUT = 60.0  # seconds a gated reply waits for a test that never opened its gate


@dataclass
class Reply:
    """What the server does with one request."""

    text: str = "The articles do not answer this question."
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the response starts
    first_token_delay: float = 0.0  # seconds between the stream's start (headers, role) and its first text
    chunk_delay: float = 0.0  # seconds between streamed chunks
    words_per_chunk: int = 1
    cut_after: int | None = None  # close the connection after this many chunks
    stall_after: int | None = None  # after this many chunks, send nothing for ``stall`` seconds
    stall: float = 0.0
    finish_reason: str | None = "stop"
    raw: str | None = None  # send this body as it is (garbage, an HTML page), with ``content_type``
    content_type: str = "text/html; charset=utf-8"
    unstreamed: bool = False  # answer a streamed request with a plain JSON completion
    # Ordering without clocks: the stream's first text waits until the test sets ``gate`` (e.g. once
    # the reader has the quoted evidence), its last piece until the test sets ``last_gate`` (once the
    # first words arrived). A test that fails before setting one lets the stub go on after GATE_TIMEOUT.
    gate: threading.Event | None = None
    last_gate: threading.Event | None = None


@dataclass
class Request:
    body: dict[str, Any]
    headers: dict[str, str]
    received: float  # time.monotonic()
    finished: float | None = None  # when the last byte of the reply was sent
    first_token: float | None = None  # when the first piece of text was sent (streams)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    def message(self, role: str) -> str:
        return "\n".join(str(m.get("content")) for m in self.messages if m.get("role") == role)


Script = Reply | Callable[[dict[str, Any]], Reply]


class OpenAIStub:
    """The server; use as a context manager (it runs in a daemon thread)."""

    def __init__(self) -> None:
        self.replies: deque[Script] = deque()
        self.default: Script | None = None
        self.requests: list[Request] = []
        self.judge: str | None = "yes"
        self.judge_requests: list[Request] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "stub-model", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                request = Request(body, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
                judged = stub.judge is not None and is_judge_call(body)
                with stub._lock:
                    if judged:
                        stub.judge_requests.append(request)
                        script = Reply(text=str(stub.judge))
                    else:
                        stub.requests.append(request)
                        script = stub.replies.popleft() if stub.replies else stub.default
                if script is None:
                    self._json(500, {"error": {"message": "no scripted reply", "type": "server_error"}})
                    return
                reply = script(body) if callable(script) else script
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                    stub.respond(self, reply, body, request)
                request.finished = time.monotonic()

            def _json(self, status: int, payload: dict[str, Any],
                      headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

        self.handler = Handler
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Script) -> None:
        self.replies.extend(replies)

    def __enter__(self) -> OpenAIStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def respond(handler: Any, reply: Reply, body: dict[str, Any], request: Request | None = None) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        if reply.raw is not None:
            data = reply.raw.encode()
            handler.send_response(reply.status)
            handler.send_header("Content-Type", reply.content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            handler.wfile.flush()
            return
        if reply.status != 200:
            kind = "rate_limit_error" if reply.status == 429 else "server_error"
            handler._json(reply.status, {"error": {"message": f"scripted {reply.status}", "type": kind,
                                                   "code": None}}, reply.headers)
            return
        model = body.get("model", "stub-model")
        if not body.get("stream") or reply.unstreamed:
            handler._json(200, {
                "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text},
                             "finish_reason": reply.finish_reason}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }, reply.headers)
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("Cache-Control", "no-cache")
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()

        def send(payload: dict[str, Any] | str) -> None:
            data = f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n".encode()
            handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            handler.wfile.flush()

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()),
                    "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        send(chunk({"role": "assistant", "content": ""}))
        if reply.first_token_delay:
            time.sleep(reply.first_token_delay)
        if reply.gate is not None:
            reply.gate.wait(GATE_TIMEOUT)
        words = pieces(reply.text, reply.words_per_chunk)
        for number, piece in enumerate(words):
            if reply.last_gate is not None and number == len(words) - 1 and number > 0:
                reply.last_gate.wait(GATE_TIMEOUT)
            if reply.cut_after is not None and number >= reply.cut_after:
                # announce a chunk, send half of it, and drop the connection
                handler.wfile.write(b"400\r\ndata: {\"id\": \"chatcmpl-stub\", ")
                handler.wfile.flush()
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return
            if reply.stall_after is not None and number == reply.stall_after:
                time.sleep(reply.stall)
            if request is not None and request.first_token is None:
                request.first_token = time.monotonic()
            send(chunk({"content": piece}))
            if reply.chunk_delay:
                time.sleep(reply.chunk_delay)
        if reply.finish_reason is not None:
            send(chunk({}, reply.finish_reason))
        send("[DONE]")
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()


# What a broken endpoint sends, and the reason the reader is then told (the fault tests of the
# answerer and of the web service add their own cases to these).
BROKEN_REPLIES: dict[str, tuple[Reply, str]] = {
    "garbage 200 body": (Reply(raw="\x00\x17 garbage, not a completion", content_type="application/octet-stream"),
                         "It sent a reply that could not be read."),
    "unstreamed JSON to a streamed request": (Reply(text="The centre is directed by someone.", unstreamed=True),
                                              "It sent a reply that could not be read."),
    "HTML error page": (Reply(raw="<html><body><h1>502 Bad Gateway</h1>nginx</body></html>", status=502),
                        "It failed (HTTP 502)."),
    "hang before the first token": (Reply(text="The director is", stall_after=0, stall=20.0),
                                    "It did not start answering in time."),
}


def is_judge_call(body: dict[str, Any]) -> bool:
    """The answerability judge's call: the only one that asks for JUDGE_MAX_TOKENS tokens."""
    limits = [body.get(key) for key in ("max_tokens", "max_completion_tokens")]
    return JUDGE_MAX_TOKENS in limits


def pieces(text: str, words: int) -> list[str]:
    """The text in streamed pieces of ``words`` words (each keeps its leading space)."""
    tokens = re.findall(r"\s*\S+", text)
    return ["".join(tokens[i:i + words]) for i in range(0, len(tokens), words)] or [""]


def sources_in(body: dict[str, Any]) -> dict[int, str]:
    """The numbered source texts of an answer request, as the model would read them."""
    user = "\n".join(str(m.get("content")) for m in body.get("messages", []) if m.get("role") == "user")
    found = {}
    for match in re.finditer(r'<source n="(\d+)">\nTitle: [^\n]*\n(.*?)\n</source>', user, re.DOTALL):
        found[int(match.group(1))] = match.group(2)
    return found


def with_model(settings: Settings, url: str, **overrides: Any) -> Settings:
    """``settings`` (a Settings) with the stub at ``url`` as the model; ``overrides`` win."""
    values: dict[str, Any] = {"openai_base_url": url, "llm_model": "stub-model", "llm_timeout": 5.0,
                              "llm_max_retries": 2}
    values.update(overrides)
    return settings.model_copy(update=values)
