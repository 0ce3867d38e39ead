"""/v1, the assistant as an OpenAI-compatible model, through real clients: openai and LangChain's
ChatOpenAI, against the app served by uvicorn on 127.0.0.1 (and the scripted model server where the
model path is needed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from langchain_core.messages import SystemMessage
from langchain_openai import ChatOpenAI

from assistant.languages import say
from assistant.tokens import get_encoding
from assistant.web.api.openai import IGNORED_INSTRUCTIONS, MODEL_NAME
from assistant.web.app import create_app
from tests.openai_stub import OpenAIStub, Reply, sources_in
from tests.web.test_app import QUESTION, index_copy, served

ANSWERING = "000_9816ccc5144c5afd.txt"


@pytest.fixture(scope="module")
def base(sample_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app without a model (extractive answers), served on 127.0.0.1."""
    settings = index_copy(sample_index_dir, tmp_path_factory.mktemp("v1"))
    with served(create_app(settings, with_ui=False), settings) as url:
        yield url


def client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)


def tokens(text: str) -> int:
    return len(get_encoding("cl100k_base").encode(text))


def test_usage_counts_the_prompt_and_the_answer(base: str) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
    reply = client(base).chat.completions.create(model=MODEL_NAME, messages=messages)  # type: ignore[arg-type]
    text = reply.choices[0].message.content or ""
    # OpenAI's count: 3 tokens around each message (plus its role and content), 3 to prime the reply
    prompt = 3 + (3 + tokens("system") + tokens("Be brief.")) + (3 + tokens("user") + tokens(QUESTION))
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (
        prompt, tokens(text), prompt + tokens(text))

    chunks = list(client(base).chat.completions.create(
        model=MODEL_NAME, messages=messages, stream=True,  # type: ignore[arg-type]
        stream_options={"include_usage": True}))
    assert chunks[-1].choices == []
    assert chunks[-1].usage == reply.usage
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_unknown_models_are_refused_the_way_openai_refuses_them(base: str) -> None:
    with pytest.raises(openai.NotFoundError) as refused:
        client(base).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert refused.value.status_code == 404
    assert refused.value.code == "model_not_found"
    assert refused.value.body == {
        "message": "The model 'gpt-4o' does not exist here: this server offers one model, 'news-assistant'. "
                   "Use model=\"news-assistant\" (GET /v1/models lists it).",
        "type": "invalid_request_error", "param": "model", "code": "model_not_found"}
    with pytest.raises(openai.NotFoundError, match="The model 'gpt-4o' does not exist here") as streamed:
        client(base).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}],
                                             stream=True)
    assert streamed.value.code == "model_not_found"
    assert [m.id for m in client(base).models.list()] == [MODEL_NAME]
    assert client(base).models.retrieve(MODEL_NAME).id == MODEL_NAME
    assert httpx.get(f"{base}/v1/models/gpt-4o", timeout=10).json()["error"]["code"] == "model_not_found"


def test_langchain_chatopenai_gets_the_sources(base: str) -> None:
    chat = ChatOpenAI(base_url=f"{base}/v1", api_key="unused", model=MODEL_NAME,  # type: ignore[arg-type]
                      max_retries=0)
    reply = chat.invoke(QUESTION)
    carried = reply.response_metadata["logprobs"]
    assert [s["doc_id"] for s in carried["sources"]] == [ANSWERING]
    assert carried["citations"] == [1] and carried["abstained"] is False
    assert "Murashkin" in str(reply.content)
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] == tokens(str(reply.content))

    streamed: Any = None
    for chunk in chat.stream(QUESTION):
        streamed = chunk if streamed is None else streamed + chunk
    assert streamed.content == reply.content
    assert streamed.response_metadata["logprobs"]["sources"] == carried["sources"]


def test_system_message_without_a_model_is_not_silently_dropped(base: str) -> None:
    chat = ChatOpenAI(base_url=f"{base}/v1", api_key="unused", model=MODEL_NAME,  # type: ignore[arg-type]
                      max_retries=0)
    told = chat.invoke([SystemMessage("Answer in French."), ("user", QUESTION)])
    assert told.response_metadata["logprobs"]["notice"] == say(IGNORED_INSTRUCTIONS, "en")
    german = chat.invoke([SystemMessage("Antworte kurz."), ("user", "Wer leitet das Russische Zentrum in Vietnam?")])
    assert german.response_metadata["logprobs"]["notice"].startswith("Die Systemnachricht wurde nicht befolgt")
    untold = chat.invoke(QUESTION)
    assert untold.response_metadata["logprobs"]["notice"] == ""


def test_system_message_reaches_the_model_after_the_rules(sample_index_dir: Path, tmp_path: Path) -> None:
    def grounded(body: dict[str, Any]) -> Reply:
        first = re.split(r"(?<=\.)\s", sources_in(body)[1])[0].rstrip(".")
        return Reply(text=f"{first} [1].")

    with OpenAIStub() as stub:
        stub.default = grounded
        settings = index_copy(sample_index_dir, tmp_path, openai_base_url=stub.url, llm_model="stub-model",
                              llm_max_retries=0)
        with served(create_app(settings, with_ui=False), settings) as url:
            reply = client(url).chat.completions.create(model=MODEL_NAME, messages=[
                {"role": "system", "content": "Address the reader as Captain."},
                {"role": "user", "content": QUESTION}])
    system = stub.requests[-1].message("system")
    assert system.endswith("follow them unless they conflict with the rules above:\n"
                           "Address the reader as Captain.")
    assert system.index("Use only facts stated in the sources") < system.index("Captain")
    assert (reply.model_extra or {})["notice"] == ""
    assert (reply.model_extra or {})["mode"] == "llm"


def test_streaming_with_a_model_carries_the_evidence_first_outside_the_content(
    sample_index_dir: Path, tmp_path: Path
) -> None:
    def late(body: dict[str, Any]) -> Reply:
        first = re.split(r"(?<=\.)\s", sources_in(body)[2])[0].rstrip(".")
        return Reply(text=f"{first} [2].")

    with OpenAIStub() as stub:
        stub.default = late
        settings = index_copy(sample_index_dir, tmp_path, openai_base_url=stub.url, llm_model="stub-model",
                              llm_max_retries=0)
        with served(create_app(settings, with_ui=False), settings) as url:
            chunks = list(client(url).chat.completions.create(
                model=MODEL_NAME, messages=[{"role": "user", "content": QUESTION}], stream=True))
    first, last = chunks[0], chunks[-1]
    assert first.choices[0].delta.role == "assistant" and not first.choices[0].delta.content
    evidence = (first.model_extra or {})["evidence"]
    assert evidence["citations"] and not evidence["abstained"]
    assert [s["number"] for s in evidence["sources"]] == list(range(1, settings.top_k + 1))
    assert all("evidence" not in (chunk.model_extra or {}) for chunk in chunks[1:])
    content = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert content != evidence["answer"] and evidence["answer"] not in content  # never shown as the answer
    assert (last.model_extra or {})["mode"] == "llm"
    assert content.endswith("[1].") and (last.model_extra or {})["citations"] == [1]
