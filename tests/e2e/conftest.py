"""Browser tests: Debian's Chromium driven by Playwright against a real server process.

Skipped, with the reason, when Chromium or Playwright is missing (``make test`` installs both
where it can). Never runs ``playwright install``: the browser is the system's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from e2e_support import CHROMIUM, CHROMIUM_ARGS, SAVED, SCREENSHOTS, Server, run_server, train_small_model

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed: apt-get install chromium")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright not installed: pip install -e '.[dev]'"
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the whole session (it asks for the browser first: no browser, no server)."""
    workdir = tmp_path_factory.mktemp("e2e")
    model_dir = train_small_model(workdir / "model")
    with run_server(model_dir, workdir) as running:
        yield running


@pytest.fixture
def console_errors() -> list[str]:
    """Errors the page logged (a failed script, a blocked resource): the tests assert there are none."""
    return []


@pytest.fixture
def page(browser: Browser, console_errors: list[str]) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda err: console_errors.append(str(err)))
    yield page
    context.close()


@pytest.fixture
def browser_fr(browser: Browser) -> Iterator[Page]:
    """A page whose browser prefers French (``Accept-Language: fr-FR``)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """Save a full-page PNG under ``reports/e2e/`` and print its path."""

    def take(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        SAVED.append(path)
        return path

    return take


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the screenshots at the end of the run (print() is captured when tests pass)."""
    if SAVED:
        terminalreporter.write_sep("-", "e2e screenshots")
        for path in SAVED:
            terminalreporter.write_line(str(path))
