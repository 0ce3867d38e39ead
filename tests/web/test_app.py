"""The web service over real HTTP: uvicorn on 127.0.0.1 serving create_app over a copy of the sample index.

Real parts throughout: uvicorn, the chain, Chroma, SQLite, the openai client for /v1, and a scripted
OpenAI-compatible server (tests/openai_stub.py) where a model is needed.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import uvicorn

from assistant.answering.generate import UNAVAILABLE
from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.languages import say
from assistant.service import Assistant
from assistant.storage import Store
from assistant.web.app import create_app, server_config
from tests.conftest import RedisServer, free_port, make_settings, wait_for_port
from tests.openai_stub import BROKEN_REPLIES, OpenAIStub, Reply, sources_in

QUESTION = "Who directs the Russian Center for Science and Culture in Vietnam?"
ALLOWED = "http://allowed.test:8080"
ADMIN = "admin-token-for-tests"
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}


@contextmanager
def served(app: Any, settings: Settings) -> Iterator[str]:
    """Run ``app`` under uvicorn, configured as `assistant serve` does, in a thread on a free port."""
    port = free_port()
    config = server_config(app, settings.model_copy(update={"host": "127.0.0.1", "port": port}),
                           log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port(port, timeout=60)
        while not server.started:
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def index_copy(source: Path, target: Path, **overrides: object) -> Settings:
    shutil.copytree(source / "vectorstore", target / "vectorstore")
    values: dict[str, object] = {"sites": f"news={ALLOWED}", "session_secret": "secret-for-api-tests",
                                 "admin_token": ADMIN, "rate_limit_per_minute": 10_000,
                                 "site_rate_limit_per_minute": 10_000}
    values.update(overrides)
    return make_settings(target, **values)


@pytest.fixture(scope="module")
def shared(sample_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store]]:
    """One server for the read-mostly tests (the full app, UI included)."""
    settings = index_copy(sample_index_dir, tmp_path_factory.mktemp("api"))
    store = Store.open(settings.database_url)
    with served(create_app(settings, Assistant.open(settings), store), settings) as url:
        yield url, store
    store.close()


@pytest.fixture
def base(shared: tuple[str, Store]) -> str:
    return shared[0]


@pytest.fixture
def store(shared: tuple[str, Store]) -> Store:
    return shared[1]


@pytest.fixture
def serve(sample_index_dir: Path, tmp_path: Path) -> Callable[..., Any]:
    """``with serve(**settings) as (url, settings):`` — a server of its own (own index copy and database);
    ``serve(ui=True, ...)`` mounts the Gradio UI too."""

    started = 0

    @contextmanager
    def start(ui: bool = False, **overrides: object) -> Iterator[tuple[str, Settings]]:
        nonlocal started
        started += 1
        settings = index_copy(sample_index_dir, tmp_path / f"server-{started}", **overrides)
        with served(create_app(settings, with_ui=ui), settings) as url:
            yield url, settings

    return start


def events_of(response: httpx.Response) -> list[tuple[str, Any]]:
    """(event, parsed data) of a server-sent event stream."""
    return parse_events(response.iter_lines())


def parse_events(lines: Iterable[str]) -> list[tuple[str, Any]]:
    events, name, data = [], "message", []
    for line in lines:
        if not line:
            if data:
                events.append((name, "\n".join(data)))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    return [(n, d if d == "[DONE]" else json.loads(d)) for n, d in events]


def chat(base: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(f"{base}/api/chat", json=body, headers=headers, timeout=60)


def assert_error(response: httpx.Response, status: int, kind: str, text: str = "") -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["type"] == kind
    assert text in error["message"]
    assert "Traceback" not in response.text
    return error


# --- /api/chat ---------------------------------------------------------------------------------


def test_chat_answers_with_citations_of_retrieved_passages(base: str, store: Store) -> None:
    response = chat(base, {"question": QUESTION})
    assert response.status_code == 200
    result = response.json()
    assert "Murashkin" in result["answer"] and not result["abstained"]
    numbers = [s["number"] for s in result["sources"]]
    assert result["citations"] and set(result["citations"]) <= set(numbers)
    for source in result["sources"]:
        assert f"[{source['number']}]" in result["answer"]
        assert source["doc_id"] in result["retrieved_doc_ids"]
        assert all(sentence in source["passage"] for sentence in source["supporting"])
    assert result["sources"][0]["doc_id"] == "000_9816ccc5144c5afd.txt"
    stored = store.conversation(result["conversation_id"])
    assert [(t["turn_id"], t["source"], t["question"]) for t in stored] == \
        [(result["turn_id"], "api", QUESTION)]
    assert stored[0]["answer"]["answer"] == result["answer"]


def test_chat_streams_tokens_then_sources_then_done(base: str) -> None:
    with httpx.stream("POST", f"{base}/api/chat", json={"question": QUESTION},
                      headers={"Accept": "text/event-stream"}, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = events_of(response)
    names = [name for name, _ in events]
    assert names[-2:] == ["sources", "done"] and set(names[:-2]) == {"token"}
    done = events[-1][1]
    tokens = [data["text"] for name, data in events if name == "token"]
    assert "".join(tokens) == done["answer"]
    assert len(tokens) == len(done["answer"].split())  # the quote streams word by word
    assert events[-2][1]["sources"] == done["sources"]
    assert done["citations"] and not done["abstained"] and done["turn_id"]


def test_follow_up_continues_the_conversation(base: str, store: Store) -> None:
    first = chat(base, {"question": "Which United Nations convention will be signed in Hanoi?"}).json()
    history = [{"role": "user", "content": first["question"]},
               {"role": "assistant", "content": "The first United Nations Convention against Cybercrime."}]
    second = chat(base, {"question": "When is it expected to be signed?", "history": history,
                         "conversation_id": first["conversation_id"]}).json()
    assert second["conversation_id"] == first["conversation_id"]
    assert second["retrieved_doc_ids"][0] == "003_024cb3686d4085ed.txt"
    assert "oktober" in second["answer"]
    turns = store.conversation(first["conversation_id"])
    assert [t["turn_id"] for t in turns] == [first["turn_id"], second["turn_id"]]


def test_a_refusal_on_the_topic_offers_the_closest_articles_apart_from_citations(base: str) -> None:
    result = chat(base, {"question": "What did the Russian ambassador say about tourism numbers in 2030?"}).json()
    assert result["abstained"] and result["sources"] == [] and result["citations"] == []
    assert result["related"] and result["related"][0]["doc_id"] == "000_9816ccc5144c5afd.txt"
    assert {r["doc_id"] for r in result["related"]} <= set(result["retrieved_doc_ids"])
    assert chat(base, {"question": "What is the recipe for lasagne?"}).json()["related"] == []


def test_unanswerable_question_abstains_without_sources(base: str) -> None:
    result = chat(base, {"question": "Wie won de Tour de France in 1998 en met welke fiets?"}).json()
    assert result["abstained"] and result["sources"] == [] and result["citations"] == []
    assert "artikelen" in result["answer"]


def test_filters_limit_the_sources(base: str) -> None:
    result = chat(base, {"question": "Vietnam", "filters": {"lang": "nl"}}).json()
    assert all(source["lang"] == "nl" for source in result["sources"])
    assert_error(chat(base, {"question": "Vietnam", "filters": {"date_from": "2024"}}),
                 400, "QuestionError", "From date '2024' is not a date: write it as YYYY-MM-DD, e.g. 2025-04-02.")
    assert_error(chat(base, {"question": "Vietnam", "filters": {"date_to": "2025-02-30"}},
                      Accept="text/event-stream"),
                 400, "QuestionError", "To date '2025-02-30' is not a date: write it as YYYY-MM-DD")
    assert_error(chat(base, {"question": "Vietnam",
                             "filters": {"date_from": "2025-05-01", "date_to": "2025-04-01"}}),
                 400, "QuestionError", "The date range is reversed: 2025-05-01 is after 2025-04-01")


def test_bad_requests_get_clear_errors_and_never_a_200(base: str) -> None:
    assert_error(chat(base, {"question": "  "}), 400, "QuestionError", "empty")
    assert_error(chat(base, {"question": "why " * 1000}), 400, "QuestionError", "MAX_QUESTION_CHARS")
    assert_error(chat(base, {"question": "why " * 1000}, Accept="text/event-stream"),
                 400, "QuestionError", "limit")
    assert_error(chat(base, {"history": []}), 422, "InvalidRequest", "question: Field required")
    assert_error(chat(base, {"question": "x", "history": [{"role": "system", "content": "x"}]}),
                 422, "InvalidRequest", "history")
    response = httpx.post(f"{base}/api/chat", content=b"{not json", timeout=10,
                          headers={"Content-Type": "application/json"})
    assert_error(response, 422, "InvalidRequest", "JSON")


def test_a_lone_surrogate_is_a_400_with_a_message(base: str) -> None:
    # JSON may escape a lone surrogate ("\ud800"); it decodes to no valid text.
    def raw(path: str, body: str, **headers: str) -> httpx.Response:
        return httpx.post(f"{base}{path}", content=body.encode(), timeout=30,
                          headers={"Content-Type": "application/json", **headers})

    question = '{"question": "\\ud800 Warsaw"}'
    assert_error(raw("/api/chat", question), 400, "QuestionError", "lone surrogate (U+D800)")
    assert_error(raw("/api/chat", question, Accept="text/event-stream"), 400, "QuestionError", "lone surrogate")
    history = '{"question": "Warsaw?", "history": [{"role": "user", "content": "a\\udfff"}]}'
    assert_error(raw("/api/chat", history), 400, "QuestionError", "A history turn")
    messages = '{"messages": [{"role": "user", "content": "\\ud800 Warsaw"}]}'
    for stream in ("false", "true"):
        completion = raw("/v1/chat/completions", messages[:-1] + f', "stream": {stream}}}')
        assert_error(completion, 400, "QuestionError", "lone surrogate")
    assert chat(base, {"question": QUESTION}).status_code == 200  # the server is fine afterwards


def test_unknown_paths_get_the_documented_error_shape(base: str) -> None:
    for path in ("/api/nope", "/v1/nope", "/api/chat/extra"):
        assert_error(httpx.get(f"{base}{path}", timeout=10), 404, "NotFound", f"No endpoint GET {path}")
    assert_error(httpx.post(f"{base}/v1/models", timeout=10), 405, "MethodNotAllowed", "use GET")
    wrong_method = httpx.get(f"{base}/api/chat", timeout=10)
    assert_error(wrong_method, 405, "MethodNotAllowed", "/api/chat does not take GET; use POST")
    assert wrong_method.headers["allow"] == "POST"
    assert httpx.get(f"{base}/", timeout=10).status_code == 200  # the UI is still at /


def test_oversized_bodies_get_413_before_any_work(base: str) -> None:
    body = json.dumps({"question": "x" * 70_000}).encode()
    assert_error(httpx.post(f"{base}/api/chat", content=body, timeout=10,
                            headers={"Content-Type": "application/json"}),
                 413, "RequestTooLarge", "MAX_REQUEST_BYTES")

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"question": "'
        for _ in range(20):
            yield b"y" * 4096
        yield b'"}'

    assert_error(httpx.post(f"{base}/v1/chat/completions", content=chunked(), timeout=10,
                            headers={"Content-Type": "application/json"}),
                 413, "RequestTooLarge", "limit of 64,000 bytes")


# --- health, stats, feedback, durability ---------------------------------------------------------


def test_feedback_is_stored_and_counted(base: str, store: Store) -> None:
    before = httpx.get(f"{base}/api/stats", headers=ADMIN_AUTH, timeout=10).json()["feedback"]
    turn = chat(base, {"question": QUESTION}).json()
    response = httpx.post(f"{base}/api/feedback", json={"turn_id": turn["turn_id"], "rating": -1,
                                                        "comment": "missed the date"}, timeout=10)
    assert response.status_code == 200 and response.json()["stored"] is True
    after = httpx.get(f"{base}/api/stats", headers=ADMIN_AUTH, timeout=10).json()["feedback"]
    assert after == {"up": before["up"], "down": before["down"] + 1, "total": before["total"] + 1}
    assert store.conversation(turn["conversation_id"])[0]["feedback"] == -1
    assert_error(httpx.post(f"{base}/api/feedback", json={"turn_id": "no-such-turn", "rating": 1}),
                 404, "TurnNotFound", "turn_id")
    assert_error(httpx.post(f"{base}/api/feedback", json={"turn_id": turn["turn_id"], "rating": 5}),
                 422, "InvalidRequest", "rating")


def test_conversations_and_feedback_survive_a_restart(serve: Callable[..., Any]) -> None:
    with serve() as (url, settings):
        turn = chat(url, {"question": QUESTION}).json()
        httpx.post(f"{url}/api/feedback", json={"turn_id": turn["turn_id"], "rating": 1}, timeout=10)
    with served(create_app(settings, with_ui=False), settings) as url:
        feedback = httpx.get(f"{url}/api/stats", headers=ADMIN_AUTH, timeout=10).json()["feedback"]
    assert feedback == {"up": 1, "down": 0, "total": 1}
    turns = Store.open(settings.database_url).conversation(turn["conversation_id"])
    assert [(t["question"], t["feedback"]) for t in turns] == [(QUESTION, 1)]


# --- OpenAI-compatible -------------------------------------------------------------------------


def test_openai_client_gets_the_answer_and_its_sources(base: str) -> None:
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["news-assistant"]
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
    reply = client.chat.completions.create(model="news-assistant", messages=messages)  # type: ignore[arg-type]
    text = reply.choices[0].message.content or ""
    assert "Murashkin" in text and reply.choices[0].finish_reason == "stop"
    extra = reply.model_extra or {}
    assert extra["sources"][0]["doc_id"] == "000_9816ccc5144c5afd.txt"
    assert all(f"[{n}]" in text for n in extra["citations"]) and extra["abstained"] is False

    chunks = list(client.chat.completions.create(model="news-assistant", messages=messages,  # type: ignore[arg-type]
                                                 stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["sources"] == extra["sources"]


def test_openai_errors_reach_openai_clients_as_errors(base: str) -> None:
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="role \"user\""):
        client.chat.completions.create(model="news-assistant",
                                       messages=[{"role": "assistant", "content": "Hello"}])
    with pytest.raises(openai.BadRequestError, match="empty"):
        client.chat.completions.create(model="news-assistant", messages=[{"role": "user", "content": ""}],
                                       stream=True)


def test_model_tokens_stream_through_the_api(serve: Callable[..., Any]) -> None:
    def grounded(body: dict[str, Any]) -> Reply:
        first = re.split(r"(?<=\.)\s", sources_in(body)[1])[0].rstrip(".")
        return Reply(text=f"{first} [1].", chunk_delay=0.02)

    with OpenAIStub() as stub:
        stub.default = grounded
        with serve(openai_base_url=stub.url, llm_model="stub-model", llm_max_retries=0) as (url, _):
            with httpx.stream("POST", f"{url}/api/chat", json={"question": QUESTION},
                              headers={"Accept": "text/event-stream"}, timeout=60) as response:
                events = events_of(response)
            health = httpx.get(f"{url}/api/health", timeout=10).json()
    tokens = [data["text"] for name, data in events if name == "token"]
    done = events[-1][1]
    assert len(tokens) == len(done["answer"].split()) and "".join(tokens) == done["answer"]
    assert done["mode"] == "llm" and done["citations"] == [1]
    assert health["model"] == {"configured": True, "mode": "llm", "model": "stub-model", "reachable": True,
                               "failing": False, "calls": {"breaker": "closed", "consecutive_failures": 0,
                                                           "skipped_calls": 0, "last_call": "ok"}}


def test_evidence_and_sources_arrive_before_the_models_first_token(serve: Callable[..., Any]) -> None:
    evidence_read = threading.Event()  # the model's first word waits until the reader has the evidence

    def gated(body: dict[str, Any]) -> Reply:  # the model's answer cites source 2
        first = re.split(r"(?<=\.)\s", sources_in(body)[2])[0].rstrip(".")
        return Reply(text=f"{first} [2].", gate=evidence_read)

    with OpenAIStub() as stub:
        stub.default = gated
        with serve(openai_base_url=stub.url, llm_model="stub-model", llm_max_retries=0) as (url, settings):
            before_any_token: list[bool] = []
            with httpx.stream("POST", f"{url}/api/chat", json={"question": QUESTION},
                              headers={"Accept": "text/event-stream"}, timeout=120) as response:
                lines = []
                for line in response.iter_lines():  # each event as a reader's browser sees it arrive
                    lines.append(line)
                    if line.startswith("event:") and not evidence_read.is_set():
                        before_any_token.append(line == "event: evidence" and all(
                            request.first_token is None for request in stub.requests))
                        evidence_read.set()
            events = parse_events(lines)
    names = [name for name, _ in events]
    assert names[0] == "evidence" and names[-2:] == ["sources", "done"] and set(names[1:-2]) == {"token"}
    assert before_any_token == [True]  # the first event, read while the model had sent no word
    (answered,) = stub.requests
    assert answered.first_token is not None
    evidence, done = events[0][1], events[-1][1]
    top = done["retrieved_doc_ids"][:settings.top_k]
    assert [s["doc_id"] for s in evidence["sources"]] == top
    assert [s["number"] for s in evidence["sources"]] == list(range(1, len(top) + 1))
    assert evidence["citations"] and not evidence["abstained"]
    for number in evidence["citations"]:  # the quote's citations point at this turn's sources
        assert f"[{number}]" in evidence["answer"]
        supporting = evidence["sources"][number - 1]["supporting"]
        assert supporting and all(s in evidence["sources"][number - 1]["passage"] for s in supporting)
    # the evidence is not the answer: the model's is, and it is what the tokens spell
    assert done["mode"] == "llm" and done["answer"] != evidence["answer"]
    assert "".join(data["text"] for name, data in events if name == "token") == done["answer"]
    assert done["sources"][0]["passage"] == sources_in(answered.body)[2]


# --- model faults: the reader gets the articles and plain words, the log gets the details --------

FAULTS: dict[str, tuple[Reply, str]] = {
    **BROKEN_REPLIES,
    "HTTP 503": (Reply(status=503), "It failed (HTTP 503)."),
}


@pytest.fixture(scope="module")
def faulty(sample_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, OpenAIStub]]:
    """A server over a stub model whose faults each test scripts (the breaker never opens)."""
    with OpenAIStub() as stub:
        settings = index_copy(sample_index_dir, tmp_path_factory.mktemp("faults"), openai_base_url=stub.url,
                              llm_model="stub-model", llm_max_retries=0, llm_timeout=1.0,
                              llm_first_token_timeout=1.5, llm_breaker_failures=1000)
        with served(create_app(settings, with_ui=False), settings) as url:
            yield url, stub


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_model_fault_gives_the_extractive_answer_as_json_and_as_events(
    fault: str, faulty: tuple[str, OpenAIStub], caplog: pytest.LogCaptureFixture
) -> None:
    url, stub = faulty
    reply, reason = FAULTS[fault]
    stub.script(reply, reply)
    response = chat(url, {"question": QUESTION})
    with httpx.stream("POST", f"{url}/api/chat", json={"question": QUESTION},
                      headers={"Accept": "text/event-stream"}, timeout=60) as streamed:
        events = events_of(streamed)
    notice = say(UNAVAILABLE, "en", reason=reason)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "extractive" and body["notice"] == notice and body["sources"]
    assert [name for name, _ in events][-2:] == ["sources", "done"]
    assert "error" not in [name for name, _ in events]
    assert events[-1][1]["notice"] == notice and events[-1][1]["answer"] == body["answer"]
    for text in (response.text, json.dumps(events)):
        assert str(stub.port) not in text and "127.0.0.1" not in text
    assert stub.url in caplog.text  # the operator's details are in the log


def test_a_hanging_model_neither_starves_other_turns_nor_is_asked_once_the_breaker_opens(
    serve: Callable[..., Any]
) -> None:
    with OpenAIStub() as stub:
        # the first call hangs (holding its turn's thread up to the deadline); the second fails
        stub.script(Reply(delay=20.0), Reply(status=500))
        with serve(openai_base_url=stub.url, llm_model="stub-model", llm_max_retries=0,
                   llm_first_token_timeout=20.0, llm_breaker_failures=1, llm_breaker_cooldown=600) as (url, _):
            hanging: list[httpx.Response] = []
            thread = threading.Thread(target=lambda: hanging.append(chat(url, {"question": QUESTION})), daemon=True)
            thread.start()
            for _ in range(600):  # bounded: until the hanging call reached the model
                if stub.requests:
                    break
                time.sleep(0.05)
            failed = chat(url, {"question": QUESTION})
            skipped = chat(url, {"question": QUESTION})
            health = httpx.get(f"{url}/api/health", timeout=20)
            assert thread.is_alive() and not hanging  # both answered while the first turn still waited
            assert stub.requests[0].finished is None
    assert len(stub.requests) == 2  # the third turn skipped the model
    assert failed.json()["notice"] == say(UNAVAILABLE, "en", reason="It failed (HTTP 500).")
    assert skipped.json()["mode"] == "extractive" and skipped.json()["answer"] == failed.json()["answer"]
    assert skipped.json()["notice"] == say(UNAVAILABLE, "en",
        reason="It failed repeatedly just now; it will be tried again shortly.")
    assert health.status_code == 503
    assert health.json()["status"] == "degraded"
    assert health.json()["model"]["failing"] is True
    assert health.json()["model"]["calls"] == {"breaker": "open", "consecutive_failures": 1, "skipped_calls": 1,
                                               "last_call": "failed", "error": "It failed (HTTP 500)."}


# --- widget sessions, CORS, rate limits --------------------------------------------------------


def session(base: str, origin: str | None, site_key: str = "news") -> httpx.Response:
    headers = {"Origin": origin} if origin else {}
    return httpx.post(f"{base}/api/widget/session", json={"site_key": site_key}, headers=headers, timeout=10)


def test_cors_preflight_only_for_allowed_origins(base: str) -> None:
    def preflight(origin: str) -> httpx.Response:
        return httpx.options(f"{base}/api/chat", timeout=10, headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-widget-token"})

    allowed = preflight(ALLOWED)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "x-widget-token" in allowed.headers["access-control-allow-headers"].lower()
    refused = preflight("http://evil.test")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


def test_rate_limits_answer_429_with_retry_after(serve: Callable[..., Any]) -> None:
    with serve(rate_limit_per_minute=2) as (url, _):
        assert chat(url, {"question": QUESTION}).status_code == 200
        assert chat(url, {"question": QUESTION}).status_code == 200
        limited = chat(url, {"question": QUESTION})
        assert_error(limited, 429, "RateLimited", "2 a minute")
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert httpx.get(f"{url}/api/health", timeout=10).status_code == 200  # health is not limited

    with serve(site_rate_limit_per_minute=2) as (url, _):
        token = session(url, ALLOWED).json()["token"]  # the session counts for the site too
        widget = {"Origin": ALLOWED, "X-Widget-Token": token}
        assert chat(url, {"question": QUESTION}, **widget).status_code == 200
        limited = chat(url, {"question": QUESTION}, **widget)
        assert_error(limited, 429, "RateLimited", "this site")
        assert limited.headers["access-control-allow-origin"] == ALLOWED  # the widget can read it
        assert chat(url, {"question": QUESTION}).status_code == 200  # other callers are not affected


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(serve: Callable[..., Any]) -> None:
    def via_proxy(url: str, client: str) -> int:
        return chat(url, {"question": QUESTION}, **{"X-Forwarded-For": client}).status_code

    # the tests connect from 127.0.0.1: here the proxy, trusted because FORWARDED_ALLOW_IPS names it
    with serve(rate_limit_per_minute=1, forwarded_allow_ips="127.0.0.1") as (url, _):
        assert via_proxy(url, "203.0.113.5") == 200
        assert via_proxy(url, "203.0.113.5") == 429
        assert via_proxy(url, "203.0.113.6") == 200  # another reader behind the same proxy

    # an untrusted peer cannot pick a new identity with a header: loopback is not trusted by default
    for untrusted in ({}, {"forwarded_allow_ips": ""}, {"forwarded_allow_ips": "10.0.0.1"}):
        with serve(rate_limit_per_minute=1, **untrusted) as (url, _):
            assert via_proxy(url, "203.0.113.5") == 200
            assert via_proxy(url, "203.0.113.6") == 429


def test_invalid_requests_count_against_the_rate_limit(serve: Callable[..., Any]) -> None:
    with serve(rate_limit_per_minute=3) as (url, _):
        assert_error(chat(url, {"history": []}), 422, "InvalidRequest", "question")
        assert_error(httpx.post(f"{url}/v1/chat/completions", json={"messages": []}, timeout=10),
                     422, "InvalidRequest", "messages")
        assert_error(httpx.post(f"{url}/api/admin/ingest", timeout=10), 401, "AdminRequired", "ADMIN_TOKEN")
        assert_error(chat(url, {"question": QUESTION}), 429, "RateLimited", "3 a minute")


def test_the_ui_endpoints_share_the_rate_limit(serve: Callable[..., Any]) -> None:
    with serve(ui=True, rate_limit_per_minute=3) as (url, _):
        joined = httpx.post(f"{url}/gradio_api/queue/join", json={}, timeout=10)
        assert joined.status_code == 422  # Gradio's own answer to a junk event; counted all the same
        uploaded = httpx.post(f"{url}/gradio_api/upload", files={"files": ("a.txt", b"x")}, timeout=10)
        assert uploaded.status_code == 200
        assert chat(url, {"question": QUESTION}).status_code == 200
        for path in ("/gradio_api/queue/join", "/gradio_api/upload", "/api/chat"):
            assert_error(httpx.post(f"{url}{path}", json={}, timeout=10), 429, "RateLimited", "3 a minute")
        assert httpx.get(f"{url}/", timeout=10).status_code == 200  # the page itself loads


def test_instances_sharing_a_redis_store_share_the_rate_limit(
    serve: Callable[..., Any], redis_server: RedisServer
) -> None:
    shared = {"rate_limit_per_minute": 2, "rate_limit_storage": redis_server.url}
    with serve(**shared) as (first, _), serve(**shared) as (second, _):
        assert chat(first, {"question": QUESTION}).status_code == 200
        assert chat(second, {"question": QUESTION}).status_code == 200
        assert_error(chat(first, {"question": QUESTION}), 429, "RateLimited", "2 a minute")
        assert_error(chat(second, {"question": QUESTION}), 429, "RateLimited", "2 a minute")

        redis_server.stop()  # the store goes away: readers are still answered (the log says why)
        assert chat(first, {"question": QUESTION}).status_code == 200


def test_an_unreachable_rate_limit_store_stops_the_start(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="no answer from that store"):
        create_app(settings.model_copy(update={"rate_limit_storage": f"redis://127.0.0.1:{free_port()}/0"}),
                   with_ui=False)
    with pytest.raises(ConfigError, match="use memory:// or redis://"):
        create_app(settings.model_copy(update={"rate_limit_storage": "mongodb+nope://x"}), with_ui=False)


# --- admin, widget files, docs -----------------------------------------------------------------


def test_admin_ingest_needs_the_token_and_makes_documents_answerable(serve: Callable[..., Any]) -> None:
    article = ("Harbour town opens floating library\n\nThe town of Oosthaven opened a floating library "
               "on the old ferry Marijke on Saturday. Librarian Joke Verbeek said the boat holds "
               "12,000 books and will visit six villages along the river every month.\n")
    files = {"files": ("floating-library.txt", article.encode(), "text/plain")}
    with serve() as (url, _):
        endpoint = f"{url}/api/admin/ingest"
        assert_error(httpx.post(endpoint, files=files), 401, "AdminRequired", "ADMIN_TOKEN")
        assert_error(httpx.post(endpoint, files=files, headers={"Authorization": "Bearer wrong"}),
                     401, "AdminRequired")
        junk = {"files": ("blob.bin", bytes(range(256)) * 10, "application/octet-stream")}
        admin = {"Authorization": f"Bearer {ADMIN}"}
        junk_reply = httpx.post(endpoint, files=junk, headers=admin, timeout=60)
        assert_error(junk_reply, 422, "SourceError", "blob.bin")
        done = httpx.post(endpoint, files=files, headers=admin, timeout=120)
        assert done.status_code == 200, done.text
        assert done.json()["added"] == ["floating-library.txt"] and done.json()["chunks_written"] == 1
        answer = chat(url, {"question": "How many books does the floating library in Oosthaven hold?"}).json()
    assert answer["sources"][0]["doc_id"] == "floating-library.txt"
    assert "12,000" in answer["answer"]
    with serve(admin_token=None) as (url, _):
        refused = httpx.post(f"{url}/api/admin/ingest", files=files, headers={"Authorization": "Bearer x"})
    assert_error(refused, 403, "AdminRequired", "disabled")


def test_the_admin_token_needs_bearer_and_wrong_tokens_are_limited(serve: Callable[..., Any]) -> None:
    files = {"files": ("note.txt", b"Harbour news\n\nThe ferry Marijke sails again on Monday.\n", "text/plain")}

    def upload(authorization: str) -> httpx.Response:
        return httpx.post(f"{url}/api/admin/ingest", files=files, headers={"Authorization": authorization},
                          timeout=120)

    with serve() as (url, _):
        for bare in (ADMIN, f"Token {ADMIN}", "Bearer", f"Bearer {ADMIN} extra"):
            assert_error(upload(bare), 401, "AdminRequired", "must be 'Bearer <ADMIN_TOKEN>'")
        assert upload(f"bearer {ADMIN}").status_code == 200  # the scheme is case-insensitive (RFC 7235)
        for _ in range(5):
            assert_error(upload("Bearer wrong"), 401, "AdminRequired", "admin token")
        # five wrong tokens a minute: now even the right one is refused, so tokens cannot be tried fast
        assert_error(upload(f"Bearer {ADMIN}"), 429, "RateLimited", "wrong admin tokens")


def test_openapi_docs_list_the_endpoints(base: str) -> None:
    assert httpx.get(f"{base}/docs", timeout=10).status_code == 200
    paths = httpx.get(f"{base}/openapi.json", timeout=10).json()["paths"]
    for path in ("/api/chat", "/api/health", "/api/stats", "/api/feedback", "/api/widget/session",
                 "/api/admin/ingest", "/api/admin/questions", "/v1/chat/completions"):
        assert path in paths
