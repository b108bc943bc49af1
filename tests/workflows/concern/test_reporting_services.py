"""Every public service with opplysningsplikt may report (issue 7, point 5), by the service-kind
setting (org.ServiceKindSetting), never by a list in code.

Personas: ``nurse`` (helsesykepleier at the health clinic), ``school_nurse`` (the school health
service), ``caseworker`` (barnevern, receives); barnevern, SLT and the privacy function, who may
not report; the demo's helsesykepleier.
"""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.urls import reverse

from org.models import Service, ServiceKindSetting
from people.validators import synthetic_national_id
from referrals.models import Concern
from tests.accounts.form_client import FormClient
from tests.factories import make_service, member
from workflows.concern import services as svc

pytestmark = pytest.mark.django_db

NURSE_CHILD = synthetic_national_id(datetime.date(2019, 6, 3), start=700)


def melding_post(reporting, receiving, **overrides):
    data = {
        "kind": "melding", "reporting_service": reporting.pk, "receiving_service": receiving.pk,
        "given_name": "Sofie", "family_name": "Test", "national_id": NURSE_CHILD, "birth_date": "",
        "observations": "Sofie har ikke kommet til fireårskontrollen, og mor sier hun ikke får sove.", "categories": ["neglect"],
        "urgency": "normal", "parents_informed": "no", "child_informed": "no",
        "not_informed_reason": "Vi frykter at mor tar barnet ut av barnehagen.", "send": "1",
    }
    data.update(overrides)
    return data


def consultation_post(reporting, receiving, **overrides):
    data = {
        "kind": "consultation", "reporting_service": reporting.pk, "receiving_service": receiving.pk, "child_age": "14",
        "observations": "En elev forteller om mye alkohol hjemme i helgene.", "categories": ["parental_substance_use"],
        "urgency": "normal", "send": "1",
    }
    data.update(overrides)
    return data


@pytest.fixture
def clinic(org):
    return make_service(org.municipality, "Helsestasjonen", Service.Kind.HELSESTASJON)


@pytest.fixture
def nurse(clinic):
    return member(clinic)


class HealthNurseReportsTests:
    def test_it_lets_a_public_health_nurse_send_a_melding(self, client, org, clinic, nurse):
        client.force_login(nurse)
        assert client.get(reverse("concerns:create")).status_code == 200
        response = client.post(reverse("concerns:create"), melding_post(clinic, org.barnevern))
        assert response.status_code == 302
        concern = Concern.objects.get(reporting_service=clinic)
        assert (concern.kind, concern.status) == (Concern.Kind.MELDING, Concern.Status.SUBMITTED)
        # The legal basis comes from the kind's setting: health personnel report under hpl. § 33 too.
        assert concern.legal_basis == "barnevernsloven § 13-2; helsepersonelloven § 33"
        client.force_login(org.caseworker)
        assert client.get(reverse("concerns:detail", args=[concern.code])).status_code == 200

    def test_it_lets_a_school_nurse_send_an_anonymous_consultation(self, client, org):
        school_health = make_service(org.municipality, "Skolehelsetjenesten", Service.Kind.SKOLEHELSETJENESTE)
        client.force_login(member(school_health))
        response = client.post(reverse("concerns:create"), consultation_post(school_health, org.barnevern))
        assert response.status_code == 302
        concern = Concern.objects.get(reporting_service=school_health)
        assert (concern.kind, concern.status, concern.person) == (Concern.Kind.CONSULTATION, Concern.Status.SUBMITTED, None)

    def test_it_offers_the_nurse_new_concern_in_the_menu(self, client, nurse):
        client.force_login(nurse)
        page = client.get(reverse("notifications:index")).content.decode()
        assert f'href="{reverse("concerns:create")}"' in page
        assert f'href="{reverse("concerns:index")}"' in page

    def test_it_lands_the_nurse_on_the_referrals_that_come_to_her_and_a_teacher_on_his_concerns(self, client, org, nurse):
        client.force_login(nurse)
        assert client.get(reverse("home"))["Location"] == reverse("referrals:incoming")
        client.force_login(org.teacher)
        assert client.get(reverse("home"))["Location"] == reverse("concerns:index")

    def test_it_lands_the_nurse_on_her_concerns_when_the_setting_says_so(self, client, nurse):
        ServiceKindSetting.objects.filter(kind=Service.Kind.HELSESTASJON).update(starts_on_concerns=True)
        client.force_login(nurse)
        assert client.get(reverse("home"))["Location"] == reverse("concerns:index")


class NotReportingTests:
    @pytest.mark.parametrize("kind", [Service.Kind.BARNEVERN, Service.Kind.SLT, Service.Kind.PERSONVERN])
    def test_it_answers_404_to_the_form_for_services_without_the_setting(self, client, org, kind):
        client.force_login(member(make_service(org.municipality, f"Tjeneste {kind}", kind)))
        assert client.get(reverse("concerns:create")).status_code == 404
        page = client.get(reverse("notifications:index")).content.decode()
        assert f'href="{reverse("concerns:create")}"' not in page

    def test_it_refuses_a_draft_from_a_service_without_the_setting(self, org):
        with pytest.raises(ValidationError):
            svc.concern_draft_create(
                user=org.slt_staff, kind=Concern.Kind.CONSULTATION, reporting_service=org.slt, receiving_service=org.barnevern,
                observations="Vi er bekymret.", categories=["other"],
            )
        assert not Concern.objects.exists()

    def test_it_closes_the_form_when_the_setting_is_turned_off(self, client, org):
        ServiceKindSetting.objects.filter(kind=Service.Kind.BARNEHAGE).update(may_report_concerns=False)
        client.force_login(org.reporter)
        assert client.get(reverse("concerns:create")).status_code == 404
        response = client.post(reverse("concerns:create"), consultation_post(org.barnehage, org.barnevern))
        assert response.status_code == 404
        assert not Concern.objects.exists()


class DemoNurseTests(TestCase):
    """The demo's helsesykepleier files a melding and a consultation, from the menu to the page."""

    client_class = FormClient

    @classmethod
    def setUpTestData(cls):
        from workflows.demo import seed_demo

        seeded = seed_demo(skip=("concern", "referral"))
        cls.nurse, cls.services = seeded["users"]["helsesykepleier"], seeded["services"]

    def test_it_lets_the_demo_nurse_send_a_melding_and_a_consultation(self):
        clinic, barnevern = self.services["helsestasjon"], self.services["barnevern"]
        self.client.force_login(self.nurse)
        landing = self.client.get(reverse("home"))["Location"]
        menu = self.client.get(landing).content.decode()
        self.assertIn(f'href="{reverse("concerns:create")}"', menu)
        form = self.client.get(reverse("concerns:create"))
        self.assertEqual(form.status_code, 200)
        self.assertEqual(list(form.context["form"].fields["reporting_service"].queryset), [clinic])
        self.assertEqual(self.client.post(reverse("concerns:create"), melding_post(clinic, barnevern)).status_code, 302)
        self.assertEqual(self.client.post(reverse("concerns:create"), consultation_post(clinic, barnevern)).status_code, 302)
        sent = Concern.objects.filter(reporting_service=clinic, status=Concern.Status.SUBMITTED)
        self.assertEqual(set(sent.values_list("kind", flat=True)), {Concern.Kind.MELDING, Concern.Kind.CONSULTATION})
        mine = self.client.get(reverse("concerns:index"))
        self.assertEqual({row.code for row in mine.context["rows"]}, set(sent.values_list("code", flat=True)))
