"""Browser fixtures: Debian's Chromium driven by Playwright, and the app served by uvicorn on 127.0.0.1.

Chromium comes from apt (`apt-get update && apt-get install -y chromium`); `playwright install`
cannot download a browser here. Without /usr/bin/chromium the browser tests are skipped, saying so.
The page may only talk to 127.0.0.1: every other request is aborted and recorded.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from assistant.config import Settings
from assistant.service import Assistant
from assistant.storage import Store
from tests.conftest import ROOT, free_port, wait_for_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"


@dataclass
class RunningApp:
    """The served app: its base URL and the objects behind it (the tests read the real store)."""

    url: str
    settings: Settings
    assistant: Assistant
    store: Store


@dataclass
class PageLog:
    """What a page did that a test may want to refuse: dialogs, script errors, outside requests."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


def make_app(settings: Settings, assistant: Assistant, store: Store) -> Any:
    """The real application (assistant.api.create_app)."""
    from assistant.web.app import create_app

    return create_app(settings, assistant=assistant, store=store)


@contextmanager
def serving(settings: Settings, port: int | None = None) -> Iterator[RunningApp]:
    """Run the app under uvicorn in a thread on 127.0.0.1 (``port``, else a free one) until the block ends."""
    import uvicorn

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    assistant = Assistant.open(settings)
    store = Store.open(settings.database_url)
    app = make_app(settings, assistant, store)
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    try:
        wait_for_port(port, timeout=60)
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        yield RunningApp(f"http://127.0.0.1:{port}", settings, assistant, store)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        store.close()


@pytest.fixture
def serve_app() -> Iterator[Callable[[Settings], RunningApp]]:
    """``app = serve_app(settings)`` for tests that prepare their own index or settings.

    The servers stop when the test's fixtures are torn down; list this fixture before ``page`` so
    the page (and its open event streams) closes first.
    """
    with ExitStack() as stack:
        yield lambda settings: stack.enter_context(serving(settings))


@pytest.fixture
def ui_app(sample_settings: Settings) -> Iterator[RunningApp]:
    """The app over a private copy of the sample index (list it before ``page``)."""
    with serving(sample_settings) as app:
        yield app


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install it with "
                    "`apt-get update && apt-get install -y chromium` to run the browser tests")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def browser(chromium_executable: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Any, page_log: PageLog) -> Iterator[Any]:
    """A fresh page (own context) that only reaches 127.0.0.1 and records dialogs and errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)

    def local_only(route: Any) -> None:
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            page_log.outside_requests.append(route.request.url)
            route.abort()

    context.route(re.compile(r".*"), local_only)
    new_page = context.new_page()
    new_page.set_default_timeout(30_000)

    def on_dialog(dialog: Any) -> None:
        page_log.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    new_page.on("dialog", on_dialog)
    new_page.on("pageerror", lambda error: page_log.errors.append(str(error)))

    def on_console(message: Any) -> None:  # what the UI's Content-Security-Policy refused breaks the page too
        if "Content Security Policy" in message.text:
            page_log.errors.append(message.text)

    new_page.on("console", on_console)
    yield new_page
    context.close()


@pytest.fixture
def screenshot(page: Any) -> Callable[[str], Path]:
    """``screenshot("name")`` saves tests/artifacts/screenshots/name.png (full page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
