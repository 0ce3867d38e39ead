"""The service's limits over real HTTP (uvicorn on 127.0.0.1): every route that works is rate-limited,
Gradio's direct API is off, statistics are the admin's with secrets redacted, questions and documents
are bounded, the publisher has its own limit, and only the allowed hosts are answered."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from assistant.config import Settings
from assistant.feed_store import FeedStore
from tests.conftest import make_settings
from tests.web.test_app import ADMIN, ADMIN_AUTH, ALLOWED, QUESTION, assert_error, chat

MARKS = "a" + "\u0301" * 1999  # 2,000 characters: 2,005 of e5's tokens
SECRET = "k3y-of-the-wire-feed"


def put(url: str, doc_id: str, text: str, token: str = ADMIN, **headers: str) -> httpx.Response:
    return httpx.put(f"{url}/api/documents/{doc_id}", json={"title": f"Story {doc_id}", "text": text},
                     headers={"Authorization": f"Bearer {token}", **headers}, timeout=300)


# --- 1. every route that does work is limited; Gradio's direct API is off ------------------------------


def test_every_route_that_does_work_is_limited_and_only_cheap_ones_are_not(serve: Callable[..., Any]) -> None:
    with serve(ui=True, rate_limit_per_minute=3) as (url, _):
        for _ in range(5):  # the page, its files and the health check are never counted
            for path in ("/", "/config", "/theme.css", "/api/health", "/widget.js", "/openapi.json"):
                assert httpx.get(f"{url}{path}", timeout=30).status_code == 200, path
        assert chat(url, {"question": QUESTION}).status_code == 200
        assert httpx.get(f"{url}/gradio_api/info", timeout=30).status_code == 200  # not named free: counted
        assert httpx.post(f"{url}/gradio_api/api/respond", json={"data": []}, timeout=30).status_code == 404
        for method, path in (("POST", "/api/chat"), ("POST", "/gradio_api/queue/join"), ("GET", "/api/stats"),
                             ("POST", "/gradio_api/call/v2/respond"), ("GET", "/gradio_api/info"),
                             ("POST", "/some/route/added/later"), ("GET", "/monitoring")):
            assert_error(httpx.request(method, f"{url}{path}", json={}, timeout=30), 429, "RateLimited",
                         "3 a minute")
        assert httpx.get(f"{url}/", timeout=30).status_code == 200


@pytest.mark.parametrize("path", ["/gradio_api/api/respond", "/gradio_api/run/respond", "/gradio_api/call/respond",
                                  "/gradio_api/call/v2/respond", "/gradio_api/api/admin_stats",
                                  "/gradio_api/run/admin_stats"])
def test_gradios_direct_api_is_switched_off(serve: Callable[..., Any], path: str) -> None:
    with serve(ui=True) as (url, _):
        reply = httpx.post(f"{url}{path}", json={"data": ["Who directs the centre?", [], "", "", "", "", ""]},
                           timeout=30)
        assert_error(reply, 404, "NotFound", "the UI's functions are not an API")
        assert "/api/chat" in reply.json()["error"]["message"]
        assert httpx.get(f"{url}/", timeout=30).status_code == 200


# --- 3. statistics are the admin's; secrets in addresses are redacted ---------------------------------


def test_stats_need_the_admin_token_and_show_feeds_redacted(serve: Callable[..., Any]) -> None:
    with serve() as (url, settings):
        feeds = FeedStore.open(settings.database_url)
        feed = f"https://wire.example/rss?api_key={SECRET}&lang=en"
        feeds.add(feed)
        feeds.record(feed, "error", error=f"did not answer in time (ReadTimeout at {feed})")
        assert_error(httpx.get(f"{url}/api/stats", timeout=30), 401, "AdminRequired", "ADMIN_TOKEN")
        assert_error(httpx.get(f"{url}/api/stats", headers={"Authorization": "Bearer wrong"}, timeout=30), 401,
                     "AdminRequired")
        stats = httpx.get(f"{url}/api/stats", headers=ADMIN_AUTH, timeout=30)
    assert stats.status_code == 200 and SECRET not in stats.text
    assert stats.json()["feeds"][0]["url"] == "https://wire.example/rss?api_key=***&lang=en"
    assert stats.json()["feeds"][0]["error"] == \
        "did not answer in time (ReadTimeout at https://wire.example/rss?api_key=***&lang=en)"
    with serve(admin_token=None) as (url, _):
        assert_error(httpx.get(f"{url}/api/stats", headers=ADMIN_AUTH, timeout=30), 403, "AdminRequired", "disabled")


# --- 4. a question costs what its tokens cost ---------------------------------------------------------


def test_a_question_past_max_question_tokens_is_a_400_everywhere(serve: Callable[..., Any]) -> None:
    with serve() as (base, _):
        questions_and_history(base)


def questions_and_history(base: str) -> None:
    for headers in ({}, {"Accept": "text/event-stream"}):
        assert_error(chat(base, {"question": MARKS}, **headers), 400, "QuestionError", "(MAX_QUESTION_TOKENS)")
    completion = httpx.post(f"{base}/v1/chat/completions", timeout=60, json={
        "model": "news-assistant", "messages": [{"role": "user", "content": ". " * 999}]})
    assert_error(completion, 400, "QuestionError", "tokens long; the limit is 256 (MAX_QUESTION_TOKENS)")
    long_history = [{"role": "user", "content": "Tell me about Vietnam. " * 80},
                    {"role": "assistant", "content": "It is a country. " * 100}] * 3
    answered = chat(base, {"question": QUESTION, "history": long_history})  # searched with its first tokens
    assert answered.status_code == 200 and "Murashkin" in answered.json()["answer"]


# --- 5. documents are bounded; a large ingest lets other writes through --------------------------------


def test_a_document_over_max_document_chars_is_a_413_before_any_work(serve: Callable[..., Any]) -> None:
    with serve(max_document_chars=5000, fetch_max_bytes=20_000) as (url, _):
        assert_error(put(url, "long", "Harbour news. " * 400), 413, "RequestTooLarge",
                     "The article is 5,600 characters long; the limit is 5,000 (MAX_DOCUMENT_CHARS)")
        page = "<html><body><article><p>" + "Harbour news. " * 2000 + "</p></article></body></html>"
        big_page = httpx.put(f"{url}/api/documents/page", json={"html": page}, headers=ADMIN_AUTH, timeout=60)
        assert_error(big_page, 413, "RequestTooLarge", "(FETCH_MAX_BYTES)")
        texty = "<html><body><article><p>" + "Harbour news. " * 1000 + "</p></article></body></html>"
        long_text = httpx.put(f"{url}/api/documents/page", json={"html": texty}, headers=ADMIN_AUTH, timeout=60)
        assert_error(long_text, 413, "RequestTooLarge", "(MAX_DOCUMENT_CHARS)")
        upload = httpx.post(f"{url}/api/admin/ingest", headers=ADMIN_AUTH, timeout=60,
                            files={"files": ("long.txt", ("Harbour news. " * 400).encode(), "text/plain")})
        assert_error(upload, 422, "SourceError", "long.txt: is 5,600 characters long; the limit is 5,000")
        stats = httpx.get(f"{url}/api/stats", headers=ADMIN_AUTH, timeout=30).json()
    assert stats["index"]["documents"] == 5  # nothing of them was written


def test_a_small_put_is_written_while_a_large_ingest_is_still_running(serve: Callable[..., Any]) -> None:
    story = " ".join(f"The ferry number {n} of Oosthaven left the quay at {n % 12 + 1} o'clock with {n * 7} "
                     f"passengers and {n % 5} cars aboard." for n in range(200))  # ~57 chunks
    with serve(embedding_batch_size=8, rate_limit_per_minute=10_000) as (url, _):
        before = httpx.get(f"{url}/api/health", timeout=30).json()["index"]["chunks"]
        large: list[httpx.Response] = []
        writer = threading.Thread(target=lambda: large.append(put(url, "ferry-log", story)), daemon=True)
        writer.start()
        for _ in range(3000):  # bounded: until the large document's first batch is in the index
            if httpx.get(f"{url}/api/health", timeout=30).json()["index"]["chunks"] > before:
                break
            time.sleep(0.05)
        small = put(url, "cms-1", "The ferry Marijke sails again on Monday, the harbour master said.")
        assert small.status_code == 200 and small.json()["status"] == "added"
        assert writer.is_alive() and not large  # the large one is still being written
        writer.join(timeout=1800)
    assert large[0].status_code == 200 and large[0].json()["chunks"] > 25


# --- 6. the publisher API has its own limit, per token -------------------------------------------------


def test_the_publisher_has_its_own_limit_per_token_and_wrong_tokens_lock_out_per_address(
        serve: Callable[..., Any]) -> None:
    def from_(address: str) -> dict[str, str]:
        return {"X-Forwarded-For": address}

    with serve(rate_limit_per_minute=6, publisher_rate_limit_per_minute=12, forwarded_allow_ips="127.0.0.1") \
            as (url, _):
        for _ in range(10):  # a CMS behind one address: beyond the readers' 6 a minute
            assert put(url, "cms-1", "The ferry sails again.", **from_("203.0.113.1")).status_code == 200
        assert chat(url, {"question": QUESTION}, **from_("203.0.113.1")).status_code == 200  # readers unaffected
        for _ in range(5):  # wrong tokens from one address count there, as a reader's requests and as failures
            assert_error(put(url, "cms-1", "x", token="wrong", **from_("203.0.113.9")), 401, "AdminRequired")
        assert_error(put(url, "cms-1", "x", **from_("203.0.113.9")), 429, "RateLimited", "wrong admin tokens")
        # the token's window is shared by every address it comes from: 10 + 1 + 1 = 12
        assert put(url, "cms-1", "The ferry sails again.", **from_("203.0.113.2")).status_code == 200
        assert_error(put(url, "cms-1", "The ferry sails again.", **from_("203.0.113.2")), 429, "RateLimited",
                     "PUBLISHER_RATE_LIMIT_PER_MINUTE")


# --- 7. only the allowed hosts; the UI may be framed by the allowed sites only --------------------------


def test_only_the_allowed_hosts_are_answered(serve: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    with serve() as (url, _):
        port = url.rsplit(":", 1)[1]
        with caplog.at_level("WARNING", logger="assistant.web.security"):
            rebound = httpx.get(f"{url}/api/health", headers={"Host": f"attacker.example:{port}"}, timeout=30)
        assert_error(rebound, 400, "HostNotAllowed", "add that name to ALLOWED_HOSTS (or set PUBLIC_URL")
        assert "'attacker.example:" in caplog.text
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", "allowed.test:8080"):  # allowed.test: in SITES
            assert httpx.get(f"{url}/api/health", headers={"Host": host}, timeout=30).status_code == 200, host
    with serve(public_url="https://assistant.example.org/", allowed_hosts="") as (url, _):
        assert httpx.get(f"{url}/api/health", headers={"Host": "assistant.example.org"}, timeout=30).status_code == 200
    with serve(allowed_hosts="*.example.net") as (url, _):
        assert httpx.get(f"{url}/api/health", headers={"Host": "news.example.net"}, timeout=30).status_code == 200
        assert httpx.get(f"{url}/api/health", headers={"Host": "localhost"}, timeout=30).status_code == 400


def test_the_ui_sends_a_content_security_policy_framed_only_by_allowed_sites(serve: Callable[..., Any]) -> None:
    with serve(ui=True) as (url, _):
        page = httpx.get(f"{url}/", timeout=30)
        health = httpx.get(f"{url}/api/health", timeout=30)
    policy = page.headers["content-security-policy"]
    assert f"frame-ancestors 'self' {ALLOWED}" in policy and "default-src 'self'" in policy
    assert "object-src 'none'" in policy and page.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in health.headers


def test_allowed_hosts_default_to_loopback_host_public_url_and_sites(tmp_path: Any) -> None:
    settings = make_settings(tmp_path, host="10.1.2.3", public_url="https://Assistant.Example.org:8443",
                             sites="news=https://www.news.example|https://news.example")
    assert settings.trusted_hosts == ["localhost", "127.0.0.1", "::1", "[::1]", "10.1.2.3", "assistant.example.org",
                                      "www.news.example", "news.example"]
    assert make_settings(tmp_path, allowed_hosts="a.example, *.b.example").trusted_hosts == ["a.example",
                                                                                            "*.b.example"]
    with pytest.raises(ValueError, match="is not an http"):
        Settings(_env_file=None, public_url="assistant.example.org")  # type: ignore[call-arg]
