"""What /api/health reports: whether the index answers and searches, and how the model's calls go.

Public and minimal: counts and states, never an address (the model's is in the log only).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from fastapi import FastAPI

from assistant.config import Settings

log = logging.getLogger("assistant.web.app")
MODEL_CHECK_SECONDS = 15.0


async def index_health(app: FastAPI) -> dict[str, Any]:
    """Whether the index answers, and a search through it works (a search can fail where a count
    does not: a damaged chunk, a vector index out of step with the records)."""
    return await asyncio.to_thread(app.state.assistant.health)


async def model_health(app: FastAPI) -> dict[str, Any]:
    """Whether the configured model answers (checked at most every 15 s) and how its calls went
    (``calls``: the circuit breaker's report; ``failing``: breaker not closed or last call failed)."""
    settings: Settings = app.state.settings
    if not settings.llm_configured:
        return {"configured": False, "mode": "extractive", "reachable": None}
    loop_time = asyncio.get_running_loop().time()
    cached = app.state.model_check
    if cached["result"] is not None and loop_time - cached["at"] < MODEL_CHECK_SECONDS:
        return with_calls(dict(cached["result"]), app)
    base = (settings.openai_base_url or "https://api.openai.com/v1").rstrip("/")
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    result: dict[str, Any] = {"configured": True, "mode": "llm", "model": settings.llm_model}
    try:
        async with httpx.AsyncClient(timeout=3.0) as client:
            response = await client.get(f"{base}/models", headers={"Authorization": f"Bearer {key}"})
        result["reachable"] = response.status_code < 500 and response.status_code not in (401, 403)
        if not result["reachable"]:
            result["error"] = f"The model endpoint answered HTTP {response.status_code}."
    except httpx.HTTPError as exc:
        result.update(reachable=False, error=f"The model endpoint cannot be reached ({type(exc).__name__}).")
    app.state.model_check = {"at": loop_time, "result": result}
    return with_calls(dict(result), app)


def with_calls(result: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    return {**result, **app.state.assistant.model_calls()}
