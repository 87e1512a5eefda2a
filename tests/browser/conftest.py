"""Real-browser tests: Playwright drives Debian's Chromium against pytest-django's live
server, so the pages, their script and the content security policy are tried together.

Chromium cannot be downloaded here (never run `playwright install`): the tests use
/usr/bin/chromium, which `.ci/run` installs with apt. Without it they are skipped, except in
CI, where a missing browser fails the run. A failing test leaves a full-page screenshot of
each page it opened in test-artifacts/."""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, BrowserContext, Page, expect

# Playwright's sync API keeps an asyncio loop running in this thread for the whole session,
# and Django refuses ORM calls made while a loop runs; the tests' set-up and checks are
# ordinary synchronous calls, so they are allowed.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
# The machine's network is closed: without these Chromium keeps trying to reach Google.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WAIT_MS = 10_000
PASSWORD = "test-pass-123"  # tests.factories.UserFactory's
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
PAGES = pytest.StashKey[list[Page]]()

expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install it with `apt-get install chromium`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() gives every run a fresh, throwaway profile (user-data dir).
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser: Browser, live_server, request) -> Iterator[Callable[..., Page]]:
    """Open a page in a new browser context (its own cookies, so one person each) on the
    live server, on a desktop screen or a phone. The browser asks for English, as district
    offices' machines often do; the site answers in Chinese all the same.

    At the end, a script the content security policy refused fails the test."""
    contexts: list[BrowserContext] = []
    pages = request.node.stash.setdefault(PAGES, [])
    refused: list[str] = []
    cache.clear()  # the public page's rate limits count per address, and all tests share one

    def open_(*, phone: bool = False) -> Page:
        context = browser.new_context(
            base_url=live_server.url, locale="en-US", **(PHONE if phone else DESKTOP)
        )
        context.set_default_timeout(WAIT_MS)
        # Chromium asks for /favicon.ico after each page; answering here keeps those
        # requests off the server while a test reads or writes the database.
        context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        pages.append(page)
        return page

    yield open_
    for context in contexts:
        context.close()
    if refused:
        pytest.fail("The content security policy refused:\n" + "\n".join(refused))


@pytest.fixture
def log_in() -> Callable[[Page, object], None]:
    """Log in through the login page, as a person does."""

    def log_in_(page: Page, user) -> None:
        page.goto("/accounts/login/")
        page.locator("#id_username").fill(user.username)
        page.locator("#id_password").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("button", name="退出")).to_be_visible()

    return log_in_


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call" and report.failed:
        report.sections.append(("screenshots", "\n".join(_screenshots(item))))
    return report


def _screenshots(item: pytest.Item) -> list[str]:
    """A full-page screenshot of each page the test opened: the last one opened is
    `<test name>.png`, earlier ones get a number."""
    pages = [page for page in item.stash.get(PAGES, []) if not page.is_closed()]
    name = re.sub(r"[^\w.-]+", "_", item.name)
    ARTIFACTS.mkdir(exist_ok=True)
    saved = []
    for number, page in enumerate(reversed(pages), start=1):
        path = ARTIFACTS / (f"{name}.png" if number == 1 else f"{name}-{number}.png")
        try:
            page.screenshot(path=str(path), full_page=True)
        except Exception as error:  # a crashed page must not hide the test's own failure
            saved.append(f"{path}: not saved ({error})")
        else:
            saved.append(str(path))
    return saved
