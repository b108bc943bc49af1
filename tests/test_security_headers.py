"""Headers and sessions: the Content-Security-Policy, Permissions-Policy, no-store on every page, and
the idle timeout with its warning and keep-alive.

Personas: the barnevern ``caseworker`` (sees the melding about a child), and a visitor not logged in.
"""
import datetime
import re
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from tests.factories import make_melding

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent
START = datetime.datetime(2026, 9, 14, 9, 0, tzinfo=datetime.timezone.utc)


def directive(response, name):
    policy = response["Content-Security-Policy"]
    found = [part.strip() for part in policy.split(";") if part.strip().startswith(name + " ")]
    assert found, policy
    return found[0]


@pytest.fixture
def melding(org):
    return make_melding(org)


class ContentSecurityPolicyTests:
    def test_it_allows_scripts_only_from_the_site(self, client):
        script_src = directive(client.get(reverse("login")), "script-src")
        assert script_src == "script-src 'self'"

    def test_it_refuses_framing_plugins_and_foreign_forms(self, client):
        response = client.get(reverse("login"))
        assert directive(response, "frame-ancestors") == "frame-ancestors 'none'"
        assert directive(response, "object-src") == "object-src 'none'"
        assert directive(response, "form-action") == "form-action 'self'"

    def test_it_covers_viewflows_pages(self, client, org, melding):
        client.force_login(org.caseworker)
        response = client.get(reverse("workflow:flows:concern:process_detail", kwargs={"process_pk": melding.process.pk}))
        assert response.status_code == 200
        assert "unsafe-inline" not in directive(response, "script-src")

    def test_it_finds_no_inline_script_in_our_templates(self):
        offenders = []
        for template in (BASE_DIR / "templates").rglob("*.html"):
            text = template.read_text()
            for tag in re.findall(r"<script\b[^>]*>", text):
                if "src=" not in tag and 'type="application/json"' not in tag:
                    offenders.append(f"{template}: {tag}")
            offenders += [f"{template}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
            offenders += [f"{template}: {m}" for m in re.findall(r"javascript:", text)]
        assert offenders == []


class PermissionsPolicyTests:
    def test_it_switches_off_camera_microphone_and_location(self, client):
        policy = client.get(reverse("login"))["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in policy


class NoStoreTests:
    def test_it_forbids_caching_the_melding_page(self, client, org, melding):
        client.force_login(org.caseworker)
        response = client.get(reverse("concerns:detail", args=[melding.code]))
        assert response.status_code == 200
        assert melding.person.given_name in response.content.decode()
        assert response["Cache-Control"] == "no-store"

    def test_it_forbids_caching_the_lists(self, client, org, melding):
        client.force_login(org.caseworker)
        assert client.get(reverse("concerns:intake"))["Cache-Control"] == "no-store"
        assert client.get(reverse("workflow:queue"))["Cache-Control"] == "no-store"

    def test_it_forbids_caching_a_404(self, client, org):
        client.force_login(org.caseworker)
        response = client.get("/concerns/00000000-0000-0000-0000-000000000000/")
        assert response.status_code == 404
        assert response["Cache-Control"] == "no-store"


class IdleTimeoutTests:
    def test_it_keeps_a_user_logged_in_while_they_work(self, client, org, melding):
        url = reverse("concerns:detail", args=[melding.code])
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(org.caseworker)
            for _ in range(4):
                assert client.get(url).status_code == 200
                clock.shift(datetime.timedelta(minutes=19))
            assert client.get(url).status_code == 200

    def test_it_logs_out_after_twenty_idle_minutes(self, client, org, melding):
        url = reverse("concerns:detail", args=[melding.code])
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(org.caseworker)
            assert client.get(url).status_code == 200
            clock.shift(datetime.timedelta(minutes=20, seconds=1))
            response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert "_auth_user_id" not in client.session

    def test_it_says_why_on_the_login_page(self, client, org, melding):
        url = reverse("concerns:detail", args=[melding.code])
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(org.caseworker)
            client.get(url)
            clock.shift(datetime.timedelta(minutes=21))
            response = client.get(url, follow=True)
        assert "20 minutter uten aktivitet" in response.content.decode()

    def test_it_takes_the_timeout_from_the_settings(self, client, org, melding, settings):
        settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
        url = reverse("concerns:detail", args=[melding.code])
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(org.caseworker)
            client.get(url)
            clock.shift(datetime.timedelta(minutes=6))
            assert client.get(url).status_code == 302

    def test_it_ends_a_busy_login_after_the_session_age(self, client, org, melding, settings):
        settings.SESSION_COOKIE_AGE = 3600
        url = reverse("concerns:detail", args=[melding.code])
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(org.caseworker)
            for _ in range(6):
                assert client.get(url).status_code == 200
                clock.shift(datetime.timedelta(minutes=10))
            clock.shift(datetime.timedelta(minutes=1))
            response = client.get(url, follow=True)
        assert response.redirect_chain[0][0].startswith(reverse("login"))
        assert "Innloggingen din er utløpt" in response.content.decode()

    def test_it_keeps_the_session_alive_on_request(self, client, org, melding):
        url = reverse("concerns:detail", args=[melding.code])
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(org.caseworker)
            client.get(url)
            clock.shift(datetime.timedelta(minutes=18))
            assert client.post(reverse("session_keep_alive")).status_code == 204
            clock.shift(datetime.timedelta(minutes=18))
            assert client.get(url).status_code == 200

    def test_it_answers_401_to_a_keep_alive_after_the_timeout(self, client, org):
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(org.caseworker)
            client.get(reverse("concerns:index"))
            clock.shift(datetime.timedelta(minutes=25))
            assert client.post(reverse("session_keep_alive")).status_code == 401

    def test_it_refuses_a_keep_alive_by_get(self, client, org):
        client.force_login(org.caseworker)
        assert client.get(reverse("session_keep_alive")).status_code == 405

    def test_it_puts_the_warning_on_every_page(self, client, org):
        client.force_login(org.caseworker)
        page = client.get(reverse("concerns:index"), follow=True).content.decode()
        assert 'id="sh-idle-warning"' in page and 'data-timeout="1200"' in page and 'data-warning="120"' in page
        assert "samhandling/idle" in page

    def test_it_leaves_the_warning_off_the_login_page(self, client):
        assert 'id="sh-idle-warning"' not in client.get(reverse("login")).content.decode()
