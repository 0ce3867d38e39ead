"""The chat model: a ChatOpenAI from its settings, the guard every call goes through, failures as ModelErrors.

    model = make_chat_model(settings.model)  # OpenAI (OPENAI_API_KEY) or a compatible one (OPENAI_BASE_URL)
    guard = ModelGuard(settings.model)       # one per process: its circuit breaker is shared by every turn
    for chunk in guard.stream(lambda timeout: model.stream(messages, timeout=timeout), has_content):
        ...                                # raises ModelError (``.reader``: the words for readers)
    reply = guard.invoke(lambda timeout: model.bind(timeout=timeout).invoke(messages))

The guard bounds the model's time in a turn. Its first content must arrive within
LLM_FIRST_TOKEN_TIMEOUT, all attempts together: retries (connection errors, 408/409/429/5xx, with
the server's Retry-After) happen only before anything arrived and only while the deadline leaves
room, so a server that never answers costs one deadline, not (retries + 1) × LLM_TIMEOUT. Each
wait for a later chunk is bounded by LLM_TIMEOUT (and by the deadline), so a stalled stream ends.
After LLM_BREAKER_FAILURES failed calls in a row the circuit breaker skips the model for
LLM_BREAKER_COOLDOWN seconds (turns answer extractively at once); then one call tries it again
(half-open) while the others still skip it; its success closes the breaker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import openai
from langchain_openai import ChatOpenAI

from assistant.config import ModelSettings
from assistant.errors import ModelError

log = logging.getLogger(__name__)
T = TypeVar("T")

UNUSED_KEY = "not-needed"  # compatible servers (llama.cpp, vLLM, Ollama) usually accept any key


def make_chat_model(llm: ModelSettings, max_tokens: int | None = None) -> ChatOpenAI:
    """A ChatOpenAI for the configured model; ``max_tokens`` is always sent."""
    if not llm.llm_configured:
        raise ModelError("No language model is configured: set OPENAI_API_KEY or OPENAI_BASE_URL.")
    key = llm.openai_api_key.get_secret_value() if llm.openai_api_key else UNUSED_KEY
    limit = max_tokens or llm.llm_max_tokens
    # langchain-openai sends max_tokens as `max_completion_tokens`, which OpenAI wants but several
    # compatible servers (llama.cpp's among them) ignore; for those, send `max_tokens` as well.
    extra_body = {"max_tokens": limit} if llm.openai_base_url else None
    return ChatOpenAI(
        model=llm.llm_model,
        api_key=key,  # type: ignore[arg-type]
        base_url=llm.openai_base_url,
        max_tokens=limit,  # type: ignore[call-arg]
        temperature=llm.llm_temperature,
        timeout=llm.llm_timeout,
        max_retries=0,  # ModelGuard retries, inside the first-token deadline
        extra_body=extra_body,
        stream_usage=False,
    )


def with_max_tokens(model: Any, llm: ModelSettings, max_tokens: int) -> Any:
    """The same model, answering in at most ``max_tokens`` tokens (a bound Runnable)."""
    kwargs: dict[str, Any] = {"max_tokens": max_tokens}
    if llm.openai_base_url:
        kwargs["extra_body"] = {"max_tokens": max_tokens}
    return model.bind(**kwargs)


def endpoint(llm: ModelSettings) -> str:
    return llm.openai_base_url or "the OpenAI API"


# What the model client raises when the endpoint fails: its own errors (transport errors, HTTP
# statuses, timeouts; openai wraps those of a stream too), and what its parsers raise on a body that
# is not a chat completion: "No generation chunks were returned" (ValueError) for a garbage, HTML
# or unstreamed body to a streamed request, TypeError / ValueError for one to a plain request.
# Caught only around the client's own calls, so these never hide a bug of ours.
MODEL_FAULTS: tuple[type[BaseException], ...] = (
    openai.APIError, httpx.HTTPError, OSError, ValueError, TypeError, LookupError, AttributeError,
)
RETRY_STATUSES = {408, 409, 429}
MIN_ATTEMPT_SECONDS = 1.0  # a retry is not started with less of the deadline left than this
MAX_BACKOFF_SECONDS = 8.0


class FirstTokenTimeout(TimeoutError):
    """The stream was open but no content came before the first-token deadline."""


class CircuitBreaker:
    """Consecutive model failures → skip the model for a cool-down; then one trial call (half-open).

    Thread-safe; one per process (owned by the ModelGuard built from ModelSettings), so every turn sees
    what the others learnt.
    """

    def __init__(self, failures: int, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.failures = failures
        self.cooldown = cooldown
        self.clock = clock
        self._lock = threading.Lock()
        self.consecutive = 0
        self.opened_at: float | None = None
        self.probing = False  # a half-open trial call is under way
        self.skipped = 0
        self.last_call: str | None = None  # "ok" or "failed"
        self.last_error = ""  # the reader's words for the last failure

    @property
    def state(self) -> str:
        """closed (calls go through), open (skipped), half-open (the cool-down is over)."""
        if self.opened_at is None:
            return "closed"
        return "open" if self.clock() - self.opened_at < self.cooldown else "half-open"

    def admit(self) -> str | None:
        """The state the call is let through in ("closed" or "half-open"), or None: skip the model."""
        with self._lock:
            state = self.state
            if state == "closed":
                return state
            if state == "half-open" and not self.probing:
                self.probing = True
                return state
            self.skipped += 1
            return None

    def succeeded(self) -> None:
        with self._lock:
            self.consecutive, self.opened_at, self.probing, self.last_call = 0, None, False, "ok"

    def failed(self, reader: str) -> None:
        with self._lock:
            self.consecutive += 1
            self.last_call, self.last_error = "failed", reader
            if self.consecutive >= self.failures or self.probing:
                self.opened_at = self.clock()
            self.probing = False

    def abandoned(self, admitted: str) -> None:
        """A call ended without an outcome (its reader went away): free the trial slot."""
        if admitted == "half-open":
            with self._lock:
                self.probing = False

    def report(self) -> dict[str, Any]:
        """For /api/health: state, failures in a row, calls skipped so far, the last call's outcome."""
        with self._lock:
            report: dict[str, Any] = {"breaker": self.state, "consecutive_failures": self.consecutive,
                                      "skipped_calls": self.skipped, "last_call": self.last_call}
            if self.last_call == "failed":
                report["error"] = self.last_error
            return report

    @property
    def failing(self) -> bool:
        """The breaker is not closed, or the last call failed."""
        return self.state != "closed" or self.last_call == "failed"


class ModelGuard:
    """Every call to the chat model: breaker, first-token deadline, retries inside it, errors translated."""

    def __init__(self, llm: ModelSettings, breaker: CircuitBreaker | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.llm = llm
        self.breaker = breaker or CircuitBreaker(llm.llm_breaker_failures, llm.llm_breaker_cooldown,
                                                 clock)
        self.clock = clock
        self.sleep = sleep

    def invoke(self, call: Callable[[float], T]) -> T:
        """``call(timeout)`` under the guard (a non-streamed request: its reply is its first content)."""
        results = list(self.stream(lambda timeout: iter([call(timeout)]), lambda _: True))
        return results[0]

    def stream(self, open_stream: Callable[[float], Iterator[T]],
               has_content: Callable[[T], bool]) -> Iterator[T]:
        """The chunks of ``open_stream(timeout)`` (``timeout``: seconds for any one wait), under the guard.

        Raises ModelError when the breaker skips the model, when no content came before the
        first-token deadline (all attempts together), or when the endpoint failed.
        """
        llm = self.llm
        admitted = self.breaker.admit()
        if admitted is None:
            raise skipped_error(llm, self.breaker)
        deadline = self.clock() + llm.llm_first_token_timeout
        attempt = 0
        outcome = False
        try:
            while True:
                timeout = max(0.05, min(llm.llm_timeout, deadline - self.clock()))
                started = False
                chunks: Iterator[T] | None = None
                try:
                    chunks = iter(open_stream(timeout))
                    for chunk in chunks:
                        if not started:
                            if has_content(chunk):
                                started = True
                            elif self.clock() > deadline:
                                raise FirstTokenTimeout("no content before the first-token deadline")
                        yield chunk
                except MODEL_FAULTS as exc:
                    wait = None if started else self.retry_wait(exc, attempt, deadline)
                    if wait is None:
                        error = model_error(exc, llm, midstream=started, attempts=attempt + 1)
                        log.warning("model call failed: %s", error, exc_info=exc)
                        self.breaker.failed(error.reader)
                        outcome = True
                        raise error from exc
                    log.info("model call failed (%s), attempt %d; again in %.1f s", _short(exc),
                             attempt + 1, wait)
                    self.sleep(wait)
                    attempt += 1
                    continue
                finally:
                    close = getattr(chunks, "close", None)
                    if close is not None:
                        close()
                self.breaker.succeeded()
                outcome = True
                return
        finally:
            if not outcome:
                self.breaker.abandoned(admitted)

    def retry_wait(self, exc: BaseException, attempt: int, deadline: float) -> float | None:
        """Seconds to wait before trying again, or None: give up (not retryable, or no time left)."""
        if attempt >= self.llm.llm_max_retries:
            return None
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code not in RETRY_STATUSES and exc.status_code < 500:
                return None
            wait = retry_after(exc.response.headers)
        elif isinstance(exc, openai.APIConnectionError | httpx.TransportError | ConnectionError):
            wait = None
        else:  # a body that is not a chat completion, a timeout: trying again will not help
            return None
        if wait is None:
            wait = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** attempt)
        if self.clock() + wait + MIN_ATTEMPT_SECONDS > deadline:
            return None
        return wait


def retry_after(headers: Any) -> float | None:
    """The server's Retry-After (seconds, or milliseconds in retry-after-ms), if it sent one."""
    for name, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / divisor)
        except ValueError:
            return None
    return None


def skipped_error(llm: ModelSettings, breaker: CircuitBreaker) -> ModelError:
    return ModelError(
        f"The model at {endpoint(llm)} failed {breaker.consecutive} times in a row; it is skipped "
        f"for {llm.llm_breaker_cooldown:g} s after each failure (LLM_BREAKER_COOLDOWN).",
        reason="model_skipped",
    )


def model_error(exc: BaseException, llm: ModelSettings, midstream: bool = False,
                attempts: int = 1) -> ModelError:
    """A ModelError that says what failed and what to do (for the log) and what happened (for readers).

    ``midstream``: the failure came after the answer had started (a stream cut off or stalled).
    The reader's words (``reason``, a key of assistant/languages) never name the server.
    """
    if isinstance(exc, ModelError):
        return exc
    where = endpoint(llm)
    model = llm.llm_model
    values: dict[str, str] = {}
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    if midstream:
        message = f"The model at {where} stopped in the middle of its answer ({_kind(exc)}). Try again."
        reason = "model_stopped"
    elif isinstance(exc, FirstTokenTimeout | openai.APITimeoutError):
        message = (f"The model at {where} did not start its answer within "
                   f"{llm.llm_first_token_timeout:g} s (LLM_FIRST_TOKEN_TIMEOUT, {tries}). "
                   "Check the server, or raise LLM_FIRST_TOKEN_TIMEOUT.")
        reason = "model_slow"
    elif isinstance(exc, openai.APIConnectionError | httpx.TransportError | ConnectionError):
        message = (f"The model server at {where} cannot be reached ({tries}). "
                   "Check that it is running and that OPENAI_BASE_URL is right.")
        reason = "model_unreachable"
    elif isinstance(exc, openai.RateLimitError):
        message = (f"The model at {where} is rate-limiting requests (HTTP 429, {tries}). "
                   "Wait a moment and try again.")
        reason = "model_rate_limited"
    elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        message = f"The model at {where} rejected the API key. Check OPENAI_API_KEY."
        reason = "model_misconfigured"
    elif isinstance(exc, openai.NotFoundError):
        message = f"The model {model!r} is not available at {where}. Check LLM_MODEL and OPENAI_BASE_URL."
        reason = "model_misconfigured"
    elif isinstance(exc, openai.BadRequestError):
        message = (f"The model at {where} refused the request ({_detail(exc)}). "
                   "If the prompt is too long, lower LLM_CONTEXT_TOKENS or TOP_K.")
        reason = "model_refused"
    elif isinstance(exc, openai.APIStatusError):
        message = f"The model at {where} failed with HTTP {exc.status_code} ({tries}). Try again later."
        reason, values = "model_http_error", {"status": str(exc.status_code)}
    elif isinstance(exc, openai.APIError):
        message = f"The model at {where} failed ({_short(exc)}). Try again."
        reason = "model_failed"
    else:
        message = (f"The model at {where} sent a reply that is not an OpenAI chat completion "
                   f"({_short(exc)}). Check that OPENAI_BASE_URL names an OpenAI-compatible /v1 "
                   "endpoint, and any proxy in front of it.")
        reason = "model_unreadable"
    return ModelError(message, reason=reason, **values)


def _kind(exc: BaseException) -> str:
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return "it sent nothing more within LLM_TIMEOUT"
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError | ConnectionError):
        return f"the connection broke: {type(exc).__name__}"
    return _short(exc)


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return str(message)[:200]
    return str(exc)[:200]
