"""A database outage in a real browser: the form and what was typed in it survive (issue 12, point 7).

The server is gunicorn in make run's demo mode on its own SQLite file; after the reporter has opened
the new-concern form and typed, the file is moved away, so every request fails in the session
middleware with an OperationalError ("no such table"), as with PostgreSQL stopped. Moving it back is
the database coming back.

Persona: a barnehage reporter (tests/factories.make_org) writing a melding.
"""
import os
import shutil
import subprocess
import sys
import pytest
from playwright.sync_api import expect

from tests.servers import gunicorn
from tests.test_outage import BASE_DIR

PASSWORD = "outage-test-password-1234"
OBSERVATIONS = "Emma kom sulten i dag igjen."
SEED = f"""
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from tests.factories import make_org
org = make_org()
org.reporter.set_password({PASSWORD!r})
org.reporter.save(update_fields=["password"])
print("REPORTER " + org.reporter.username)
"""


DEMO_ENV = {"DJANGO_DEMO": "1", "DJANGO_DEBUG": "1", "CELERY_BROKER_URL": "memory://", "CELERY_TASK_ALWAYS_EAGER": "1"}


@pytest.fixture(scope="module")
def seeded_database(tmp_path_factory):
    """Migrated and seeded once; each test serves its own copy (a test moves its file away)."""
    database = tmp_path_factory.mktemp("outage-seed") / "db.sqlite3"
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    seeded = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED], cwd=BASE_DIR, capture_output=True, text=True, timeout=300,
        env={**keep, "DJANGO_SETTINGS_MODULE": "config.settings", **DEMO_ENV, "DATABASE_URL": f"sqlite:///{database}"},
    )
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    username = next(line for line in seeded.stdout.splitlines() if line.startswith("REPORTER "))[9:]
    return database, username


@pytest.fixture
def outage_server(tmp_path, seeded_database):
    seed, username = seeded_database
    database = tmp_path / "db.sqlite3"
    shutil.copyfile(seed, database)
    with gunicorn({**DEMO_ENV, "DATABASE_URL": f"sqlite:///{database}"}, tmp_path / "server.log") as port:
        yield {"url": f"http://127.0.0.1:{port}", "username": username, "database": database, "moved": tmp_path / "away.sqlite3"}


@pytest.fixture
def reporter_page(browser, outage_server):
    context = browser.new_context(base_url=outage_server["url"], locale="nb-NO")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(outage_server["username"])
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_test_id("login-form").get_by_role("button").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    yield page
    context.close()


def open_form_and_type(page):
    page.evaluate("Turbo.visit('/concerns/ny/')")  # as a click in the menu: a Turbo visit
    page.wait_for_url("**/concerns/ny/")
    page.locator("textarea[name=observations]").fill(OBSERVATIONS)


class DatabaseOutageInTheBrowserTests:
    def test_it_keeps_the_form_and_its_text_when_turbo_sends_it(self, reporter_page, outage_server):
        page = reporter_page
        open_form_and_type(page)
        outage_server["database"].rename(outage_server["moved"])
        page.get_by_test_id("concern-form").locator("button[type=submit]").first.click()
        alert = page.get_by_test_id("database-outage")
        expect(alert).to_contain_text("Ingenting av det du sendte, ble lagret.")
        expect(alert).to_have_attribute("role", "alert")
        expect(page.locator("textarea[name=observations]")).to_have_value(OBSERVATIONS)
        assert page.url.endswith("/concerns/ny/")

    def test_it_lets_back_bring_the_text_back_after_the_page(self, reporter_page, outage_server):
        """The second send goes without Turbo (viewflow turns Turbo off after an error), so it gets
        the page; once the database is back, Back shows the form with the text the browser kept."""
        page = reporter_page
        open_form_and_type(page)
        outage_server["database"].rename(outage_server["moved"])
        submit = page.get_by_test_id("concern-form").locator("button[type=submit]").first
        submit.click()
        expect(page.get_by_test_id("database-outage")).to_be_visible()
        submit.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Samhandling er midlertidig utilgjengelig")
        outage_server["moved"].rename(outage_server["database"])
        page.go_back()
        expect(page.locator("textarea[name=observations]")).to_have_value(OBSERVATIONS)
