"""The publisher API: a CMS pushes articles as it publishes, updates and unpublishes them.

    PUT    /api/documents/{id}   {"title", "text" | "html", "url", "date", "lang", "outlet", "section"}
    DELETE /api/documents/{id}

Both need `Authorization: Bearer <ADMIN_TOKEN>` and are idempotent: sending the same document
again changes nothing ("unchanged"), a changed one replaces its old version ("updated") only once
the new one is fully written, and it is searchable by every signal as soon as the call returns.
Writes go through the service (``Assistant.push``, ``Assistant.delete``), under the lock uploads and
syncs take too, a batch at a time: a webhook waits seconds for an upload.

Limits: a publisher's calls count against PUBLISHER_RATE_LIMIT_PER_MINUTE for its token (counted by
the app's RateLimit middleware, before the body is read), not the readers' per-address limit; a text
over MAX_DOCUMENT_CHARS, or HTML over FETCH_MAX_BYTES, is a 413 before any work.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from assistant.config import Settings
from assistant.errors import DocumentNotFound, QuestionError, SourceError
from assistant.ingest.pipeline import chunking_signature, too_long
from assistant.ingest.sources import pushed_document
from assistant.service import Assistant
from assistant.web.api.deps import AdminOnly, AssistantDep, DeskDep, SettingsDep
from assistant.web.security import RequestTooLarge

DATE = r"^\d{4}-\d{2}-\d{2}"
DOCUMENT_ID = r"^[^\x00-\x1f]{1,512}$"


class DocumentIn(BaseModel):
    """One article as a CMS sends it: its text, or its page's HTML (the main text is extracted)."""

    title: str | None = Field(None, max_length=1000)
    text: str | None = Field(None, description="The article's plain text.")
    html: str | None = Field(None, description="The article's page; its main text is extracted.")
    url: str | None = Field(None, max_length=2000)
    date: str | None = Field(None, pattern=DATE, description="Publication date, yyyy-mm-dd")
    lang: str | None = Field(None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]+)?$", description="e.g. en, vi, nl.")
    outlet: str | None = Field(None, max_length=300)
    section: str | None = Field(None, max_length=200, description="The publisher's section, e.g. opinion: "
                                "EXCLUDE_SECTIONS (and a question's exclude_sections) leave sections out.")
    supersedes: str | None = Field(
        None, pattern=DOCUMENT_ID, description="The id of the article this one corrects or updates: that one"
        " is never quoted again while this one exists, and answers quoting this one say \"Corrected on …\".")
    revision: Literal["correction", "update"] | None = Field(
        None, description="With supersedes: a correction (default) or an update (\"Updated on …\").")

    @model_validator(mode="after")
    def _one_body(self) -> DocumentIn:
        if bool((self.text or "").strip()) == bool((self.html or "").strip()):
            raise ValueError('send the article as "text" or as "html" (exactly one of them, not empty)')
        if self.revision and not self.supersedes:
            raise ValueError('"revision" goes with "supersedes": send the id of the article it corrects')
        return self


class AnsweredItem(BaseModel):
    id: int
    question: str
    answered_by: list[str]


class DocumentResult(BaseModel):
    id: str
    status: Literal["added", "updated", "unchanged", "deleted"]
    chunks: int = Field(description="Passages written (0 when unchanged) or deleted.")
    answers: list[AnsweredItem] = Field(
        default_factory=list, description="Items of the unanswered-questions queue that this article "
        "answers (now recorded as answered by it; GET /api/admin/questions).")


router = APIRouter(prefix="/api/documents", tags=["publisher"], dependencies=[AdminOnly])


@router.put("/{doc_id:path}", summary="Add or replace one article (idempotent)")
async def put_document(doc_id: str, body: DocumentIn, settings: SettingsDep, assistant: AssistantDep,
                       desk: DeskDep) -> DocumentResult:
    """Needs `Authorization: Bearer <ADMIN_TOKEN>`. The id is yours (a CMS id or the URL)."""
    check_id(doc_id)
    check_size(body, settings)
    if body.supersedes:
        await asyncio.to_thread(check_supersedes, doc_id, body.supersedes, assistant)

    def write() -> Any:  # extracting a page's text is work too: off the event loop
        salt = chunking_signature(settings.chunking, settings.tokenizer)
        raw = pushed_document(doc_id, body.model_dump(), salt)
        limit = settings.max_document_chars
        if len(raw.text) > limit:  # the text extracted from its html
            raise RequestTooLarge(f"The article {too_long(len(raw.text), limit)}.")
        return assistant.push(raw)

    report = await asyncio.to_thread(write)
    if report.skipped:
        raise SourceError(doc_id, report.skipped[0][1])
    status = "added" if report.added else "updated" if report.updated else "unchanged"
    answers = await asyncio.to_thread(desk.check_new, [*report.added, *report.updated])
    return DocumentResult(id=doc_id, status=status, chunks=report.chunks_written,
                          answers=[AnsweredItem(**item) for item in answers])


@router.delete("/{doc_id:path}", summary="Remove one article")
async def delete_document(doc_id: str, assistant: AssistantDep) -> DocumentResult:
    """Needs `Authorization: Bearer <ADMIN_TOKEN>`. 404 when no such article is indexed."""
    check_id(doc_id)

    def remove() -> int:
        try:
            return assistant.delete(doc_id)
        except DocumentNotFound as exc:  # the index's own wording speaks of files and folders
            raise DocumentNotFound(
                f"No article {doc_id!r} is indexed: it was never sent with PUT "
                "/api/documents/{id}, or it was deleted already (then there is nothing left to "
                "do).") from exc

    removed = await asyncio.to_thread(remove)
    return DocumentResult(id=doc_id, status="deleted", chunks=removed)


def check_size(body: DocumentIn, settings: Settings) -> None:
    """RequestTooLarge (413) for a text over MAX_DOCUMENT_CHARS or HTML over FETCH_MAX_BYTES."""
    if body.text and len(body.text) > settings.max_document_chars:
        raise RequestTooLarge(f"The article {too_long(len(body.text), settings.max_document_chars)}.")
    if body.html and len(body.html) > settings.fetch_max_bytes:
        raise RequestTooLarge(f"The article's html is {len(body.html):,} characters long; a page may be "
                              f"{settings.fetch_max_bytes:,} (FETCH_MAX_BYTES), as a fetched one. Send its "
                              "text, or raise FETCH_MAX_BYTES.")


def check_supersedes(doc_id: str, superseded: str, assistant: Assistant) -> None:
    """The article a correction supersedes must be another one, and indexed (else a 400 or a 404)."""
    if superseded == doc_id:
        raise QuestionError(f"An article cannot supersede itself: send the corrected text as {doc_id!r} "
                            "again to replace it, or give the correction an id of its own.")
    if not assistant.indexed([superseded]):
        raise DocumentNotFound(f"No article {superseded!r} is indexed to be superseded: send the id it was "
                               "PUT with (GET /api/stats counts the articles), or leave out supersedes.")


def check_id(doc_id: str) -> None:
    if not re.match(DOCUMENT_ID, doc_id):
        raise QuestionError("A document id is 1 to 512 characters, without control characters.")
