"""/admin/ needs the second factor (or an OIDC login) and answers 404 outside the configured networks.

Personas: a technical administrator (staff superuser) logging in with a password, with and
without a TOTP code; the same administrator through OIDC; a barnehage reporter (no staff).
"""
import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.second_factor import LOGIN_METHOD_SESSION_KEY
from tests.factories import make_user

pytestmark = pytest.mark.django_db

INSIDE = "10.20.30.40"
OUTSIDE = "203.0.113.9"


@pytest.fixture
def admin_user(db):
    return make_user("drift", is_staff=True, is_superuser=True)


def verify_session(client, user):
    """The session state django-otp's otp_login leaves behind (as after a correct code)."""
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def oidc_session(client):
    session = client.session
    session[LOGIN_METHOD_SESSION_KEY] = "oidc"
    session.save()


class AdminSecondFactorTests:
    def test_it_refuses_the_admin_to_a_password_login_without_a_code(self, client, admin_user, settings):
        settings.REQUIRE_SECOND_FACTOR = True
        client.force_login(admin_user)
        response = client.get("/admin/")
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:otp_verify"))

    def test_it_refuses_the_admin_site_itself_without_a_code(self, rf, admin_user, settings):
        """The admin site's own check, behind the middleware."""
        from django.contrib import admin
        from django.contrib.sessions.backends.db import SessionStore

        settings.REQUIRE_SECOND_FACTOR = True
        request = rf.get("/admin/")
        request.user = admin_user
        request.user.is_verified = lambda: False
        request.session = SessionStore()
        assert admin.site.has_permission(request) is False
        request.user.is_verified = lambda: True
        assert admin.site.has_permission(request) is True

    def test_it_opens_the_admin_after_a_code(self, client, admin_user, settings):
        settings.REQUIRE_SECOND_FACTOR = True
        client.force_login(admin_user)
        verify_session(client, admin_user)
        assert client.get("/admin/").status_code == 200

    def test_it_opens_the_admin_after_an_oidc_login(self, client, admin_user, settings):
        settings.REQUIRE_SECOND_FACTOR = True
        client.force_login(admin_user)
        oidc_session(client)
        assert client.get("/admin/").status_code == 200

    def test_it_opens_the_admin_without_a_code_in_demo_mode(self, client, admin_user, settings):
        settings.REQUIRE_SECOND_FACTOR = False
        client.force_login(admin_user)
        assert client.get("/admin/").status_code == 200

    def test_it_answers_404_to_a_verified_user_who_is_not_staff(self, client, org, settings):
        client.force_login(org.reporter)
        assert client.get("/admin/", follow=True).status_code == 404


class AdminNetworkTests:
    def test_it_answers_404_outside_the_configured_networks(self, client, admin_user, settings):
        settings.ADMIN_ALLOWED_NETWORKS = ["10.0.0.0/8", "192.168.1.0/24"]
        client.force_login(admin_user)
        assert client.get("/admin/", REMOTE_ADDR=OUTSIDE).status_code == 404
        assert client.get(reverse("admin:login"), REMOTE_ADDR=OUTSIDE).status_code == 404
        assert client.get("/admin/", REMOTE_ADDR=INSIDE).status_code == 200

    def test_it_ignores_a_forwarded_header_it_was_not_told_to_trust(self, client, admin_user, settings):
        settings.ADMIN_ALLOWED_NETWORKS = ["10.0.0.0/8"]
        client.force_login(admin_user)
        assert client.get("/admin/", REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR=INSIDE).status_code == 404

    def test_it_leaves_the_rest_of_the_site_alone(self, client, org, settings):
        settings.ADMIN_ALLOWED_NETWORKS = ["10.0.0.0/8"]
        client.force_login(org.reporter)
        assert client.get(reverse("notifications:index"), REMOTE_ADDR=OUTSIDE).status_code == 200

    def test_it_restricts_nothing_when_unset(self, client, admin_user, settings):
        assert settings.ADMIN_ALLOWED_NETWORKS == []
        client.force_login(admin_user)
        assert client.get("/admin/", REMOTE_ADDR=OUTSIDE).status_code == 200
