"""The consent pages: access (404 for outsiders and forged codes), recording, withdrawal, renewal, audit."""
import datetime
import uuid

import pytest
import time_machine
from django.conf import settings
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from audit.models import AccessLog
from consent.models import Consent, ReconsentTask
from consent.services import reconsent_tasks_create
from referrals.access import referral_get_for_user
from org.models import Membership
from referrals.models import Referral
from tests.consent.ui_factories import guardians_for, person_aged, recipient_service, record, send_referral
from tests.factories import member

pytestmark = pytest.mark.django_db


def consent_start():
    return timezone.localdate() + datetime.timedelta(days=30)


def consent_end():
    return consent_start() + datetime.timedelta(days=334)


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def child(org):
    return person_aged(org, 10, given="Emma")


@pytest.fixture
def guardians(org, child):
    return guardians_for(org, child)


@pytest.fixture
def consent(org, child, guardians):
    """A guardian-given consent recorded by the barnehage (which thereby holds a role with the child)."""
    return record(org, child, guardians=guardians)


def person_urls(person):
    return [
        ("get", reverse("consent:person", args=[person.code])),
        ("get", reverse("consent:create", args=[person.code])),
        ("post", reverse("consent:create", args=[person.code])),
        ("get", reverse("consent:fhir", args=[person.code])),
        ("get", reverse("consent:report", args=[person.code])),
        ("get", reverse("consent:report_pdf", args=[person.code])),
    ]


def consent_urls(consent):
    return [
        ("get", reverse("consent:detail", args=[consent.code])),
        ("post", reverse("consent:withdraw", args=[consent.code])),
    ]


def valid_post(org, guardians, **overrides):
    # A start within a year of today (consent_record refuses dates further off).
    data = {
        "service": org.barnehage.pk, "domain": "health", "guardians": [g.pk for g in guardians], "grantees": [org.skole.pk],
        "purpose": "individual_plan", "information": "Kartlegging og plan.", "valid_from": consent_start().isoformat(),
        "valid_to": consent_end().isoformat(), "method": "verbal",
    }
    data.update(overrides)
    return data


class OutsiderTests:
    def test_it_answers_404_to_every_outsider_on_every_consent_and_report_url(self, client, org, child, consent):
        urls = person_urls(child) + consent_urls(consent)
        for name, user in org.outsiders.items():
            client.force_login(user)
            for method, url in urls:
                response = getattr(client, method)(url, {"note": "x"} if method == "post" else None)
                assert response.status_code == 404, (name, method, url)
        consent.refresh_from_db()
        assert consent.withdrawn_at is None
        assert Consent.objects.filter(person=child).count() == 1

    def test_it_shows_outsiders_none_of_the_consent_in_their_lists(self, client, org, child, consent):
        for user in org.outsiders.values():
            client.force_login(user)
            for url in [reverse("consent:index"), reverse("consent:reconsent"), reverse("consent:reconsent") + "?vis=alle"]:
                response = client.get(url)
                assert response.status_code == 200
                assert consent.reference.encode() not in response.content
                assert child.given_name.encode() not in response.content

    def test_it_answers_404_to_a_forged_code(self, client, org, consent):
        client.force_login(org.reporter_leader)
        forged = uuid.uuid4()
        for name in ["person", "create", "fhir", "report", "report_pdf", "detail"]:
            assert client.get(reverse(f"consent:{name}", args=[forged])).status_code == 404, name
        assert client.post(reverse("consent:withdraw", args=[forged]), {"note": "x"}).status_code == 404
        assert client.get(reverse("consent:create", args=[consent.person.code]) + f"?fornyer={forged}").status_code == 404

    def test_it_gives_the_report_only_to_leaders(self, client, org, child, consent):
        client.force_login(org.reporter)
        assert client.get(reverse("consent:person", args=[child.code])).status_code == 200
        assert client.get(reverse("consent:report", args=[child.code])).status_code == 404
        assert client.get(reverse("consent:report_pdf", args=[child.code])).status_code == 404
        client.force_login(org.reporter_leader)
        assert client.get(reverse("consent:report", args=[child.code])).status_code == 200

    def test_it_hides_a_consent_from_a_service_that_only_receives_on_it(self, client, org, child, consent):
        # The school may receive information on the consent but is not responsible for it.
        client.force_login(org.teacher)
        assert client.get(reverse("consent:detail", args=[consent.code])).status_code == 404


class RecordTests:
    def test_it_records_a_consent_given_by_the_guardians(self, client, org, child, guardians):
        client.force_login(org.reporter)
        record(org, child, guardians=guardians)  # gives the barnehage its role with the child
        response = client.post(reverse("consent:create", args=[child.code]), valid_post(org, guardians))
        consent = Consent.objects.filter(person=child, purpose="individual_plan").get()
        assert response.status_code == 302
        assert response["Location"] == reverse("consent:detail", args=[consent.code])
        assert set(consent.guardians.all()) == set(guardians)
        assert list(consent.grantees.all()) == [org.skole]
        assert consent.valid_to == consent_end()
        assert AccessLog.objects.filter(object_type="consent.consent", object_id=consent.pk, action="create").exists()

    def test_it_refuses_dates_in_the_wrong_order_and_saves_nothing(self, client, org, child, guardians, consent):
        english(client).force_login(org.reporter)
        before = Consent.objects.count()
        response = client.post(
            reverse("consent:create", args=[child.code]), valid_post(org, guardians, valid_from="2030-06-01", valid_to="2030-05-01")
        )
        assert response.status_code == 422
        assert response.context["form"].errors["valid_to"] == ["The end date must be on or after the start date."]
        assert b"The end date must be on or after the start date." in response.content
        assert Consent.objects.count() == before

    def test_it_translates_the_date_error(self, client, org, child, guardians, consent):
        client.force_login(org.reporter)  # the default language is Norwegian
        response = client.post(
            reverse("consent:create", args=[child.code]), valid_post(org, guardians, valid_from="2030-06-01", valid_to="2030-05-01")
        )
        assert response.status_code == 422
        assert response.context["form"].errors["valid_to"]

    def test_it_refuses_a_consent_nobody_entitled_gave(self, client, org, child, guardians, consent):
        english(client).force_login(org.reporter)
        before = Consent.objects.count()
        response = client.post(reverse("consent:create", args=[child.code]), valid_post(org, [], given_by_person="on"))
        assert response.status_code == 422
        assert "given_by_person" in response.context["form"].errors
        assert Consent.objects.count() == before

    def test_it_offers_only_the_registered_guardians(self, client, org, child, guardians, consent):
        stranger = person_aged(org, 40, given="Fremmed")
        client.force_login(org.reporter)
        response = client.post(reverse("consent:create", args=[child.code]), valid_post(org, [stranger]))
        assert response.status_code == 422
        assert "guardians" in response.context["form"].errors

    def test_it_lists_the_persons_consents_with_status_and_logs_the_read(self, client, org, child, consent):
        client.force_login(org.reporter)
        response = client.get(reverse("consent:person", args=[child.code]))
        assert response.status_code == 200
        assert consent.reference.encode() in response.content
        assert response.context["consents"][0].status == "active"
        assert AccessLog.objects.filter(person=child, action="view", user=org.reporter, service=org.barnehage).exists()


class DetailTests:
    def test_it_shows_the_status_and_logs_the_read(self, client, org, consent):
        client.force_login(org.reporter)
        response = client.get(reverse("consent:detail", args=[consent.code]))
        assert response.status_code == 200
        assert response.context["status"] == "active"
        assert consent.person.full_name.encode() in response.content
        assert AccessLog.objects.filter(object_type="consent.consent", object_id=consent.pk, action="view", user=org.reporter).exists()

    def test_it_explains_an_insufficient_consent_with_the_age_rule(self, client, org):
        teen = person_aged(org, 17)
        parents = guardians_for(org, teen)
        with time_machine.travel(timezone.now() - datetime.timedelta(days=730), tick=False):
            old = record(org, teen, guardians=parents)  # the teen was 15: the guardians consented
        english(client).force_login(org.reporter)
        response = client.get(reverse("consent:detail", args=[old.code]))
        assert response.context["status"] == "insufficient"
        assert response.context["rule"].code == "health-16-18"
        assert "pasient- og brukerrettighetsloven § 4-3".encode() in response.content
        assert b"must be renewed" in response.content

    def test_it_lists_the_age_rules_with_their_legal_references(self, client, org):
        client.force_login(org.nav_staff)
        response = client.get(reverse("consent:age_rules"))
        assert response.status_code == 200
        assert "barnevernsloven § 12-3".encode() in response.content
        assert len(response.context["rules"]) >= 9


class WithdrawTests:
    def _world(self, org):
        teen = person_aged(org, 17, given="Jonas")
        recipient = recipient_service(org)
        consent = record(org, teen, user=org.teacher, service=org.skole, grantees=[recipient.service], given_by_person=True)
        referral = send_referral(org, teen, consent, recipient)
        return teen, recipient, consent, referral

    def _referral_urls(self, referral):
        urls = [reverse("workflow:flows:referral:process_detail", args=[referral.process.pk])]
        try:
            urls.append(reverse("referrals:detail", args=[referral.code]))
        except NoReverseMatch:  # the referral pages are built separately; the flow page always exists
            pass
        return urls

    def test_it_locks_out_both_recipient_personas_on_their_very_next_request(self, client, org):
        teen, recipient, consent, referral = self._world(org)
        urls = self._referral_urls(referral)
        for user in (recipient.staff, recipient.leader):
            client.force_login(user)
            for url in urls:
                assert client.get(url).status_code == 200, url

        client.force_login(org.teacher)
        response = client.post(reverse("consent:withdraw", args=[consent.code]), {"note": "Jonas ringte og trakk samtykket."})
        assert response.status_code == 302

        for user in (recipient.staff, recipient.leader):
            client.force_login(user)
            for url in urls:
                assert client.get(url).status_code == 404, url
            with pytest.raises(Http404):
                referral_get_for_user(user, referral.code)
        referral.refresh_from_db()
        consent.refresh_from_db()
        assert referral.status == Referral.Status.CANCELLED
        assert consent.withdrawn_at is not None and consent.withdrawal_note == "Jonas ringte og trakk samtykket."
        assert consent.disclosures.get().revoked_at is not None

    def test_it_requires_a_note_and_withdraws_nothing_without_one(self, client, org):
        teen, recipient, consent, referral = self._world(org)
        client.force_login(org.teacher)
        response = client.post(reverse("consent:withdraw", args=[consent.code]), {"note": ""})
        assert response.status_code == 422
        assert "note" in response.context["withdraw_form"].errors
        consent.refresh_from_db()
        assert consent.withdrawn_at is None
        client.force_login(recipient.staff)
        assert client.get(self._referral_urls(referral)[0]).status_code == 200

    def test_it_refuses_get(self, client, org, consent):
        client.force_login(org.reporter)
        assert client.get(reverse("consent:withdraw", args=[consent.code])).status_code == 405

    def test_it_shows_a_withdrawn_consent_as_withdrawn(self, client, org, consent):
        client.force_login(org.reporter)
        client.post(reverse("consent:withdraw", args=[consent.code]), {"note": "Foreldrene trakk samtykket i møte."})
        response = client.get(reverse("consent:detail", args=[consent.code]))
        assert response.context["status"] == "withdrawn"
        assert "withdraw_form" not in response.context
        response = client.post(reverse("consent:withdraw", args=[consent.code]), {"note": "igjen"})
        assert response.status_code == 422


class ReconsentTests:
    def _task(self, org):
        teen = person_aged(org, 17)
        parents = guardians_for(org, teen)
        with time_machine.travel(timezone.now() - datetime.timedelta(days=730), tick=False):
            old = record(org, teen, guardians=parents)
        (task,) = reconsent_tasks_create()
        return teen, old, task

    def test_it_lists_the_tasks_of_the_users_services(self, client, org):
        teen, old, task = self._task(org)
        client.force_login(org.reporter)
        response = client.get(reverse("consent:reconsent"))
        assert [t.pk for t in response.context["rows"]] == [task.pk]
        assert old.reference.encode() in response.content
        client.force_login(org.teacher)
        assert list(client.get(reverse("consent:reconsent")).context["rows"]) == []

    def test_it_marks_the_task_done_when_a_new_consent_is_recorded(self, client, org):
        teen, old, task = self._task(org)
        client.force_login(org.reporter)
        form_page = client.get(reverse("consent:create", args=[teen.code]) + f"?fornyer={old.code}")
        assert form_page.status_code == 200
        assert form_page.context["form"].initial["renews"] == old.code
        response = client.post(
            reverse("consent:create", args=[teen.code]),
            {"service": org.barnehage.pk, "domain": "health", "given_by_person": "on", "grantees": [org.skole.pk],
             "purpose": "referral", "information": "Som før.", "valid_from": timezone.localdate().isoformat(), "method": "digital",
             "renews": str(old.code)},
        )
        assert response.status_code == 302
        task.refresh_from_db()
        assert task.done_at is not None
        assert list(client.get(reverse("consent:reconsent")).context["rows"]) == []

    def test_it_keeps_the_task_open_when_the_new_consent_is_refused(self, client, org):
        teen, old, task = self._task(org)
        client.force_login(org.reporter)
        response = client.post(
            reverse("consent:create", args=[teen.code]),
            {"service": org.barnehage.pk, "domain": "health", "grantees": [org.skole.pk], "purpose": "referral",
             "information": "Som før.", "valid_from": timezone.localdate().isoformat(), "method": "digital", "renews": str(old.code)},
        )
        assert response.status_code == 422
        task.refresh_from_db()
        assert task.done_at is None
        assert ReconsentTask.objects.filter(done_at__isnull=True).count() == 1


class ExportAndReportTests:
    def test_it_downloads_the_consents_as_fhir_and_logs_an_export(self, client, org, child, consent):
        client.force_login(org.reporter)
        response = client.get(reverse("consent:fhir", args=[child.code]))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/fhir+json")
        assert "attachment" in response["Content-Disposition"]
        assert child.given_name not in response["Content-Disposition"]
        bundle = response.json()
        assert bundle["resourceType"] == "Bundle" and len(bundle["entry"]) == 1
        assert AccessLog.objects.filter(person=child, action="export", user=org.reporter).exists()

    def test_it_renders_the_report_and_logs_it_as_an_export(self, client, org):
        teen = person_aged(org, 17, given="Jonas")
        recipient = recipient_service(org)
        consent = record(org, teen, user=org.teacher, service=org.skole, grantees=[recipient.service], given_by_person=True)
        send_referral(org, teen, consent, recipient)
        leader = member(org.skole, role=Membership.Role.LEADER)
        client.force_login(leader)
        response = client.get(reverse("consent:report", args=[teen.code]))
        assert response.status_code == 200
        report = response.context["report"]
        assert [d.to_service for d in report.disclosures] == [recipient.service]
        assert recipient.service.name.encode() in response.content
        assert AccessLog.objects.filter(person=teen, action="export", user=leader, service=org.skole).exists()

    def test_it_downloads_the_report_as_a_pdf_named_without_identifying_data(self, client, org, child, consent):
        client.force_login(org.reporter_leader)
        response = client.get(reverse("consent:report_pdf", args=[child.code]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'attachment; filename="innsyn-{str(child.code)[:8]}.pdf"'
        assert response.content.startswith(b"%PDF")
        assert AccessLog.objects.filter(person=child, action="export", user=org.reporter_leader, service=org.barnehage).exists()
