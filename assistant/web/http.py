"""What the web routes share: error → HTTP status and body, the caller check, the filters record.

    install_error_handlers(app); add_not_found(app)      # every error as {"error": {"type", "message"}}
    caller = authorize(request, security)                # Caller("api" | "widget", ip, site_key)
    filters = to_filters(body.filters)                   # FiltersIn → Filters (a bad date: QuestionError)

Errors are mapped to statuses in one place (``error_status``); bodies are always
``{"error": {"type": ..., "message": ...}}`` and never carry a stack trace (the log does).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from assistant.documents import Filters
from assistant.errors import (
    AssistantError,
    ConfigError,
    DocumentNotFound,
    IndexNotReady,
    ModelError,
    QuestionError,
    SourceError,
)
from assistant.web.security import (
    AccessDenied,
    AdminRequired,
    RateLimited,
    RequestTooLarge,
    Security,
    SessionInvalid,
    normalize_origin,
)

log = logging.getLogger("assistant.web.app")

WIDGET_TOKEN_HEADER = "X-Widget-Token"
CONVERSATION_ID = r"^[A-Za-z0-9_.:-]{1,128}$"

# --- records --------------------------------------------------------------------------------


class FiltersIn(BaseModel):
    lang: str | None = Field(None, max_length=16, description="Only articles in this language, e.g. en.")
    outlet: str | None = Field(None, max_length=300)
    date_from: str | None = Field(None, max_length=32, description="YYYY-MM-DD, inclusive.")
    date_to: str | None = Field(None, max_length=32, description="YYYY-MM-DD, inclusive.")
    exclude_sections: list[str] = Field(
        default_factory=list, max_length=50,
        description="Leave out articles of these sections (e.g. [\"opinion\"]), besides EXCLUDE_SECTIONS.")
    exclude_doc_ids: list[Annotated[str, Field(max_length=500)]] = Field(
        default_factory=list, max_length=200,
        description="Leave out these articles (their ids, as sent with PUT /api/documents/{id}).")

    def to_filters(self) -> Filters:
        """The checked Filters; a bad date is a QuestionError (400), worded as everywhere else."""
        return Filters.of(self.lang, self.outlet, self.date_from, self.date_to,
                          exclude_sections=[section[:200] for section in self.exclude_sections],
                          exclude_doc_ids=self.exclude_doc_ids)


def to_filters(filters: FiltersIn | None) -> Filters | None:
    return filters.to_filters() if filters is not None else None


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- errors ---------------------------------------------------------------------------------

STATUSES: list[tuple[type[AssistantError], int]] = [
    (QuestionError, 400),
    (SessionInvalid, 401),
    (AdminRequired, 401),
    (AccessDenied, 403),
    (DocumentNotFound, 404),
    (RequestTooLarge, 413),
    (SourceError, 422),
    (RateLimited, 429),
    (ConfigError, 500),
    (ModelError, 502),
    (IndexNotReady, 503),
]
HIDDEN = "Something went wrong on the server; it has been logged. Try again later."


def error_status(exc: BaseException) -> int:
    if isinstance(exc, AdminRequired) and exc.disabled:
        return 403
    return next((status for kind, status in STATUSES if isinstance(exc, kind)), 500)


def error_body(exc: BaseException) -> dict[str, Any]:
    """The JSON error for ``exc``; causes of 500s stay in the log."""
    status = error_status(exc)
    if status >= 500 and not isinstance(exc, IndexNotReady | ModelError):
        log.error("request failed", exc_info=exc)
        return {"error": {"type": "ServerError", "message": HIDDEN}}
    if status >= 500:
        log.warning("request failed: %s: %s", type(exc).__name__, exc)
    message = exc.reader if isinstance(exc, ModelError) else str(exc)  # the model's address stays in the log
    return {"error": {"type": type(exc).__name__, "message": message}}


def error_response(exc: BaseException) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return JSONResponse(error_body(exc), status_code=error_status(exc), headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every error in the API's shape: ours by ``error_status``, invalid requests 422, the rest 500."""
    @app.exception_handler(AssistantError)
    async def assistant_error(_: Request, exc: AssistantError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            "the body is not valid JSON" if err.get("type") == "json_invalid" else
            f"{'.'.join(str(p) for p in err.get('loc', ()) if p != 'body') or 'body'}: {err.get('msg')}"
            for err in exc.errors()
        )
        return JSONResponse({"error": {"type": "InvalidRequest", "message": f"Invalid request: {problems}."}},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": {"type": "HTTPError", "message": str(exc.detail)}},
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=500)


def add_not_found(app: FastAPI) -> None:
    """Unknown /api and /v1 paths answer in the API's error shape (not the UI's 404, mounted at /); a
    known path with another method is a 405 naming the methods it takes. Add it after every router."""
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    async def not_found(request: Request) -> JSONResponse:
        path = request.url.path
        routes = [route for route in app.router.routes
                  if not isinstance(route, Mount) and getattr(route, "endpoint", None) is not not_found]
        allowed = [method for method in methods
                   if any(route.matches({**request.scope, "method": method})[0] is Match.FULL
                          for route in routes)]
        if allowed:
            return JSONResponse({"error": {"type": "MethodNotAllowed", "message":
                                 f"{path} does not take {request.method}; use {' or '.join(allowed)}."}},
                                status_code=405, headers={"Allow": ", ".join(allowed)})
        return JSONResponse({"error": {"type": "NotFound", "message":
                             f"No endpoint {request.method} {path}; /docs lists the API."}}, status_code=404)

    for prefix in ("/api", "/v1"):
        app.add_api_route(prefix + "/{rest:path}", not_found, methods=methods, include_in_schema=False)


# --- callers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    kind: Literal["api", "widget"]
    ip: str
    site_key: str | None = None


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def own_origin(request: Request) -> str:
    return normalize_origin(f"{request.url.scheme}://{request.headers.get('host', '')}")


def authorize(request: Request, security: Security) -> Caller:
    """Cross-origin (browser) callers need a widget session for their origin (rate-limited per site;
    the per-IP limit is counted before, by middleware.RateLimit). Called in the route, after the body
    is read and checked, as every reader's route does."""
    origin = request.headers.get("origin")
    token = request.headers.get(WIDGET_TOKEN_HEADER)
    if token:
        claims = security.verify_session(token, origin)
        security.limit_site(claims.site_key)
        return Caller("widget", client_ip(request), claims.site_key)
    if origin and normalize_origin(origin) != own_origin(request):
        raise AccessDenied(f"Requests from {origin} need a widget session: load the widget with a site key "
                           f"that allows this origin, or call the API from a server.")
    return Caller("api", client_ip(request))
