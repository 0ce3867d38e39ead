"""The admin's routes, each behind the admin token (``deps.AdminOnly``: `Authorization: Bearer <token>`):

    GET  /api/stats                             index figures, feedback counts, the followed feeds' status
    POST /api/admin/ingest   (multipart files)  upload documents and ingest them (ids: their file names)
    GET  /api/admin/questions?status=unanswered|answered|all[&format=csv]   the unanswered-questions queue

The queue's items: "question" (its most asked wording), "variants", "count", "languages", "first_asked",
"last_asked", "closest" (articles, as sources), "answered_by" (ids of articles ingested later that answer
it), "refused" and "disliked" (how many of the count were refusals and thumbs-down answers). Feed
addresses and errors come redacted. The publisher's routes (PUT/DELETE /api/documents) are in
``publisher``.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from assistant.errors import SourceError
from assistant.web.api.deps import AdminOnly, AssistantDep, DeskDep, FeedsDep, StoreDep

router = APIRouter(dependencies=[AdminOnly])


@router.get("/api/stats", tags=["service"], summary="Index statistics, feedback counts and feeds' status")
async def stats(assistant: AssistantDep, store: StoreDep, feeds: FeedsDep) -> dict[str, Any]:
    """Needs `Authorization: Bearer <ADMIN_TOKEN>`. Feed addresses and errors come redacted."""
    figures = await asyncio.to_thread(assistant.stats)
    feedback = await asyncio.to_thread(store.feedback_counts)
    followed = await asyncio.to_thread(feeds.all)
    return {"index": figures, "feedback": feedback,
            "mode": "llm" if assistant.chat_model is not None else "extractive",
            "feeds": [{key: value for key, value in feed.to_dict().items()
                       if key not in ("etag", "last_modified")} for feed in followed]}


@router.post("/api/admin/ingest", tags=["admin"], summary="Upload documents and ingest them")
async def admin_ingest(files: Annotated[list[UploadFile], File()], assistant: AssistantDep,
                       desk: DeskDep) -> dict[str, Any]:
    """Needs `Authorization: Bearer <ADMIN_TOKEN>`. Documents keep their file names as ids."""
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
        report = await asyncio.to_thread(assistant.ingest, paths)
    if report.skipped and not (report.added or report.updated or report.unchanged):
        reasons = "; ".join(f"{name}: {reason}" for name, reason in report.skipped)
        raise SourceError("upload", f"nothing could be ingested ({reasons})")
    answers = await asyncio.to_thread(desk.check_new, [*report.added, *report.updated])
    return {"added": report.added, "updated": report.updated, "unchanged": report.unchanged,
            "answers": answers,
            "skipped": [{"document": name, "reason": reason} for name, reason in report.skipped],
            "chunks_written": report.chunks_written, "seconds": round(report.seconds, 2),
            "summary": report.summary()}


@router.get("/api/admin/questions", tags=["admin"],
            summary="What readers asked and could not get, grouped with near-duplicates",
            responses={200: {"content": {"text/csv": {}}}})
async def questions(desk: DeskDep,
                    status: Annotated[Literal["unanswered", "answered", "all"], Query(
                        description="unanswered (default): no article answers it yet; answered: an "
                                    "article ingested later does; all.")] = "unanswered",
                    format: Annotated[Literal["json", "csv"], Query(
                        description="json (default) or csv.")] = "json") -> Any:
    queue = desk.queue
    if format == "csv":
        text = await asyncio.to_thread(queue.as_csv, status)
        return Response(text, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="questions-{status}.csv"'})
    items: list[dict[str, Any]] = await asyncio.to_thread(queue.items, status)
    return {"questions": items}
