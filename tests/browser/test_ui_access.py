"""The chat UI and its Editors page for every reader, in a real Chromium: no serious or critical axe-core
(WCAG 2.1 AA) violation at rest, answered, refused and on the Editors page, at 1280 × 800 and 375 × 667;
each answer announced once, when complete; a visible focus ring on the question box; tap targets of
24 px; and on a phone the question stays in view above its answer, with nothing on top of either."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from assistant.config import Settings
from tests.browser.accessibility import axe_violations, blocking, focus_ring, small_targets
from tests.browser.conftest import SCREENSHOTS, PageLog, RunningApp, serving

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

ADMIN_TOKEN = "editors-admin-token-for-tests"
ANSWERED = "Who directs the Russian Center for Science and Culture in Vietnam?"
REFUSED = "Wie won de Tour de France in 1998 en met welke fiets?"
VIEWPORTS = {"1280x800": {"width": 1280, "height": 800}, "375x667": {"width": 375, "height": 667}}
SETTLED = ("() => document.getAnimations().filter(a => a.playState === 'running'"
           " && a.effect.getComputedTiming().endTime !== Infinity).length === 0")


@pytest.fixture(scope="module")
def app(sample_index_dir: Any, tmp_path_factory: pytest.TempPathFactory,
        chromium_executable: str) -> Iterator[RunningApp]:
    import shutil

    from tests.conftest import make_settings

    folder = tmp_path_factory.mktemp("ui-access")
    shutil.copytree(sample_index_dir / "vectorstore", folder / "vectorstore")
    settings: Settings = make_settings(folder, admin_token=SecretStr(ADMIN_TOKEN), rate_limit_per_minute=10_000)
    with serving(settings) as running:
        yield running


def open_ui(page: Any, app: RunningApp, viewport: dict[str, int]) -> None:
    page.set_viewport_size(viewport)
    page.goto(app.url + "/")
    page.wait_for_selector("#nwa-question textarea")


def ask(page: Any, question: str) -> Any:
    turns = page.locator("#nwa-sources details.nwa-turn").count()
    page.fill("#nwa-question textarea", question)
    page.click("#nwa-ask")
    page.wait_for_function("n => document.querySelectorAll('#nwa-sources details.nwa-turn').length === n",
                           arg=turns + 1, timeout=120_000)
    page.wait_for_function(SETTLED)
    return page.locator('#nwa-chat [data-testid="bot"]').last


def rect(locator: Any) -> dict[str, float]:
    return locator.evaluate("el => { const r = el.getBoundingClientRect();"
                            " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }")


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_no_serious_or_critical_violations_at_rest_answered_refused_and_on_the_editors_page(
        app: RunningApp, page: Any, page_log: PageLog, size: str) -> None:
    open_ui(page, app, VIEWPORTS[size])
    found = {"at rest": axe_violations(page, f"ui at rest {size}")}
    ask(page, ANSWERED)
    found["answered"] = axe_violations(page, f"ui answered {size}")
    ask(page, REFUSED)
    found["refused"] = axe_violations(page, f"ui refused {size}")
    page.get_by_role("tab", name="Editors").click()
    page.fill("#nwa-desk-token input", ADMIN_TOKEN)
    page.click("#nwa-desk-show")
    page.locator("#nwa-desk-queue table").wait_for()
    page.locator("#nwa-desk-outcomes svg, #nwa-desk-outcomes canvas").first.wait_for()
    page.wait_for_function(SETTLED)
    found["editors page"] = axe_violations(page, f"ui editors {size}")
    page.screenshot(path=str(SCREENSHOTS / f"ui-editors-{size}.png"), full_page=True)
    assert {state: blocking(v) for state, v in found.items()} == {state: [] for state in found}
    assert page_log.outside_requests == [] and page_log.errors == []  # the charts fetch nothing elsewhere


def test_each_answer_is_announced_once_when_complete_and_the_question_box_shows_focus(
        app: RunningApp, page: Any) -> None:
    open_ui(page, app, VIEWPORTS["1280x800"])
    page.evaluate("""() => {  // what each live region says, each time its content changes
      window.__said = [];
      const live = '[aria-live]:not([aria-live=off]), [role=status], [role=log], [role=alert]';
      new MutationObserver(records => {
        const changed = new Set(records.map(r => (r.target.nodeType === 1 ? r.target : r.target.parentElement)
                                                 ?.closest(live)).filter(Boolean));
        for (const region of changed) if (region.textContent.trim()) window.__said.push(region.textContent.trim());
      }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    page.locator("#nwa-question textarea").click()
    ring = focus_ring(page)
    assert ring is not None and ring["width"] >= 2 and ring["contrast"] >= 3, ring
    answer = " ".join(ask(page, ANSWERED).inner_text().split())
    page.wait_for_function("() => window.__said.some(text => text.startsWith('Answer: '))")
    opening = " ".join(answer.split()[:4])
    said = [text for text in page.evaluate("() => window.__said") if opening in text]
    assert len(said) == 1 and said[0].startswith("Answer: ") and "1 source" in said[0], said  # once, whole
    assert small_targets(page, "#nwa-chat") == []


def test_on_a_phone_the_question_stays_above_its_answer_and_nothing_overlaps(app: RunningApp, page: Any) -> None:
    open_ui(page, app, VIEWPORTS["375x667"])
    ask(page, ANSWERED)
    answer = ask(page, "Which convention against cybercrime will be signed in Hanoi?")
    question = page.locator('#nwa-chat [data-testid="user"]').last
    page.wait_for_function("() => { const q = [...document.querySelectorAll('#nwa-chat [data-testid=user]')].pop();"
                           " const r = q.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
    page.screenshot(path=str(SCREENSHOTS / "ui-phone-375x667.png"))
    asked, replied = rect(question), rect(answer)
    assert asked["top"] >= 0 and asked["bottom"] <= replied["top"] and replied["top"] + 20 <= 667
    for button in page.locator("#nwa-chat button.icon-button").all():
        if button.is_visible():
            assert not overlaps(rect(button), asked) and not overlaps(rect(button), replied)
    heading = rect(page.locator("#nwa-sources .nwa-sources-title"))
    assert page.locator("#nwa-sources svg").count() == 0  # no "</>" icon on the Sources heading
    assert heading["right"] <= 375
    card = page.locator("#nwa-sources details.nwa-turn[open] .nwa-source").first
    assert rect(card)["right"] <= 375 and card.evaluate("el => parseFloat(getComputedStyle(el).fontSize)") >= 12
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_the_editors_page_is_the_admins_and_lists_the_waiting_questions(app: RunningApp, page: Any) -> None:
    refused = httpx.post(f"{app.url}/api/chat", json={"question": "Wer gewann 1998 die Tour de France?"},
                         timeout=120).json()
    assert refused["abstained"]
    open_ui(page, app, VIEWPORTS["1280x800"])
    page.get_by_role("tab", name="Editors").click()
    page.fill("#nwa-desk-token input", "wrong")
    page.click("#nwa-desk-show")
    page.locator("#nwa-desk-summary").get_by_text("Wrong admin token").wait_for()
    assert page.locator("#nwa-desk-queue table").count() == 0
    page.fill("#nwa-desk-token input", ADMIN_TOKEN)
    page.click("#nwa-desk-show")
    queue = page.locator("#nwa-desk-queue table")
    queue.wait_for()
    assert "Wer gewann 1998 die Tour de France?" in queue.inner_text() or "Tour de France" in queue.inner_text()
    assert "answered" in page.locator("#nwa-desk-summary").inner_text()
    with page.expect_download() as download:
        page.click("#nwa-desk-export")
    from pathlib import Path

    assert "Tour de France" in Path(download.value.path()).read_text(encoding="utf-8")
