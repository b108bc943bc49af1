"""A database outage answers with the static 503 page (issue 12, point 7), and no error page tells
more than it should.

The outage is real, not mocked: each server is gunicorn in its own process with DATABASE_URL pointing
at a loopback port where nothing listens (psycopg's connection is refused, as when PostgreSQL is
stopped). One server runs make run's demo mode with DEBUG on, one the production settings behind
the (simulated) TLS proxy. Requests carry a session cookie or a form, so the session and
authentication middleware, not a view, are the first to reach for the database.

Rule for tracebacks: Django's technical error page only with DJANGO_DEBUG=1 together with the
embedded development settings (DJANGO_DEMO=1 or DJANGO_EMBEDDED=1); the production settings refuse
to start with DJANGO_DEBUG=1. A database outage is the 503 page in every mode, DEBUG included.
"""
import http.client
import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from config.error_mail import AdminSummaryEmailHandler
from tests.servers import free_port, gunicorn
from tests.test_settings_production import PRODUCTION, refusal_of, start

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "samhandling.example.no"
FNR = "01010112345"  # a fødselsnummer-shaped value that must reach no log
CSRF = "a" * 32

NB_TITLE = "Samhandling er midlertidig utilgjengelig"
NB_TEXT = ("får ikke kontakt med databasen", "Ingenting av det du sendte, ble lagret.", "prøv igjen om et minutt")
EN_TITLE = "Samhandling is temporarily unavailable"
TECHNICAL = ("Traceback", "OperationalError", "psycopg", "connection", "127.0.0.1", "port 1", "DATABASE", "SECRET", "settings", "Django")


def refused_database_url() -> str:
    """A PostgreSQL URL on a loopback port where nothing listens."""
    port = free_port()  # bound and released: nothing listens there now
    return f"postgres://postgres@127.0.0.1:{port}/samhandling"


def request(port, method, path, *, cookies=None, form=None, headers=None, host="127.0.0.1"):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent = {"Host": host, **(headers or {})}
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form)
        sent.update({"Content-Type": "application/x-www-form-urlencoded", "Origin": f"{'https' if host == HOST else 'http'}://{host}"})
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        response.text = response.read().decode("utf-8", "replace")
    finally:
        connection.close()
    return response


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """make run's demo mode (DJANGO_DEMO=1 DJANGO_DEBUG=1) whose database refuses connections."""
    tmp = tmp_path_factory.mktemp("outage-demo")
    env = {"DJANGO_DEMO": "1", "DJANGO_DEBUG": "1", "DATABASE_URL": refused_database_url(), "CELERY_BROKER_URL": "memory://"}
    with gunicorn(env, tmp / "server.log") as port:
        yield {"port": port, "log": tmp / "server.log"}


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """The production settings behind the TLS proxy, DEBUG off, the database refusing connections."""
    tmp = tmp_path_factory.mktemp("outage-production")
    env = {
        **PRODUCTION, "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2, "DATABASE_URL": refused_database_url(),
        "CELERY_BROKER_URL": "memory://", "DJANGO_TRUST_X_FORWARDED_PROTO": "1",
    }
    with gunicorn(env, tmp / "server.log") as port:
        yield {"port": port, "log": tmp / "server.log"}


def logged_in(extra=None):
    """The cookies of a browser that was logged in: reading its session needs the database."""
    return {"sessionid": "x" * 32, **(extra or {})}


class DatabaseOutagePageTests:
    def test_it_answers_a_page_with_503_and_retry_after(self, demo):
        response = request(demo["port"], "GET", "/workflow/inbox/", cookies=logged_in())
        assert response.status == 503, response.text[:2000]
        assert response.getheader("Retry-After") == "60"
        assert response.getheader("Cache-Control") == "no-store"
        assert NB_TITLE in response.text
        for text in NB_TEXT:
            assert text in response.text, text

    def test_it_shows_no_technical_detail_with_debug_on(self, demo):
        response = request(demo["port"], "GET", "/workflow/inbox/", cookies=logged_in())
        assert response.status == 503
        for word in TECHNICAL:
            assert word not in response.text, word

    def test_it_answers_a_form_with_503_and_saves_nothing(self, demo):
        """A login form sent while the database is down: the 503 page, no cookie set or changed
        (no session written), nothing of the form echoed."""
        response = request(
            demo["port"], "POST", "/accounts/login/", cookies={"csrftoken": CSRF},
            form={"csrfmiddlewaretoken": CSRF, "username": "kari.barnevern", "password": FNR, "next": "/"},
        )
        assert response.status == 503, response.text[:2000]
        assert response.getheader("Retry-After") == "60"
        assert response.headers.get_all("Set-Cookie") is None
        assert "kari.barnevern" not in response.text and FNR not in response.text

    def test_it_answers_a_form_sent_by_turbo_with_a_stream_that_keeps_the_form(self, demo):
        """viewflow's pages send forms through Hotwire Turbo, which asks for a Turbo stream: the
        answer puts the message above the form instead of replacing it (the browser side is
        tests/e2e/test_outage_e2e.py)."""
        response = request(
            demo["port"], "POST", "/concerns/ny/", cookies=logged_in({"csrftoken": CSRF}),
            form={"csrfmiddlewaretoken": CSRF, "observations": FNR},
            headers={"Accept": "text/vnd.turbo-stream.html, text/html, application/xhtml+xml", "X-Request-Framework": "Turbo"},
        )
        assert response.status == 503, response.text[:2000]
        assert response.getheader("Retry-After") == "60"
        assert response.getheader("Content-Type") == "text/vnd.turbo-stream.html; charset=utf-8"
        assert '<turbo-stream action="prepend" targets="body">' in response.text
        assert 'role="alert"' in response.text
        assert "Det du fylte ut, står fortsatt i skjemaet: send det igjen om et minutt." in response.text
        assert "<html" not in response.text and FNR not in response.text
        for word in TECHNICAL:
            assert word not in response.text, word

    def test_it_speaks_english_with_the_english_language_cookie(self, demo):
        response = request(demo["port"], "GET", "/workflow/inbox/", cookies=logged_in({"django_language": "en"}))
        assert response.status == 503
        assert EN_TITLE in response.text and "Nothing you sent was saved." in response.text
        assert NB_TITLE not in response.text
        assert '<html lang="en">' in response.text

    def test_it_stays_bokmal_for_an_english_browser_without_the_cookie(self, demo):
        """The project's language rule (config.middleware.chosen_language): the cookie, not Accept-Language."""
        response = request(demo["port"], "GET", "/workflow/inbox/", cookies=logged_in(), headers={"Accept-Language": "en"})
        assert NB_TITLE in response.text and '<html lang="nb">' in response.text

    def test_it_logs_one_line_without_the_query_or_the_form(self, demo):
        path = f"/workflow/{uuid.uuid4()}/"
        request(
            demo["port"], "POST", path + "?q=Hansen", cookies=logged_in({"csrftoken": CSRF}),
            form={"csrfmiddlewaretoken": CSRF, "fodselsnummer": FNR, "name": "Hansen"},
        )
        time.sleep(0.3)  # the worker writes its log line after answering
        log = demo["log"].read_text()
        lines = [line for line in log.splitlines() if path in line and "samhandling.outage" in line]
        assert len(lines) == 1, log[-3000:]
        assert "Database unavailable, answered 503: POST " + path + " (OperationalError:" in lines[0]
        for leak in ("Hansen", FNR, "x" * 32, "Traceback", "Internal Server Error", "Service Unavailable"):
            assert leak not in log, leak

    def test_it_answers_with_503_in_production_too(self, production):
        response = request(
            production["port"], "GET", "/workflow/inbox/", host=HOST,
            cookies={"__Host-sessionid": "x" * 32}, headers={"X-Forwarded-Proto": "https"},
        )
        assert response.status == 503, response.text[:2000]
        assert response.getheader("Retry-After") == "60"
        assert NB_TITLE in response.text
        assert "default-src 'self'" in response.getheader("Content-Security-Policy")
        for word in TECHNICAL:
            assert word not in response.text, word


@pytest.mark.django_db
class HealthCheckTests:
    def test_it_answers_503_while_the_database_refuses(self, production):
        response = request(production["port"], "GET", "/healthz/")  # plain http, a host not allowed
        assert (response.status, response.text, response.getheader("Retry-After")) == (503, "database unavailable\n", "60")

    def test_it_answers_ok_when_the_database_answers(self, client, db):
        response = client.get("/healthz/", HTTP_HOST="127.0.0.1")
        assert (response.status_code, response.content, response["Cache-Control"]) == (200, b"ok\n", "no-store")


class ServerErrorPageTests:
    """Django's server_error view with templates/500.html (no ADMINS in the tests' settings)."""

    def render(self, language):
        with translation.override(language):
            return server_error(RequestFactory().get("/"))

    def test_it_claims_no_email_to_the_operators(self):
        for language in ("nb", "en"):
            text = self.render(language).content.decode().lower()
            for claim in ("e-post", "email", "administrator", "driftsansvarlig"):
                assert claim not in text, (language, claim)

    def test_it_says_the_error_was_logged_in_bokmal(self):
        response = self.render("nb")
        assert response.status_code == 500
        assert "Serverfeil" in response.content.decode()
        assert "feilen er logget" in response.content.decode()


class AdminsSettingTests:
    def test_it_reads_admins_from_the_environment(self):
        probe = "import django, json; django.setup(); from django.conf import settings as s; print('ADMINS ' + json.dumps(s.ADMINS))"
        base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        result = subprocess.run(
            [sys.executable, "-c", probe], cwd=BASE_DIR, capture_output=True, text=True, timeout=120,
            env={**base, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "config.settings", "ADMINS": "Ola Drift <drift@kommune.no>,kari@kommune.no"},
        )
        assert result.returncode == 0, result.stderr[-3000:]
        line = next(line for line in result.stdout.splitlines() if line.startswith("ADMINS "))
        assert line == 'ADMINS [["Ola Drift", "drift@kommune.no"], ["", "kari@kommune.no"]]'

    def test_it_refuses_admins_without_an_address(self):
        assert "ADMINS" in refusal_of({**PRODUCTION, "ADMINS": "Ola Drift"})

    def test_it_starts_without_admins(self):
        assert start(PRODUCTION).returncode == 0


class AdminSummaryEmailTests:
    def record_of_a_failed_request(self):
        try:
            raise ValueError(f"duplicate key (fodselsnummer)=({FNR})")
        except ValueError:
            return logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/person/?q=Hansen",), sys.exc_info())

    def test_it_mails_the_admins_the_code_locations_without_data(self, settings):
        settings.ADMINS = [("Drift", "drift@kommune.no")]
        AdminSummaryEmailHandler().emit(self.record_of_a_failed_request())
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["drift@kommune.no"]
        assert message.subject == "[Samhandling] ERROR: Internal Server Error: /person/"
        assert "builtins.ValueError" in message.body and "record_of_a_failed_request" in message.body
        assert FNR not in message.body and "Hansen" not in message.body + message.subject

    def test_it_mails_nobody_without_admins(self, settings):
        settings.ADMINS = []
        AdminSummaryEmailHandler().emit(self.record_of_a_failed_request())
        assert mail.outbox == []
