"""The HTTP API, one router per resource, each route taking what it needs as a typed dependency
(``deps``: ``AssistantDep``, ``StoreDep``, ..., and ``AdminOnly``, the one admin check).

    for router in routers():
        app.include_router(router)

    chat        POST /api/chat, POST /api/feedback            readers (JSON or server-sent events)
    openai      /v1/chat/completions, /v1/models               OpenAI-compatible clients
    publisher   PUT/DELETE /api/documents/{id}                 a CMS (admin token)
    admin       /api/stats, /api/admin/ingest, /api/admin/questions   the admin (admin token)
    health      GET /api/health                                monitoring
    widget      /widget.js, /widget/demo, /api/widget/session  news sites
"""

from __future__ import annotations

from fastapi import APIRouter

from assistant.web.api import admin, chat, health, openai, publisher, widget


def routers() -> list[APIRouter]:
    """Every resource's router, in the order they are matched."""
    return [chat.router, health.router, admin.router, widget.router, openai.router, publisher.router]
