"""Browser fixtures: the app served on a loopback port, and a Chromium page driven by Playwright."""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from portal.testing.plugin import CHROMIUM

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def browser_page(live_server: str, locale: str = "en-US", width: int = 1280, height: int = 720):  # type: ignore[no-untyped-def]
    """A fresh Chromium tab on the live server in ``locale`` (its Accept-Language too)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=live_server, locale=locale, viewport={"width": width, "height": height}
        )
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        try:
            yield tab
        finally:
            context.close()
            browser.close()


@pytest.fixture
def page(live_server: str):  # type: ignore[no-untyped-def]
    with browser_page(live_server) as tab:
        yield tab


@pytest.fixture
def russian_page(live_server: str):  # type: ignore[no-untyped-def]
    """A Russian browser on an office laptop's screen (1366 px wide)."""
    with browser_page(live_server, locale="ru-RU", width=1366, height=768) as tab:
        yield tab


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Path:
    """Where a browser test leaves its screenshots for review: ``test-output/e2e/`` in the
    checkout (ignored by git), or ``$PORTAL_TEST_OUTPUT/e2e``. See docs/development.md."""
    root = Path(os.environ.get("PORTAL_TEST_OUTPUT") or Path(__file__).parents[2] / "test-output")
    folder = root / "e2e" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
