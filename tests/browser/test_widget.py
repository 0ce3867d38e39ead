"""The embeddable widget in Chromium, on pages served from other local origins than the app.

The app (uvicorn, 127.0.0.1:A) allows one host origin (127.0.0.1:B); a third origin (127.0.0.1:C)
is not allowed. Each host page carries loud styles of its own and only the one script tag.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.ingest.pipeline import ingest
from assistant.service import Assistant
from tests.browser.conftest import SCREENSHOTS, RunningApp, serving
from tests.conftest import ARTICLES, free_port, make_settings
from tests.openai_stub import OpenAIStub, Reply, sources_in

pytestmark = pytest.mark.browser

QUESTION = "Who directs the Russian Center for Science and Culture in Vietnam?"
XSS_ARTICLE = """Lantern festival in Zwolle draws record crowds

Zwolle, 12 March 2025 - The lantern festival in Zwolle drew a record 48,000 visitors this weekend.
Organiser Pim Zwart said the festival motto printed on every poster was \
<img src=x onerror="window.__xss='img';alert('img')"> and the banner read \
<script>window.__xss='script';alert('script')</script> in large letters.
The festival returns next spring with a second night of lanterns along the river.
"""
XSS_QUESTION = "What was the festival motto printed on every poster in Zwolle?"
HOST_STYLES = """<style>
* { font-family: "Comic Sans MS", cursive !important; letter-spacing: 3px; }
button { background: rgb(255, 105, 180) !important; border: 5px solid lime !important; }
div, p, li { color: rgb(0, 128, 0) !important; }
</style>"""


@dataclass
class HostSite:
    url: str
    server: ThreadingHTTPServer


def host_site(port: int, script_src: Callable[[], str]) -> HostSite:
    """A plain news page on 127.0.0.1:``port`` that embeds the widget with one script tag."""

    class Page(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
                    f"<meta name=viewport content='width=device-width, initial-scale=1'><title>Host</title>"
                    f"{HOST_STYLES}</head><body><h1>The Daily Example</h1>"
                    f"<p>An article on the host site.</p><button id=host-button>Subscribe</button>"
                    f'<script src="{script_src()}" data-site-key="news" defer></script>'
                    f"</body></html>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return HostSite(f"http://127.0.0.1:{port}", server)


@pytest.fixture(scope="module")
def widget_index(sample_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample index plus an article whose text carries an XSS payload."""
    import shutil

    folder = tmp_path_factory.mktemp("widget-index")
    shutil.copytree(sample_index_dir / "vectorstore", folder / "vectorstore")
    article = folder / "articles" / "lantern-festival.txt"
    article.parent.mkdir()
    article.write_text(XSS_ARTICLE, encoding="utf-8")
    settings = make_settings(folder)
    report = ingest([article], settings, Assistant.open(settings).index)
    assert report.added == ["lantern-festival.txt"], report.skipped
    assert ARTICLES.exists()
    return folder


@pytest.fixture
def sites(widget_index: Path, tmp_path: Path, chromium_executable: str) \
        -> Iterator[tuple[RunningApp, HostSite, HostSite]]:
    """(app, allowed host site, refused host site), all on 127.0.0.1 with different ports.

    Tests list this fixture before ``page``, so pages (and their event streams) close first.
    """
    import shutil

    allowed_port, refused_port = free_port(), free_port()
    shutil.copytree(widget_index / "vectorstore", tmp_path / "vectorstore")
    settings = make_settings(tmp_path, sites=f"news=http://127.0.0.1:{allowed_port}",
                             session_secret="widget-browser-tests", rate_limit_per_minute=1000)
    holder: dict[str, str] = {}
    allowed = host_site(allowed_port, lambda: holder["src"])
    refused = host_site(refused_port, lambda: holder["src"])
    try:
        with serving(settings) as app:
            holder["src"] = f"{app.url}/widget.js"
            yield app, allowed, refused
    finally:
        allowed.server.shutdown()
        refused.server.shutdown()


def ask(page: Any, question: str) -> Any:
    """Open the widget if needed, ask, and wait for the finished answer; returns the last bot message."""
    if page.locator(".panel").is_hidden():
        page.locator(".bubble").click()
    count = page.locator(".msg.bot, .msg.error").count()
    box = page.locator("textarea")
    box.fill(question)
    box.press("Enter")
    page.locator(".msg.bot, .msg.error").nth(count).wait_for()
    page.wait_for_function("() => !document.querySelector('[data-news-assistant]').shadowRoot"
                           ".querySelector('.msg.bot[aria-busy]')")
    return page.locator(".msg.bot, .msg.error").last


def test_widget_streams_a_cited_answer_on_an_allowed_origin(sites: tuple[RunningApp, HostSite, HostSite],
                                                            page: Any, page_log: Any,
                                                            screenshot: Callable[[str], Path]) -> None:
    app, allowed, _ = sites
    page.goto(allowed.url)
    page.locator(".bubble").click()
    assert page.locator(".panel").is_visible()
    with page.expect_response(re.compile(r"/api/chat$")) as chat_response:
        answer = ask(page, QUESTION)
    response = chat_response.value
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/event-stream")  # streamed, not one JSON
    assert response.request.headers["x-widget-token"]
    text = answer.locator(".text").inner_text()
    assert "Murashkin" in text
    citations = answer.locator("button.cite")
    assert citations.count() >= 1
    assert answer.locator(".src").count() >= 1
    first_source = answer.locator(".src").first
    assert "Vietnam-Russia Comprehensive Strategic Partnership" in first_source.inner_text()

    citations.first.click()
    number = citations.first.inner_text().strip("[]")
    cited = answer.locator(f".src[data-n='{number}']")
    assert "active" in (cited.get_attribute("class") or "")
    passage = cited.locator("blockquote")
    assert passage.is_visible()
    highlighted = passage.locator("mark").first.inner_text()
    assert highlighted and highlighted in text  # the quoted sentence is marked in its passage
    screenshot("widget-allowed-origin-answer")

    # Host styles stay out of the widget, and the widget's styles stay out of the page.
    bubble_background = page.locator(".bubble").evaluate("b => getComputedStyle(b).backgroundColor")
    assert bubble_background != "rgb(255, 105, 180)"
    assert "Comic Sans" not in answer.evaluate("m => getComputedStyle(m).fontFamily")
    host_button = page.locator("#host-button").evaluate("b => getComputedStyle(b).backgroundColor")
    assert host_button == "rgb(255, 105, 180)"

    # The conversation survives a reload (sessionStorage), with its sources.
    page.reload()
    page.locator(".msg.bot .cite").first.wait_for()
    assert page.locator(".panel").is_visible()
    assert page.locator(".msg.user").first.inner_text().endswith(QUESTION)  # after "You asked:" for screen readers
    assert "Murashkin" in page.locator(".msg.bot .text").last.inner_text()

    # Feedback from the widget is stored against the turn.
    page.get_by_role("button", name="Helpful", exact=True).last.click()
    page.locator(".fb [role=status]", has_text="Thanks").wait_for()
    stored = app.store.feedback_counts()
    assert stored["up"] == 1
    assert not page_log.errors and not page_log.dialogs and not page_log.outside_requests


def test_widget_follow_ups_go_by_the_servers_conversation_and_answers_say_how_current_they_are(
        sites: tuple[RunningApp, HostSite, HostSite], page: Any, page_log: Any) -> None:
    _, allowed, _ = sites
    page.goto(allowed.url)
    first = ask(page, "Who is Gennady Bezdetko?")
    assert first.locator(".as-of").inner_text() == "As of 2 April 2025"  # Tô Lâm received him that day
    with page.expect_request(re.compile(r"/api/chat$")) as sent:
        follow_up = ask(page, "Which Vietnamese leader received him?")
    payload = sent.value.post_data_json
    assert payload["conversation_id"] and "history" not in payload  # the server keeps the turns
    assert "Tô Lâm" in follow_up.locator(".text").inner_text()
    assert follow_up.locator(".as-of").inner_text() == "As of 2 April 2025"

    # When the server has forgotten the conversation (expired), the page's turns go as history.
    page.evaluate("""() => { const key = "news-assistant:news";  // the widget's state for site "news"
        const state = JSON.parse(sessionStorage.getItem(key)); state.conversation = "expired-id";
        sessionStorage.setItem(key, JSON.stringify(state)); }""")
    page.reload()
    page.locator(".msg.bot .cite").first.wait_for()
    again = ask(page, "Which Vietnamese leader received him?")
    assert "Tô Lâm" in again.locator(".text").inner_text()
    assert not page_log.errors and not page_log.dialogs


def test_widget_shows_the_evidence_while_the_model_writes(sample_index_dir: Path, tmp_path: Path,
                                                         page: Any, page_log: Any,
                                                         screenshot: Callable[[str], Path]) -> None:
    import shutil

    evidence_seen = threading.Event()  # the model's first word waits until the evidence was checked

    def late(body: dict[str, Any]) -> Reply:
        first = re.split(r"(?<=\.)\s", sources_in(body)[2])[0].rstrip(".")
        return Reply(text=f"{first} [2].", gate=evidence_seen)

    port = free_port()
    shutil.copytree(sample_index_dir / "vectorstore", tmp_path / "vectorstore")
    holder: dict[str, str] = {}
    site = host_site(port, lambda: holder["src"])
    try:
        with OpenAIStub() as stub:
            stub.default = late
            settings = make_settings(tmp_path, sites=f"news=http://127.0.0.1:{port}",
                                     session_secret="widget-browser-tests", rate_limit_per_minute=1000,
                                     openai_base_url=stub.url, llm_model="stub-model", llm_rewrite=False)
            with serving(settings) as app:
                holder["src"] = f"{app.url}/widget.js"
                page.goto(site.url)
                page.locator(".bubble").click()
                page.locator("textarea").fill(QUESTION)
                page.locator("textarea").press("Enter")
                writing = page.locator(".msg.bot[aria-busy]")
                writing.locator(".equote").wait_for()
                assert all(r.first_token is None for r in stub.requests)  # before the model's first word
                assert "not the answer yet" in writing.locator(".elabel").inner_text()
                assert writing.locator(".src").count() == settings.top_k
                cite = writing.locator(".equote button.cite").first
                number = cite.inner_text().strip("[]")
                cite.click()  # the quote's citation opens the source it names among this turn's sources
                assert "active" in (writing.locator(f".src[data-n='{number}']").get_attribute("class") or "")
                screenshot("widget-evidence-while-the-model-writes")
                evidence_seen.set()  # now the model may write

                page.wait_for_function("() => !document.querySelector('[data-news-assistant]').shadowRoot"
                                       ".querySelector('.msg.bot[aria-busy]')", timeout=90_000)
                final = page.locator(".msg.bot").last
                assert final.locator(".equote").count() == 0 and final.locator(".elabel").count() == 0
                model_sentence = re.split(r"(?<=\.)\s", sources_in(stub.requests[0].body)[2])[0].rstrip(".")
                assert " ".join(final.locator(".text").inner_text().split()) == \
                    " ".join(f"{model_sentence} [1].".split())
                assert final.locator(".src").count() == 1
    finally:
        site.server.shutdown()
    assert not page_log.errors and not page_log.dialogs and not page_log.outside_requests


def test_widget_is_refused_on_an_origin_that_is_not_allowed(sites: tuple[RunningApp, HostSite, HostSite],
                                                           page: Any, page_log: Any, caplog: Any,
                                                           screenshot: Callable[[str], Path]) -> None:
    app, allowed, refused = sites
    page.goto(refused.url)
    with caplog.at_level("WARNING", logger="assistant.web.security"):
        message = ask(page, QUESTION)
    # The reader reads a plain sentence (the set-up details go to the console: test_widget_access) ...
    assert "error" in (message.get_attribute("class") or "")
    assert message.inner_text() == "The news assistant is not available on this page."
    # ... and the server log names the origin and the SITES entry that would allow it.
    assert [r.getMessage() for r in caplog.records if r.name == "assistant.web.security"] == [
        f"widget refused: the origin '{refused.url}' is not allowed for site 'news'; to allow it, make "
        f"that site's SITES entry 'news={allowed.url}|{refused.url}'"]
    # The chat itself stays closed to that origin: no CORS for it, no session, nothing stored.
    preflight = httpx.options(f"{app.url}/api/chat", headers={
        "Origin": refused.url, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-widget-token"}, timeout=10)
    assert preflight.status_code == 400 and "access-control-allow-origin" not in preflight.headers
    assert page.locator(".msg.bot").count() == 0
    assert app.store.feedback_counts()["total"] == 0
    assert not page_log.errors and not page_log.outside_requests
    screenshot("widget-refused-origin")


def test_xss_payload_in_a_source_stays_inert_text(sites: tuple[RunningApp, HostSite, HostSite], page: Any,
                                                  page_log: Any, screenshot: Callable[[str], Path]) -> None:
    _, allowed, _ = sites
    page.goto(allowed.url)
    answer = ask(page, XSS_QUESTION)
    for details in answer.locator("details").all():
        details.locator("summary").click()
    shown = answer.inner_text()
    assert "<img src=x onerror=" in shown or "<script>window.__xss" in shown
    assert "lantern-festival" in shown.lower() or "Lantern festival" in shown
    root = "document.querySelector('[data-news-assistant]').shadowRoot"
    assert page.evaluate(f"{root}.querySelectorAll('img, script, iframe, object').length") == 0
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page_log.dialogs == [] and page_log.errors == []
    screenshot("widget-xss-inert")


def test_widget_keyboard_and_phone_screen(sites: tuple[RunningApp, HostSite, HostSite], browser: Any,
                                          page: Any) -> None:
    _, allowed, _ = sites
    page.goto(allowed.url)
    page.locator(".bubble").focus()
    page.keyboard.press("Enter")
    assert page.locator(".panel").is_visible()
    assert page.evaluate("document.querySelector('[data-news-assistant]').shadowRoot.activeElement.tagName") \
        == "TEXTAREA"
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    page.locator(".msg.bot .cite").first.wait_for()
    page.keyboard.press("Escape")
    assert page.locator(".panel").is_hidden()
    assert page.locator(".bubble").evaluate("b => b.getRootNode().activeElement === b")
    assert page.locator(".bubble").get_attribute("aria-expanded") == "false"

    phone = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    phone.route(re.compile(r".*"), lambda route: route.continue_()
                if route.request.url.startswith("http://127.0.0.1:") else route.abort())
    try:
        small = phone.new_page()
        small.goto(allowed.url)
        small.locator(".bubble").tap()
        small.wait_for_function("() => document.querySelector('[data-news-assistant]').shadowRoot"
                                ".querySelector('.panel').getAnimations().length === 0")  # opened, not sliding in
        panel = small.locator(".panel").bounding_box()
        assert panel is not None
        assert panel["x"] >= 0 and panel["y"] >= 0
        assert panel["x"] + panel["width"] <= 375 and panel["y"] + panel["height"] <= 667
        send = small.locator("form button").bounding_box()
        assert send is not None and send["height"] >= 44 and send["y"] + send["height"] <= 667
        answer = ask(small, QUESTION)
        assert "Murashkin" in answer.inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        small.screenshot(path=str(SCREENSHOTS / "widget-phone.png"))
    finally:
        phone.close()
