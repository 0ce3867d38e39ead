"""The web service: one FastAPI app with the REST API, the OpenAI-compatible API, the widget and the UI.

    app = create_app(settings)         # routes: /api/*, /v1/*, /widget.js, /widget/demo, /docs, / (UI)
    run(settings, ingest_paths=[Path("data/articles")])   # ingest, then serve with uvicorn

Thin wiring: the service (``service.Assistant``, the one door to the index) and the stores are built
here, the middleware added, the routers of ``assistant.web.api`` (one per resource) included and the
Gradio UI mounted at /. Works with the extractive default and no API key. See assistant/web/security.py
for who may call what.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI

from assistant.config import Settings
from assistant.desk import Desk
from assistant.feed_store import FeedStore
from assistant.service import Assistant
from assistant.storage import Store
from assistant.web.api import routers
from assistant.web.api.health import ModelProbe
from assistant.web.api.widget import SESSION_PATH
from assistant.web.http import WIDGET_TOKEN_HEADER, add_not_found, install_error_handlers
from assistant.web.middleware import (
    AllowedHosts,
    BodySizeLimit,
    ClosedPaths,
    RateLimit,
    SecurityHeaders,
    SiteCORS,
)
from assistant.web.security import Security
from assistant.web.syncing import FeedSyncer
from assistant.web.turns import Conversations, TurnRunner

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("assistant.web.app")


def create_app(settings: Settings, assistant: Assistant | None = None, store: Store | None = None,
               *, with_ui: bool = True) -> FastAPI:
    """The app over ``assistant`` (opened from settings when None) and ``store`` (DATABASE_URL)."""
    assistant = assistant or Assistant.open(settings)
    store = store or Store.open(settings.database_url)
    security = Security.from_settings(settings.security)
    runner = TurnRunner(assistant, workers=settings.turn_workers)
    feeds = FeedStore(store.engine)
    desk = Desk.open(settings, assistant, store)  # the unanswered-questions queue and the editors' figures
    syncer = FeedSyncer(settings.feeds, assistant, feeds, desk=desk)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        syncer.start()
        yield
        await asyncio.to_thread(syncer.stop)
        runner.close()

    app = FastAPI(title="News assistant", version="0.1.0", lifespan=lifespan,
                  description="Answers questions about news articles, with citations to the passages used. "
                              "Cross-origin browser calls need a widget session (`X-Widget-Token`).")
    # what the routes' dependencies hand out (assistant.web.api.deps): read from app.state there only
    app.state.settings, app.state.assistant, app.state.store = settings, assistant, store
    app.state.security, app.state.runner, app.state.feeds, app.state.desk = security, runner, feeds, desk
    app.state.conversations = Conversations(store, desk, settings.conversation_ttl_hours)
    app.state.model_probe = ModelProbe(settings.model)

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
    for router in routers():
        app.include_router(router)
    add_not_found(app)
    if with_ui:
        mount_ui(app, assistant, settings, store, security, desk)
    return app


def mount_ui(app: FastAPI, assistant: Assistant, settings: Settings, store: Store, security: Security,
             desk: Desk) -> None:
    """The Gradio chat UI at / (mounted last, so the API routes above win)."""
    import gradio as gr

    from assistant.web.ui import build_ui
    from assistant.web.ui_layout import mount_options

    gr.mount_gradio_app(app, build_ui(assistant, settings, store, security=security, desk=desk),
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
    report = assistant.ingest(ingest_paths) if ingest_paths else None
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
