"""End-to-end fixtures: one headless Debian Chromium per session, a page per test, real logins, axe-core.

Playwright's sync API runs an event loop in the test thread, so Django's async-safety check would
refuse the ORM calls the tests make to seed data; the live server runs in its own thread and is not
affected.
"""
import os
import shutil
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "pw"  # tests/factories.make_user


def pytest_collection_modifyitems(config, items):
    """Every test in this folder is an e2e test. Without Chromium or axe-core they skip, saying why;
    in CI (CI set) that is an error instead, as for the services tests."""
    missing = []
    if not shutil.which("chromium"):
        missing.append("chromium (make system-deps)")
    if not AXE_JS.exists():
        missing.append("axe-core (make browser)")
    here = Path(__file__).parent
    mine = [item for item in items if here in Path(str(item.fspath)).parents]
    for item in mine:
        item.add_marker(pytest.mark.e2e)
    if mine and missing:
        reason = "needs " + " and ".join(missing)
        if os.environ.get("CI"):
            raise pytest.UsageError(f"CI run without {reason}: the end-to-end tests cannot be skipped in CI")
        for item in mine:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session", autouse=True)
def _same_db_connection_after_the_browser_starts(django_db_setup, django_db_blocker, browser):
    """Keep Django's test connection once Playwright's loop runs (see support.keep_django_connection_under_playwright).

    Session scope: runs before the per-test setup that restores the rows the migrations seeded. The
    test database is set up before the browser starts (the order of the arguments), whether or not
    other tests ran first, so the browser tests take the same path alone as in the whole suite.
    """
    from django.core.management import call_command
    from django.db import connections

    from tests.e2e.support import keep_django_connection_under_playwright

    if keep_django_connection_under_playwright() and hasattr(connections["default"], "_test_serialized_contents"):
        # Tests that ran before the browser left rows behind on the other connection: start from an
        # empty database so the next serialized restore brings every seeded row back.
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)


@pytest.fixture
def new_page(browser, live_server):
    """Make a fresh page (own cookies, so one per user) whose relative URLs go to the live server."""
    contexts = []

    def make(*, javascript=True):
        context = browser.new_context(
            base_url=live_server.url, locale="nb-NO", viewport={"width": 1280, "height": 900}, java_script_enabled=javascript,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def _login(page, username, password=PASSWORD):
    """Log in through the real login form and wait until the app has taken over from the login page."""
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_test_id("login-form").get_by_role("button").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/accounts/otp/" in page.url:
        _second_factor(page, username)
    return page


def _second_factor(page, username):
    """With settings.REQUIRE_SECOND_FACTOR on: type the code an authenticator app would show, enrolling
    with the key the page shows when the user has no app yet."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.accounts.support import bin_key_from_display, totp_code_for_key

    shown_key = page.get_by_test_id("otp-key")
    if shown_key.count():
        bin_key = bin_key_from_display(shown_key.inner_text())
    else:
        bin_key = TOTPDevice.objects.get(user__username=username, confirmed=True).bin_key
    page.locator("input[name=token]").fill(totp_code_for_key(bin_key))
    page.get_by_test_id("otp-form").get_by_role("button").click()
    page.wait_for_url(lambda url: "/accounts/otp/" not in url)


@pytest.fixture
def login():
    return _login


def _axe_scan(page, impacts=("serious", "critical")):
    """Run axe-core (WCAG 2.0/2.1 A and AA rules and axe's best practices) on the page.

    Returns the violations of the given impacts, as axe reports them (id, impact, help, nodes …).
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Through the DevTools protocol: the pages' Content-Security-Policy (no inline script) stays
        # on and would refuse add_script_tag.
        cdp = page.context.new_cdp_session(page)
        cdp.send("Runtime.evaluate", {"expression": AXE_JS.read_text(encoding="utf-8")})
        cdp.detach()
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}, resultTypes: ['violations']})"""
    )
    return [v for v in result["violations"] if v.get("impact") in impacts]


def format_violations(violations) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:10]:
            summary = (node.get("failureSummary") or "").strip().splitlines()
            lines.append(f"    at {' '.join(map(str, node['target']))}: {summary[-1].strip() if summary else ''}")
    return "\n".join(lines)


@pytest.fixture
def axe_scan():
    """``axe_scan(page)`` fails the test, listing every serious or critical violation; returns the list otherwise."""

    def scan(page, name=""):
        violations = _axe_scan(page)
        if violations:
            pytest.fail(f"axe-core found serious/critical accessibility violations on {name or page.url}:\n{format_violations(violations)}", pytrace=False)
        return violations

    return scan
