"""The widget for every reader, in a real Chromium on the demo page the app serves: axe-core finds no serious
or critical WCAG 2.1 AA violation (closed, open, answered, refused; desktop and phone; light and dark),
keyboard only works, each answer is announced once, focus rings and tap targets are large enough, reduced
motion and dark mode are followed, and on a 375 × 667 phone the question stays in view above its answer."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.ingest.pipeline import ingest
from assistant.service import Assistant
from tests.browser.accessibility import axe_violations, blocking, focus_ring, small_targets
from tests.browser.conftest import SCREENSHOTS, RunningApp, serving
from tests.conftest import free_port, make_settings

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

ANSWERED = "When does the Quortle ferry festival start?"
REFUSED = "Wie won de Tour de France in 1998 en met welke fiets?"
ARTICLE = {"id": "quortle-ferry", "title": "Quortle ferry festival returns", "lang": "en", "date": "2026-11-30",
           "source": "Example News", "url": "https://news.example/quortle-ferry-festival",
           "text": "The Quortle ferry festival starts on Saturday 12 December with a parade of boats. The festival "
                   "of Quortle lasts three days and ends with fireworks over the harbour. Organisers expect "
                   "eight thousand visitors, twice as many as last year, and extra ferries will run at night."}
ROOT = "document.querySelector('[data-news-assistant]').shadowRoot"
PHONE = {"width": 375, "height": 667}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def demo(sample_index_dir: Path, tmp_path_factory: pytest.TempPathFactory,
         chromium_executable: str) -> Iterator[RunningApp]:
    """The app over the sample index and an article with a link, its demo page allowed (SITES)."""
    folder = tmp_path_factory.mktemp("widget-access")
    shutil.copytree(sample_index_dir / "vectorstore", folder / "vectorstore")
    corpus = folder / "ferry.jsonl"
    corpus.write_text(json.dumps(ARTICLE) + "\n", encoding="utf-8")
    port = free_port()
    settings = make_settings(folder, sites=f"demo=http://127.0.0.1:{port}", session_secret="widget-a11y",
                             rate_limit_per_minute=10_000)
    assert ingest([corpus], settings, Assistant.open(settings).index).added == ["quortle-ferry"]
    with serving(settings, port=port) as app:
        yield app


def new_page(browser: Any, viewport: dict[str, int], **options: Any) -> tuple[Any, Any, list[str]]:
    """A page of its own context (only 127.0.0.1 reachable) and the console warnings it printed."""
    context = browser.new_context(viewport=viewport, is_mobile=viewport["width"] < 500,
                                  has_touch=viewport["width"] < 500, **options)
    context.route(re.compile(r".*"), lambda route: route.continue_()
                  if route.request.url.startswith("http://127.0.0.1:") else route.abort())
    page = context.new_page()
    page.set_default_timeout(60_000)
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    return context, page, warnings


def settled(page: Any) -> None:
    """Wait until the panel's opening animation has finished (axe reads colours as they are drawn)."""
    page.wait_for_function(f"() => {ROOT}.querySelector('.panel').getAnimations().length === 0")


def ask(page: Any, question: str) -> Any:
    if page.locator(".panel").is_hidden():
        page.locator(".bubble").click()
        settled(page)
    count = page.locator(".msg.bot, .msg.error").count()
    page.locator("textarea").fill(question)
    page.locator("textarea").press("Enter")
    page.locator(".msg.bot:not([aria-busy]), .msg.error").nth(count).wait_for(timeout=120_000)
    return page.locator(".msg.bot, .msg.error").last


def box(page: Any, locator: Any) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return {"top": found["y"], "bottom": found["y"] + found["height"], "left": found["x"],
            "right": found["x"] + found["width"]}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280x800", "375x667"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_or_critical_violations_closed_open_answered_and_refused(
        demo: RunningApp, browser: Any, viewport: dict[str, int], scheme: str) -> None:
    context, page, _ = new_page(browser, viewport, color_scheme=scheme)
    size = f"{viewport['width']}x{viewport['height']}"
    try:
        page.goto(demo.url + "/widget/demo")
        page.locator(".bubble").wait_for()
        found = {"demo page, widget closed": axe_violations(page, f"widget closed {size} {scheme}")}
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # nothing too wide
        launcher = box(page, page.locator(".bubble"))
        assert launcher["right"] <= viewport["width"] and launcher["bottom"] <= viewport["height"]
        page.locator(".bubble").click()
        settled(page)
        found["open"] = axe_violations(page, f"widget open {size} {scheme}")
        ask(page, ANSWERED)
        found["answered"] = axe_violations(page, f"widget answered {size} {scheme}")
        page.screenshot(path=str(SCREENSHOTS / f"widget-answered-{size}-{scheme}.png"))
        refusal = ask(page, REFUSED)
        assert refusal.locator(".src").count() == 0
        found["refused"] = axe_violations(page, f"widget refused {size} {scheme}")
        assert {state: blocking(violations) for state, violations in found.items()} == \
            {state: [] for state in found}
        assert small_targets(page, "[data-news-assistant]") == []  # at least 24 × 24 CSS pixels
    finally:
        context.close()


def test_keyboard_only_open_ask_follow_a_source_close_and_every_answer_announced_once(
        demo: RunningApp, browser: Any) -> None:
    context, page, _ = new_page(browser, DESKTOP)
    try:
        page.goto(demo.url + "/widget/demo")
        page.locator(".bubble").wait_for()
        page.evaluate(f"""() => {{  // what each live region says, each time its content changes
          window.__said = [];
          const root = {ROOT};
          const live = '[aria-live]:not([aria-live=off]), [role=status], [role=log], [role=alert]';
          new MutationObserver(records => {{
            const changed = new Set(records.map(r => (r.target.nodeType === 1 ? r.target : r.target.parentElement)
                                                     ?.closest(live)).filter(Boolean));
            for (const region of changed) if (region.textContent.trim()) window.__said.push(region.textContent.trim());
          }}).observe(root, {{subtree: true, childList: true, characterData: true}});
        }}""")
        for _ in range(40):  # Tab from the page's start to the launcher
            page.keyboard.press("Tab")
            if page.evaluate(f"() => {ROOT}.activeElement?.classList.contains('bubble')"):
                break
        rings = [focus_ring(page)]
        page.keyboard.press("Enter")
        assert page.evaluate(f"() => {ROOT}.activeElement.tagName") == "TEXTAREA"
        rings.append(focus_ring(page))
        page.keyboard.type(ANSWERED)
        page.keyboard.press("Enter")
        page.locator(".msg.bot:not([aria-busy])").first.wait_for(timeout=120_000)
        answer = page.locator(".msg.bot").last.locator(".text").inner_text()
        assert "12 December" in answer
        page.wait_for_function("() => window.__said.length > 0")

        page.keyboard.press("Shift+Tab")  # from the question box back into the answer: its last control
        for _ in range(20):
            if page.evaluate(f"() => {ROOT}.activeElement.classList.contains('cite')"):
                break
            page.keyboard.press("Shift+Tab")
        rings.append(focus_ring(page))
        page.keyboard.press("Enter")  # the citation takes the keyboard to its source's link
        link = page.evaluate(f"() => [{ROOT}.activeElement.tagName, {ROOT}.activeElement.href]")
        assert link == ["A", ARTICLE["url"]]
        rings.append(focus_ring(page))
        context.route(ARTICLE["url"], lambda route: route.fulfill(  # the publisher's page, served here
            content_type="text/html", body="<!doctype html><title>Quortle ferry festival returns</title>"))
        with context.expect_page() as opened:
            page.keyboard.press("Enter")
        assert opened.value.url == ARTICLE["url"]
        opened.value.close()
        for _ in range(40):  # every control of the panel shows a focus ring of 3:1 or more
            page.keyboard.press("Tab")
            ring = focus_ring(page)
            if ring is None or ring["tag"] == "TEXTAREA":
                break
            rings.append(ring)
        assert all(ring is not None and ring["width"] >= 2 and ring["contrast"] >= 3 for ring in rings), rings
        said = page.evaluate("() => window.__said")
        assert len(said) == 1 and said[0].startswith("Answer: ") and answer in said[0], said  # once, whole
        page.keyboard.press("Escape")
        assert page.locator(".panel").is_hidden()
        assert page.evaluate(f"() => {ROOT}.activeElement?.classList.contains('bubble')")
        assert page.locator(".bubble").get_attribute("aria-expanded") == "false"
    finally:
        context.close()


def test_on_a_phone_the_question_stays_above_its_answer_nothing_overlaps_and_tab_stays_in_the_panel(
        demo: RunningApp, browser: Any) -> None:
    context, page, _ = new_page(browser, PHONE)
    try:
        page.goto(demo.url + "/widget/demo")
        page.locator(".bubble").tap()
        ask(page, ANSWERED)
        ask(page, "How many visitors do the organisers of the Quortle ferry festival expect?")
        page.wait_for_function(f"() => {{ const log = {ROOT}.querySelector('.log');"
                               " const q = [...log.querySelectorAll('.msg.user')].pop();"
                               " return Math.abs(log.scrollTop - Math.max(0, q.offsetTop - 12)) < 2"
                               " || log.scrollTop + log.clientHeight >= log.scrollHeight - 1; }")
        page.screenshot(path=str(SCREENSHOTS / "widget-phone-375x667.png"))
        panel, header = box(page, page.locator(".panel")), box(page, page.locator("header"))
        log, form = box(page, page.locator(".log")), box(page, page.locator("form"))
        assert (panel["left"], panel["top"], panel["right"], panel["bottom"]) == (0, 0, 375, 667)
        assert header["bottom"] <= log["top"] and log["bottom"] <= form["top"] and form["bottom"] <= 667
        assert page.locator(".bubble").is_hidden()  # the launcher does not sit on the send button
        question = box(page, page.locator(".msg.user").last)
        answer = box(page, page.locator(".msg.bot").last)
        assert log["top"] <= question["top"] and question["bottom"] <= answer["top"]  # the question in view
        assert answer["top"] + 20 <= log["bottom"]  # and the answer's first line below it, not clipped
        source = page.locator(".msg.bot").last.locator(".src .title").first
        assert source.evaluate("el => parseFloat(getComputedStyle(el).fontSize)") >= 12
        assert page.evaluate(f"() => {{ const l = {ROOT}.querySelector('.log');"
                             " return l.scrollWidth <= l.clientWidth; }")  # sources wrap, nothing sideways
        assert page.locator(".panel").get_attribute("aria-modal") == "true"
        for _ in range(60):  # Tab goes round the panel's controls and never into the page behind it
            page.keyboard.press("Tab")
            assert page.evaluate(f"() => document.activeElement === {ROOT}.host"), "focus left the panel"
            assert page.evaluate(f"() => {ROOT}.querySelector('.panel').contains({ROOT}.activeElement)")
    finally:
        context.close()


def test_reduced_motion_and_dark_mode_are_followed(demo: RunningApp, browser: Any) -> None:
    styles = {}
    for motion, scheme in (("no-preference", "light"), ("reduce", "dark")):
        context, page, _ = new_page(browser, DESKTOP, reduced_motion=motion, color_scheme=scheme)
        try:
            page.goto(demo.url + "/widget/demo")
            page.locator(".bubble").click()
            styles[motion] = page.locator(".panel").evaluate(
                "el => [getComputedStyle(el).animationName, getComputedStyle(el).backgroundColor,"
                " getComputedStyle(el.querySelector('.log')).scrollBehavior]")
        finally:
            context.close()
    assert styles["no-preference"] == ["na-in", "rgb(255, 255, 255)", "smooth"]
    animation, background, scrolling = styles["reduce"]
    assert (animation, scrolling) == ("none", "auto")
    red, green, blue = (int(v) for v in re.findall(r"\d+", background)[:3])
    assert max(red, green, blue) < 64  # a dark panel for a dark system


def test_a_refused_site_reads_a_plain_sentence_and_the_console_says_what_to_set(
        demo: RunningApp, browser: Any) -> None:
    from tests.browser.test_widget import host_site

    context, page, warnings = new_page(browser, DESKTOP)
    other = host_site(free_port(), lambda: f"{demo.url}/widget.js")  # an origin no site allows
    try:
        page.goto(other.url)
        message = ask(page, ANSWERED)
        assert message.inner_text() == "The news assistant is not available on this page."
        assert any("Unknown site key 'news'" in text and "SITES" in text for text in warnings), warnings
        assert "SITES" not in page.evaluate(f"() => {ROOT}.textContent")
    finally:
        context.close()
        other.server.shutdown()


def test_a_refusals_closest_coverage_shows_apart_from_sources_and_never_as_citations(
        demo: RunningApp, browser: Any) -> None:
    """A refusal whose answer names its closest articles (``related``), as a reader's conversation holds it
    (the widget keeps the conversation in sessionStorage, and shows it again on every page)."""
    refusal = {"role": "assistant", "text": "The articles do not say who won the race.", "abstained": True,
               "sources": [], "turn_id": None, "related": [
                   {"number": 1, "doc_id": "quortle-ferry", "title": "Quortle ferry festival returns",
                    "url": ARTICLE["url"], "outlet": "Example News", "date": "2026-11-30"},
                   {"number": 2, "doc_id": "regatta", "title": "Regatta <b>season</b> opens", "url": ""}]}
    state = {"conversation": "c1", "open": True, "turns": [{"role": "user", "text": "Who won the race?"}, refusal]}
    context, page, _ = new_page(browser, PHONE)
    try:
        context.add_init_script(f"sessionStorage.setItem('news-assistant:demo', {json.dumps(json.dumps(state))})")
        page.goto(demo.url + "/widget/demo")
        related = page.locator(".msg.bot .related")
        related.wait_for()
        settled(page)
        assert related.locator("h3").inner_text().lower() == "closest coverage (not an answer)"
        assert related.locator("li").count() == 2 and related.locator(".cite, .src").count() == 0
        assert "[1]" not in related.inner_text() and "Regatta <b>season</b> opens" in related.inner_text()
        assert related.locator("a").get_attribute("href") == ARTICLE["url"]
        assert page.locator(".msg.bot .srcs").count() == 0  # not sources
        assert blocking(axe_violations(page, "widget refusal with closest coverage 375x667")) == []
    finally:
        context.close()
