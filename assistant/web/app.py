"""The web service: one FastAPI app with the REST API, the OpenAI-compatible API, the widget and the UI.

    app = create_app(settings)         # routes: /api/*, /v1/*, /widget.js, /widget/demo, /docs, / (UI)
    run(settings, ingest_paths=[Path("data/articles")])   # ingest, then serve with uvicorn

Works with the extractive default and no API key. See assistant/security.py for who may call what.
"""

from __future__ import annotations

import asyncio
import html
import logging
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import FastAPI, File, Header, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from assistant.config import Settings
from assistant.desk import Desk
from assistant.errors import AssistantError, SourceError
from assistant.feed_store import FeedStore
from assistant.service import Assistant
from assistant.storage import Store
from assistant.web.editors import build_router as editors_router
from assistant.web.health import index_health, model_health
from assistant.web.http import (
    CONVERSATION_ID,
    WIDGET_TOKEN_HEADER,
    Caller,
    FiltersIn,
    HistoryTurn,
    TurnRunner,
    authorize,
    conversation_turn,
    dumps,
    error_body,
    error_response,
    own_origin,
    result_of,
    save_turn,
    started,
    to_filters,
)
from assistant.web.middleware import (
    AllowedHosts,
    BodySizeLimit,
    ClosedPaths,
    RateLimit,
    SecurityHeaders,
    SiteCORS,
)
from assistant.web.openai_compat import build_router as openai_router
from assistant.web.publisher import build_router as publisher_router
from assistant.web.security import Security, bearer_token
from assistant.web.syncing import FeedSyncer

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("assistant.web.app")
STATIC = Path(__file__).resolve().parent / "static"
SESSION_PATH = "/api/widget/session"


class ChatRequest(BaseModel):
    question: str = Field(description="The question, in any language.")
    history: list[HistoryTurn] = Field(default_factory=list, description="Earlier turns, oldest first.")
    filters: FiltersIn | None = None
    conversation_id: str | None = Field(
        None, pattern=CONVERSATION_ID,
        description="Continue this stored conversation (every answer returns its id): without `history`"
        " the server reads the earlier turns itself. Unknown, expired (CONVERSATION_TTL_HOURS after its last"
        " turn) or another site's: 404.")


class FeedbackRequest(BaseModel):
    turn_id: str = Field(max_length=64)
    rating: Literal[1, -1] = Field(description="+1 (helpful) or -1 (not helpful).")
    comment: str = Field("", max_length=2000)


class SessionRequest(BaseModel):
    site_key: str = Field(max_length=100)


def create_app(settings: Settings, assistant: Assistant | None = None, store: Store | None = None,
               *, with_ui: bool = True) -> FastAPI:
    """The app over ``assistant`` (opened from settings when None) and ``store`` (DATABASE_URL)."""
    assistant = assistant or Assistant.open(settings)
    store = store or Store.open(settings.database_url)
    security = Security.from_settings(settings)
    runner = TurnRunner(assistant, workers=settings.turn_workers)
    feeds = FeedStore(store.engine)
    desk = Desk.open(settings, assistant, store)  # the unanswered-questions queue and the editors' figures
    syncer = FeedSyncer(settings, assistant, feeds, desk=desk)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        syncer.start()
        yield
        await asyncio.to_thread(syncer.stop)
        runner.close()

    app = FastAPI(title="News assistant", version="0.1.0", lifespan=lifespan,
                  description="Answers questions about news articles, with citations to the passages used. "
                              "Cross-origin browser calls need a widget session (`X-Widget-Token`).")
    app.state.settings, app.state.assistant, app.state.store = settings, assistant, store
    app.state.security, app.state.runner = security, runner
    app.state.model_check = {"at": -1e9, "result": None}
    app.state.feeds, app.state.desk = feeds, desk

    # Last added is outermost: the Host is checked first; the limits count before anything is read (every
    # route but the cheap ones of middleware.FREE_PATHS); CORS headers also go on the 429s and 413s.
    app.add_middleware(SecurityHeaders, frame_ancestors=security.allowed_origins)
    app.add_middleware(ClosedPaths)
    app.add_middleware(BodySizeLimit, limits={
        "/api/": (settings.max_request_bytes, "MAX_REQUEST_BYTES", "Send a shorter question or history."),
        "/v1/": (settings.max_request_bytes, "MAX_REQUEST_BYTES", "Send fewer or shorter messages."),
        "/api/admin/": (settings.max_upload_bytes, "MAX_UPLOAD_BYTES", "Upload fewer or smaller files."),
        "/api/documents/": (settings.max_upload_bytes, "MAX_UPLOAD_BYTES", "Send a shorter article."),
    })
    app.add_middleware(RateLimit, security=security)
    app.add_middleware(SiteCORS, open_paths=(SESSION_PATH,),
                       allow_origins=security.allowed_origins, allow_credentials=False,
                       allow_methods=["GET", "POST"], allow_headers=["Content-Type", WIDGET_TOKEN_HEADER],
                       expose_headers=["Retry-After"], max_age=600)
    app.add_middleware(AllowedHosts, allowed_hosts=settings.trusted_hosts)
    install_error_handlers(app)
    add_routes(app)
    app.include_router(openai_router())
    app.include_router(publisher_router())
    app.include_router(editors_router())
    add_not_found(app)
    if with_ui:
        mount_ui(app, assistant, settings, store)
    return app


def install_error_handlers(app: FastAPI) -> None:
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


def wants_events(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


def add_routes(app: FastAPI) -> None:
    """The routes, by who calls them."""
    add_chat_routes(app)
    add_service_routes(app)
    add_widget_routes(app)
    add_admin_routes(app)


def add_chat_routes(app: FastAPI) -> None:
    """Readers: questions and feedback."""
    @app.post("/api/chat", tags=["chat"], summary="Ask a question (JSON, or server-sent events)",
              responses={200: {"content": {"text/event-stream": {}}}})
    async def chat(body: ChatRequest, request: Request) -> Any:
        """With `Accept: text/event-stream`: with a language model first an `evidence` event (this
        turn's sources and the articles quoted, citing them: `{"answer", "abstained", "sources",
        "citations"}`; to read while the model writes, never the answer), then `token` events
        (`{"text"}`), a `sources` event, then `done` with the final result; otherwise the final result
        as JSON: answer, sources, citations, abstained, turn_id, conversation_id, lang (the question's),
        as_of (the publication date, YYYY-MM-DD, of the newest article cited; null when none is dated)
        and as_of_label (the same in the question's language: "As of 2 April 2025"; "" without a date),
        revision_label ("Corrected on 29 November 2026" when a cited article corrects an earlier one, see
        `supersedes` in PUT /api/documents; "" otherwise). Questions about what is new ("What happened
        this week?") and timelines ("Give me a timeline of X") answer with one cited line per article."""
        caller: Caller = authorize(request)
        conversation_id, history = await conversation_turn(
            request, caller, body.conversation_id, [turn.model_dump() for turn in body.history])
        runner: TurnRunner = request.app.state.runner
        source = "widget" if caller.kind == "widget" else "api"
        if not wants_events(request):
            final = await runner.answer(body.question, history, to_filters(body.filters))
            turn_id = await save_turn(request, conversation_id, final, source, caller)
            return result_of(final, turn_id, conversation_id)
        events = await started(runner.events(body.question, history, to_filters(body.filters)))
        return EventSourceResponse(chat_events(request, events, conversation_id, source, caller), ping=15)

    @app.post("/api/feedback", tags=["chat"], summary="Thumbs up (+1) or down (-1) on an answer")
    async def feedback(body: FeedbackRequest, request: Request) -> dict[str, Any]:
        """A thumbs down puts the turn's question in the unanswered-questions queue (once per turn)."""
        authorize(request)
        await asyncio.to_thread(request.app.state.store.add_feedback, body.turn_id, body.rating, body.comment)
        if body.rating == -1:
            await asyncio.to_thread(request.app.state.desk.disliked, body.turn_id)
        return {"stored": True, "turn_id": body.turn_id, "rating": body.rating}


def add_service_routes(app: FastAPI) -> None:
    """Operators: health and statistics."""
    @app.get("/api/health", tags=["service"], summary="Index and model reachability")
    async def health(request: Request) -> JSONResponse:
        """200 "ok" when the index and the model (when one is configured) work. 503 "degraded" when the
        model fails (unreachable, the last call failed, or its circuit breaker is open): answers still
        come, quoting the articles. 503 "unavailable" when the index cannot be reached."""
        index = await index_health(request.app)
        model = await model_health(request.app)
        model_ok = model.get("reachable") is not False and not model.get("failing")
        working = index["reachable"] and index.get("searchable", True)
        status = "unavailable" if not working else "ok" if model_ok else "degraded"
        return JSONResponse({"status": status, "index": index, "model": model},
                            status_code=200 if status == "ok" else 503)

    @app.get("/api/stats", tags=["service"], summary="Index statistics, feedback counts and feeds' status")
    async def stats(request: Request,
                    authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        """Needs `Authorization: Bearer <ADMIN_TOKEN>`. Feed addresses and errors come redacted."""
        state = request.app.state
        client = request.client.host if request.client else "unknown"
        state.security.check_admin(bearer_token(authorization), client)
        figures = await asyncio.to_thread(state.assistant.stats)
        feedback = await asyncio.to_thread(state.store.feedback_counts)
        feeds = await asyncio.to_thread(state.feeds.all)
        return {"index": figures, "feedback": feedback,
                "mode": "llm" if state.assistant.chat_model is not None else "extractive",
                "feeds": [{key: value for key, value in feed.to_dict().items()
                           if key not in ("etag", "last_modified")} for feed in feeds]}


def add_widget_routes(app: FastAPI) -> None:
    """News sites: the widget's session, script and demo page."""
    @app.post(SESSION_PATH, tags=["widget"], summary="A short-lived session for the widget")
    async def widget_session(body: SessionRequest, request: Request) -> dict[str, Any]:
        """Issued only to a page whose Origin the site allows (SITES); bound to that origin."""
        from assistant.web.security import SESSION_TTL_SECONDS

        security: Security = request.app.state.security
        origin = request.headers.get("origin")
        token = security.issue_session(body.site_key, origin)
        security.limit_site(body.site_key)
        return {"token": token, "expires_in": SESSION_TTL_SECONDS, "site_key": body.site_key}

    @app.get("/widget.js", include_in_schema=False)
    async def widget_js() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript; charset=utf-8", headers={
            "Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "cross-origin"})

    @app.get("/widget/demo", include_in_schema=False)
    async def widget_demo(request: Request) -> HTMLResponse:
        origin = own_origin(request)
        site_key = request.app.state.security.site_for_origin(origin)
        notice = "" if site_key else (
            f"<p class=notice>No site allows this origin yet, so the widget will be refused. "
            f"Start the server with <code>SITES=demo={html.escape(origin)}</code> to try it.</p>")
        page = (STATIC / "demo.html").read_text(encoding="utf-8")
        page = page.replace("{{SITE_KEY}}", html.escape(site_key or "demo")).replace("{{NOTICE}}", notice)
        return HTMLResponse(page, headers={
            "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                       "img-src 'self' data:; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff"})


def add_admin_routes(app: FastAPI) -> None:
    """Admins: uploads (the publisher API is in publisher.py)."""
    @app.post("/api/admin/ingest", tags=["admin"], summary="Upload documents and ingest them")
    async def admin_ingest(request: Request, files: Annotated[list[UploadFile], File()],
                           authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        """Needs `Authorization: Bearer <ADMIN_TOKEN>`. Documents keep their file names as ids."""
        request.app.state.security.check_admin(bearer_token(authorization),
                                               request.client.host if request.client else "unknown")
        return await ingest_uploads(request.app, files)


def add_not_found(app: FastAPI) -> None:
    """Unknown /api and /v1 paths answer in the API's error shape (not the UI's 404, mounted at /)."""
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


async def chat_events(request: Request, events: AsyncIterator[dict[str, Any]], conversation_id: str,
                      source: str, caller: Caller) -> AsyncIterator[dict[str, str]]:
    """`evidence` (with a model), `token` events, then `sources`, then `done`; an `error` event if the
    turn fails midway."""
    try:
        async for event in events:
            if "evidence" in event:
                yield {"event": "evidence", "data": dumps(event["evidence"].to_dict())}
            if event.get("token"):
                yield {"event": "token", "data": dumps({"text": event["token"]})}
            if "answer" in event:
                answer = event["answer"]
                yield {"event": "sources", "data": dumps({"sources": [s.to_dict() for s in answer.sources]})}
                turn_id = await save_turn(request, conversation_id, answer, source, caller)
                yield {"event": "done", "data": dumps(result_of(answer, turn_id, conversation_id))}
                return
        raise AssistantError("The answer stream ended without an answer; try again.")
    except Exception as exc:
        yield {"event": "error", "data": dumps(error_body(exc))}


async def ingest_uploads(app: FastAPI, files: list[UploadFile]) -> dict[str, Any]:
    """Write the uploads to a temporary folder and ingest them; skipped files are reported."""
    state = app.state
    with tempfile.TemporaryDirectory(prefix="upload-") as folder:
        paths = []
        for upload in files:
            name = Path(upload.filename or "").name
            if not name or name.startswith("."):
                raise SourceError(upload.filename or "(no name)", "needs a file name such as article.txt")
            path = Path(folder) / name
            path.write_bytes(await upload.read())
            paths.append(path)

        # the service's lock is held batch by batch: a PUT meanwhile waits seconds
        report = await asyncio.to_thread(state.assistant.ingest, paths)
    if report.skipped and not (report.added or report.updated or report.unchanged):
        reasons = "; ".join(f"{name}: {reason}" for name, reason in report.skipped)
        raise SourceError("upload", f"nothing could be ingested ({reasons})")
    answers = await asyncio.to_thread(state.desk.check_new, [*report.added, *report.updated])
    return {"added": report.added, "updated": report.updated, "unchanged": report.unchanged,
            "answers": answers,
            "skipped": [{"document": name, "reason": reason} for name, reason in report.skipped],
            "chunks_written": report.chunks_written, "seconds": round(report.seconds, 2),
            "summary": report.summary()}


def mount_ui(app: FastAPI, assistant: Assistant, settings: Settings, store: Store) -> None:
    """The Gradio chat UI at / (mounted last, so the API routes above win)."""
    import gradio as gr

    from assistant.web.ui import build_ui
    from assistant.web.ui_layout import mount_options

    gr.mount_gradio_app(app, build_ui(assistant, settings, store, security=app.state.security,
                                      desk=app.state.desk),
                        path="/", **mount_options())


def server_config(app: FastAPI, settings: Settings, log_level: str = "info") -> uvicorn.Config:
    """How uvicorn serves the app: address, trusted proxies (the client a rate limit counts)."""
    import uvicorn

    proxies = settings.forwarded_allow_ips.strip()
    return uvicorn.Config(app, host=settings.host, port=settings.port, log_level=log_level,
                          timeout_graceful_shutdown=5, proxy_headers=bool(proxies),
                          forwarded_allow_ips=proxies or None)


def run(settings: Settings, ingest_paths: Sequence[Path] = ()) -> None:
    """Ingest ``ingest_paths`` (if any), then serve on settings.host:settings.port until stopped."""
    import uvicorn

    assistant = Assistant.open(settings)
    report = None
    if ingest_paths:
        report = assistant.ingest(ingest_paths)
    server = uvicorn.Server(server_config(create_app(settings, assistant), settings))
    console = logging.getLogger("uvicorn.error")  # configured by uvicorn.Config: shown at INFO
    if report is not None:
        for name, reason in report.skipped:
            console.warning("ingest skipped %s: %s", name, reason)
        console.info("ingest: %s", report.summary())
    url = f"http://{settings.host}:{settings.port}"
    console.info("News assistant: chat UI at %s/ · API docs at %s/docs · widget demo at %s/widget/demo",
                    url, url, url)
    server.run()
