"""A password login needs a TOTP code (django-otp) before anything else opens; demo mode goes without.

Personas: a barnehage reporter logging in with a password (enrols an authenticator app, then
verifies on later logins); the same reporter typing wrong codes (throttled).
"""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.second_factor import LOGIN_METHOD_SESSION_KEY
from tests.accounts.support import production_setting, totp_code

pytestmark = pytest.mark.django_db

# Frozen near the real time (sessions made outside the frozen block must not look expired), at
# the start of a 30-second TOTP step.
NOW = datetime.fromtimestamp((int(datetime.now(timezone.utc).timestamp()) // 30) * 30 + 2, tz=timezone.utc)


@pytest.fixture
def required(settings):
    settings.REQUIRE_SECOND_FACTOR = True


def password_login(client, user, next_url="/varsler/"):
    return client.post(f"{reverse('login')}?next={next_url}", {"username": user.username, "password": "pw", "next": next_url})


def confirmed_device(user):
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


class SecondFactorSettingTests:
    def test_it_is_required_by_the_production_settings(self):
        assert production_setting("REQUIRE_SECOND_FACTOR") == "True"

    def test_it_cannot_be_switched_off_by_the_environment(self):
        assert production_setting("REQUIRE_SECOND_FACTOR", REQUIRE_SECOND_FACTOR="0", DJANGO_REQUIRE_SECOND_FACTOR="0") == "True"

    def test_it_is_off_only_in_demo_mode(self):
        assert production_setting("REQUIRE_SECOND_FACTOR", DJANGO_DEMO="1") == "False"


class SecondFactorMiddlewareTests:
    def test_it_sends_a_password_login_to_the_code_page(self, client, org, required):
        confirmed_device(org.reporter)
        response = password_login(client, org.reporter)
        assert client.session[LOGIN_METHOD_SESSION_KEY] == "password"
        response = client.get(response["Location"])
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('accounts:otp_verify')}?next=%2Fvarsler%2F"

    def test_it_sends_every_page_and_the_admin_to_the_code_page(self, client, org, required):
        client.force_login(org.reporter)  # no recorded login method: still a password session
        for url in (reverse("concerns:index"), reverse("notifications:index"), "/admin/"):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:otp_verify")), url

    def test_it_keeps_a_query_string_out_of_next(self, client, org, required):
        client.force_login(org.reporter)
        response = client.get(reverse("concerns:index"), {"q": "Nordmann"})
        assert "Nordmann" not in response["Location"]

    def test_it_leaves_logout_and_the_language_switch_open(self, client, org, required):
        client.force_login(org.reporter)
        assert client.post(reverse("set_language"), {"language": "en", "next": "/"})["Location"] == "/"
        response = client.post(reverse("logout"))
        assert response.status_code == 302 and "_auth_user_id" not in client.session

    def test_it_leaves_a_demo_login_alone(self, client, org, settings):
        settings.REQUIRE_SECOND_FACTOR = False
        password_login(client, org.reporter)
        assert client.get(reverse("notifications:index")).status_code == 200


class EnrolmentTests:
    def test_it_shows_a_qr_code_and_the_key(self, client, org, required):
        password_login(client, org.reporter)
        response = client.get(reverse("accounts:otp_verify"), {"next": "/varsler/"})
        assert response["Location"] == f"{reverse('accounts:otp_setup')}?next=%2Fvarsler%2F"
        page = client.get(response["Location"]).content.decode()
        device = TOTPDevice.objects.get(user=org.reporter)
        assert device.confirmed is False
        assert "<svg" in page and "<path" in page
        assert device.key[:0] == "" and 'data-testid="otp-key"' in page

    def test_it_confirms_the_app_with_a_code_it_computes(self, client, org, required):
        password_login(client, org.reporter)
        with time_machine.travel(NOW, tick=False):
            client.get(reverse("accounts:otp_setup"))
            device = TOTPDevice.objects.get(user=org.reporter)
            response = client.post(reverse("accounts:otp_setup"), {"token": totp_code(device), "next": "/varsler/"})
        assert response.status_code == 302 and response["Location"] == "/varsler/"
        device.refresh_from_db()
        assert device.confirmed is True
        assert client.get(reverse("notifications:index")).status_code == 200

    def test_it_refuses_a_wrong_code_at_enrolment(self, client, org, required):
        password_login(client, org.reporter)
        with time_machine.travel(NOW, tick=False):
            client.get(reverse("accounts:otp_setup"))
            device = TOTPDevice.objects.get(user=org.reporter)
            wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
            response = client.post(reverse("accounts:otp_setup"), {"token": wrong})
        assert response.status_code == 200
        device.refresh_from_db()
        assert device.confirmed is False
        assert client.get(reverse("notifications:index")).status_code == 302

    def test_it_never_lets_a_password_add_a_second_app(self, client, org, required):
        confirmed_device(org.reporter)
        password_login(client, org.reporter)
        response = client.get(reverse("accounts:otp_setup"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:otp_verify"))
        assert TOTPDevice.objects.filter(user=org.reporter).count() == 1


class VerificationTests:
    def test_it_accepts_the_current_code(self, client, org, required):
        device = confirmed_device(org.reporter)
        password_login(client, org.reporter)
        with time_machine.travel(NOW, tick=False):
            response = client.post(reverse("accounts:otp_verify"), {"token": totp_code(device), "next": "/varsler/"})
        assert response["Location"] == "/varsler/"
        assert client.get(reverse("notifications:index")).status_code == 200

    def test_it_gives_the_verified_session_a_new_key(self, client, org, required):
        device = confirmed_device(org.reporter)
        password_login(client, org.reporter)
        before = client.session.session_key
        with time_machine.travel(NOW, tick=False):
            client.post(reverse("accounts:otp_verify"), {"token": totp_code(device)})
        assert client.session.session_key != before

    def test_it_refuses_a_code_used_before(self, client, org, required):
        device = confirmed_device(org.reporter)
        with time_machine.travel(NOW, tick=False):
            code = totp_code(device)
            password_login(client, org.reporter)
            client.post(reverse("accounts:otp_verify"), {"token": code})
            client.post(reverse("logout"))
            password_login(client, org.reporter)
            response = client.post(reverse("accounts:otp_verify"), {"token": code})
        assert response.status_code == 200
        assert client.get(reverse("notifications:index")).status_code == 302

    def test_it_throttles_wrong_codes(self, client, org, required):
        device = confirmed_device(org.reporter)
        password_login(client, org.reporter)

        def attempt(at, *, right):
            with time_machine.travel(at, tick=False):
                code = totp_code(device)
                token = code if right else f"{(int(code) + 1) % 1_000_000:06d}"
                return client.post(reverse("accounts:otp_verify"), {"token": token, "next": "/varsler/"})

        attempt(NOW, right=False)
        # Throttled after a wrong code (1 s, then 2 s, 4 s …): even the right code is refused meanwhile.
        assert attempt(NOW, right=True).status_code == 200
        attempt(NOW + timedelta(seconds=2), right=False)
        assert attempt(NOW + timedelta(seconds=3), right=True).status_code == 200
        device.refresh_from_db()
        assert device.throttling_failure_count == 2
        assert attempt(NOW + timedelta(seconds=30), right=True)["Location"] == "/varsler/"
        device.refresh_from_db()
        assert device.throttling_failure_count == 0

    def test_it_has_the_throttle_switched_on(self, settings):
        assert settings.OTP_TOTP_THROTTLE_FACTOR >= 1
