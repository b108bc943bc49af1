"""Legal bases as a maintained catalogue, and approval by a leader of the sending service (issue 6, point 4).

Today is frozen at Tuesday 1 September 2026, 10:00. The persons and services:
- Sara, 17, whom the nurse in Skolehelsetjenesten refers on
- helse_leader and helse_leader_2, leaders of Skolehelsetjenesten; nurse_2, staff there
- the coordinator and rus_leader in Rådgivning rus og psykisk helse (a substance service)
- rask_staff in Rask psykisk helsehjelp (kind "other", standing in for specialist treatment)
- an outsider: tildeling_staff, who must see nothing and get 404

Before this change ``legal_reference="x"`` shared Sara with any service: free text was the basis.
"""
import datetime

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from guardian.shortcuts import get_perms

from audit.models import AccessLog
from consent.models import Consent, Disclosure, LegalBasis
from consent.selectors import legal_bases_for
from consent.services import NoLegalBasis, disclosure_approve, disclosure_record, disclosure_reject
from notifications.models import Reminder
from org.models import Membership
from referrals.models import Referral
from tests.factories import member
from tests.referral_scenario import NOW, frozen_now, sara, svc  # noqa: F401 (fixtures)
from workflows.referral.forms import ReferralForm
from workflows.models import Deadline
from workflows.referral.services import HANDLER, referral_cancel, referral_send

TODAY = NOW.date()
STATUTORY = Disclosure.Basis.STATUTORY
REFERRAL = Consent.Purpose.REFERRAL


@pytest.fixture
def hpl45(db):
    """Seeded by consent/migrations/0006: health personnel to health personnel, no approval."""
    return LegalBasis.objects.get(code="helsepersonelloven-45")


@pytest.fixture
def needs_approval(db):
    return LegalBasis.objects.create(
        code="test-approval", statute="Forvaltningsloven", paragraph="§ 13 b første ledd nr. 5", title="Til annet forvaltningsorgan",
        purposes=[REFERRAL], sender_kinds=[], recipient_kinds=["rustjeneste"], requires_approval=True,
    )


@pytest.fixture
def leaders(svc):
    return member(svc.helse, role=Membership.Role.LEADER), member(svc.helse, role=Membership.Role.LEADER)


def send(svc, person, *, to, user=None, **basis):
    return referral_send(user=user or svc.nurse, sender_service=svc.helse, person=person, kind="mental_health" if to == svc.rask else "substance",
                         reason="Bruker hasj daglig, vil ha hjelp.", target_service=to, basis=STATUTORY, **basis)


def disclose(svc, referral, **kwargs):
    fields = dict(obj=referral, person=referral.person, from_service=svc.helse, to_service=svc.rus, basis=STATUTORY,
                  purpose="henvisning", perm=HANDLER, user=svc.nurse, consent_purpose=REFERRAL)
    fields.update(kwargs)
    return disclosure_record(**fields)


@pytest.fixture
def queued(svc, sara, hpl45):
    """A referral of Sara's the nurse has made (shared with the coordinator on helsepersonelloven § 45)."""
    return referral_send(user=svc.nurse, sender_service=svc.helse, person=sara, kind="substance", reason="Rusbruk.",
                         routing_service=svc.rus, basis=STATUTORY, legal_basis=hpl45)


def nothing_shared_with(service, referral=None):
    return not Disclosure.objects.filter(to_service=service).exists() and (referral is None or not get_perms(service.group, referral))


class LegalBasisRefusalTests:
    def test_it_refuses_free_text_the_old_reproduction(self, svc, sara):
        with pytest.raises(NoLegalBasis) as exc:
            send(svc, sara, to=svc.rask, legal_reference="x")
        assert exc.value.messages == ["Choose the statutory basis for this disclosure from the list of legal bases."]
        assert not Referral.objects.exists()
        assert nothing_shared_with(svc.rask)

    def test_it_refuses_a_basis_that_does_not_permit_the_recipients_kind(self, svc, sara, hpl45):
        with pytest.raises(NoLegalBasis) as exc:
            send(svc, sara, to=svc.rask, legal_basis=hpl45)
        assert exc.value.message_dict == {"legal_basis": ["The legal basis “Helsepersonelloven § 45” does not permit sharing with Rask psykisk helsehjelp."]}
        assert not Referral.objects.exists()
        assert nothing_shared_with(svc.rask)

    def test_it_refuses_a_basis_that_does_not_permit_the_purpose(self, svc, queued, hpl45):
        LegalBasis.objects.filter(pk=hpl45.pk).update(purposes=[Consent.Purpose.INDIVIDUAL_PLAN])
        with pytest.raises(NoLegalBasis) as exc:
            disclose(svc, queued, to_service=svc.rus, legal_basis=hpl45)
        assert exc.value.messages == ["The legal basis “Helsepersonelloven § 45” does not permit sharing for this purpose."]
        assert Disclosure.objects.filter(subject_id=queued.pk).count() == 1

    def test_it_refuses_an_inactive_basis(self, svc, sara, hpl45):
        LegalBasis.objects.filter(pk=hpl45.pk).update(active=False)
        with pytest.raises(NoLegalBasis) as exc:
            send(svc, sara, to=svc.rus, legal_basis=hpl45)
        assert exc.value.messages == ["The legal basis “Helsepersonelloven § 45” is not in force."]
        assert not Referral.objects.exists()

    def test_it_refuses_a_basis_outside_its_validity(self, svc, sara, hpl45):
        LegalBasis.objects.filter(pk=hpl45.pk).update(valid_to=TODAY - datetime.timedelta(days=1))
        with pytest.raises(NoLegalBasis):
            send(svc, sara, to=svc.rus, legal_basis=hpl45)
        LegalBasis.objects.filter(pk=hpl45.pk).update(valid_to=None, valid_from=TODAY + datetime.timedelta(days=1))
        with pytest.raises(NoLegalBasis):
            send(svc, sara, to=svc.rus, legal_basis=hpl45)
        assert not Referral.objects.exists()

    def test_it_refuses_a_basis_for_another_kind_of_sender(self, svc, sara):
        police = LegalBasis.objects.get(code="politiregisterloven-27")
        with pytest.raises(NoLegalBasis) as exc:
            send(svc, sara, to=svc.rus, legal_basis=police)
        assert exc.value.messages == ["The legal basis “Politiregisterloven § 27” does not apply to Skolehelsetjenesten as the sender."]

    def test_it_shares_on_a_permitting_basis_and_records_it(self, svc, sara, hpl45):
        referral = send(svc, sara, to=svc.rus, legal_basis=hpl45)
        row = Disclosure.objects.get(to_service=svc.rus)
        assert (row.basis, row.legal_basis, row.legal_reference, row.status) == (STATUTORY, hpl45, "Helsepersonelloven § 45", Disclosure.Status.IN_FORCE)
        assert get_perms(svc.rus.group, referral) == ["handle_referral"]


class LegalBasisApprovalTests:
    def test_it_grants_nothing_and_delivers_nothing_until_a_leader_approves(self, svc, sara, needs_approval):
        referral = send(svc, sara, to=svc.rus, legal_basis=needs_approval)
        row = Disclosure.objects.get(to_service=svc.rus)
        assert (row.status, row.decided_by, row.decided_at) == (Disclosure.Status.PENDING, None, None)
        assert get_perms(svc.rus.group, referral) == []
        assert not hasattr(Referral.objects.get(pk=referral.pk), "process")
        assert not Deadline.objects.filter(subject_id=referral.pk, responsible_service=svc.rus).exists()
        assert not Reminder.objects.filter(service=svc.rus).exists()
        assert not AccessLog.objects.filter(action=AccessLog.Action.DISCLOSE, object_id=referral.pk).exists()
        assert referral.status == Referral.Status.REQUESTED
        assert referral.events.last().reason == "Awaiting a leader's approval of the legal basis (Forvaltningsloven § 13 b første ledd nr. 5)"

    def test_it_grants_exactly_the_permission_delivers_and_writes_the_audit_row_on_approval(self, svc, sara, needs_approval, leaders):
        referral = send(svc, sara, to=svc.rus, legal_basis=needs_approval)
        disclosure_approve(disclosure=Disclosure.objects.get(to_service=svc.rus), user=leaders[0])
        row = Disclosure.objects.get(to_service=svc.rus)
        assert (row.status, row.decided_by, row.decided_at) == (Disclosure.Status.IN_FORCE, leaders[0], NOW)
        assert get_perms(svc.rus.group, referral) == ["handle_referral"]
        audit = AccessLog.objects.filter(action=AccessLog.Action.DISCLOSE, object_id=referral.pk).get()
        assert (audit.user, audit.service, audit.person) == (leaders[0], svc.helse, sara)
        referral = Referral.objects.get(pk=referral.pk)
        assert hasattr(referral, "process")
        assert Deadline.objects.filter(subject_id=referral.pk, responsible_service=svc.rus, policy__step="answer").exists()
        assert Reminder.objects.filter(service=svc.rus, required_perm=HANDLER).exists()

    def test_it_refuses_the_requester_approving_their_own_request(self, svc, sara, needs_approval, leaders):
        send(svc, sara, to=svc.rus, legal_basis=needs_approval, user=leaders[0])
        row = Disclosure.objects.get(to_service=svc.rus)
        with pytest.raises(ValidationError) as exc:
            disclosure_approve(disclosure=row, user=leaders[0])
        assert exc.value.messages == ["You requested this disclosure yourself: another leader of the service must approve it."]
        row.refresh_from_db()
        assert row.status == Disclosure.Status.PENDING
        disclosure_approve(disclosure=row, user=leaders[1])
        assert Disclosure.objects.get(pk=row.pk).status == Disclosure.Status.IN_FORCE

    @pytest.mark.parametrize("who", ["staff", "other_leader"])
    def test_it_refuses_anyone_but_a_leader_of_the_sending_service(self, svc, sara, needs_approval, who):
        referral = send(svc, sara, to=svc.rus, legal_basis=needs_approval)
        user = member(svc.helse) if who == "staff" else svc.rus_leader
        with pytest.raises(ValidationError) as exc:
            disclosure_approve(disclosure=Disclosure.objects.get(to_service=svc.rus), user=user)
        assert exc.value.messages == ["Only a leader of the sending service can approve this disclosure."]
        assert get_perms(svc.rus.group, referral) == []

    def test_it_leaves_no_permission_when_rejected_and_cancels_the_referral(self, svc, sara, needs_approval, leaders):
        referral = send(svc, sara, to=svc.rus, legal_basis=needs_approval)
        row = Disclosure.objects.get(to_service=svc.rus)
        disclosure_reject(disclosure=row, user=leaders[0], reason="Ikke nødvendig for våre oppgaver.")
        row.refresh_from_db()
        assert (row.status, row.decision_note) == (Disclosure.Status.REJECTED, "Ikke nødvendig for våre oppgaver.")
        assert get_perms(svc.rus.group, referral) == []
        assert Referral.objects.get(pk=referral.pk).status == Referral.Status.CANCELLED
        with pytest.raises(ValidationError):
            disclosure_approve(disclosure=row, user=leaders[1])
        assert get_perms(svc.rus.group, referral) == []

    def test_it_voids_the_request_when_the_sender_cancels_the_waiting_referral(self, svc, sara, needs_approval, leaders):
        referral = send(svc, sara, to=svc.rus, legal_basis=needs_approval)
        referral_cancel(referral=referral, user=svc.nurse, reason="Feil mottaker.")
        row = Disclosure.objects.get(to_service=svc.rus)
        assert row.status == Disclosure.Status.CANCELLED
        with pytest.raises(ValidationError):
            disclosure_approve(disclosure=row, user=leaders[0])
        assert get_perms(svc.rus.group, referral) == []


class LegalBasisFormTests:
    def test_it_offers_only_the_bases_that_permit_a_referral_from_the_sender(self, org, svc, needs_approval):
        LegalBasis.objects.create(code="plan-only", statute="Testloven", paragraph="§ 1", title="Bare plan",
                                  purposes=[Consent.Purpose.INDIVIDUAL_PLAN], recipient_kinds=["rustjeneste"])
        LegalBasis.objects.create(code="inactive", statute="Testloven", paragraph="§ 2", title="Ute av kraft",
                                  purposes=[REFERRAL], recipient_kinds=["rustjeneste"], active=False)
        form = ReferralForm(targets=svc.rus.__class__.objects.none(), coordinators=svc.rus.__class__.objects.none(),
                            consents=Consent.objects.none(), sender=svc.helse)
        offered = set(form.fields["legal_basis"].queryset.values_list("code", flat=True))
        assert offered == {"helsepersonelloven-45", "helsepersonelloven-25", "test-approval"}
        from_barnehage = set(legal_bases_for(purpose=REFERRAL, from_service=org.barnehage).values_list("code", flat=True))
        assert from_barnehage == {"forvaltningsloven-13b-1-5", "test-approval"}

    def test_it_narrows_the_offer_to_the_recipients_kind_when_known(self, svc):
        assert set(legal_bases_for(purpose=REFERRAL, from_service=svc.helse, to_service=svc.rask).values_list("code", flat=True)) == set()


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


class ReferralFormPostTests:
    def test_it_refuses_a_forged_basis_for_the_recipients_kind_and_saves_nothing(self, english, svc, sara, hpl45):
        from workflows.referral.services import contact_register

        contact = contact_register(user=svc.nurse, service=svc.helse, given_name="Sara", person=sara)
        english.force_login(svc.nurse)
        response = english.post(reverse("referrals:create", args=[contact.code]), {
            "destination": "service", "target_service": svc.rask.pk, "kind": "mental_health", "reason": "Angst.",
            "basis": "statutory", "legal_basis": hpl45.pk,
        })
        assert response.status_code == 422
        assert "does not permit sharing with Rask psykisk helsehjelp." in response.content.decode()
        assert not Referral.objects.exists()
        assert nothing_shared_with(svc.rask)

    def test_it_refuses_a_basis_not_offered_to_the_sender(self, english, svc, sara):
        from workflows.referral.services import contact_register

        contact = contact_register(user=svc.nurse, service=svc.helse, given_name="Sara", person=sara)
        english.force_login(svc.nurse)
        response = english.post(reverse("referrals:create", args=[contact.code]), {
            "destination": "service", "target_service": svc.rus.pk, "kind": "substance", "reason": "Rus.",
            "basis": "statutory", "legal_basis": LegalBasis.objects.get(code="politiregisterloven-27").pk,
        })
        assert response.status_code == 422
        assert not Referral.objects.exists()


class ApprovalPageTests:
    @pytest.fixture
    def pending(self, svc, sara, needs_approval):
        send(svc, sara, to=svc.rus, legal_basis=needs_approval)
        return Disclosure.objects.get(to_service=svc.rus)

    def _decide(self, client, disclosure, decision="approve", reason=""):
        return client.post(reverse("consent:approval_decide"), {"disclosure": disclosure.pk, "decision": decision, "reason": reason})

    def test_it_lists_the_pending_disclosures_to_a_leader_of_the_sender(self, english, leaders, pending):
        english.force_login(leaders[0])
        response = english.get(reverse("consent:approvals"))
        body = response.content.decode()
        assert response.status_code == 200
        assert Referral.objects.get(pk=pending.subject_id).reference in body
        assert "Forvaltningsloven § 13 b første ledd nr. 5" in body

    def test_it_shows_the_menu_badge_to_the_leader(self, english, leaders, pending):
        english.force_login(leaders[0])
        body = english.get(reverse("consent:approvals")).content.decode()
        assert 'data-testid="approvals-count">1<' in body

    def test_it_approves_and_grants(self, english, svc, leaders, pending):
        english.force_login(leaders[0])
        response = self._decide(english, pending)
        assert response.status_code == 302
        assert get_perms(svc.rus.group, Referral.objects.get(pk=pending.subject_id)) == ["handle_referral"]

    def test_it_rejects_with_a_reason_and_grants_nothing(self, english, svc, leaders, pending):
        english.force_login(leaders[0])
        assert self._decide(english, pending, "reject").status_code == 422
        assert self._decide(english, pending, "reject", "Ikke hjemmel.").status_code == 302
        assert Disclosure.objects.get(pk=pending.pk).status == Disclosure.Status.REJECTED
        assert get_perms(svc.rus.group, Referral.objects.get(pk=pending.subject_id)) == []

    def test_it_refuses_the_requester_with_a_clear_message(self, english, svc, sara, leaders, needs_approval):
        send(svc, sara, to=svc.rus, legal_basis=needs_approval, user=leaders[0])
        english.force_login(leaders[0])
        response = self._decide(english, Disclosure.objects.get(to_service=svc.rus))
        assert response.status_code == 422
        assert "another leader of the service must approve it" in response.content.decode()

    @pytest.mark.parametrize("who", ["outsider", "staff_of_the_sender", "leader_of_the_recipient"])
    def test_it_answers_404_to_anyone_but_a_leader_of_the_sender(self, english, svc, pending, who):
        user = {"outsider": svc.tildeling_staff, "staff_of_the_sender": svc.nurse, "leader_of_the_recipient": svc.rus_leader}[who]
        english.force_login(user)
        assert self._decide(english, pending).status_code == 404
        assert Referral.objects.get(pk=pending.subject_id).reference not in english.get(reverse("consent:approvals")).content.decode()
        assert Disclosure.objects.get(pk=pending.pk).status == Disclosure.Status.PENDING

    def test_it_answers_404_for_a_missing_or_forged_id(self, english, leaders, pending):
        english.force_login(leaders[0])
        for forged in (pending.pk + 1000, "abc", ""):
            assert english.post(reverse("consent:approval_decide"), {"disclosure": forged, "decision": "approve"}).status_code == 404
