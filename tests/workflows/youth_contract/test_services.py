"""The youth contract through its services (issue 8): eligibility on the exact birthdays, the
parties and signatures, the schedule, results, breaches, the end and the report to the police."""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from consent.models import Disclosure
from notifications.models import Reminder
from referrals.models import ContractAppointment, ContractParty, ContractResult, ContractSignature, YouthContract
from workflows.models import Deadline
from workflows.youth_contract import services as svc
from workflows.youth_contract.selectors import contract_roles
from workflows.withdrawal import consent_withdraw_cascade
from tests.workflows.youth_contract.scenario import (
    TODAY, active_contract, initiate, police_template, sign_all, voluntary_template, young_person, youth_consent,
)

S = YouthContract.Status
D = datetime.date
pytestmark = pytest.mark.django_db


def at(day):
    """Freeze time at 10:00 on ``day`` (English)."""
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(10), tzinfo=ZoneInfo("Europe/Oslo")), tick=False)


def open_tasks(contract):
    return sorted(t.flow_task.name for t in Task.objects.filter(process_id=contract.process.pk, status__in=[STATUS.NEW, STATUS.ASSIGNED]))


def deadline(contract, step):
    return Deadline.objects.filter(subject_id=contract.pk, subject_type__model="youthcontract", policy__step=step).first()


def reload(contract):
    return YouthContract.objects.get(pk=contract.pk)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


class PoliceEligibilityTests:
    """Emil is born 15 June 2011; the police decide on the day the time is frozen at."""

    born = D(2011, 6, 15)

    def test_it_accepts_the_15th_birthday(self, org, yc):
        with at(D(2026, 6, 15)):
            person, guardian = young_person(org, yc, birth=self.born)
            contract = initiate(org, yc, person=person, guardian=guardian, starts_on=D(2026, 6, 15))
        assert contract.status == S.AWAITING_SIGNATURES

    def test_it_refuses_the_day_before_the_15th_birthday_and_saves_nothing(self, org, yc):
        with at(D(2026, 6, 14)):
            person, guardian = young_person(org, yc, birth=self.born)
            with pytest.raises(ValidationError) as caught:
                initiate(org, yc, person=person, guardian=guardian, starts_on=D(2026, 6, 14))
        assert caught.value.message_dict["person"] == ["This contract is for ages 15 to 17; on 2026-06-14 the young person is 14."]
        assert not YouthContract.objects.exists() and not Disclosure.objects.filter(subject_type__model="youthcontract").exists()

    def test_it_refuses_the_18th_birthday(self, org, yc):
        with at(D(2029, 6, 15)):
            person, guardian = young_person(org, yc, birth=self.born)
            with pytest.raises(ValidationError) as caught:
                initiate(org, yc, person=person, guardian=guardian, starts_on=D(2029, 6, 15))
        assert "the young person is 18" in caught.value.message_dict["person"][0]

    def test_it_judges_the_age_on_the_police_decision(self, org, yc):
        # Decided the day before the 18th birthday; the contract starts on the birthday.
        with at(D(2029, 6, 15)):
            person, guardian = young_person(org, yc, birth=self.born)
            contract = initiate(org, yc, person=person, guardian=guardian, decision=D(2029, 6, 14), starts_on=D(2029, 6, 15))
        assert contract.police_decision_on == D(2029, 6, 14)


class VoluntaryEligibilityTests:
    def test_it_needs_a_guardian_party_at_17(self, org, yc):
        with at(D(2027, 6, 14)):
            person, guardian = young_person(org, yc, birth=D(2009, 6, 15))
            consent = youth_consent(yc, person, guardian)
            with pytest.raises(ValidationError) as caught:
                initiate(org, yc, person=person, template=voluntary_template(), consent=consent, guardians=[])
            assert caught.value.message_dict["guardians"] == ["The young person is under 18: the guardians must be parties to the contract."]
            contract = initiate(org, yc, person=person, guardian=guardian, template=voluntary_template())
        roles = {(p.role, p.required) for p in contract.parties.all()}
        assert roles == {("young_person", True), ("guardian", True), ("police", False), ("followup", True)}

    def test_it_needs_no_guardian_at_18(self, org, yc):
        with at(D(2027, 6, 15)):
            person, _guardian = young_person(org, yc, birth=D(2009, 6, 15))
            contract = initiate(org, yc, person=person, guardian=None, template=voluntary_template(),
                                consent=youth_consent(yc, person, None))
        assert {p.role for p in contract.parties.filter(required=True)} == {"young_person", "followup"}

    def test_it_accepts_23_and_refuses_the_24th_birthday(self, org, yc):
        with at(D(2027, 6, 14)):
            person, _g = young_person(org, yc, birth=D(2003, 6, 15))
            initiate(org, yc, person=person, guardian=None, template=voluntary_template(), consent=youth_consent(yc, person, None))
        with at(D(2027, 6, 15)):
            other, _g = young_person(org, yc, birth=D(2003, 6, 15), given="Jonas", start=650)
            with pytest.raises(ValidationError) as caught:
                initiate(org, yc, person=other, guardian=None, template=voluntary_template(), consent=youth_consent(yc, other, None))
        assert caught.value.message_dict["person"] == [
            "This contract is for ages up to and including 23; on 2027-06-15 the young person is 24."
        ]


@pytest.mark.usefixtures("frozen")
class InitiateTests:
    def test_it_shares_with_the_followup_service_on_the_consent_and_starts_the_clock(self, org, yc):
        contract = initiate(org, yc)
        disclosure = Disclosure.objects.get(subject_type__model="youthcontract", subject_id=contract.pk)
        assert (disclosure.to_service, disclosure.basis, disclosure.consent) == (yc.hfu, "consent", contract.consent)
        assert contract_roles(yc.nurse, contract) == {"followup"}
        assert contract_roles(yc.officer, contract) == {"status"}
        assert open_tasks(contract) == ["activate"]
        assert deadline(contract, "signatures").due_at.date() == D(2026, 9, 15)  # 10 working days
        assert contract.ends_on == D(2027, 3, 1)  # the template's six months

    def test_it_gives_outsiders_no_role(self, org, yc):
        contract = initiate(org, yc)
        for outsider in (yc.other_officer, org.caseworker, org.nav_staff, org.slt_staff):
            assert contract_roles(outsider, contract) == set()

    def test_it_refuses_a_consent_that_does_not_cover_the_followup_service_and_saves_nothing(self, org, yc):
        person, guardian = young_person(org, yc)
        consent = youth_consent(yc, person, guardian, grantees=[org.nav, yc.police])
        with pytest.raises(ValidationError) as caught:
            initiate(org, yc, person=person, guardian=guardian, consent=consent)
        assert caught.value.messages == [
            "The consent does not cover sharing with Helsestasjon for ungdom (HFU) for this purpose, or it is no longer valid."
        ]
        assert not YouthContract.objects.exists() and not ContractParty.objects.exists()

    def test_it_refuses_a_police_contract_whose_consent_does_not_cover_the_police(self, org, yc):
        person, guardian = young_person(org, yc)
        with pytest.raises(ValidationError) as caught:
            initiate(org, yc, person=person, guardian=guardian, consent=youth_consent(yc, person, guardian, grantees=[yc.hfu]))
        assert "consent" in caught.value.message_dict
        assert not YouthContract.objects.exists()

    def test_it_refuses_an_end_before_the_start(self, org, yc):
        with pytest.raises(ValidationError) as caught:
            initiate(org, yc, ends_on=TODAY - datetime.timedelta(days=1))
        assert caught.value.message_dict["ends_on"] == ["The contract's end date must be on or after its start date."]
        assert not YouthContract.objects.exists()

    def test_it_refuses_a_police_contract_initiated_without_the_police(self, org, yc):
        person, guardian = young_person(org, yc)
        consent = youth_consent(yc, person, guardian, service=yc.hfu, user=yc.nurse)
        with pytest.raises(ValidationError) as caught:
            initiate(org, yc, person=person, guardian=guardian, user=yc.nurse, initiating_service=yc.hfu, consent=consent)
        assert "police_service" in caught.value.message_dict

    def test_it_shares_with_a_police_party_that_did_not_initiate(self, org, yc):
        person, guardian = young_person(org, yc)
        consent = youth_consent(yc, person, guardian, service=yc.hfu, user=yc.nurse, grantees=[yc.hfu, yc.police])
        contract = initiate(org, yc, person=person, guardian=guardian, user=yc.nurse, initiating_service=yc.hfu, consent=consent,
                            police_service=yc.police)
        assert contract_roles(yc.officer, contract) == {"status"}


@pytest.mark.usefixtures("frozen")
class SignatureTests:
    def test_it_records_how_by_whom_and_when(self, org, yc):
        contract = initiate(org, yc)
        party = contract.parties.get(role="young_person")
        signature = svc.contract_sign(contract=contract, user=yc.nurse, party_code=party.code, method="verbal", signed_on=TODAY)
        assert (signature.party, signature.method, signature.recorded_by, signature.signed_on) == (party, "verbal", yc.nurse, TODAY)

    def test_it_refuses_someone_who_is_not_a_party(self, org, yc):
        contract = initiate(org, yc)
        person2, guardian2 = young_person(org, yc, given="Jonas", start=650)
        other = initiate(org, yc, person=person2, guardian=guardian2)
        foreign = other.parties.get(role="young_person")
        for code in (foreign.code, "not-a-code", "00000000-0000-0000-0000-000000000000"):
            with pytest.raises(ValidationError) as caught:
                svc.contract_sign(contract=contract, user=yc.nurse, party_code=code, method="signed", signed_on=TODAY)
            assert caught.value.message_dict == {"party": ["Only a party to this contract can sign it."]}
        assert not ContractSignature.objects.exists()

    def test_it_refuses_a_second_signature_and_a_future_date(self, org, yc):
        contract = initiate(org, yc)
        party = contract.parties.get(role="young_person")
        with pytest.raises(ValidationError):
            svc.contract_sign(contract=contract, user=yc.nurse, party_code=party.code, method="signed", signed_on=TODAY + datetime.timedelta(days=1))
        svc.contract_sign(contract=contract, user=yc.nurse, party_code=party.code, method="signed", signed_on=TODAY)
        with pytest.raises(ValidationError):
            svc.contract_sign(contract=contract, user=yc.nurse, party_code=party.code, method="signed", signed_on=TODAY)
        assert ContractSignature.objects.count() == 1

    def test_it_lets_only_the_followup_service_record_signatures(self, org, yc):
        contract = initiate(org, yc)
        party = contract.parties.get(role="young_person")
        with pytest.raises(ValidationError) as caught:
            svc.contract_sign(contract=contract, user=yc.officer, party_code=party.code, method="signed", signed_on=TODAY)
        assert caught.value.code == "not_member" or caught.value.messages == ["Only the follow-up service can do this."]


@pytest.mark.usefixtures("frozen")
class ActivateTests:
    def test_it_refuses_to_start_before_every_required_party_has_signed(self, org, yc):
        contract = initiate(org, yc)
        with pytest.raises(ValidationError) as caught:
            svc.contract_activate(contract=contract, user=yc.nurse)
        assert caught.value.messages == ["Every party that must sign has to sign before the contract can start."]
        assert reload(contract).status == S.AWAITING_SIGNATURES

    def test_it_starts_and_schedules_on_working_days_with_reminders(self, org, yc):
        contract = active_contract(org, yc)
        assert contract.status == S.ACTIVE and deadline(contract, "signatures").met_at is not None
        appointments = list(contract.appointments.all())
        # Six months (to 1 March), tests and conversations every two weeks from Tuesday 1 September: 13 of each.
        assert [a.kind for a in appointments].count("test") == 13
        assert all(a.on.weekday() < 5 for a in appointments)
        christmas = [a for a in appointments if a.planned_on == D(2026, 12, 22)]
        assert christmas and christmas[0].on == D(2026, 12, 22)
        jan = [a for a in appointments if a.planned_on == D(2027, 1, 5)]
        assert jan[0].on == D(2027, 1, 5)
        first = appointments[0]
        reminders = Reminder.objects.filter(obligation=f"youth_contract:appointment:{first.pk}")
        assert sorted(reminders.values_list("kind", flat=True)) == ["escalation", "reminder"]
        assert open_tasks(contract) == ["follow_up"]


@pytest.mark.usefixtures("frozen")
class ResultTests:
    def test_it_logs_a_negative_test_and_cancels_its_reminders(self, org, yc):
        contract = active_contract(org, yc)
        first = contract.appointments.filter(kind="test").first()
        result = svc.result_record(contract=contract, user=yc.nurse, kind="test", outcome="negative", appointment_code=first.code)
        assert result.taken_on == TODAY and reload(contract).status == S.ACTIVE
        assert not Reminder.objects.filter(obligation=f"youth_contract:appointment:{first.pk}", cancelled_at__isnull=True).exists()

    def test_it_refuses_a_date_outside_the_contract(self, org, yc):
        contract = active_contract(org, yc)
        with pytest.raises(ValidationError) as caught:
            svc.result_record(contract=contract, user=yc.nurse, kind="test", outcome="negative", taken_on=TODAY - datetime.timedelta(days=1))
        assert caught.value.message_dict == {"taken_on": ["The date must lie within the contract (01.09.2026 to 01.03.2027)."]}
        assert not ContractResult.objects.exists()

    def test_it_refuses_another_contracts_appointment(self, org, yc):
        contract = active_contract(org, yc)
        person2, guardian2 = young_person(org, yc, given="Jonas", start=650)
        other = active_contract(org, yc, person=person2, guardian=guardian2)
        foreign = other.appointments.filter(kind="test").first()
        with pytest.raises(ValidationError) as caught:
            svc.result_record(contract=contract, user=yc.nurse, kind="test", outcome="negative", appointment_code=foreign.code)
        assert caught.value.message_dict == {"appointment": ["Choose one of this contract's appointments."]}
        assert not ContractResult.objects.exists()

    def test_it_refuses_a_result_that_does_not_fit_the_kind(self, org, yc):
        contract = active_contract(org, yc)
        with pytest.raises(ValidationError):
            svc.result_record(contract=contract, user=yc.nurse, kind="conversation", outcome="positive", taken_on=TODAY)

    def test_a_missed_test_opens_a_breach_assessment_with_its_deadline(self, org, yc):
        contract = active_contract(org, yc)
        svc.result_record(contract=contract, user=yc.nurse, kind="test", outcome="missed", taken_on=TODAY)
        contract = reload(contract)
        assert contract.status == S.BREACH_ASSESSMENT
        assert contract.breaches.count() == 1
        assert deadline(contract, "breach").due_at.date() == D(2026, 9, 8)
        assert open_tasks(contract) == ["assess_breach"]

    def test_a_missed_conversation_opens_a_breach_assessment_with_its_deadline(self, org, yc):
        # The first conversation falls on Tuesday 1 September (today, frozen); Emil did not come.
        contract = active_contract(org, yc)
        conversation = contract.appointments.filter(kind="conversation").first()
        assert conversation.on == TODAY
        result = svc.result_record(contract=contract, user=yc.nurse, kind="conversation", outcome="missed", appointment_code=conversation.code)
        contract = reload(contract)
        assert contract.status == S.BREACH_ASSESSMENT
        assert list(contract.breaches.values_list("result", flat=True)) == [result.pk]
        assert deadline(contract, "breach").due_at.date() == D(2026, 9, 8)
        assert open_tasks(contract) == ["assess_breach"]

    def test_a_held_conversation_opens_no_breach(self, org, yc):
        contract = active_contract(org, yc)
        svc.result_record(contract=contract, user=yc.nurse, kind="conversation", outcome="held", taken_on=TODAY)
        contract = reload(contract)
        assert contract.status == S.ACTIVE and not contract.breaches.exists()
        assert deadline(contract, "breach") is None
        assert open_tasks(contract) == ["follow_up"]

    def test_a_missed_conversation_during_an_assessment_adds_to_it(self, org, yc):
        contract = active_contract(org, yc)
        svc.result_record(contract=contract, user=yc.nurse, kind="test", outcome="positive", taken_on=TODAY)
        svc.result_record(contract=contract, user=yc.nurse, kind="conversation", outcome="missed", taken_on=TODAY)
        contract = reload(contract)
        assert contract.status == S.BREACH_ASSESSMENT and contract.breaches.count() == 2
        assert open_tasks(contract) == ["assess_breach"]


@pytest.mark.usefixtures("frozen")
class BreachAndEndTests:
    def breach(self, org, yc):
        contract = active_contract(org, yc)
        svc.result_record(contract=contract, user=yc.nurse, kind="test", outcome="positive", taken_on=TODAY)
        return reload(contract)

    def test_talk_and_continue_makes_it_active_again(self, org, yc):
        contract = svc.breach_decide(contract=self.breach(org, yc), user=yc.nurse, decision="continue", note="Samtale holdt.")
        assert contract.status == S.ACTIVE and deadline(contract, "breach").met_at is not None
        assert open_tasks(contract) == ["follow_up"]

    def test_new_conditions_replace_the_conditions(self, org, yc):
        contract = svc.breach_decide(contract=self.breach(org, yc), user=yc.nurse, decision="new_conditions", note="Strammere.",
                                     conditions=["drug_free", "programme"])
        assert contract.conditions == ["drug_free", "programme"]

    def test_broken_ends_it_and_opens_the_report_to_the_police(self, org, yc):
        contract = svc.breach_decide(contract=self.breach(org, yc), user=yc.nurse, decision="broken", note="Ikke møtt.")
        assert contract.status == S.BROKEN and contract.closed_at is not None
        assert deadline(contract, "outcome_report").is_open
        assert open_tasks(contract) == ["report_outcome"]
        assert not contract.appointments.filter(on__gt=TODAY, cancelled_at__isnull=True).exists()

    def test_the_outcome_report_goes_to_the_police_through_the_ledger(self, org, yc):
        contract = svc.contract_complete(contract=active_contract(org, yc), user=yc.nurse, outcome="Vilkårene er oppfylt.")
        assert contract.status == S.COMPLETED and open_tasks(contract) == ["report_outcome"]
        contract = svc.outcome_report(contract=contract, user=yc.nurse)
        assert contract.outcome_reported_at is not None and deadline(contract, "outcome_report").met_at is not None
        report = Disclosure.objects.get(subject_type__model="youthcontract", subject_id=contract.pk, to_service=yc.police)
        assert report.purpose == "youth contract outcome to the police" and report.from_service == yc.hfu
        assert open_tasks(contract) == []
        with pytest.raises(ValidationError):
            svc.outcome_report(contract=contract, user=yc.nurse)

    def test_a_police_contract_cannot_just_end(self, org, yc):
        with pytest.raises(ValidationError):
            svc.contract_complete(contract=active_contract(org, yc), user=yc.nurse, completed=False, outcome="Flyttet.")

    def test_a_voluntary_contract_ends_without_a_report(self, org, yc):
        contract = active_contract(org, yc, template=voluntary_template())
        contract = svc.contract_complete(contract=contract, user=yc.nurse, completed=False, outcome="Flyttet fra kommunen.")
        assert contract.status == S.ENDED and open_tasks(contract) == [] and deadline(contract, "outcome_report") is None


@pytest.mark.usefixtures("frozen")
class WithdrawalTests:
    def test_a_withdrawn_consent_suspends_the_contract_and_its_tasks(self, org, yc):
        contract = active_contract(org, yc)
        ended = consent_withdraw_cascade(consent=contract.consent, user=yc.officer)
        contract = reload(contract)
        assert ended == [contract] and contract.status == S.SUSPENDED
        assert open_tasks(contract) == []
        assert contract_roles(yc.nurse, contract) == set()


@pytest.mark.usefixtures("frozen")
class EndApproachingTests:
    def test_the_end_is_reminded_two_weeks_before_and_met_on_completion(self, org, yc):
        contract = active_contract(org, yc)
        end = deadline(contract, "contract_end")
        assert end.due_at == datetime.datetime(2027, 3, 2, 0, 0, tzinfo=ZoneInfo("Europe/Oslo"))
        remind = Reminder.objects.get(obligation=f"deadline:{end.pk}", kind="reminder")
        assert remind.due_at == datetime.datetime(2027, 2, 16, 0, 0, tzinfo=ZoneInfo("Europe/Oslo"))
        svc.contract_complete(contract=contract, user=yc.nurse)
        assert deadline(contract, "contract_end").met_at is not None
        assert Reminder.objects.get(pk=remind.pk).cancelled_at is not None

    def test_a_withdrawal_cancels_the_end_instead_of_meeting_it(self, org, yc):
        contract = active_contract(org, yc)
        consent_withdraw_cascade(consent=contract.consent, user=yc.officer)
        end = deadline(contract, "contract_end")
        assert end.cancelled_at is not None and end.met_at is None


@pytest.mark.usefixtures("frozen")
class MeasureTests:
    def test_it_enrols_in_a_programme_and_counts_the_sessions(self, org, yc):
        contract = active_contract(org, yc)
        measure = svc.measure_record(contract=contract, user=yc.nurse, kind="hap", enrolled_on=TODAY)
        svc.measure_record(contract=contract, user=yc.nurse, kind="", measure_code=measure.code, attended=3, missed=1)
        measure.refresh_from_db()
        assert (measure.kind, measure.sessions_attended, measure.sessions_missed) == ("hap", 3, 1)

    def test_it_refuses_another_contracts_measure_and_a_date_outside(self, org, yc):
        contract = active_contract(org, yc)
        person2, guardian2 = young_person(org, yc, given="Jonas", start=650)
        other = svc.measure_record(contract=active_contract(org, yc, person=person2, guardian=guardian2), user=yc.nurse, kind="cpu")
        with pytest.raises(ValidationError) as caught:
            svc.measure_record(contract=contract, user=yc.nurse, kind="", measure_code=other.code, attended=5)
        assert caught.value.message_dict == {"measure": ["Choose one of this contract's measures."]}
        with pytest.raises(ValidationError):
            svc.measure_record(contract=contract, user=yc.nurse, kind="parent_evening", enrolled_on=TODAY - datetime.timedelta(days=1))
        other.refresh_from_db()
        assert other.sessions_attended == 0 and contract.measures.count() == 0

    def test_each_appointment_carries_an_sms_text_that_names_no_one(self, org, yc):
        contract = active_contract(org, yc)
        first = contract.appointments.first()
        # In the site's default language (bokmål), whoever activated the contract.
        assert "01.09.2026" in first.sms_text
        assert "Emil" not in first.sms_text and len(first.sms_text) <= 160
