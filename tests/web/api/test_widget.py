"""The widget's routes over real HTTP: sessions only for the sites' origins (and why not, for the page and
the log), the script and the demo page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from assistant.storage import Store
from tests.web.test_app import ALLOWED, QUESTION, assert_error, base, chat, session, shared, store

__all__ = ["base", "shared", "store"]


def test_widget_session_only_for_allowed_origins(base: str, store: Store) -> None:
    granted = session(base, ALLOWED)
    assert granted.status_code == 200
    assert granted.headers["access-control-allow-origin"] == "*"  # the endpoint checks Origin itself
    token = granted.json()["token"]
    assert granted.json()["expires_in"] == 900
    assert_error(session(base, "http://evil.test"), 403, "AccessDenied", "not allowed")
    assert_error(session(base, None), 403, "AccessDenied", "Origin")
    assert_error(session(base, ALLOWED, "other-site"), 403, "AccessDenied", "Unknown site key")

    result = chat(base, {"question": QUESTION}, Origin=ALLOWED, **{"X-Widget-Token": token})
    assert result.status_code == 200
    assert result.headers["access-control-allow-origin"] == ALLOWED
    assert store.conversation(result.json()["conversation_id"])[0]["source"] == "widget"
    assert_error(chat(base, {"question": QUESTION}, Origin="http://evil.test", **{"X-Widget-Token": token}),
                 403, "AccessDenied", "another origin")
    assert_error(chat(base, {"question": QUESTION}, Origin=ALLOWED), 403, "AccessDenied", "widget session")
    assert_error(chat(base, {"question": QUESTION}, Origin=ALLOWED, **{"X-Widget-Token": "forged"}),
                 401, "SessionInvalid", "invalid")


def test_a_refused_widget_site_can_read_why_and_the_log_says_what_to_add(
        base: str, caplog: pytest.LogCaptureFixture) -> None:
    preflight = httpx.options(f"{base}/api/widget/session", timeout=10, headers={
        "Origin": "http://evil.test", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"
    with caplog.at_level("WARNING", logger="assistant.web.security"):
        refused = session(base, "http://evil.test")
        unknown = session(base, "http://evil.test", "blog")
    assert_error(refused, 403, "AccessDenied", "The origin http://evil.test is not allowed for site 'news'")
    assert refused.headers["access-control-allow-origin"] == "*"  # so the widget can show the reason
    assert_error(unknown, 403, "AccessDenied", "Unknown site key 'blog'")
    assert [r.getMessage() for r in caplog.records if r.name == "assistant.web.security"] == [
        "widget refused: the origin 'http://evil.test' is not allowed for site 'news'; to allow it, "
        f"make that site's SITES entry 'news={ALLOWED}|http://evil.test'",
        "widget refused: unknown site key 'blog' (page origin 'http://evil.test'); to allow it, add "
        "'blog=http://evil.test' to SITES",
    ]


def test_without_sites_the_widget_is_refused_everywhere(serve: Callable[..., Any]) -> None:
    with serve(sites="") as (url, _):
        for origin in (ALLOWED, url, "http://localhost"):
            assert_error(session(url, origin), 403, "AccessDenied", "Unknown site key")
        demo = httpx.get(f"{url}/widget/demo", timeout=10)
        preflight = httpx.options(f"{url}/api/chat", headers={"Origin": ALLOWED,
                                                              "Access-Control-Request-Method": "POST"})
    assert demo.status_code == 200 and "SITES=demo=" in demo.text
    assert "access-control-allow-origin" not in preflight.headers


def test_widget_script_and_demo_page(base: str) -> None:
    script = httpx.get(f"{base}/widget.js", timeout=10)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert len(script.content) < 30_000
    assert "innerHTML" not in script.text and "insertAdjacentHTML" not in script.text
    assert "attachShadow" in script.text
    demo = httpx.get(f"{base}/widget/demo", timeout=10)
    assert demo.status_code == 200 and 'src="/widget.js"' in demo.text
    assert "default-src 'self'" in demo.headers["content-security-policy"]
