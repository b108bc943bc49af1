"""Small helpers for the end-to-end tests (not fixtures)."""
import os
import re

from django.utils import timezone, translation
from django.utils.formats import date_format


def nb(text) -> str:
    """The Norwegian UI text of a source string or lazy label, so tests follow the catalogue."""
    with translation.override("nb"):
        return str(translation.gettext(text) if isinstance(text, str) else text)


def nb_datetime(value) -> str:
    """A datetime as the Norwegian pages show it (SHORT_DATETIME_FORMAT, local time)."""
    with translation.override("nb"):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def exact(text: str):
    """A regex that matches ``text`` as the whole (trimmed) accessible name."""
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def screenshot(page, name: str):
    """Save a full-page screenshot when E2E_SCREENSHOTS names a folder (for looking at the design)."""
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def keep_django_connection_under_playwright() -> bool:
    """Make the test thread keep using the database connection it had before Playwright started.

    Playwright's sync API runs an asyncio loop in the test thread. From then on asgiref's
    thread-critical Local (Django's ``connections``) sees a running loop and switches to a
    context-var storage, so ``connections["default"]`` becomes a *new* connection object. If the
    test database was set up before the browser (any non-browser test ran first), that new object
    lacks ``_test_serialized_contents``: ``serialized_rollback`` then silently skips the restore,
    and every row the migrations seeded (deadline policies, age rules, permissions) is gone after
    the first browser test's flush. Call this once after the browser has started; returns whether
    the connection in use changed (then flush before the next restore: the rows left by earlier
    tests may clash with the restored ones).
    """
    from django.db import connections

    local = connections._connections
    before = getattr(getattr(local, "_storage", None), "default", None)
    if before is None or not hasattr(local, "_get_storage"):
        return False
    storage = local._get_storage()
    changed = getattr(storage, "default", before) is not before
    setattr(storage, "default", before)
    return changed


def label(form_class, name):
    """A form field's bokmål label, as the page shows it (with or without a colon)."""
    return re.compile(rf"^\s*{re.escape(nb(form_class.base_fields[name].label))}:?\s*$")


def settled(page):
    """Wait until Turbo has finished the navigation (it marks the page busy meanwhile) and no
    snackbar of viewflow's scripts is fading in or out (axe-core measures colours mid-animation)."""
    page.wait_for_function("() => !document.documentElement.hasAttribute('aria-busy')"
                           " && !document.querySelector('.mdc-snackbar--opening, .mdc-snackbar--closing')")
    return page


def submit(page, button):
    """Click a form's button and wait for the page it leads to (Turbo swaps the page without a load
    event: wait for the success banner of the new page instead)."""
    from playwright.sync_api import expect

    page.evaluate("() => document.querySelectorAll('[data-testid=messages]').forEach(e => e.remove())")
    button.click()
    try:
        expect(page.get_by_test_id("messages")).to_be_visible()
    except AssertionError:
        print("PAGE:", page.locator("main").inner_text())
        raise
