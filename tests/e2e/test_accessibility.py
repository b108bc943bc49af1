"""axe-core finds no serious or critical WCAG 2.1 A/AA problem on the pages the personas use most.

One login per persona, several pages each: logging in is the slow part of a browser test.
"""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.support import nb, screenshot
from tests.factories import advance, make_consultation, make_melding, make_org

# The live server needs a transactional database; serialized_rollback brings back the rows the
# migrations seed (the deadline policies), which a flush between tests would otherwise remove.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


class AccessibilityTests:
    def test_it_has_no_serious_violations_on_the_reporters_pages(self, page, login, axe_scan):
        org = make_org()
        concern = advance(make_melding(org), org, "investigating")
        login(page, org.reporter.username)

        page.goto(reverse("concerns:create"))
        expect(page.get_by_test_id("concern-form")).to_be_visible()
        screenshot(page, "a11y-concern-form")
        axe_scan(page, "the concern form")

        page.get_by_test_id("concern-form").get_by_role("button", name=nb("Send to the child welfare service")).click()
        expect(page.get_by_test_id("form-errors")).to_be_visible()
        screenshot(page, "a11y-concern-form-errors")
        axe_scan(page, "the concern form with errors")

        page.goto(reverse("concerns:detail", args=[concern.code]))
        expect(page.get_by_test_id("feedback")).to_be_visible()
        screenshot(page, "a11y-concern-detail-reporter")
        axe_scan(page, "the reporter's concern page")

        page.goto(reverse("concerns:index"))
        expect(page.get_by_test_id("concern-list").get_by_role("link", name=concern.reference)).to_be_visible()
        axe_scan(page, "the reporter's list of concerns")

    def test_it_has_no_serious_violations_on_the_caseworkers_pages(self, page, login, axe_scan):
        org = make_org()
        make_melding(org)
        investigating = advance(make_melding(org), org, "investigating")
        make_consultation(org)
        login(page, org.caseworker.username)

        page.goto(reverse("concerns:intake"))
        expect(page.get_by_test_id("intake-list").get_by_role("row")).to_have_count(4)
        screenshot(page, "a11y-intake-list")
        axe_scan(page, "the intake list")

        page.goto(reverse("concerns:detail", args=[investigating.code]))
        expect(page.get_by_test_id("handling")).to_be_visible()
        screenshot(page, "a11y-concern-detail-caseworker")
        axe_scan(page, "the caseworker's concern page")

        page.goto(reverse("workflow:queue"))
        expect(page.locator("table.vf-list__table tbody tr").first).to_be_visible()
        screenshot(page, "a11y-task-queue")
        axe_scan(page, "viewflow's task queue")

    def test_it_has_no_serious_violations_on_the_login_page(self, page, axe_scan):
        page.goto(reverse("login"))
        expect(page.get_by_test_id("login-form")).to_be_visible()
        screenshot(page, "a11y-login")
        axe_scan(page, "the login page")

    def test_it_fails_and_names_the_violation_when_a_field_has_no_label(self, page, axe_scan):
        """The scan itself works: a page with an unlabelled field fails, listing rule, help and node."""
        page.goto(reverse("login"))
        page.evaluate("""() => { const i = document.createElement('input'); i.id = 'unlabelled'; document.querySelector('main').append(i); }""")
        with pytest.raises(pytest.fail.Exception) as failure:
            axe_scan(page, "a broken page")
        assert "- label (critical)" in str(failure.value) and "#unlabelled" in str(failure.value)
