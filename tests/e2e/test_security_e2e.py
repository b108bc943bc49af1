"""The Content-Security-Policy in a real browser: viewflow's pages run with it and nothing is refused;
the idle warning appears before the timeout and "stay logged in" keeps the session.

Personas: ``caseworker`` (staff in Barneverntjenesten, receives the melding).
"""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.support import nb
from tests.factories import make_melding, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def csp_refusals(page):
    """Collects the browser's console reports of anything the policy refused."""
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    return refused


class ContentSecurityPolicyBrowserTests:
    def test_it_refuses_nothing_on_the_caseworkers_pages(self, new_page, login):
        org = make_org()
        melding = make_melding(org)
        page = new_page()
        refused = csp_refusals(page)
        login(page, org.caseworker.username)
        for url in (
            reverse("concerns:intake"),
            reverse("concerns:detail", args=[melding.code]),
            reverse("workflow:inbox"),
            reverse("workflow:queue"),
            reverse("workflow:flows:concern:process_detail", kwargs={"process_pk": melding.process.pk}),
            reverse("workflow:flows:concern:process_chart", kwargs={"process_pk": melding.process.pk}),
        ):
            page.goto(url)
            page.wait_for_load_state("networkidle")
        assert refused == []

    def test_it_opens_the_menu_under_the_policy(self, new_page, login):
        org = make_org()
        page = login(new_page(), org.caseworker.username)
        page.goto(reverse("concerns:intake"))
        page.get_by_role("button", name=nb("Open navigation menu")).click()
        expect(page.locator(".vf-page__menu")).to_be_visible()


class IdleWarningBrowserTests:
    def test_it_warns_before_the_timeout_and_keeps_the_user_logged_in(self, new_page, login, settings):
        settings.SESSION_IDLE_TIMEOUT_MINUTES = 1
        settings.SESSION_IDLE_WARNING_SECONDS = 55  # the warning shows about 5 seconds after the page loads
        org = make_org()
        page = login(new_page(), org.caseworker.username)
        page.goto(reverse("concerns:intake"))
        warning = page.get_by_role("alertdialog")
        expect(warning).to_be_visible(timeout=15_000)
        expect(warning).to_contain_text(nb("Are you still there?"))
        with page.expect_response(lambda response: response.url.endswith(reverse("session_keep_alive"))) as keep_alive:
            warning.get_by_role("button", name=nb("Stay logged in")).click()
        assert keep_alive.value.status == 204
        expect(warning).to_be_hidden()
        assert "/accounts/login/" not in page.url
