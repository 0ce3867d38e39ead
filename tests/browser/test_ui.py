"""The Gradio chat UI in a real Chromium: ask, stream, cite, follow up, rate, export, upload, stay inert."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from assistant.config import Settings
from assistant.ingest.pipeline import ingest
from assistant.service import Assistant
from assistant.web.ui import corpus_documents
from tests.browser.conftest import PageLog, RunningApp
from tests.openai_stub import OpenAIStub, Reply, sources_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FIRST = "Which convention against cybercrime will be signed in Hanoi?"
FOLLOW_UP = "When is it expected to be signed?"
DUTCH_ARTICLE = "003_024cb3686d4085ed.txt"
ANSWER_TIMEOUT = 90_000
ADMIN_TOKEN = "s3cret-admin-token-for-tests"
LONG_URL = "https://example.org/" + "averyverylongpathsegment" * 6
GRADIO_ORANGE = {"#fff7ed", "#ffedd5", "#ffddb3", "#fdba74", "#fb923c", "#f97316", "#ea580c", "#c2410c",
                 "#9a3412", "#7c2d12", "#6c2e12"}  # gr.themes.colors.orange

XSS_RECORD = {
    "id": "xss-harbour-festival",
    "title": "Zanzibar harbour festival <script>window.__xss='title';alert('title')</script>",
    "text": ("The Zanzibar harbour festival opens on Saturday 14 June with dhow races in the old port. "
             "<img src=x onerror=\"window.__xss='img';alert('img')\"> Organisers of the harbour festival "
             "expect twenty thousand visitors. <script>window.__xss='body';alert('body')</script> "
             "The harbour festival closes with a fish market on the quay."),
    "lang": "en",
    "source": "<img src=x onerror=\"window.__xss='outlet';alert('outlet')\">",
    "url": "javascript:alert('url')",
    "date": "2025-03-01",
}


# --- helpers ------------------------------------------------------------------------------------
def open_ui(page: Any, app: RunningApp) -> None:
    page.goto(app.url + "/")
    page.wait_for_selector("#nwa-question textarea")


def ask(page: Any, question: str) -> Any:
    """Ask in the UI and wait until the turn is complete; returns the last answer's element."""
    turns_before = page.locator("#nwa-sources details.nwa-turn").count()
    page.fill("#nwa-question textarea", question)
    page.click("#nwa-ask")
    page.wait_for_function(
        "n => document.querySelectorAll('#nwa-sources details.nwa-turn').length === n",
        arg=turns_before + 1, timeout=ANSWER_TIMEOUT,
    )
    return page.locator('#nwa-chat [data-testid="bot"]').last


def latest_card(page: Any, number: int) -> Any:
    turn = page.locator("#nwa-sources details.nwa-turn").count() - 1
    return page.locator(f"#nwa-src-{turn}-{number}")


def cited_documents(page: Any) -> list[str]:
    """Document ids of the latest turn's sources, as the sources panel shows them."""
    return page.locator("#nwa-sources details.nwa-turn[open] .nwa-fields").evaluate_all(
        "els => els.map(el => { const dts = [...el.querySelectorAll('dt')];"
        " const i = dts.findIndex(dt => dt.textContent === 'Document');"
        " return el.querySelectorAll('dd')[i].textContent; })"
    )


def assert_clean(log: PageLog) -> None:
    assert log.dialogs == [], log.dialogs
    assert log.outside_requests == [], log.outside_requests


# --- tests --------------------------------------------------------------------------------------
def test_answer_with_citations_reveals_the_cited_passage(ui_app: RunningApp, page: Any, page_log: PageLog,
                                                         screenshot: Any) -> None:
    open_ui(page, ui_app)
    answer = ask(page, FIRST)
    citations = answer.locator("a.nwa-cite")
    assert citations.count() >= 1
    assert "[1]" in answer.inner_text()
    expected = ui_app.assistant.ask(FIRST)  # the same chain, asked directly
    assert answer.inner_text().replace("[1]", "").split()[:8] == expected.text.split()[:8]

    card = latest_card(page, 1)
    passage = card.locator(".nwa-passage")
    assert not passage.is_visible()  # folded until the citation is clicked
    citations.first.click()
    passage.wait_for(state="visible")
    source = expected.sources[0]
    assert card.locator(".nwa-title").inner_text() == source.title
    fields = card.locator(".nwa-fields").inner_text()
    assert source.outlet in fields and source.doc_id in fields
    marked = passage.locator("mark.nwa-support").all_inner_texts()
    assert " ".join(marked).split() == " ".join(source.supporting).split()
    assert "nwa-active" in (card.get_attribute("class") or "")
    screenshot("ui-answer-citation")
    assert_clean(page_log)
    assert page_log.errors == [], page_log.errors


def test_example_questions_come_from_the_corpus(ui_app: RunningApp, page: Any, page_log: PageLog) -> None:
    open_ui(page, ui_app)
    examples = page.locator("#nwa-chat button.example")
    assert examples.count() >= 2
    titles = {doc["title"]: doc["doc_id"] for doc in corpus_documents(ui_app.assistant)}
    first = examples.first.inner_text()
    title = next(t for t in titles if t in first)  # each example names a headline of the corpus
    examples.first.click()
    page.wait_for_selector("#nwa-sources details.nwa-turn", timeout=ANSWER_TIMEOUT)
    assert page.locator('#nwa-chat [data-testid="user"]').first.inner_text().strip() == first.strip()
    assert titles[title] in cited_documents(page)
    assert_clean(page_log)


def test_answer_streams_in_token_by_token(sample_settings: Settings, serve_app: Any, page: Any,
                                          page_log: PageLog, screenshot: Any) -> None:
    """With a (scripted, real-HTTP) model, the verified answer appears claim by claim."""
    quoted: list[str] = []

    def reply(body: dict[str, Any]) -> Reply:
        sources = sources_in(body)
        number = next((n for n, text in sources.items() if "cybercrim" in text.lower()), min(sources))
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", sources[number]) if len(s) > 40][:3]
        quoted[:] = sentences
        asked.set()
        return Reply(text=" ".join(f"{s} [{number}]" for s in sentences), last_gate=last_word)

    asked = threading.Event()  # the model got the question (and ``quoted`` what it will answer)
    last_word = threading.Event()  # the model's last word waits until the first sentence is on screen
    with OpenAIStub() as stub:
        stub.default = reply
        settings = sample_settings.model_copy(update={"openai_base_url": stub.url, "llm_model": "stub-model",
                                                       "llm_rewrite": False})
        app = serve_app(settings)
        open_ui(page, app)
        page.fill("#nwa-question textarea", FIRST)
        page.click("#nwa-ask")
        bot = page.locator('#nwa-chat [data-testid="bot"]')
        assert asked.wait(ANSWER_TIMEOUT / 1000)
        page.wait_for_function(
            """words => [...document.querySelectorAll('#nwa-chat [data-testid="bot"]')].some(
                   b => b.innerText.replace(/\\s+/g, ' ').includes(words))""",
            arg=" ".join(quoted[0].split()[:6]), timeout=ANSWER_TIMEOUT)
        assert len(quoted) >= 2, quoted
        last_words = " ".join(quoted[-1].split()[:6])
        partial = " ".join(bot.last.inner_text().split())
        assert last_words not in partial, partial  # part of the answer was on screen before the rest came
        last_word.set()
        page.wait_for_function("() => document.querySelectorAll('#nwa-sources details.nwa-turn').length === 1",
                               timeout=ANSWER_TIMEOUT)
        screenshot("ui-streamed-llm-answer")
        final = " ".join(bot.last.inner_text().split())
        assert last_words in final, final
        assert bot.last.locator("a.nwa-cite").count() == len(quoted)
        bot.last.locator("a.nwa-cite").first.click()
        passage = latest_card(page, 1).locator(".nwa-passage")
        passage.wait_for(state="visible")
        assert " ".join(quoted[0].split()[:6]) in " ".join(passage.inner_text().split())
    assert_clean(page_log)


def test_evidence_and_sources_show_while_the_model_writes_then_the_answer_replaces_them(
        sample_settings: Settings, serve_app: Any, page: Any, page_log: PageLog, screenshot: Any) -> None:
    """With a slow model the reader first sees the articles quoted and the sources, marked as not the
    answer; the model's answer then takes their place."""
    evidence_seen = threading.Event()  # the model's first word waits until the evidence was checked

    def late(body: dict[str, Any]) -> Reply:
        first = re.split(r"(?<=\.)\s", sources_in(body)[2])[0].rstrip(".")
        return Reply(text=f"{first} [2].", gate=evidence_seen)

    with OpenAIStub() as stub:
        stub.default = late
        settings = sample_settings.model_copy(update={"openai_base_url": stub.url, "llm_model": "stub-model",
                                                       "llm_rewrite": False})
        app = serve_app(settings)
        open_ui(page, app)
        page.fill("#nwa-question textarea", FIRST)
        page.click("#nwa-ask")
        bot = page.locator('#nwa-chat [data-testid="bot"]').last
        bot.locator(".nwa-evidence").wait_for(timeout=ANSWER_TIMEOUT)
        assert all(r.first_token is None for r in stub.requests)  # the model has not written a word yet
        pending = page.locator("#nwa-sources details.nwa-pending")
        assert pending.locator(".nwa-source").count() == settings.top_k
        assert page.locator("#nwa-sources details.nwa-turn").count() == 0  # no finished turn yet
        evidence = bot.locator(".nwa-evidence")
        assert "not the answer yet" in evidence.inner_text()
        cite = evidence.locator("a.nwa-cite").first
        number = int(cite.inner_text().strip("[]"))
        screenshot("ui-evidence-while-the-model-writes")
        cite.click()  # the quote's citation opens the pending source it names
        pending.locator(f"#nwa-src-0-{number} .nwa-passage").wait_for(state="visible")
        evidence_seen.set()  # now the model may write

        page.wait_for_function("() => document.querySelectorAll('#nwa-sources details.nwa-turn').length === 1",
                               timeout=ANSWER_TIMEOUT)
        final = page.locator('#nwa-chat [data-testid="bot"]').last
        assert final.locator(".nwa-evidence").count() == 0 and final.locator(".nwa-writing").count() == 0
        assert page.locator("#nwa-sources details.nwa-pending").count() == 0
        answer_text = " ".join(final.inner_text().split())
        model_sentence = re.split(r"(?<=\.)\s", sources_in(stub.requests[0].body)[2])[0].rstrip(".")
        assert answer_text == " ".join(f"{model_sentence} [1].".split())
        assert final.locator("a.nwa-cite").count() == 1
        screenshot("ui-model-answer-replaced-the-evidence")
    assert_clean(page_log)
    assert page_log.errors == [], page_log.errors


def test_follow_up_question_uses_the_conversation(ui_app: RunningApp, page: Any, page_log: PageLog,
                                                  screenshot: Any) -> None:
    open_ui(page, ui_app)
    ask(page, FIRST)
    answer = ask(page, FOLLOW_UP)
    assert answer.locator("a.nwa-cite").count() >= 1
    screenshot("ui-follow-up")
    follow_up_cites = cited_documents(page)
    # the first turn's sources stay reachable: its citation opens its folded section
    page.locator('#nwa-chat [data-testid="bot"]').first.locator("a.nwa-cite").first.click()
    page.locator("#nwa-src-0-1 .nwa-passage").wait_for(state="visible")

    page.click("#nwa-new")
    page.wait_for_function("!document.querySelector('#nwa-chat [data-testid=\"bot\"]')")
    assert page.locator("#nwa-sources details.nwa-turn").count() == 0
    assert_clean(page_log)
    # "it" is the convention of the first question; the Dutch article says when it will be signed
    assert DUTCH_ARTICLE in follow_up_cites


def rate_last_answer(page: Any, app: RunningApp, button: str, expected: dict[str, int]) -> None:
    """Click Like/Dislike under the latest answer and wait until the store has the rating."""
    page.locator("#nwa-chat").get_by_role("button", name=button, exact=True).last.click()
    page.get_by_text("Thanks for the feedback.").last.wait_for()
    deadline = time.monotonic() + 20
    while app.store.feedback_counts() != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    toasts = page.locator('[data-testid="toast-text"]').all_inner_texts()
    assert app.store.feedback_counts() == expected, toasts


def test_feedback_buttons_store_feedback(sample_settings: Settings, serve_app: Any, page: Any,
                                         page_log: PageLog, screenshot: Any) -> None:
    app = serve_app(sample_settings.model_copy(update={"admin_token": SecretStr(ADMIN_TOKEN)}))
    open_ui(page, app)
    ask(page, FIRST)
    assert app.store.feedback_counts() == {"up": 0, "down": 0, "total": 0}
    rate_last_answer(page, app, "Like", {"up": 1, "down": 0, "total": 1})
    ask(page, "Who is the Russian ambassador to Vietnam?")
    rate_last_answer(page, app, "Dislike", {"up": 1, "down": 1, "total": 2})
    # the counts are for the admin: the Admin tab shows them once the token is given
    page.get_by_role("tab", name="Admin").click()
    assert page.locator("#nwa-stats").inner_text().strip() == ""
    page.fill("#nwa-token input", "wrong-token")
    page.click("#nwa-show-stats")
    page.locator("#nwa-stats").get_by_text("Wrong admin token").wait_for()
    page.fill("#nwa-token input", ADMIN_TOKEN)
    page.click("#nwa-show-stats")
    page.locator("#nwa-stats").get_by_text("1 helpful · 1 not helpful").wait_for()
    assert "Embedding model" in page.locator("#nwa-stats").inner_text()
    screenshot("ui-feedback")
    assert_clean(page_log)


def test_export_downloads_markdown_and_json(ui_app: RunningApp, page: Any, page_log: PageLog,
                                            tmp_path: Path) -> None:
    open_ui(page, ui_app)
    ask(page, FIRST)
    expected = ui_app.assistant.ask(FIRST)
    with page.expect_download() as download_info:
        page.click("#nwa-export-md")
    download = download_info.value
    assert download.suggested_filename.endswith(".md")
    markdown = Path(download.path()).read_text(encoding="utf-8")
    assert FIRST in markdown and "[1]" in markdown and expected.sources[0].title in markdown

    with page.expect_download() as download_info:
        page.click("#nwa-export-json")
    exported = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
    turn = exported["turns"][0]
    assert turn["question"] == FIRST
    assert turn["answer"]["cited_doc_ids"] == expected.cited_doc_ids
    assert turn["turn_id"]  # the stored turn: the export and the database agree
    stored = ui_app.store.conversation(exported["conversation_id"])
    assert [t["turn_id"] for t in stored] == [turn["turn_id"]]
    assert_clean(page_log)


def test_xss_payload_in_a_source_stays_inert(sample_settings: Settings, serve_app: Any, page: Any,
                                             page_log: PageLog, screenshot: Any, tmp_path: Path) -> None:
    corpus = tmp_path / "xss.jsonl"
    corpus.write_text(json.dumps(XSS_RECORD) + "\n", encoding="utf-8")
    report = ingest([corpus], sample_settings, Assistant.open(sample_settings).index)
    assert report.added == [XSS_RECORD["id"]], report

    app = serve_app(sample_settings)
    open_ui(page, app)
    answer = ask(page, "When does the Zanzibar harbour festival open? <img src=x onerror=alert('q')>")
    asked = page.locator('#nwa-chat [data-testid="user"]').last.inner_text()
    assert "<img src=x onerror=alert('q')>" in asked
    citation = answer.locator("a.nwa-cite").first
    citation.click()
    card = latest_card(page, 1)
    card.locator(".nwa-passage").wait_for(state="visible")
    # two rendered frames after the card is shown: an inline handler of an injected element would have run
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    screenshot("ui-xss-inert")

    assert "<script>window.__xss='title'" in card.locator(".nwa-title").inner_text()
    shown = card.inner_text()
    assert "<img src=x onerror=" in shown  # the outlet and passage payloads, as text
    assert "javascript:alert('url')" not in (card.inner_html())  # not a link, not even text
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("#nwa-sources script, #nwa-chat script").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert XSS_RECORD["id"] in cited_documents(page)
    assert_clean(page_log)


def test_admin_uploads_documents_and_watches_them_ingest(sample_settings: Settings, serve_app: Any,
                                                          page: Any, page_log: PageLog,
                                                          screenshot: Any, tmp_path: Path) -> None:
    settings = sample_settings.model_copy(update={"admin_token": SecretStr("s3cret-admin-token-for-tests")})
    files = []
    for number, town in enumerate(["Hoi An", "Hue", "Da Lat"]):
        path = tmp_path / f"lantern_{number}.txt"
        path.write_text(f"Lantern festival in {town}\n\nThe lantern festival in {town} draws crowds every "
                        f"full moon. Paper lanterns in {town} are made by hand by local families.\n",
                        encoding="utf-8")
        files.append(str(path))

    app = serve_app(settings)
    before = app.assistant.index.stats()["documents"]
    open_ui(page, app)
    page.get_by_role("tab", name="Admin").click()
    page.locator("#nwa-upload input[type=file]").set_input_files(files)
    page.fill("#nwa-token input", "wrong-token")
    page.click("#nwa-ingest")
    page.locator("#nwa-ingest-result").get_by_text("Wrong admin token").wait_for()
    assert app.assistant.index.stats()["documents"] == before
    assert "lantern_0" in page.locator("#nwa-upload").inner_text()  # the files are still chosen

    page.fill("#nwa-token input", "s3cret-admin-token-for-tests")
    page.click("#nwa-ingest")
    # the progress bar (fed by ingest's progress callback) shows over the result while it runs
    page.locator("#nwa-ingest-result").get_by_text("Indexing").first.wait_for(timeout=15_000)
    screenshot("ui-admin-progress")
    page.wait_for_selector("#nwa-ingest-result .nwa-ingest-result", timeout=ANSWER_TIMEOUT)
    assert "3 added" in page.locator("#nwa-ingest-result").inner_text()
    screenshot("ui-admin-uploaded")
    assert app.assistant.index.stats()["documents"] == before + 3

    page.get_by_role("tab", name="Chat").click()
    ask(page, "Who makes the paper lanterns in Hue?")
    assert any(doc.startswith("lantern_") for doc in cited_documents(page))
    assert_clean(page_log)


def test_admin_tab_without_token_disables_upload(ui_app: RunningApp, page: Any) -> None:
    open_ui(page, ui_app)
    page.get_by_role("tab", name="Admin").click()
    page.get_by_text("Uploading is disabled").first.wait_for()
    assert "ADMIN_TOKEN" in page.locator("body").inner_text()
    assert page.locator("#nwa-ingest").is_disabled()


def test_filters_narrow_the_sources_and_bad_dates_are_refused(ui_app: RunningApp, page: Any,
                                                              page_log: PageLog, screenshot: Any) -> None:
    open_ui(page, ui_app)
    page.get_by_text("Filters", exact=True).click()
    page.locator("#nwa-lang input").click()
    page.get_by_role("option", name="nl (1)").click()
    ask(page, FIRST)
    assert cited_documents(page) == [DUTCH_ARTICLE]  # only the Dutch article may answer

    page.locator("#nwa-from textarea, #nwa-from input").first.fill("2025-13-40")
    page.fill("#nwa-question textarea", FOLLOW_UP)
    page.click("#nwa-ask")
    page.locator('[data-testid="toast-text"]').get_by_text("is not a date").first.wait_for()
    screenshot("ui-filters-bad-date")
    assert page.locator("#nwa-question textarea").input_value() == FOLLOW_UP  # nothing lost
    assert page.locator("#nwa-sources details.nwa-turn").count() == 1
    assert page.locator('#nwa-chat [data-testid="bot"]').count() == 1  # the conversation still shows
    assert_clean(page_log)


# --- the reader's page: layout at desktop and phone widths ----------------------------------------
def box(page: Any, selector: str) -> dict[str, float]:
    return page.locator(selector).first.evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width}; }")


PAGE_COLOURS = """() => {
  const hex = c => { const m = c.match(/rgba?\\((\\d+), (\\d+), (\\d+)(?:, ([\\d.]+))?\\)/);
    return m && m[4] !== '0' ? '#' + [m[1], m[2], m[3]].map(v => (+v).toString(16).padStart(2, '0')).join('')
                             : null; };
  const seen = new Set();
  for (const el of document.querySelectorAll('body *')) {
    if (!el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    for (const p of ['color', 'background-color', 'border-top-color', 'border-bottom-color', 'outline-color']) {
      const h = hex(style.getPropertyValue(p)); if (h) seen.add(h);
    }
  }
  return [...seen];
}"""

BUBBLES = """() => {
  const chat = document.querySelector('#nwa-chat').getBoundingClientRect();
  return [...document.querySelectorAll('#nwa-chat .message.user, #nwa-chat .message.bot')].map(el => {
    const r = el.getBoundingClientRect();
    const overflow = Math.max(...[el, ...el.querySelectorAll('*')].map(e => e.scrollWidth - e.clientWidth));
    return {left: r.left - chat.left, right: chat.right - r.right, overflow: overflow};
  });
}"""


def check_reader_page(page: Any, width: int) -> None:
    """What a reader sees at ``width``: no footer or statistics, nothing clipped or too wide, no orange."""
    body = page.locator("body").inner_text()
    for developer_text in ("Use via API", "Built with Gradio", "Settings", "Index statistics",
                           "Embedding model", "helpful"):
        assert developer_text not in body, developer_text
    assert page.locator("footer").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    bubbles = page.evaluate(BUBBLES)
    assert len(bubbles) == 2
    for bubble in bubbles:  # inside the chat, and the long URL wrapped inside the bubble
        assert bubble["left"] >= 0 and bubble["right"] >= 0 and bubble["overflow"] <= 0, bubble
    # the chat's clear/copy icons sit above the scrolling messages, never over a bubble
    icons = box(page, "#nwa-chat .icon-button-wrapper.top-panel")
    assert box(page, "#nwa-chat .bubble-wrap")["top"] >= icons["bottom"]
    sources = page.locator("#nwa-sources .nwa-turn > summary").first
    assert sources.evaluate("el => el.scrollWidth - el.clientWidth") <= 0  # the long question wraps
    assert set(page.evaluate(PAGE_COLOURS)).isdisjoint(GRADIO_ORANGE)


def test_reader_page_at_desktop_and_phone_widths(ui_app: RunningApp, page: Any, page_log: PageLog,
                                                 screenshot: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    open_ui(page, ui_app)
    assert page.locator("#nwa-ask").evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(100, 116, 139)"
    ask(page, f"{FIRST} {LONG_URL}")
    page.mouse.move(0, 0)
    shot = screenshot("ui-reader-1280x800")
    check_reader_page(page, 1280)
    chat, sources = box(page, "#nwa-chat"), box(page, "#nwa-sources")
    assert sources["left"] >= chat["right"]  # side by side
    assert box(page, "#nwa-new")["top"] >= box(page, "#nwa-question")["bottom"]

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("document.querySelector('#nwa-sources').getBoundingClientRect().top > "
                           "document.querySelector('#nwa-ask').getBoundingClientRect().bottom")
    phone = screenshot("ui-reader-390x844")
    check_reader_page(page, 390)
    sources, buttons = box(page, "#nwa-sources"), [box(page, f"#{b}") for b in
                                                   ("nwa-new", "nwa-export-md", "nwa-export-json")]
    assert sources["width"] <= 390
    assert all(b["top"] >= sources["bottom"] for b in buttons)  # the sources come before the buttons
    assert page.evaluate("document.querySelector('#nwa-sources').compareDocumentPosition("
                         "document.querySelector('#nwa-new')) & Node.DOCUMENT_POSITION_FOLLOWING") != 0
    assert shot.stat().st_size > 0 and phone.stat().st_size > 0
    assert_clean(page_log)
    assert page_log.errors == [], page_log.errors
