"""The youth contract's pages (issue 8, "Must show"): the police see only their own contracts and
only the listed fields; every other persona gets 404 on every contract URL, viewflow's included;
bad input on the pages is refused with a clear error and nothing saved; every read is logged."""
import datetime

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AccessLog
from tests.factories import make_child, make_guardian
from referrals.models import ContractSignature, YouthContract
from workflows.youth_contract import services as svc
from tests.workflows.youth_contract.scenario import (
    TODAY, active_contract, initiate, police_template, voluntary_template, young_person, youth_consent,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
NOTE = "Hasj sist helg, ifølge ungdommen"


def bokmal(msgid: str) -> str:
    """The page's wording of ``msgid`` (the UI speaks bokmål), as the template escapes it; a msgid
    without a bokmål wording fails here, so the error is shown translated."""
    with translation.override("nb"):
        text = translation.gettext(msgid)
    assert text != msgid, f"no bokmål for {msgid!r}"
    return escape(text)


@pytest.fixture
def contract(org, yc):
    """Emil's police contract, active, with a missed test (noted) that was assessed as talk and continue."""
    contract = active_contract(org, yc)
    svc.result_record(contract=contract, user=yc.nurse, kind="test", outcome="missed", taken_on=TODAY, note=NOTE)
    return svc.breach_decide(contract=contract, user=yc.nurse, decision="continue", note="Samtale holdt.")


def login(client, user):
    client.force_login(user)
    return client


def viewflow_urls(contract):
    """viewflow's pages of the contract's process and its open task."""
    task = Task.objects.filter(process_id=contract.process.pk, status__in=[STATUS.NEW, STATUS.ASSIGNED]).first()
    kwargs = {"process_pk": contract.process.pk, "task_pk": task.pk}
    node = task.flow_task.name
    return [
        reverse("workflow:flows:youthcontract:process_detail", kwargs={"process_pk": contract.process.pk}),
        reverse(f"workflow:flows:youthcontract:{node}:index", kwargs=kwargs),
        reverse(f"workflow:flows:youthcontract:{node}:execute", kwargs=kwargs),
    ]


def contract_urls(contract):
    return [reverse("youth_contracts:detail", args=[contract.code])]


def action_urls(contract):
    return [reverse("youth_contracts:action", args=[contract.code, action]) for action in ("sign", "result", "follow_up", "assess_breach")]


class FollowUpPageTests:
    def test_it_shows_the_nurse_everything_and_logs_the_read(self, client, yc, contract):
        html = login(client, yc.nurse).get(reverse("youth_contracts:detail", args=[contract.code])).content.decode()
        assert NOTE in html and 'data-testid="appointments"' in html and "Emil Strand" in html
        log = AccessLog.objects.filter(object_id=contract.pk, purpose="youth contract page").last()
        assert log.user == yc.nurse and log.action == "view"


class PolicePageTests:
    def test_it_shows_the_police_status_dates_parties_and_breaches_as_yes_or_no(self, client, yc, contract):
        response = login(client, yc.officer).get(reverse("youth_contracts:detail", args=[contract.code]))
        html = response.content.decode()
        assert response.status_code == 200
        assert 'data-testid="had-breach" data-value="yes"' in html and 'data-testid="status" data-status="active"' in html
        assert 'data-testid="parties"' in html and "Emil Strand" in html

    def test_it_never_shows_the_police_a_test_or_a_note(self, client, yc, contract):
        html = login(client, yc.officer).get(reverse("youth_contracts:detail", args=[contract.code])).content.decode()
        for hidden in (NOTE, "Samtale holdt.", 'data-testid="appointments"', 'data-testid="results"', 'data-testid="measures"', "Uteblitt", "Urinprøve", "Missed", "Urine test",
                       'data-testid="breaches"', 'data-testid="action-'):
            assert hidden not in html, hidden

    def test_it_logs_the_police_read_as_a_status_read(self, client, yc, contract):
        login(client, yc.officer).get(reverse("youth_contracts:detail", args=[contract.code]))
        log = AccessLog.objects.filter(object_id=contract.pk, purpose="youth contract status page").last()
        assert log.user == yc.officer

    def test_it_shows_the_outcome_once_reported(self, client, yc, contract):
        svc.contract_complete(contract=contract, user=yc.nurse, outcome="Alle vilkår oppfylt.")
        svc.outcome_report(contract=contract, user=yc.nurse)
        html = login(client, yc.officer).get(reverse("youth_contracts:detail", args=[contract.code])).content.decode()
        assert 'data-testid="outcome">Alle vilkår oppfylt.<' in html

    def test_it_lists_only_the_officers_own_contracts(self, client, org, yc, contract):
        html = login(client, yc.officer).get(reverse("youth_contracts:index")).content.decode()
        assert contract.reference in html
        assert contract.reference not in login(client, yc.other_officer).get(reverse("youth_contracts:index")).content.decode()

    def test_the_police_get_404_on_the_process_its_tasks_and_every_action(self, client, yc, contract):
        login(client, yc.officer)
        for url in viewflow_urls(contract) + action_urls(contract):
            response = client.post(url, {}) if "handling" in url else client.get(url)
            assert response.status_code == 404, url


class OutsiderTests:
    def test_every_other_persona_gets_404_on_every_contract_url(self, client, org, yc, contract):
        for outsider in (yc.other_officer, org.caseworker, org.nav_staff, org.slt_staff, org.reporter):
            login(client, outsider)
            for url in contract_urls(contract) + viewflow_urls(contract):
                assert client.get(url).status_code == 404, (outsider, url)
            for url in action_urls(contract):
                assert client.post(url, {}).status_code == 404, (outsider, url)

    def test_a_forged_code_gets_404(self, client, yc, contract):
        login(client, yc.nurse)
        assert client.get(reverse("youth_contracts:detail", args=["3f2a9c1b-0000-4000-8000-000000000000"])).status_code == 404
        assert client.get(reverse("youth_contracts:index") + "not-a-uuid/").status_code == 404


class BadInputTests:
    def test_a_signature_by_someone_who_is_not_a_party_is_refused_on_the_page(self, client, org, yc):
        contract = initiate(org, yc)
        person2, guardian2 = young_person(org, yc, given="Jonas", start=650)
        foreign = initiate(org, yc, person=person2, guardian=guardian2).parties.first()
        response = login(client, yc.nurse).post(reverse("youth_contracts:action", args=[contract.code, "sign"]), {
            "sign-party": str(foreign.code), "sign-method": "signed", "sign-signed_on": TODAY.isoformat(),
        })
        assert response.status_code == 422
        assert bokmal("Only a party to this contract can sign it.") in response.content.decode()
        assert not ContractSignature.objects.exists()

    def test_a_result_outside_the_contract_is_refused_on_the_page(self, client, org, yc, contract):
        response = login(client, yc.nurse).post(reverse("youth_contracts:action", args=[contract.code, "result"]), {
            "result-kind": "test", "result-outcome": "negative", "result-taken_on": (TODAY - datetime.timedelta(days=3)).isoformat(),
        })
        assert response.status_code == 422
        assert bokmal("The date must lie within the contract (%(start)s to %(end)s).").split("(")[0] in response.content.decode()
        assert contract.results.count() == 1


class InitiatePageTests:
    def test_the_police_initiate_a_contract_from_the_form(self, client, org, yc):
        login(client, yc.officer)
        assert client.get(reverse("youth_contracts:initiate")).status_code == 200
        from people.validators import synthetic_national_id

        response = client.post(reverse("youth_contracts:initiate"), {
            "initiating_service": yc.police.pk, "template": police_template().pk, "followup_service": yc.hfu.pk,
            "police_decision_on": TODAY.isoformat(), "starts_on": TODAY.isoformat(),
            "national_id": synthetic_national_id(datetime.date(2010, 5, 2), 600), "given_name": "Emil", "family_name": "Strand",
            "guardian1_national_id": synthetic_national_id(datetime.date(1982, 1, 9), 100), "guardian1_given_name": "Kari",
            "guardian1_family_name": "Strand", "consent_method": "signed",
        })
        contract = YouthContract.objects.get()
        assert response.status_code == 302 and response.url == reverse("youth_contracts:detail", args=[contract.code])
        assert {p.role for p in contract.parties.all()} == {"young_person", "guardian", "police", "followup"}

    def test_the_form_refuses_an_end_before_the_start_and_saves_nothing(self, client, org, yc):
        from people.validators import synthetic_national_id

        response = login(client, yc.officer).post(reverse("youth_contracts:initiate"), {
            "initiating_service": yc.police.pk, "template": police_template().pk, "followup_service": yc.hfu.pk,
            "police_decision_on": TODAY.isoformat(), "starts_on": TODAY.isoformat(), "ends_on": "2026-08-01",
            "national_id": synthetic_national_id(datetime.date(2010, 5, 2), 600), "given_name": "Emil", "family_name": "Strand",
            "guardian1_national_id": synthetic_national_id(datetime.date(1982, 1, 9), 100), "guardian1_given_name": "Kari",
            "consent_method": "signed",
        })
        assert response.status_code == 422
        assert bokmal("The contract's end date must be on or after its start date.") in response.content.decode()
        assert not YouthContract.objects.exists()

    def test_a_service_that_cannot_initiate_gets_404(self, client, org):
        assert login(client, org.reporter).get(reverse("youth_contracts:initiate")).status_code == 404


class WithdrawnTests:
    def test_the_police_learn_only_that_a_contract_ended_on_a_withdrawn_consent(self, client, yc, contract):
        from workflows.withdrawal import consent_withdraw_cascade

        consent_withdraw_cascade(consent=contract.consent, user=yc.officer)
        html = login(client, yc.officer).get(reverse("youth_contracts:detail", args=[contract.code])).content.decode()
        assert 'data-status="suspended"' in html and 'data-testid="withdrawn-note"' in html
        for hidden in ('data-testid="parties"', "Emil", 'data-testid="period"', 'data-testid="had-breach"'):
            assert hidden not in html, hidden


class TaskPageTests:
    def test_the_nurse_starts_the_contract_from_viewflows_task_page(self, client, org, yc):
        from tests.workflows.youth_contract.scenario import sign_all

        contract = initiate(org, yc)
        sign_all(contract, yc)
        task = Task.objects.get(process_id=contract.process.pk, flow_task_type="HUMAN", status=STATUS.NEW)
        kwargs = {"process_pk": contract.process.pk, "task_pk": task.pk}
        login(client, yc.nurse)
        client.post(reverse("workflow:flows:youthcontract:activate:assign", kwargs=kwargs), {})
        assert client.get(reverse("workflow:flows:youthcontract:activate:execute", kwargs=kwargs)).status_code == 200
        response = client.post(reverse("workflow:flows:youthcontract:activate:execute", kwargs=kwargs), {})
        assert response.status_code == 302 and response.url == reverse("youth_contracts:detail", args=[contract.code])
        assert YouthContract.objects.get(pk=contract.pk).status == YouthContract.Status.ACTIVE

    def test_the_task_page_refuses_a_start_before_every_signature(self, client, org, yc):
        contract = initiate(org, yc)
        task = Task.objects.get(process_id=contract.process.pk, flow_task_type="HUMAN", status=STATUS.NEW)
        kwargs = {"process_pk": contract.process.pk, "task_pk": task.pk}
        login(client, yc.nurse)
        client.post(reverse("workflow:flows:youthcontract:activate:assign", kwargs=kwargs), {})
        response = client.post(reverse("workflow:flows:youthcontract:activate:execute", kwargs=kwargs), {})
        assert response.status_code == 422
        assert YouthContract.objects.get(pk=contract.pk).status == YouthContract.Status.AWAITING_SIGNATURES


class MeasurePageTests:
    def test_the_nurse_enrols_the_young_person_in_a_programme_from_the_page(self, client, yc, contract):
        response = login(client, yc.nurse).post(reverse("youth_contracts:action", args=[contract.code, "measure"]), {
            "measure-kind": "cpu", "measure-enrolled_on": TODAY.isoformat(), "measure-attended": "0", "measure-missed": "0",
        })
        assert response.status_code == 302
        assert contract.measures.get().kind == "cpu"


class NonPartyInitiatorTests:
    """Issue 8, point 4: the young person's and the guardians' identities are shown only to the
    parties' services. Barnevern initiating a voluntary contract is no party to it: it sees the
    status, never a name."""

    @pytest.fixture
    def voluntary(self, org, yc):
        person = make_child(org, birth=datetime.date(2010, 6, 15), given="Emil", family="Strand", start=600, service=org.barnevern)
        guardian = make_guardian(person)
        consent = youth_consent(yc, person, guardian, service=org.barnevern, user=org.caseworker, grantees=[yc.hfu])
        return initiate(org, yc, person=person, guardian=guardian, template=voluntary_template(), user=org.caseworker,
                        initiating_service=org.barnevern, consent=consent)

    def test_a_non_party_initiator_sees_the_status_without_any_name(self, client, org, yc, voluntary):
        response = login(client, org.caseworker).get(reverse("youth_contracts:detail", args=[voluntary.code]))
        html = response.content.decode()
        assert response.status_code == 200
        assert 'data-testid="status" data-status="awaiting_signatures"' in html and 'data-testid="parties"' in html
        assert voluntary.parties.filter(role="guardian").exists()
        for hidden in ("Emil", "Strand", 'data-testid="person"'):
            assert hidden not in html, hidden
        assert "Helsestasjon for ungdom (HFU)" in html  # the follow-up party, a service, is named

    def test_the_follow_up_party_still_sees_the_names(self, client, org, yc, voluntary):
        html = login(client, yc.nurse).get(reverse("youth_contracts:detail", args=[voluntary.code])).content.decode()
        assert "Emil Strand" in html and 'data-testid="person"' in html

    def test_a_stranger_still_gets_404(self, client, org, yc, voluntary):
        for outsider in (yc.officer, org.nav_staff):
            assert login(client, outsider).get(reverse("youth_contracts:detail", args=[voluntary.code])).status_code == 404


class ResultReadAuditTests:
    """Issue 8, point 4: test results are health data, every read is audited: a page that shows
    them writes its own access-log row (purpose "youth contract test results") beside the page's."""

    def _rows(self, contract, purpose):
        return AccessLog.objects.filter(object_id=contract.pk, purpose=purpose)

    def test_the_nurses_page_logs_the_results_it_shows(self, client, yc, contract):
        before = self._rows(contract, "youth contract test results").count()
        html = login(client, yc.nurse).get(reverse("youth_contracts:detail", args=[contract.code])).content.decode()
        assert 'data-testid="result" data-outcome="missed"' in html
        rows = self._rows(contract, "youth contract test results")
        assert rows.count() == before + 1
        row = rows.order_by("id").last()
        assert row.user == yc.nurse and row.action == "view" and row.person_id == contract.person_id and row.service_id == yc.hfu.pk
        assert self._rows(contract, "youth contract page").filter(user=yc.nurse).exists()  # the page's own read, a separate row

    def test_a_refused_form_that_shows_the_results_again_logs_them_again(self, client, yc, contract):
        login(client, yc.nurse)
        before = self._rows(contract, "youth contract test results").count()
        response = client.post(reverse("youth_contracts:action", args=[contract.code, "result"]), {"result-kind": "test"})
        assert response.status_code == 422
        assert self._rows(contract, "youth contract test results").count() == before + 1

    def test_no_results_row_when_there_are_none_or_for_the_police(self, client, org, yc, contract):
        login(client, yc.officer).get(reverse("youth_contracts:detail", args=[contract.code]))
        assert not self._rows(contract, "youth contract test results").filter(user=yc.officer).exists()
        person, guardian = young_person(org, yc, start=700)
        empty = active_contract(org, yc, person=person, guardian=guardian)
        login(client, yc.nurse).get(reverse("youth_contracts:detail", args=[empty.code]))
        assert not self._rows(empty, "youth contract test results").exists()
