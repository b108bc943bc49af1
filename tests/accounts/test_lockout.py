"""Lockout after failed logins (django-axes), on the one login page that /admin/ uses too.

Personas: a barnehage reporter whose password someone guesses from one address; the same
reporter at another address; a technical administrator (superuser, staff).
"""
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_user

pytestmark = pytest.mark.django_db

GUESSER = "203.0.113.7"
OFFICE = "198.51.100.20"


def attempt(client, user, password, *, ip=GUESSER, next_url=""):
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"username": user.username, "password": password, "next": next_url}, REMOTE_ADDR=ip)


def guess(client, user, times, **kwargs):
    for _ in range(times):
        response = attempt(client, user, "wrong-password", **kwargs)
        assert "_auth_user_id" not in client.session
    return response


class LockoutTests:
    def test_it_locks_the_login_after_five_failures_even_with_the_right_password(self, client, org, settings):
        assert settings.AXES_FAILURE_LIMIT == 5
        guess(client, org.reporter, 4)
        assert attempt(client, org.reporter, "wrong-password").status_code == 429
        response = attempt(client, org.reporter, "pw")
        assert response.status_code == 429
        assert "_auth_user_id" not in client.session

    def test_it_answers_with_a_translated_lockout_page(self, client, org):
        guess(client, org.reporter, 5)
        page = attempt(client, org.reporter, "pw").content.decode()
        assert 'data-testid="lockout"' in page
        assert "For mange mislykkede innlogginger" in page
        assert "15 minutter" in page

    def test_it_locks_by_user_name_and_address_together(self, client, org):
        guess(client, org.reporter, 5)
        assert attempt(client, org.reporter, "pw", ip=OFFICE).status_code == 302
        assert "_auth_user_id" in client.session

    def test_it_opens_again_after_the_cool_off(self, client, org, settings):
        guess(client, org.reporter, 5)
        with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=1), tick=False):
            assert attempt(client, org.reporter, "pw").status_code == 302

    def test_it_forgets_earlier_failures_after_a_successful_login(self, client, org):
        guess(client, org.reporter, 4)
        assert attempt(client, org.reporter, "pw").status_code == 302
        client.post(reverse("logout"))
        guess(client, org.reporter, 4)
        assert attempt(client, org.reporter, "pw").status_code == 302


class AdminLockoutTests:
    def test_it_sends_the_admin_login_to_the_one_login_page(self, client):
        response = client.get(reverse("admin:login"), {"next": "/admin/"})
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next=/admin/"

    def test_it_never_logs_in_through_a_post_to_the_admin_login(self, client, db):
        admin = make_user("drift", is_staff=True, is_superuser=True)
        client.post(reverse("admin:login"), {"username": admin.username, "password": "pw", "next": "/admin/"})
        assert "_auth_user_id" not in client.session

    def test_it_locks_the_admin_login_too(self, client, db):
        admin = make_user("drift", is_staff=True, is_superuser=True)
        guess(client, admin, 5, next_url="/admin/")
        assert attempt(client, admin, "pw", next_url="/admin/").status_code == 429
        assert "_auth_user_id" not in client.session
        assert client.get("/admin/", REMOTE_ADDR=GUESSER)["Location"].startswith(reverse("admin:login"))
