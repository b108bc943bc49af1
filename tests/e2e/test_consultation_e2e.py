"""An anonymous consultation, barnevern's advice, and the one-way upgrade to a melding (P1 step 2)."""
import datetime

import pytest
from playwright.sync_api import expect

from people.models import Person
from referrals.models import Concern
from people.validators import synthetic_national_id
from tests.e2e.support import exact, nb, screenshot
from tests.factories import make_org
from workflows.concern.forms import AnswerForm, ConcernForm, UpgradeForm

# The live server needs a transactional database; serialized_rollback brings back the rows the
# migrations seed (the deadline policies), which a flush between tests would otherwise remove.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

F = ConcernForm.base_fields
U = UpgradeForm.base_fields
OBSERVATIONS = "En jente på 4 år sier at mamma sover på sofaen hele dagen. Hva bør vi gjøre?"
ADVICE = "Snakk med mor ved henting. Send melding hvis det gjentar seg."


class ConsultationTests:
    def test_it_answers_an_anonymous_consultation_and_upgrades_it_to_a_melding(self, new_page, login):
        org = make_org()

        # The teacher chooses an anonymous consultation: the child's identity fields go away.
        reporter = login(new_page(), org.reporter.username)
        reporter.goto("/concerns/ny/")
        form = reporter.get_by_test_id("concern-form")
        expect(form.get_by_test_id("consultation-fieldset")).to_be_hidden()
        form.get_by_label(exact(nb(F["kind"].choices[1][1]))).check()
        expect(form.get_by_test_id("child-fieldset")).to_be_hidden()
        expect(form.get_by_test_id("informed-fieldset")).to_be_hidden()
        expect(form.get_by_label(nb(F["given_name"].label))).to_be_hidden()
        screenshot(reporter, "consultation-form")
        form.get_by_label(nb(F["child_age"].label)).fill("4")
        form.get_by_label(nb(F["observations"].label)).fill(OBSERVATIONS)
        form.get_by_label(exact(nb(Concern.Category.PARENTAL_SUBSTANCE_USE.label))).check()
        form.get_by_role("button", name=nb("Send to the child welfare service")).click()
        expect(reporter.get_by_test_id("advice")).to_contain_text(nb("No answer yet."))
        consultation = Concern.objects.get(reporting_service=org.barnehage)
        assert (consultation.kind, consultation.person, consultation.child_age) == (Concern.Kind.CONSULTATION, None, 4)
        assert not Person.objects.exists()

        # Barnevern answers with advice.
        worker = login(new_page(), org.caseworker.username)
        worker.goto("/concerns/mottak/")
        worker.get_by_test_id("intake-list").get_by_role("link", name=consultation.reference).click()
        expect(worker.get_by_test_id("concern-facts")).to_be_visible()
        assert "Person" not in worker.get_by_test_id("concern-facts").inner_text()
        answer = worker.get_by_test_id("action-answer")
        answer.get_by_label(nb(AnswerForm.base_fields["advice"].label)).fill(ADVICE)
        answer.get_by_role("button", name=nb("Send advice")).click()
        expect(worker.get_by_test_id("status")).to_have_text(nb(Concern.Status.ANSWERED.label))

        # The teacher reads the advice and upgrades the consultation to a named melding.
        reporter.reload()
        expect(reporter.get_by_test_id("advice")).to_contain_text(ADVICE)
        reporter.get_by_role("link", name=nb("Upgrade to a melding")).click()
        upgrade = reporter.get_by_test_id("upgrade-form")
        upgrade.get_by_label(nb(U["given_name"].label)).fill("Sofie")
        upgrade.get_by_label(nb(U["family_name"].label)).fill("Testesen")
        upgrade.get_by_label(nb(U["national_id"].label)).fill(synthetic_national_id(datetime.date(2021, 6, 1)))
        upgrade.get_by_role("group", name=nb(U["parents_informed"].label)).get_by_label(exact(nb("Yes"))).check()
        upgrade.get_by_role("group", name=nb(U["child_informed"].label)).get_by_label(exact(nb("No"))).check()
        upgrade.get_by_label(nb(U["not_informed_reason"].label)).fill("Barnet er fire år.")
        screenshot(reporter, "upgrade-form")
        upgrade.get_by_role("button", name=nb("Create the melding")).click()
        expect(reporter.get_by_test_id("status")).to_have_text(nb(Concern.Status.DRAFT.label))
        expect(reporter.get_by_test_id("upgraded-from")).to_contain_text(nb("Upgraded from an anonymous consultation."))
        reporter.get_by_role("button", name=nb("Send to the child welfare service")).click()
        expect(reporter.get_by_test_id("status")).to_have_text(nb(Concern.Status.SUBMITTED.label))

        melding = Concern.objects.get(upgraded_from=consultation)
        assert melding.kind == Concern.Kind.MELDING and melding.person.given_name == "Sofie"
        assert melding.observations == OBSERVATIONS

        # The consultation links to the melding; barnevern sees the link from the melding back.
        reporter.goto(f"/concerns/{consultation.code}/")
        expect(reporter.get_by_test_id("status")).to_have_text(nb(Concern.Status.UPGRADED.label))
        link = reporter.get_by_test_id("upgraded-to").get_by_role("link", name=melding.reference)
        link.click()
        expect(reporter.get_by_role("heading", level=1)).to_contain_text(melding.reference)

        worker.goto(f"/concerns/{melding.code}/")
        worker.get_by_test_id("upgraded-from").get_by_role("link", name=consultation.reference).click()
        expect(worker.get_by_role("heading", level=1)).to_contain_text(consultation.reference)
        expect(worker.get_by_test_id("upgraded-to")).to_contain_text(melding.reference)

    def test_it_shows_every_part_of_the_form_without_javascript(self, new_page, login):
        org = make_org()
        page = login(new_page(javascript=False), org.reporter.username)
        page.goto("/concerns/ny/")
        form = page.get_by_test_id("concern-form")
        for part in ("child-fieldset", "consultation-fieldset", "informed-fieldset"):
            expect(form.get_by_test_id(part)).to_be_visible()

        # The server alone still keeps an anonymous consultation anonymous.
        form.get_by_label(exact(nb(F["kind"].choices[1][1]))).check()
        form.get_by_label(nb(F["given_name"].label)).fill("Sofie")
        form.get_by_label(nb(F["observations"].label)).fill(OBSERVATIONS)
        form.get_by_label(exact(nb(Concern.Category.OTHER.label))).check()
        form.get_by_role("button", name=nb("Send to the child welfare service")).click()
        expect(page.locator("#id_given_name_error")).to_contain_text(nb("An anonymous consultation must not name or identify the child. Leave this empty."))
        assert not Concern.objects.exists()
