"""The chat model: a ChatOpenAI built from Settings, and its failures turned into ModelErrors.

    model = make_chat_model(settings)      # OpenAI (OPENAI_API_KEY) or a compatible server (OPENAI_BASE_URL)
    try:
        ...model.stream(messages)...
    except Exception as exc:
        raise model_error(exc, settings) from exc

Retries with backoff are the openai client's own (``max_retries``: connection errors, timeouts,
408/409/429/5xx; it honours ``Retry-After``); ``timeout`` bounds every request and every read of a
stream, so a server that stops sending mid-answer cannot hang a turn.
"""

from __future__ import annotations

from typing import Any

from langchain_openai import ChatOpenAI

from assistant.config import Settings
from assistant.errors import ModelError

UNUSED_KEY = "not-needed"  # compatible servers (llama.cpp, vLLM, Ollama) usually accept any key


def make_chat_model(settings: Settings, max_tokens: int | None = None) -> ChatOpenAI:
    """A ChatOpenAI for the configured model; ``max_tokens`` is always sent."""
    if not settings.llm_configured:
        raise ModelError("No language model is configured: set OPENAI_API_KEY or OPENAI_BASE_URL.")
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else UNUSED_KEY
    limit = max_tokens or settings.llm_max_tokens
    # langchain-openai sends max_tokens as `max_completion_tokens`, which OpenAI wants but several
    # compatible servers (llama.cpp's among them) ignore; for those, send `max_tokens` as well.
    extra_body = {"max_tokens": limit} if settings.openai_base_url else None
    return ChatOpenAI(
        model=settings.llm_model,
        api_key=key,  # type: ignore[arg-type]
        base_url=settings.openai_base_url,
        max_tokens=limit,  # type: ignore[call-arg]
        temperature=settings.llm_temperature,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        extra_body=extra_body,
        stream_usage=False,
    )


def with_max_tokens(model: Any, settings: Settings, max_tokens: int) -> Any:
    """The same model, answering in at most ``max_tokens`` tokens (a bound Runnable)."""
    kwargs: dict[str, Any] = {"max_tokens": max_tokens}
    if settings.openai_base_url:
        kwargs["extra_body"] = {"max_tokens": max_tokens}
    return model.bind(**kwargs)


def endpoint(settings: Settings) -> str:
    return settings.openai_base_url or "the OpenAI API"


def model_error(exc: BaseException, settings: Settings, midstream: bool = False) -> ModelError:
    """A ModelError that says what failed and what to do; the cause stays chained for the logs.

    ``midstream``: the failure came after the answer had started (a stream cut off or stalled).
    """
    import openai

    where = endpoint(settings)
    model = settings.llm_model
    retries = settings.llm_max_retries
    if isinstance(exc, ModelError):
        return exc
    if midstream:
        message = f"The model at {where} stopped in the middle of its answer ({_kind(exc)}). Try again."
    elif isinstance(exc, openai.APITimeoutError):
        message = (f"The model at {where} did not answer within {settings.llm_timeout:g} s "
                   f"({retries} retries). Try again, or raise LLM_TIMEOUT.")
    elif isinstance(exc, openai.APIConnectionError):
        message = (f"The model server at {where} cannot be reached ({retries} retries). "
                   "Check that it is running and that OPENAI_BASE_URL is right.")
    elif isinstance(exc, openai.RateLimitError):
        message = (f"The model at {where} is rate-limiting requests (HTTP 429, {retries} retries). "
                   "Wait a moment and try again.")
    elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        message = f"The model at {where} rejected the API key. Check OPENAI_API_KEY."
    elif isinstance(exc, openai.NotFoundError):
        message = f"The model {model!r} is not available at {where}. Check LLM_MODEL and OPENAI_BASE_URL."
    elif isinstance(exc, openai.BadRequestError):
        message = (f"The model at {where} refused the request ({_detail(exc)}). "
                   "If the prompt is too long, lower LLM_CONTEXT_TOKENS or TOP_K.")
    elif isinstance(exc, openai.APIStatusError):
        message = (f"The model at {where} failed with HTTP {exc.status_code} ({retries} retries). "
                   "Try again later.")
    else:
        message = f"The model at {where} failed ({type(exc).__name__}: {exc}). Try again."
    return ModelError(message)


def is_model_failure(exc: BaseException) -> bool:
    """True for the failures of the endpoint (not for bugs in our own code)."""
    import httpx
    import openai

    transport: tuple[type[BaseException], ...] = (httpx.HTTPError, ConnectionError, TimeoutError)
    try:
        import httpx2  # the transport of openai >= 3

        transport += (httpx2.HTTPError,)
    except ImportError:  # pragma: no cover - older openai
        pass
    return isinstance(exc, (ModelError, IncompleteAnswer, openai.APIError, *transport))


def _kind(exc: BaseException) -> str:
    import openai

    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return "it sent nothing more within LLM_TIMEOUT"
    if isinstance(exc, IncompleteAnswer):
        return str(exc)
    return f"the connection broke: {type(exc).__name__}"


class IncompleteAnswer(Exception):
    """The stream ended without a finish reason (the server closed it mid-answer)."""


def _detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return str(message)[:200]
    return str(exc)[:200]
