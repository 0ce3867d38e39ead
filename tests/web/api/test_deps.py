"""The API's dependencies: one admin check guards exactly the admin routes, over real HTTP, and the routes
read the app's objects only through the dependency providers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.routing import APIRoute

from assistant.web.api import routers
from assistant.web.api.deps import require_admin
from tests.conftest import ROOT
from tests.web.test_app import ADMIN_AUTH, assert_error

ADMIN_ROUTES = {("GET", "/api/stats"), ("POST", "/api/admin/ingest"), ("GET", "/api/admin/questions"),
                ("PUT", "/api/documents/{doc_id:path}"), ("DELETE", "/api/documents/{doc_id:path}")}


def guarded_by(route: APIRoute) -> set[Callable[..., Any]]:
    calls, todo = set(), list(route.dependant.dependencies)
    while todo:
        dependant = todo.pop()
        calls.add(dependant.call)
        todo.extend(dependant.dependencies)
    return calls


def test_the_one_admin_dependency_guards_exactly_the_admin_routes() -> None:
    routes = [route for router in routers() for route in router.routes if isinstance(route, APIRoute)]
    guarded = {(method, route.path) for route in routes for method in route.methods
               if require_admin in guarded_by(route)}
    assert guarded == ADMIN_ROUTES


def test_every_admin_route_refuses_a_missing_or_wrong_token_before_reading_the_body(
        serve: Callable[..., Any]) -> None:
    with serve() as (base, _):
        assert httpx.get(f"{base}/api/stats", headers=ADMIN_AUTH, timeout=10).json()["index"]["documents"] == 5
        bad_body = httpx.put(f"{base}/api/documents/cms-1", json={"title": "no text"}, headers=ADMIN_AUTH,
                             timeout=10)
        assert_error(bad_body, 422, "InvalidRequest", 'send the article as "text" or as "html"')
        for method, path in sorted(ADMIN_ROUTES):  # five refusals: the most a minute before a 429
            url = base + path.replace("{doc_id:path}", "cms-1")
            refused = httpx.request(method, url, json={"title": "no text"}, timeout=10)
            assert_error(refused, 401, "AdminRequired", "Bearer <ADMIN_TOKEN>")


def test_the_routes_read_the_apps_objects_only_through_the_providers() -> None:
    """``app.state`` is read in the providers (``return request.app.state.<name>``), set in app.py."""
    web = ROOT / "assistant" / "web"
    reads = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in sorted(web.rglob("*.py")) if path.name != "app.py"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if ".state" in line and not re.fullmatch(r"\s*return request\.app\.state\.\w+(  # .*)?", line)]
    assert reads == []
