"""The editors' API: what readers asked and could not get (the unanswered-questions queue).

    GET /api/admin/questions?status=unanswered|answered|all            JSON {"questions": [...]}
    GET /api/admin/questions?status=all&format=csv                      the same as CSV

Needs `Authorization: Bearer <ADMIN_TOKEN>` (the one admin check). Each item: "question" (its most asked
wording), "variants", "count", "languages", "first_asked", "last_asked", "closest" (articles, as
sources), "answered_by" (ids of articles ingested later that answer it), "refused" and "disliked" (how
many of the count were refusals and thumbs-down answers).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from assistant.web.publisher import admin_only


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/admin", tags=["admin"])

    @router.get("/questions", summary="What readers asked and could not get, grouped with near-duplicates",
                responses={200: {"content": {"text/csv": {}}}})
    async def questions(request: Request,
                        status: Annotated[Literal["unanswered", "answered", "all"], Query(
                            description="unanswered (default): no article answers it yet; answered: an "
                                        "article ingested later does; all.")] = "unanswered",
                        format: Annotated[Literal["json", "csv"], Query(
                            description="json (default) or csv.")] = "json",
                        authorization: Annotated[str | None, Header()] = None) -> Any:
        admin_only(request, authorization)
        queue = request.app.state.desk.queue
        if format == "csv":
            text = await asyncio.to_thread(queue.as_csv, status)
            return Response(text, media_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": f'attachment; filename="questions-{status}.csv"'})
        items: list[dict[str, Any]] = await asyncio.to_thread(queue.items, status)
        return {"questions": items}

    return router
