"""Logging in, end to end in Chromium: OpenID Connect against a real provider process, the TOTP
second factor, and the lockout page.

Personas: a barnevern caseworker whose ID-porten identity an administrator has linked; a person
the provider knows but Samhandling does not; a barnehage reporter logging in with a password for
the first time (enrols an authenticator app); a teacher with an app already; someone guessing the
teacher's password.
"""
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import ExternalIdentity
from org.models import Membership
from tests.accounts.support import bin_key_from_display, enable_oidc, oidc_provider_process, totp_code_for_key
from tests.e2e.support import nb, screenshot
from tests.factories import make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CASEWORKER_PID = "05917098733"  # synthetic
STRANGER_PID = "17912099997"  # synthetic


@pytest.fixture(scope="module")
def provider():
    users = [{"sub": "caseworker", "pid": CASEWORKER_PID}, {"sub": "stranger", "pid": STRANGER_PID}]
    with oidc_provider_process(users) as url:
        yield url


@pytest.fixture
def second_factor_required(settings):
    settings.REQUIRE_SECOND_FACTOR = True


@pytest.fixture
def oidc(settings, provider, second_factor_required):
    enable_oidc(settings, provider, claim="pid", label="ID-porten")
    return provider


def offline(page):
    """The provider's page links a stylesheet on a CDN: no outside network in tests."""
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda route: route.abort())
    return page


def logged_in_user_id(page):
    cookie = next(c for c in page.context.cookies() if c["name"].endswith("sessionid"))
    return int(Session.objects.get(session_key=cookie["value"]).get_decoded()["_auth_user_id"])


def log_in_with_provider(page, sub):
    page.goto(reverse("login"))
    page.get_by_test_id("oidc-login").click()
    page.wait_for_url(re.compile(r"/oauth2/authorize"))
    page.get_by_role("button", name=sub, exact=True).click()


class OIDCLoginE2ETests:
    def test_it_logs_in_the_linked_user_through_the_provider(self, page, oidc, axe_scan):
        org = make_org()
        ExternalIdentity.objects.create(user=org.caseworker, issuer=oidc, claim="pid", value=CASEWORKER_PID)
        offline(page)
        page.goto(reverse("login"))
        expect(page.get_by_test_id("oidc-login")).to_have_text(nb("Log in with %(provider)s") % {"provider": "ID-porten"})
        axe_scan(page, "the login page with ID-porten")

        log_in_with_provider(page, "caseworker")
        page.wait_for_url(lambda url: "/oauth2/" not in url and "/accounts/" not in url)
        assert logged_in_user_id(page) == org.caseworker.pk
        # Strong authentication by the provider: no local code is asked for.
        page.goto(reverse("notifications:index"))
        assert "/accounts/" not in page.url
        screenshot(page, "login-oidc-landed")

    def test_it_refuses_an_identity_no_user_is_linked_to(self, page, oidc, axe_scan):
        org = make_org()
        ExternalIdentity.objects.create(user=org.caseworker, issuer=oidc, claim="pid", value=CASEWORKER_PID)
        users, memberships = get_user_model().objects.count(), Membership.objects.count()
        offline(page)
        log_in_with_provider(page, "stranger")
        page.wait_for_url(lambda url: url.endswith(reverse("login")))
        expect(page.get_by_test_id("login-messages")).to_contain_text("ikke knyttet til en bruker i Samhandling")
        axe_scan(page, "the login page refusing an unknown identity")
        screenshot(page, "login-oidc-refused")
        assert get_user_model().objects.count() == users and Membership.objects.count() == memberships
        page.goto(reverse("notifications:index"))
        assert page.url.split("?")[0].endswith(reverse("login"))


class TOTPLoginE2ETests:
    def test_it_enrols_an_authenticator_app_at_the_first_password_login(self, page, second_factor_required, axe_scan):
        org = make_org()
        page.goto(reverse("login") + "?next=" + reverse("notifications:index"))
        page.locator("input[name=username]").fill(org.reporter.username)
        page.locator("input[name=password]").fill("pw")
        page.get_by_test_id("login-form").get_by_role("button").click()
        page.wait_for_url(re.compile(r"/accounts/otp/ny/"))
        expect(page.get_by_role("img", name=nb("QR code for the authenticator app"))).to_be_visible()
        screenshot(page, "login-otp-setup")
        axe_scan(page, "the authenticator enrolment page")

        # A wrong code first: refused with a message, nothing confirmed.
        key = bin_key_from_display(page.get_by_test_id("otp-key").inner_text())
        right = totp_code_for_key(key)
        page.locator("input[name=token]").fill(f"{(int(right) + 1) % 1_000_000:06d}")
        page.get_by_test_id("otp-form").get_by_role("button").click()
        expect(page.get_by_test_id("form-errors")).to_be_visible()
        axe_scan(page, "the enrolment page with an error")
        assert not TOTPDevice.objects.filter(user=org.reporter, confirmed=True).exists()

        # Throttled for a second after the wrong code; then the code the app shows for the key on the page.
        page.wait_for_timeout(2100)
        page.locator("input[name=token]").fill(totp_code_for_key(key))
        page.get_by_test_id("otp-form").get_by_role("button").click()
        page.wait_for_url(lambda url: url.endswith(reverse("notifications:index")))
        assert TOTPDevice.objects.get(user=org.reporter).confirmed is True
        assert logged_in_user_id(page) == org.reporter.pk

    def test_it_asks_for_the_code_at_a_password_login(self, page, second_factor_required, axe_scan):
        org = make_org()
        device = TOTPDevice.objects.create(user=org.teacher, name="app", confirmed=True)
        page.goto(reverse("login"))
        page.locator("input[name=username]").fill(org.teacher.username)
        page.locator("input[name=password]").fill("pw")
        page.get_by_test_id("login-form").get_by_role("button").click()
        page.wait_for_url(re.compile(r"/accounts/otp/\?"))
        axe_scan(page, "the code page")
        # Nothing else opens before the code.
        page.goto(reverse("notifications:index"))
        assert "/accounts/otp/" in page.url
        page.locator("input[name=token]").fill(totp_code_for_key(device.bin_key))
        page.get_by_test_id("otp-form").get_by_role("button").click()
        page.wait_for_url(lambda url: url.endswith(reverse("notifications:index")))
        assert logged_in_user_id(page) == org.teacher.pk

    def test_the_login_helper_passes_the_second_factor(self, page, login, second_factor_required):
        org = make_org()
        login(page, org.caseworker.username)
        page.goto(reverse("notifications:index"))
        assert page.url.endswith(reverse("notifications:index"))


class LockoutE2ETests:
    def test_it_shows_the_lockout_page_after_five_wrong_passwords(self, page, axe_scan):
        org = make_org()
        for _ in range(5):
            page.goto(reverse("login"))
            page.locator("input[name=username]").fill(org.teacher.username)
            page.locator("input[name=password]").fill("not-the-password")
            page.get_by_test_id("login-form").get_by_role("button").click()
        expect(page.get_by_test_id("lockout")).to_be_visible()
        page.goto(reverse("login"))
        page.locator("input[name=username]").fill(org.teacher.username)
        page.locator("input[name=password]").fill("pw")
        page.get_by_test_id("login-form").get_by_role("button").click()
        expect(page.get_by_test_id("lockout")).to_contain_text(nb("Too many failed logins"))
        screenshot(page, "login-lockout")
        axe_scan(page, "the lockout page")
        assert not any("_auth_user_id" in session.get_decoded() for session in Session.objects.all())
