"""A melding from a barnehage to barnevern and back, in a real browser (P1 steps 4–6).

Personas: ``reporter`` (staff in Solsiden barnehage) and ``caseworker`` (staff in Barneverntjenesten).
"""
import datetime
import re

import pytest
from playwright.sync_api import expect

from people.models import Person
from referrals.models import Concern
from people.validators import synthetic_national_id
from tests.e2e.support import exact, nb, nb_datetime, screenshot
from tests.factories import make_org
from workflows.concern.forms import ConcernForm, ReviewForm

# The live server needs a transactional database; serialized_rollback brings back the rows the
# migrations seed (the deadline policies), which a flush between tests would otherwise remove.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

F = ConcernForm.base_fields


def fill_melding(page, *, national_id, observations="Far virket beruset ved henting i dag. Han kjørte fra barnehagen."):
    page.goto("/concerns/ny/")
    form = page.get_by_test_id("concern-form")
    form.get_by_label(exact(nb(F["kind"].choices[0][1]))).check()
    form.get_by_label(nb(F["given_name"].label)).fill("Emma")
    form.get_by_label(nb(F["family_name"].label)).fill("Testesen")
    form.get_by_label(nb(F["national_id"].label)).fill(national_id)
    form.get_by_label(nb(F["observations"].label)).fill(observations)
    form.get_by_label(exact(nb(Concern.Category.PARENT_INTOXICATED.label))).check()
    form.get_by_role("group", name=nb(F["parents_informed"].label)).get_by_label(exact(nb("Yes"))).check()
    form.get_by_role("group", name=nb(F["child_informed"].label)).get_by_label(exact(nb("No"))).check()
    form.get_by_label(nb(F["not_informed_reason"].label)).fill("Barnet er tre år.")
    return form


class ConcernRoundTripTests:
    def test_it_carries_a_melding_from_the_barnehage_to_barnevern_and_the_feedback_back(self, new_page, login):
        org = make_org()
        national_id = synthetic_national_id(datetime.date(2021, 3, 14))

        # The barnehage teacher files and sends the melding.
        reporter = login(new_page(), org.reporter.username)
        form = fill_melding(reporter, national_id=national_id)
        screenshot(reporter, "concern-form-filled")
        form.get_by_role("button", name=nb("Send to the child welfare service")).click()
        expect(reporter.get_by_test_id("status")).to_have_text(nb(Concern.Status.SUBMITTED.label))
        concern = Concern.objects.get(reporting_service=org.barnehage)
        assert national_id not in reporter.url
        expect(reporter.get_by_test_id("received-at")).to_have_text(nb("Not yet confirmed"))
        expect(reporter.get_by_role("status")).to_contain_text(nb("The concern has been sent."))

        # The barnevern caseworker finds it in the intake list and handles it.
        worker = login(new_page(), org.caseworker.username)
        worker.goto("/concerns/mottak/")
        intake = worker.get_by_test_id("intake-list")
        row = intake.get_by_role("row").filter(has=worker.get_by_role("link", name=concern.reference))
        expect(row).to_contain_text(org.barnehage.name)
        screenshot(worker, "intake-list")
        row.get_by_role("link", name=concern.reference).click()
        expect(worker.get_by_role("heading", level=1)).to_contain_text(concern.reference)
        expect(worker.get_by_test_id("handling")).to_be_visible()
        screenshot(worker, "concern-detail-caseworker")

        worker.get_by_test_id("action-receipt").get_by_role("button", name=nb("Confirm receipt")).click()
        expect(worker.get_by_test_id("status")).to_have_text(nb(Concern.Status.RECEIVED.label))

        review = worker.get_by_test_id("action-review")
        review.get_by_label(exact(nb(Concern.ReviewDecision.INVESTIGATE.label))).check()
        review.get_by_role("button", name=nb("Record decision")).click()
        expect(worker.get_by_test_id("status")).to_have_text(nb(Concern.Status.INVESTIGATING.label))

        feedback_form = worker.get_by_test_id("action-feedback-initial")
        message = feedback_form.get_by_label(nb("Message to the reporter"))
        expect(message).to_have_value(nb("The child welfare service has received your melding and has opened an investigation."))
        message.fill("Vi har mottatt meldingen og åpnet undersøkelse. Takk for at dere meldte.")
        feedback_form.get_by_role("button", name=nb("Send feedback")).click()
        expect(worker.get_by_test_id("feedback")).to_contain_text("Takk for at dere meldte.")
        expect(worker.get_by_test_id("action-feedback-initial")).to_have_count(0)

        # Back at the barnehage: the stage the feedback told (investigation opened), the time of
        # receipt and the feedback, and nothing internal.
        concern.refresh_from_db()
        reporter.reload()
        expect(reporter.get_by_test_id("status")).to_have_text(nb(Concern.Status.INVESTIGATING.label))
        expect(reporter.get_by_test_id("received-at")).to_have_text(f"{nb('Received')} {nb_datetime(concern.received_at)}")
        expect(reporter.get_by_test_id("feedback")).to_contain_text("Vi har mottatt meldingen og åpnet undersøkelse. Takk for at dere meldte.")
        expect(reporter.get_by_test_id("handling")).to_have_count(0)
        expect(reporter.locator("body")).not_to_contain_text(nb(ReviewForm.base_fields["decision"].label))
        screenshot(reporter, "concern-detail-reporter")


class ConcernFormErrorTests:
    def test_it_shows_an_invalid_national_id_next_to_the_field_and_creates_nothing(self, page, login):
        org = make_org()
        valid = synthetic_national_id(datetime.date(2021, 3, 14))
        wrong_checksum = valid[:-1] + str((int(valid[-1]) + 1) % 10)
        login(page, org.reporter.username)
        form = fill_melding(page, national_id=wrong_checksum)
        form.get_by_role("button", name=nb("Send to the child welfare service")).click()

        message = nb("The national identity number is not valid. Check that all 11 digits are correct.")
        field = form.get_by_label(nb(F["national_id"].label))
        error = form.locator(".sh-field", has=page.locator("#id_national_id")).locator("#id_national_id_error")
        expect(error).to_have_text(message)
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_attribute("aria-describedby", re.compile(r"\bid_national_id_error\b"))
        expect(field).to_have_value(wrong_checksum)
        summary = page.get_by_test_id("form-errors")
        expect(summary).to_contain_text(message)
        expect(summary).to_be_focused()
        summary.get_by_role("link", name=re.compile(re.escape(message))).click()
        expect(field).to_be_focused()
        screenshot(page, "concern-form-invalid-national-id")

        assert not Concern.objects.exists()
        assert not Person.objects.exists()
        assert wrong_checksum not in page.url
