"""The legal-basis ledger: nothing reaches another service without a basis (issue #3, item 3).

Today is frozen at Tuesday 1 September 2026, 10:00. The persons and services:
- Sara, 17, consented herself to a referral to Rask psykisk helsehjelp
- the nurse in Skolehelsetjenesten records consents and sends referrals
- the coordinator in Rådgivning rus og psykisk helse routes referrals from the queue
- rask_staff and rask_leader in Rask psykisk helsehjelp, the recipient
- the caseworker in Barneverntjenesten, the only recipient of a melding under opplysningsplikt
- tildeling_staff in Tildelingskontoret, who must see nothing
"""
import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from guardian.shortcuts import get_perms
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from audit.models import AccessLog
from consent.models import Consent, Disclosure, LegalBasis
from consent.services import NoLegalBasis, consent_record, consent_withdraw, disclosure_record
from notifications.models import Notification, Reminder
from notifications.services import reminders_sweep
from referrals.models import Referral, ReferralEvent
from tests.referral_scenario import NOW, frozen_now, sara, svc  # noqa: F401 (fixtures)
from tests.factories import make_child, make_consent
from workflows.flows.referral import ReferralFlow
from workflows.models import Deadline
from workflows.referral.services import HANDLER, ROUTER, SENDER, referral_send
from workflows.withdrawal import consent_withdraw_cascade

TODAY = NOW.date()
REFERRAL = Consent.Purpose.REFERRAL


def sara_consent(svc, sara, **overrides):
    fields = dict(user=svc.nurse, service=svc.helse, person=sara, grantees=[svc.rask], given_by_person=True)
    fields.update(overrides)
    return make_consent(**fields)


@pytest.fixture
def queued(svc, sara):
    """Sara's referral in the coordinator's routing queue (she consented to sharing with the coordinator)."""
    consent = sara_consent(svc, sara, grantees=[svc.rus])
    return referral_send(user=svc.nurse, sender_service=svc.helse, person=sara, kind="mental_health",
                         reason="Sover dårlig og har mye angst.", routing_service=svc.rus, consent=consent)


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def disclose(svc, referral, *, basis=Disclosure.Basis.CONSENT, consent=None, to_service=None, legal_reference="", legal_basis=None):
    """The coordinator discloses the queued referral to Rask (or ``to_service``)."""
    return disclosure_record(
        obj=referral, person=referral.person, from_service=svc.rus, to_service=to_service or svc.rask, basis=basis,
        purpose="henvisning", perm=HANDLER, user=svc.coordinator, legal_reference=legal_reference, legal_basis=legal_basis,
        consent=consent, consent_purpose=REFERRAL,
    )


@pytest.fixture
def statutory_basis(db):
    """A statutory basis from the catalogue that permits a referral to a service of kind "other" (Rask)."""
    return LegalBasis.objects.create(
        code="test-basis", statute="Testloven", paragraph="§ 1", title="Deling for test",
        purposes=[REFERRAL], recipient_kinds=["other", "rustjeneste"],
    )


def disclose_audit_rows(referral):
    return AccessLog.objects.filter(action=AccessLog.Action.DISCLOSE, object_type="referrals.referral", object_id=referral.pk)


def assert_refused_and_nothing_shared(svc, referral, message, **kwargs):
    audit_before = disclose_audit_rows(referral).count()
    with pytest.raises(NoLegalBasis) as exc:
        disclose(svc, referral, **kwargs)
    assert exc.value.messages == [message]
    recipient = kwargs.get("to_service") or svc.rask
    assert not Disclosure.objects.filter(to_service=recipient).exists()
    assert get_perms(recipient.group, referral) == []
    assert not fresh(svc.rask_staff).has_perm(HANDLER, referral)
    assert not fresh(svc.rask_leader).has_perm(HANDLER, referral)
    assert disclose_audit_rows(referral).count() == audit_before


NOT_COVERED = "The consent does not cover sharing with Rask psykisk helsehjelp for this purpose, or it is no longer valid."


class DisclosureWithoutBasisTests:
    def test_it_refuses_without_a_consent(self, svc, queued):
        assert_refused_and_nothing_shared(
            svc, queued, "There is no consent from this person for sharing with Rask psykisk helsehjelp.", consent=None,
        )

    def test_it_refuses_a_consent_from_another_person(self, org, svc, queued):
        jonas = make_child(org, birth=datetime.date(2008, 5, 1), given="Jonas")
        assert_refused_and_nothing_shared(
            svc, queued, "There is no consent from this person for sharing with Rask psykisk helsehjelp.",
            consent=sara_consent(svc, jonas),
        )

    def test_it_refuses_a_consent_for_another_service(self, svc, sara, queued):
        consent = sara_consent(svc, sara, grantees=[svc.tildeling])
        assert_refused_and_nothing_shared(svc, queued, NOT_COVERED, consent=consent)

    def test_it_refuses_a_consent_for_another_purpose(self, svc, sara, queued):
        consent = sara_consent(svc, sara, purpose=Consent.Purpose.INDIVIDUAL_PLAN)
        assert_refused_and_nothing_shared(svc, queued, NOT_COVERED, consent=consent)

    def test_it_refuses_an_expired_consent(self, svc, sara, queued):
        consent = sara_consent(svc, sara, valid_from=datetime.date(2026, 1, 1), valid_to=TODAY - datetime.timedelta(days=1))
        assert_refused_and_nothing_shared(svc, queued, NOT_COVERED, consent=consent)

    def test_it_refuses_a_consent_not_yet_valid(self, svc, sara, queued):
        consent = sara_consent(svc, sara, valid_from=TODAY + datetime.timedelta(days=1))
        assert_refused_and_nothing_shared(svc, queued, NOT_COVERED, consent=consent)

    def test_it_refuses_a_withdrawn_consent(self, svc, sara, queued):
        consent = sara_consent(svc, sara)
        consent_withdraw(consent=consent, user=svc.nurse, note="Sara ombestemte seg.")
        assert_refused_and_nothing_shared(svc, queued, NOT_COVERED, consent=consent)

    def test_it_refuses_a_guardian_consent_the_person_has_outgrown(self, org, svc, queued):
        from tests.factories import make_guardian

        jonas = make_child(org, birth=datetime.date(2010, 9, 2), given="Jonas")  # 16 tomorrow
        consent = sara_consent(svc, jonas, given_by_person=False, guardians=[make_guardian(jonas)])
        with time_machine.travel(NOW + datetime.timedelta(days=1), tick=False):
            with pytest.raises(NoLegalBasis):
                disclosure_record(
                    obj=queued, person=jonas, from_service=svc.rus, to_service=svc.rask, basis=Disclosure.Basis.CONSENT,
                    purpose="henvisning", perm=HANDLER, user=svc.coordinator, consent=consent, consent_purpose=REFERRAL,
                )
        assert not Disclosure.objects.filter(to_service=svc.rask).exists()

    def test_it_refuses_opplysningsplikt_to_a_service_other_than_barnevern(self, svc, queued):
        assert_refused_and_nothing_shared(
            svc, queued, "The duty to report (opplysningsplikt) only covers reports to the child welfare service.",
            basis=Disclosure.Basis.OPPLYSNINGSPLIKT,
        )

    def test_it_refuses_a_statutory_basis_not_chosen_from_the_catalogue(self, svc, queued):
        for reference in ("", "   ", "x", "helse- og omsorgstjenesteloven § 7-1"):
            assert_refused_and_nothing_shared(
                svc, queued, "Choose the statutory basis for this disclosure from the list of legal bases.",
                basis=Disclosure.Basis.STATUTORY, legal_reference=reference,
            )

    def test_it_refuses_an_unknown_basis(self, svc, queued):
        assert_refused_and_nothing_shared(svc, queued, "Choose the legal basis for sharing this information.", basis="")


class DisclosureWithBasisTests:
    def test_it_records_the_disclosure_with_its_consent(self, svc, sara, queued):
        consent = sara_consent(svc, sara)
        disclosure = disclose(svc, queued, consent=consent)
        row = Disclosure.objects.get(to_service=svc.rask)
        assert row == disclosure
        assert (row.person, row.from_service, row.basis, row.consent, row.permission, row.disclosed_by, row.revoked_at) == (
            sara, svc.rus, Disclosure.Basis.CONSENT, consent, HANDLER, svc.coordinator, None,
        )
        assert row.disclosed_at == NOW

    def test_it_grants_the_recipient_services_group_the_permission_on_the_object(self, svc, sara, queued):
        disclose(svc, queued, consent=sara_consent(svc, sara))
        assert get_perms(svc.rask.group, queued) == ["handle_referral"]
        assert fresh(svc.rask_staff).has_perm(HANDLER, queued)
        assert fresh(svc.rask_leader).has_perm(HANDLER, queued)
        assert not fresh(svc.tildeling_staff).has_perm(HANDLER, queued)

    def test_it_writes_an_audit_row(self, svc, sara, queued):
        before = disclose_audit_rows(queued).count()
        disclose(svc, queued, consent=sara_consent(svc, sara))
        assert disclose_audit_rows(queued).count() == before + 1
        row = disclose_audit_rows(queued).filter(service=svc.rus).get()
        assert (row.user, row.person, row.purpose, row.at) == (svc.coordinator, sara, "henvisning", NOW)

    def test_it_shares_a_melding_with_barnevern_under_opplysningsplikt_without_consent(self, org, svc, queued):
        disclose(svc, queued, basis=Disclosure.Basis.OPPLYSNINGSPLIKT, to_service=org.barnevern)
        row = Disclosure.objects.get(to_service=org.barnevern)
        assert (row.basis, row.consent) == (Disclosure.Basis.OPPLYSNINGSPLIKT, None)
        assert fresh(org.caseworker).has_perm(HANDLER, queued)

    def test_it_shares_on_a_statutory_basis_from_the_catalogue_and_records_the_reference(self, svc, queued, statutory_basis):
        disclose(svc, queued, basis=Disclosure.Basis.STATUTORY, legal_basis=statutory_basis)
        row = Disclosure.objects.get(to_service=svc.rask)
        assert (row.basis, row.legal_basis, row.legal_reference, row.consent) == (Disclosure.Basis.STATUTORY, statutory_basis, "Testloven § 1", None)
        assert fresh(svc.rask_staff).has_perm(HANDLER, queued)


@pytest.fixture
def consent(svc, sara):
    return sara_consent(svc, sara)


@pytest.fixture
def sent(svc, sara, consent):
    """Sara's referral sent straight to Rask on her consent."""
    return referral_send(user=svc.nurse, sender_service=svc.helse, person=sara, kind="mental_health",
                         reason="Sover dårlig og har mye angst.", target_service=svc.rask, consent=consent)


class ConsentWithdrawTests:
    def test_it_revokes_the_recipients_permission_at_once(self, svc, consent, sent):
        assert fresh(svc.rask_staff).has_perm(HANDLER, sent)
        consent_withdraw(consent=consent, user=svc.nurse, note="Sara vil ikke lenger.")
        assert not fresh(svc.rask_staff).has_perm(HANDLER, sent)
        assert not fresh(svc.rask_leader).has_perm(HANDLER, sent)
        assert get_perms(svc.rask.group, sent) == []

    def test_it_marks_the_disclosures_revoked_and_the_consent_withdrawn(self, svc, consent, sent):
        revoked = consent_withdraw(consent=consent, user=svc.nurse, note="  Sara vil ikke lenger. ")
        disclosure = Disclosure.objects.get(consent=consent)
        assert revoked == [disclosure]
        assert disclosure.revoked_at == NOW
        consent.refresh_from_db()
        assert (consent.withdrawn_at, consent.withdrawn_by, consent.withdrawal_note) == (NOW, svc.nurse, "Sara vil ikke lenger.")

    def test_it_leaves_the_sender_its_status_view(self, svc, consent, sent):
        consent_withdraw(consent=consent, user=svc.nurse)
        assert fresh(svc.nurse).has_perm(SENDER, sent)

    def test_it_keeps_a_permission_another_live_consent_still_grants(self, svc, sara, consent, sent):
        second = sara_consent(svc, sara, information="Epikrise fra fastlegen.")
        disclosure_record(obj=sent, person=sara, from_service=svc.helse, to_service=svc.rask, basis=Disclosure.Basis.CONSENT,
                          purpose="henvisning", perm=HANDLER, user=svc.nurse, consent=second, consent_purpose=REFERRAL)
        consent_withdraw(consent=consent, user=svc.nurse)
        assert fresh(svc.rask_staff).has_perm(HANDLER, sent)
        consent_withdraw(consent=second, user=svc.nurse)
        assert not fresh(svc.rask_staff).has_perm(HANDLER, sent)

    def test_it_keeps_a_permission_a_statutory_disclosure_still_grants(self, svc, sara, consent, sent, statutory_basis):
        disclosure_record(obj=sent, person=sara, from_service=svc.helse, to_service=svc.rask, basis=Disclosure.Basis.STATUTORY,
                          legal_basis=statutory_basis, purpose="henvisning", perm=HANDLER, user=svc.nurse, consent_purpose=REFERRAL)
        consent_withdraw(consent=consent, user=svc.nurse)
        assert fresh(svc.rask_staff).has_perm(HANDLER, sent)

    def test_it_refuses_to_withdraw_twice(self, svc, consent, sent):
        consent_withdraw(consent=consent, user=svc.nurse, note="Første gang.")
        with time_machine.travel(NOW + datetime.timedelta(hours=2), tick=False):
            with pytest.raises(ValidationError) as exc:
                consent_withdraw(consent=consent, user=svc.nurse, note="Andre gang.")
        assert exc.value.messages == ["This consent has already been withdrawn."]
        consent.refresh_from_db()
        assert (consent.withdrawn_at, consent.withdrawn_by, consent.withdrawal_note) == (NOW, svc.nurse, "Første gang.")

    def test_it_drops_pending_notifications_to_the_recipient_at_delivery(self, svc, consent, sent):
        # The "new referral" notice to Rask was scheduled when it was sent; the sweep re-checks access.
        pending = Reminder.objects.filter(service=svc.rask, sent_at__isnull=True, cancelled_at__isnull=True)
        assert pending.filter(kind=Reminder.Kind.INFO).exists()
        consent_withdraw(consent=consent, user=svc.nurse)
        reminders_sweep()
        assert not Notification.objects.filter(user__in=[svc.rask_staff, svc.rask_leader]).exists()

    def test_it_still_delivers_to_the_recipient_without_a_withdrawal(self, svc, consent, sent):
        reminders_sweep()
        assert Notification.objects.filter(user=svc.rask_staff, kind=Reminder.Kind.INFO).count() == 1


class ConsentWithdrawWithReferralsTests:
    def test_it_cancels_the_open_referral(self, svc, consent, sent):
        cancelled = consent_withdraw_cascade(consent=consent, user=svc.nurse, note="Sara vil ikke lenger.")
        sent.refresh_from_db()
        assert cancelled == [sent]
        assert (sent.status, sent.status_reason, sent.closed_at, sent.next_deadline_at) == (
            Referral.Status.CANCELLED, "The consent was withdrawn.", NOW, None,
        )
        assert ReferralEvent.objects.filter(referral=sent).last().status == Referral.Status.CANCELLED

    def test_it_cancels_the_viewflow_tasks_and_process(self, svc, consent, sent):
        consent_withdraw_cascade(consent=consent, user=svc.nurse)
        process = sent.process.__class__.objects.get(pk=sent.process.pk)
        assert process.status == PROCESS.CANCELED
        receive = Task.objects.get(process=process, flow_task=ReferralFlow.receive)
        assert receive.status == STATUS.CANCELED
        assert not Task.objects.filter(process=process, status__in=[STATUS.NEW, STATUS.ASSIGNED]).exists()

    def test_it_cancels_the_answer_deadline(self, svc, consent, sent):
        consent_withdraw_cascade(consent=consent, user=svc.nurse)
        deadline = Deadline.objects.get(subject_id=sent.pk, policy__process="referral", policy__step="answer")
        assert deadline.cancelled_at == NOW

    def test_it_delivers_nothing_to_the_recipient_then_or_at_the_deadline(self, svc, consent, sent):
        consent_withdraw_cascade(consent=consent, user=svc.nurse)
        reminders_sweep()
        with time_machine.travel(NOW + datetime.timedelta(days=14), tick=False):
            reminders_sweep()
        assert not Notification.objects.filter(user__in=[svc.rask_staff, svc.rask_leader]).exists()
        assert not Reminder.objects.filter(service=svc.rask, sent_at__isnull=True, cancelled_at__isnull=True).exists()

    def test_it_refuses_a_user_outside_the_responsible_service_and_changes_nothing(self, svc, consent, sent):
        with pytest.raises(ValidationError) as exc:
            consent_withdraw_cascade(consent=consent, user=svc.rask_staff)
        assert exc.value.messages == ["Only the service responsible for the consent can record its withdrawal."]
        consent.refresh_from_db()
        sent.refresh_from_db()
        assert (consent.withdrawn_at, sent.status) == (None, Referral.Status.REQUESTED)
        assert fresh(svc.rask_staff).has_perm(HANDLER, sent)

    def test_it_leaves_a_referral_on_another_basis_open(self, svc, sara, consent, sent, statutory_basis):
        other = referral_send(user=svc.nurse, sender_service=svc.helse, person=sara, kind="substance", reason="Rusbruk.",
                              routing_service=svc.rus, basis=Disclosure.Basis.STATUTORY, legal_basis=statutory_basis)
        consent_withdraw_cascade(consent=consent, user=svc.nurse)
        other.refresh_from_db()
        assert other.status == Referral.Status.REQUESTED
        assert fresh(svc.coordinator).has_perm(ROUTER, other)


class ConsentRecordTests:
    def test_it_refuses_an_end_date_before_the_start_date_and_saves_nothing(self, svc, sara):
        with pytest.raises(ValidationError) as exc:
            consent_record(
                user=svc.nurse, service=svc.helse, person=sara, purpose=REFERRAL, information="Henvisningen.",
                grantees=[svc.rask], valid_from=TODAY, valid_to=TODAY - datetime.timedelta(days=1),
                method=Consent.Method.SIGNED, given_by_person=True,
            )
        assert exc.value.message_dict == {"valid_to": ["The end date must be on or after the start date."]}
        assert not Consent.objects.exists()
        assert not AccessLog.objects.filter(object_type="consent.consent").exists()

    def test_it_accepts_a_consent_valid_for_one_day(self, svc, sara):
        consent = sara_consent(svc, sara, valid_from=TODAY, valid_to=TODAY)
        assert (consent.valid_from, consent.valid_to) == (TODAY, TODAY)

    def test_it_refuses_a_user_outside_the_recording_service(self, svc, sara):
        with pytest.raises(ValidationError):
            sara_consent(svc, sara, user=svc.rask_staff)
        assert not Consent.objects.exists()

    def test_it_lets_only_the_responsible_service_manage_the_consent(self, svc, sara):
        consent = sara_consent(svc, sara)
        assert fresh(svc.nurse).has_perm("consent.manage_consent", consent)
        assert not fresh(svc.rask_staff).has_perm("consent.manage_consent", consent)
