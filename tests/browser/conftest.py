"""Browser fixtures: Debian's chromium driven by Playwright's sync API.

``browser`` (session) launches Debian's chromium-headless-shell (or /usr/bin/chromium)
with networking features off;
``page`` (per test) is a fresh context whose every request URL is recorded in
``page.requested_urls`` so that a test can assert that nothing left the live server.
``login(page, live_server, username, password, to=...)`` logs in through the admin form
and lands on ``to`` (default the admin index: a test that goes elsewhere at once passes
that page instead and saves rendering the dashboard). ``session_cookie`` and
``logged_in_context`` give a browser a user's session made on the server, for tests that are
not about logging in.

Tests using these fixtures are marked ``@pytest.mark.browser`` (``-m "not browser"``
skips them).
"""
import os
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest

# Debian's chromium-headless-shell (the "old" headless mode: the renderer without the browser's
# user interface layers) when installed (make browser), else the full chromium in its new
# headless mode: the same Blink and V8 (one Debian source package and version), ≈ 35 % less
# chromium CPU per admin page (docs/benchmarks.md, "Eleventh session: browser tests").
# CHROMIUM_PATH chooses another binary.
HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or (
    HEADLESS_SHELL if os.path.exists(HEADLESS_SHELL) else "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"未安装 chromium（{CHROMIUM}）：运行 make browser")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Django's connections of this thread, taken before Playwright's event loop runs in it:
    # while a loop runs, asgiref's Local (which holds them) keeps them per context instead
    # of per thread, so the tests after this fixture started would open second connections,
    # which the teardown of the test databases (after the loop has stopped) does not see —
    # dropping the worker's database then failed ("is being accessed by other users") and
    # left it behind. Handed to the loop's context, they stay the thread's only ones.
    thread_connections = {alias: connections[alias] for alias in connections}
    with sync_playwright() as playwright:
        for alias, connection in thread_connections.items():
            connections[alias] = connection
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


@contextmanager
def recorded_page(browser, width: int, height: int):
    """A fresh context's page of the given viewport, recording every request URL."""
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.requested_urls = []
    page.on("request", lambda request: page.requested_urls.append(request.url))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser):
    with recorded_page(browser, 1600, 1000) as page:
        yield page


def login(page, live_server, username, password, to="/admin/"):
    """Log in through the admin's login form; the page ends on ``to`` (a path)."""
    page.goto(f"{live_server.url}/admin/login/?{urlencode({'next': to})}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}{to}")


def session_cookie(live_server, user) -> dict:
    """The cookie of a new session of ``user`` made on the server (``Client.force_login``,
    as Django's own tests do), for ``BrowserContext.add_cookies``: logged in without the
    three page loads of the login form. For the tests that are not about logging in; the
    login form itself is covered by the tests using ``login``."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return {"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value}


def logged_in_context(browser, live_server, user, **options):
    """A new browser context already logged in as ``user`` (``session_cookie``)."""
    context = browser.new_context(locale="zh-CN", **options)
    context.add_cookies([session_cookie(live_server, user)])
    context.set_default_timeout(30_000)
    return context


def assert_only_local_requests(page, live_server):
    """Every URL the page requested is on the live server (no CDN, no phoning home)."""
    assert page.requested_urls, "no request recorded"
    foreign = [u for u in page.requested_urls
               if not u.startswith(live_server.url) and not u.startswith(("data:", "blob:"))]
    assert foreign == [], foreign


ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS") or Path(__file__).parent / "artifacts")
# BROWSER_SCREENSHOTS=0 (CI, where nobody looks at them): no screenshot is taken; a
# full-page one of a long admin page costs a fraction of a second, ≈ 80 are taken.
SCREENSHOTS = os.environ.get("BROWSER_SCREENSHOTS", "1") != "0"


def save_screenshot(page, name, *, full_page=True):
    """A screenshot for a reviewer to look at, in ``$BROWSER_ARTIFACTS`` (default
    ``tests/browser/artifacts/``, ignored by git); never part of an assertion. None when
    ``BROWSER_SCREENSHOTS=0``."""
    if not SCREENSHOTS:
        return None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    path = ARTIFACTS / f"{safe}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
