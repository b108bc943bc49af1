"""An acute melding from a public-health nurse, in a real browser (issue 7, points 5 and 13): from
the menu to the form, where choosing "acute" brings up 112 and the barnevernvakt number (app.js),
to the sent melding's page that repeats them.

Personas: a helsesykepleier at the health clinic (a service kind that reports by its setting) and
the leader of Barneverntjenesten, whom the acute melding alerts.
"""
import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from notifications.models import Reminder
from org.models import Membership, Service
from people.validators import synthetic_national_id
from referrals.models import Concern
from tests.e2e.support import nb
from tests.factories import make_org, make_service, member
from workflows.concern.forms import ConcernForm

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

F = ConcernForm.base_fields
PHONE = "22 33 44 55"


class AcuteMeldingTests:
    def test_it_shows_the_emergency_numbers_when_acute_is_chosen_and_after_sending(self, new_page, login, axe_scan):
        org = make_org()
        org.municipality.emergency_phone = PHONE
        org.municipality.save(update_fields=["emergency_phone"])
        clinic = make_service(org.municipality, "Helsestasjonen", Service.Kind.HELSESTASJON)
        nurse = member(clinic)
        assert Membership.objects.filter(service=org.barnevern, role=Membership.Role.LEADER).exists()

        page = login(new_page(), nurse.username)
        page.locator(f'#sh-drawer a[href="{reverse("concerns:create")}"]').first.click()
        page.wait_for_url(f"**{reverse('concerns:create')}")
        form = page.get_by_test_id("concern-form")
        box = form.get_by_test_id("acute-box")
        expect(box).to_be_hidden()

        form.locator('input[name="urgency"][value="acute"]').check()
        expect(box).to_be_visible()
        expect(box).to_contain_text("112")
        expect(box.get_by_role("link", name=PHONE)).to_have_attribute("href", f"tel:{PHONE}")
        axe_scan(page, "the concern form with the emergency numbers")
        form.locator('input[name="urgency"][value="urgent"]').check()
        expect(box).to_be_hidden()
        form.locator('input[name="urgency"][value="acute"]').check()

        form.get_by_label(nb(F["given_name"].label)).fill("Sofie")
        form.get_by_label(nb(F["national_id"].label)).fill(synthetic_national_id(datetime.date(2019, 6, 3), start=710))
        form.get_by_label(nb(F["observations"].label)).fill("Mor ringte fra legevakten og sier far truer barnet nå.")
        form.locator('input[name="categories"][value="violence"]').check()
        form.locator('input[name="parents_informed"][value="no"]').check()
        form.locator('input[name="child_informed"][value="no"]').check()
        form.get_by_label(nb(F["not_informed_reason"].label)).fill("Det kan sette barnet i fare.")
        form.get_by_role("button", name=nb("Send to the child welfare service")).click()

        expect(page.get_by_test_id("status")).to_have_text(nb(Concern.Status.SUBMITTED.label))
        receipt = page.get_by_test_id("acute-box")
        expect(receipt).to_contain_text("112")
        expect(receipt).to_contain_text(PHONE)
        concern = Concern.objects.get(reporting_service=clinic)
        assert concern.urgency == Concern.Urgency.ACUTE
        assert Reminder.objects.filter(obligation=f"concern:{concern.pk}:acute", audience=Reminder.Audience.LEADERS,
                                       service=org.barnevern).count() == 1
