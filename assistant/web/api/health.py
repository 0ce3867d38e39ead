"""GET /api/health: whether the index answers and searches, and how the model's calls go.

    curl -s http://127.0.0.1:7860/api/health      # 200 {"status": "ok", "index": {...}, "model": {...}}

Public and minimal: counts and states, never an address (the model's is in the log only). The model's
endpoint is asked at most every MODEL_CHECK_SECONDS (``ModelProbe``, one per app).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from assistant.config import ModelSettings
from assistant.service import Assistant
from assistant.web.api.deps import AssistantDep

MODEL_CHECK_SECONDS = 15.0

router = APIRouter(tags=["service"])


class ModelProbe:
    """Whether the configured model answers (its /models, asked at most every 15 s) and how its calls
    went (``failing``: circuit breaker not closed or last call failed; ``calls``: the breaker's report)."""

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._at = -1e9
        self._result: dict[str, Any] | None = None

    async def report(self, assistant: Assistant) -> dict[str, Any]:
        settings = self.settings
        if not settings.llm_configured:
            return {"configured": False, "mode": "extractive", "reachable": None}
        now = asyncio.get_running_loop().time()
        if self._result is None or now - self._at >= MODEL_CHECK_SECONDS:
            self._result, self._at = await self._ask(settings), now
        return {**self._result, **assistant.model_calls()}

    @staticmethod
    async def _ask(settings: ModelSettings) -> dict[str, Any]:
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
            result.update(reachable=False,
                          error=f"The model endpoint cannot be reached ({type(exc).__name__}).")
        return result


def get_model_probe(request: Request) -> ModelProbe:
    return request.app.state.model_probe  # type: ignore[no-any-return]


ModelProbeDep = Annotated[ModelProbe, Depends(get_model_probe)]


@router.get("/api/health", summary="Index and model reachability")
async def health(assistant: AssistantDep, probe: ModelProbeDep) -> JSONResponse:
    """200 "ok" when the index and the model (when one is configured) work. 503 "degraded" when the
    model fails (unreachable, the last call failed, or its circuit breaker is open): answers still
    come, quoting the articles. 503 "unavailable" when the index cannot be reached. ``embedder``: its
    profile, and whether its thresholds were calibrated for it (``assistant calibrate``)."""
    index = await asyncio.to_thread(assistant.health)
    model = await probe.report(assistant)
    model_ok = model.get("reachable") is not False and not model.get("failing")
    working = index["reachable"] and index.get("searchable", True)
    status = "unavailable" if not working else "ok" if model_ok else "degraded"
    profile = assistant.profile
    embedder = {"profile": profile.name, "calibrated": profile.calibrated} if profile is not None else {}
    return JSONResponse({"status": status, "index": index, "model": model, "embedder": embedder},
                        status_code=200 if status == "ok" else 503)
