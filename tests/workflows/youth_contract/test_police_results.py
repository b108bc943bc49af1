"""The police see a contract's tests and conversations only when its consent says so (issue 8,
point 4: "never test details or conversation notes unless the contract's consent says so").

Today is frozen at Tuesday 1 September 2026 (scenario.py). Emil's police contract is active; the
nurse logged a missed test (with a note) and a held conversation. With the choice recorded at the
consent step, the officer of the police party sees each one's date, kind and result, never the
notes, and each such read is logged as a health-data read; without it, after the consent is
withdrawn, or once it has expired, they see none.
"""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from audit.models import AccessLog
from referrals.models import YouthContract
from tests.workflows.youth_contract.scenario import (
    TODAY, active_contract, initiate, sign_all, voluntary_template, young_person, youth_consent,
)
from workflows.withdrawal import consent_withdraw_cascade
from workflows.youth_contract import services as svc

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
NOTE = "Sa at han røykte hasj med fetteren"
TALK = "Snakket om skolen og kameratene"
RESULTS_READ = "youth contract test results"


def with_results(contract, yc):
    svc.result_record(contract=contract, user=yc.nurse, kind="test", outcome="missed", taken_on=TODAY, note=NOTE)
    svc.result_record(contract=contract, user=yc.nurse, kind="conversation", outcome="held", taken_on=TODAY, note=TALK)
    return contract


@pytest.fixture
def shared(org, yc):
    """Emil's contract, the consent covering the tests and conversations to the police."""
    return with_results(active_contract(org, yc, police_see_results=True), yc)


@pytest.fixture
def not_shared(org, yc):
    return with_results(active_contract(org, yc), yc)


def police_page(client, yc, contract):
    client.force_login(yc.officer)
    response = client.get(reverse("youth_contracts:detail", args=[contract.code]))
    assert response.status_code == 200
    return response.content.decode()


def results_reads(contract, user):
    return AccessLog.objects.filter(object_id=contract.pk, purpose=RESULTS_READ, user=user)


class PoliceSeeResultsTests:
    def test_the_police_see_the_dates_and_results_when_the_consent_covers_them(self, client, yc, shared):
        html = police_page(client, yc, shared)
        assert 'data-testid="police-results"' in html
        assert 'data-testid="police-result" data-kind="test" data-outcome="missed"' in html
        assert 'data-testid="police-result" data-kind="conversation" data-outcome="held"' in html

    def test_they_never_see_the_notes_or_the_follow_up_services_own_sections(self, client, yc, shared):
        html = police_page(client, yc, shared)
        for hidden in (NOTE, TALK, 'data-testid="results"', 'data-testid="appointments"', 'data-testid="breaches"', 'data-testid="action-'):
            assert hidden not in html, hidden

    def test_each_read_is_logged_as_a_health_data_read_under_the_police_service(self, client, yc, shared):
        police_page(client, yc, shared)
        police_page(client, yc, shared)
        rows = results_reads(shared, yc.officer)
        assert rows.count() == 2
        row = rows.order_by("id").last()
        assert (row.action, row.person_id, row.service_id) == ("view", shared.person_id, yc.police.pk)
        assert AccessLog.objects.filter(object_id=shared.pk, purpose="youth contract status page", user=yc.officer).count() == 2

    def test_the_nurse_sees_the_choice_on_the_contract_page(self, client, yc, shared, not_shared):
        client.force_login(yc.nurse)
        assert 'data-testid="police-see-results" data-value="yes"' in client.get(reverse("youth_contracts:detail", args=[shared.code])).content.decode()
        assert 'data-testid="police-see-results" data-value="no"' in client.get(reverse("youth_contracts:detail", args=[not_shared.code])).content.decode()

    def test_without_the_choice_the_police_see_no_test_and_nothing_is_logged_as_one(self, client, yc, not_shared):
        html = police_page(client, yc, not_shared)
        for hidden in ('data-testid="police-results"', 'data-testid="police-result"', NOTE, TALK):
            assert hidden not in html, hidden
        assert not results_reads(not_shared, yc.officer).exists()

    def test_another_police_station_gets_404_all_the_same(self, client, yc, shared):
        client.force_login(yc.other_officer)
        assert client.get(reverse("youth_contracts:detail", args=[shared.code])).status_code == 404

    def test_after_the_consent_is_withdrawn_they_see_no_test(self, client, yc, shared):
        consent_withdraw_cascade(consent=shared.consent, user=yc.officer)
        html = police_page(client, yc, shared)
        assert 'data-status="suspended"' in html
        assert 'data-testid="police-result' not in html
        assert not results_reads(shared, yc.officer).exists()

    def test_once_the_consent_has_expired_they_see_no_test(self, client, org, yc):
        person, guardian = young_person(org, yc)
        consent = youth_consent(yc, person, guardian)
        consent.valid_to = TODAY + datetime.timedelta(days=30)
        consent.save(update_fields=["valid_to"])
        contract = with_results(active_contract(org, yc, person=person, guardian=guardian, consent=consent, police_see_results=True), yc)
        assert 'data-testid="police-result"' in police_page(client, yc, contract)
        with time_machine.travel(datetime.datetime(2026, 10, 2, 10, tzinfo=ZoneInfo("Europe/Oslo")), tick=False):
            html = police_page(client, yc, contract)
        assert 'data-testid="police-result' not in html
        assert results_reads(contract, yc.officer).count() == 1


class ChoiceAtTheConsentStepTests:
    def test_it_is_refused_for_a_contract_without_the_police_and_nothing_is_saved(self, org, yc):
        person, guardian = young_person(org, yc, birth=datetime.date(2008, 3, 3))
        with pytest.raises(ValidationError) as caught:
            initiate(org, yc, person=person, guardian=guardian, template=voluntary_template(), user=yc.nurse, initiating_service=yc.hfu,
                     consent=youth_consent(yc, person, guardian, service=yc.hfu, user=yc.nurse, grantees=[yc.hfu]), police_see_results=True)
        assert caught.value.message_dict == {
            "police_see_results": ["Only a contract with the police as a party can let the police see test results and conversations."]}
        assert not YouthContract.objects.exists()

    def test_the_initiation_form_records_it_with_the_consent(self, client, yc):
        from people.validators import synthetic_national_id

        from tests.workflows.youth_contract.scenario import police_template

        client.force_login(yc.officer)
        response = client.post(reverse("youth_contracts:initiate"), {
            "initiating_service": yc.police.pk, "template": police_template().pk, "followup_service": yc.hfu.pk,
            "police_decision_on": TODAY.isoformat(), "starts_on": TODAY.isoformat(),
            "national_id": synthetic_national_id(datetime.date(2010, 5, 2), 600), "given_name": "Emil", "family_name": "Strand",
            "guardian1_national_id": synthetic_national_id(datetime.date(1982, 1, 9), 100), "guardian1_given_name": "Kari",
            "guardian1_family_name": "Strand", "consent_method": "signed", "police_see_results": "on",
        })
        assert response.status_code == 302
        contract = YouthContract.objects.get()
        assert contract.police_see_results is True
        # Written in the language of the page that recorded it (bokmål by default).
        with translation.override("nb"):
            said = gettext("The police may also see the dates and results of the tests and conversations (not the notes).")
        assert said in contract.consent.information and said.startswith("Politiet")

    def test_it_is_off_unless_chosen(self, org, yc):
        contract = initiate(org, yc)
        sign_all(contract, yc)
        assert YouthContract.objects.get(pk=contract.pk).police_see_results is False
