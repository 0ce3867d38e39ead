"""News sites: the widget's script, its short-lived session and the demo page.

    <script src="https://assistant.example.com/widget.js" data-site-key="demo" defer></script>
    POST /api/widget/session {"site_key": "demo"}   → {"token", "expires_in", "site_key"}  (X-Widget-Token)
    GET  /widget/demo                               the widget on a page of this server

A session is issued only to a page whose Origin the site allows (SITES) and is bound to that origin.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field

from assistant.web.api.deps import SecurityDep
from assistant.web.http import own_origin
from assistant.web.security import SESSION_TTL_SECONDS

STATIC = Path(__file__).resolve().parent.parent / "static"
SESSION_PATH = "/api/widget/session"

router = APIRouter(tags=["widget"])


class SessionRequest(BaseModel):
    site_key: str = Field(max_length=100)


@router.post(SESSION_PATH, summary="A short-lived session for the widget")
async def widget_session(body: SessionRequest, request: Request, security: SecurityDep) -> dict[str, Any]:
    """Issued only to a page whose Origin the site allows (SITES); bound to that origin."""
    token = security.issue_session(body.site_key, request.headers.get("origin"))
    security.limit_site(body.site_key)
    return {"token": token, "expires_in": SESSION_TTL_SECONDS, "site_key": body.site_key}


@router.get("/widget.js", include_in_schema=False)
async def widget_js() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript; charset=utf-8", headers={
        "Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin"})


@router.get("/widget/demo", include_in_schema=False)
async def widget_demo(request: Request, security: SecurityDep) -> HTMLResponse:
    origin = own_origin(request)
    site_key = security.site_for_origin(origin)
    notice = "" if site_key else (
        f"<p class=notice>No site allows this origin yet, so the widget will be refused. "
        f"Start the server with <code>SITES=demo={html.escape(origin)}</code> to try it.</p>")
    page = (STATIC / "demo.html").read_text(encoding="utf-8")
    page = page.replace("{{SITE_KEY}}", html.escape(site_key or "demo")).replace("{{NOTICE}}", notice)
    return HTMLResponse(page, headers={
        "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                   "img-src 'self' data:; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff"})
