"""The API's typed dependencies: what create_app built, handed to the routes. The app's state is read
here and nowhere else; the admin token is checked here, once, for every admin route.

    @router.get("/api/stats", dependencies=[AdminOnly])
    async def stats(assistant: AssistantDep, store: StoreDep) -> dict[str, Any]: ...

``AdminOnly`` runs before the route's body is checked: a call without the admin token is a 401 (a 403
when no ADMIN_TOKEN is configured, a 429 after five wrong tokens a minute) whatever it sends.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from assistant.config import Settings
from assistant.desk import Desk
from assistant.feed_store import FeedStore
from assistant.service import Assistant
from assistant.storage import Store
from assistant.web.http import client_ip
from assistant.web.security import Security, bearer_token
from assistant.web.turns import Conversations, TurnRunner


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_assistant(request: Request) -> Assistant:
    return request.app.state.assistant  # type: ignore[no-any-return]


def get_store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def get_security(request: Request) -> Security:
    return request.app.state.security  # type: ignore[no-any-return]


def get_runner(request: Request) -> TurnRunner:
    return request.app.state.runner  # type: ignore[no-any-return]


def get_conversations(request: Request) -> Conversations:
    return request.app.state.conversations  # type: ignore[no-any-return]


def get_feeds(request: Request) -> FeedStore:
    return request.app.state.feeds  # type: ignore[no-any-return]


def get_desk(request: Request) -> Desk:
    return request.app.state.desk  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
AssistantDep = Annotated[Assistant, Depends(get_assistant)]
StoreDep = Annotated[Store, Depends(get_store)]
SecurityDep = Annotated[Security, Depends(get_security)]
RunnerDep = Annotated[TurnRunner, Depends(get_runner)]
ConversationsDep = Annotated[Conversations, Depends(get_conversations)]
FeedsDep = Annotated[FeedStore, Depends(get_feeds)]
DeskDep = Annotated[Desk, Depends(get_desk)]


def require_admin(request: Request, security: SecurityDep,
                  authorization: Annotated[str | None, Header()] = None) -> None:
    """The one admin check of the API: `Authorization: Bearer <ADMIN_TOKEN>` (``Security.check_admin``,
    which the UI's admin pages call too; wrong tokens are counted per address)."""
    security.check_admin(bearer_token(authorization), client_ip(request))


AdminOnly = Depends(require_admin)
