"""Browser fixtures: one Chromium per test session, a live `piksend serve` per module, a fresh
browser context per test, and a screenshot in test-artifacts/ when a test fails.

Without Chromium the browser tests skip with the reason; with PIKSEND_REQUIRE_BROWSER=1 (CI)
a missing browser fails them instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.live import free_port, live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
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
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    configured = os.environ.get("PIKSEND_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    for name in CANDIDATES:
        if found := shutil.which(name):
            return found
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get("PIKSEND_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and PIKSEND_REQUIRE_BROWSER=1 requires the browser tests to run")
    pytest.skip(reason)


def pytest_collection_modifyitems(session, config, items):
    """Browser tests run after every other test: Playwright's sync API keeps its event loop
    marked as running in this thread until it stops at the end of the session, and an
    asyncio test after it could not start its own loop. (A stable sort: order is kept.)"""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="module")
def browser():
    # Module scope, not session: while sync Playwright is alive its event loop is marked running
    # in this thread, and every async test after it in the same process (an xdist worker runs
    # other files after this one) fails with "Runner.run() cannot be called from a running
    # event loop". Playwright stops at the end of each browser module.
    path = find_chromium()
    if path is None:
        _unavailable(
            "No Chromium found (/usr/bin/chromium, chromium, chromium-browser, google-chrome; "
            "or set PIKSEND_CHROMIUM)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("live")
    with live_server(data_dir, f"sqlite:///{data_dir / 'piksend.db'}") as server:
        yield server


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    if report.when == "call" and report.failed and "browser" in item.funcargs:
        _screenshot_open_pages(item, report)


def _screenshot_open_pages(item, report) -> None:
    """A failed browser test leaves a picture of every page still open in any of its contexts
    (the fixtures' and the ones the test made itself), taken before fixtures close them:
    test-artifacts/<test id>-<context>-<page>.png. A page that cannot be captured (crashed,
    closed) is named in the report instead of hiding the test's own failure."""
    from playwright.sync_api import Error as PlaywrightError

    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", item.nodeid)[-150:]
    for c, context in enumerate(item.funcargs["browser"].contexts):
        for p, open_page in enumerate(context.pages):
            path = ARTIFACTS / f"{name}-{c}-{p}.png"
            try:
                open_page.screenshot(path=str(path), full_page=True, timeout=10_000)
            except PlaywrightError as exc:  # the test's own failure is the one to report
                report.sections.append(("screenshot", f"{path.name} not taken: {exc}"))
            else:
                report.sections.append(("screenshot", f"{path} ({open_page.url})"))


def _new_page(browser, request, live, **options):
    context = browser.new_context(base_url=live.url, **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page(browser, request, live):
    """A page in a fresh context that may use the clipboard (copy buttons)."""
    yield from _new_page(browser, request, live, permissions=["clipboard-read", "clipboard-write"])


@pytest.fixture
def page_without_js(browser, request, live):
    yield from _new_page(browser, request, live, java_script_enabled=False)


@pytest.fixture
def phone(browser, request, live):
    yield from _new_page(
        browser, request, live, viewport={"width": 360, "height": 740}, is_mobile=True
    )


@contextmanager
def example_client(command: list[str], env: dict[str, str]) -> Iterator[str]:
    """Run a docs example client until it says it is listening; yields its base URL."""
    port = free_port()
    full_env = {**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(port)}
    process = subprocess.Popen(
        command,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Listening on"), f"example did not start: {line}"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sign_up(page, email: str, name: str = "Dana Developer", password: str = "correct horse"):
    page.goto("/signup")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign up").click()
    # Sign-up answers "check your inbox" without a session (issue 14): then sign in.
    page.get_by_role("heading", name="Check your inbox").wait_for()
    page.get_by_role("link", name="Sign in", exact=True).last.click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


PYTHON = sys.executable
