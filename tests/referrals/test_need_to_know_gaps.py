"""Ways around need-to-know found in review (issue 6, points 1, 3 and 5).

Personas from tests.referral_scenario (frozen 1 September 2026): the school nurse (Skolehelsetjenesten)
refers Sara; the coordinator in Rådgivning rus og psykisk helse routes; Tildelingskontoret and Rask
receive. ``root`` is a superuser.
"""
import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from audit.models import AccessLog
from consent.models import Consent, Disclosure, LegalBasis
from consent.services import consent_record, disclosure_approve
from org import permissions
from people.access import person_get_for_user
from referrals.access import concern_get_for_user, referral_get_for_user
from org.models import Membership
from people.models import Guardianship
from referrals.models import Referral
from org.services import membership_set
from people.services import person_get_or_create
from people.validators import synthetic_national_id
from tests.factories import make_melding, member
from tests.referral_scenario import NOW, frozen_now, sara, svc  # noqa: F401 (fixtures)
from workflows.referral import services as rsvc

pytestmark = pytest.mark.django_db
STATUTORY = Disclosure.Basis.STATUTORY


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.test", "pw")


class GroupsAreNotMembershipsTests:
    def test_it_opens_nothing_to_a_user_added_to_a_services_group_by_hand(self, org, root):
        melding = make_melding(org)
        root.groups.add(permissions.service_group(org.barnevern))
        with pytest.raises(Http404):
            concern_get_for_user(root, melding.code)

    def test_it_closes_a_deactivated_services_cases_to_its_members(self, org):
        melding = make_melding(org)
        org.barnevern.active = False
        org.barnevern.save(update_fields=["active"])
        with pytest.raises(Http404):
            concern_get_for_user(org.caseworker, melding.code)

    def test_it_refuses_an_administrator_changing_their_own_membership(self, org, root):
        with pytest.raises(ValidationError):
            membership_set(user=root, service=org.barnevern, by=root)
        assert not Membership.objects.filter(user=root).exists()

    def test_it_logs_a_membership_change_under_the_administrator(self, org, root):
        newcomer = get_user_model().objects.create_user("ny", password="pw")
        membership = membership_set(user=newcomer, service=org.barnevern, by=root)
        row = AccessLog.objects.get(object_type="org.membership", object_id=membership.pk)
        assert (row.user, row.via, row.service, row.action) == (root, "admin", org.barnevern, "create")

    def test_it_refuses_self_membership_in_the_admin(self, client, org, root):
        client.force_login(root)
        response = client.post(reverse("admin:org_membership_add"), {"user": root.pk, "service": org.barnevern.pk, "role": "staff", "active": "on"})
        assert response.status_code == 200  # the form again, with the error
        assert not Membership.objects.filter(user=root).exists()


class GuardiansOnTheContactPageTests:
    def test_it_shows_no_guardian_name_another_service_registered(self, client):
        from tests.referral_factories import make_contact, make_referral_org

        ro = make_referral_org()
        number = synthetic_national_id(datetime.date(2011, 4, 4), start=300)
        child = person_get_or_create(user=ro.tildeling_staff, given_name="Lars", family_name="Annen", national_id=number, service=ro.tildeling)
        mother = person_get_or_create(user=ro.tildeling_staff, given_name="Mor", family_name="Hemmeligsen",
                                      national_id=synthetic_national_id(datetime.date(1980, 4, 4), start=300), service=ro.tildeling)
        Guardianship.objects.create(child=child, guardian=mother)
        contact = make_contact(ro, given="Lars", age=15)
        rsvc.person_identify(user=ro.sender, contact=contact, national_id=number, family_name="Typet")
        client.force_login(ro.sender)
        page = client.get(reverse("referrals:contact_detail", args=[contact.code])).content.decode()
        assert "Hemmeligsen" not in page and "Annen" not in page
        assert "Lars Typet" in page


@pytest.fixture
def needs_approval(db):
    return LegalBasis.objects.create(
        code="test-approval", statute="Forvaltningsloven", paragraph="§ 13 b første ledd nr. 5", title="Til annet forvaltningsorgan",
        purposes=[Consent.Purpose.REFERRAL], sender_kinds=[], recipient_kinds=["rustjeneste", "other"], requires_approval=True,
    )


class PendingDisclosureTests:
    def test_it_links_no_recipient_to_the_person_before_approval(self, client, svc, sara, needs_approval):
        referral = rsvc.referral_send(
            user=svc.nurse, sender_service=svc.helse, person=sara, kind="substance", reason="Rusbruk.",
            target_service=svc.tildeling, basis=STATUTORY, legal_basis=needs_approval,
        )
        assert Disclosure.objects.get(subject_id=referral.pk).status == Disclosure.Status.PENDING
        with pytest.raises(Http404):
            person_get_for_user(svc.tildeling_staff, sara.code)
        client.force_login(svc.tildeling_staff)
        assert client.get(reverse("consent:fhir", args=[sara.code])).status_code == 404

    def test_it_counts_no_undelivered_referral_in_the_receivers_statistics(self, svc, sara, needs_approval):
        from workflows.referral.selectors import stats_referrals_by_destination

        rsvc.referral_send(
            user=svc.nurse, sender_service=svc.helse, person=sara, kind="substance", reason="Rusbruk.",
            target_service=svc.tildeling, basis=STATUTORY, legal_basis=needs_approval,
        )
        assert stats_referrals_by_destination(svc.tildeling_staff) == []
        assert [r["total"] for r in stats_referrals_by_destination(svc.nurse)] == [1]

    def test_it_counts_a_referral_cancelled_before_approval_for_the_sender_only(self, svc, sara, needs_approval):
        from workflows.referral.selectors import stats_referrals_by_destination

        pending = rsvc.referral_send(
            user=svc.nurse, sender_service=svc.helse, person=sara, kind="substance", reason="Rusbruk.",
            target_service=svc.tildeling, basis=STATUTORY, legal_basis=needs_approval,
        )
        rsvc.referral_cancel(referral=pending, user=svc.nurse, reason="Sendt til feil tjeneste.")
        assert stats_referrals_by_destination(svc.tildeling_staff) == []
        [row] = stats_referrals_by_destination(svc.nurse)
        assert row["total"] == 1 and sum(row["statuses"]) == 1
        # A delivered referral, cancelled afterwards, counts for the receiver too.
        delivered = rsvc.referral_send(
            user=svc.nurse, sender_service=svc.helse, person=sara, kind="substance", reason="Rusbruk.",
            target_service=svc.tildeling, consent=consent_record(
                user=svc.nurse, service=svc.helse, person=sara, purpose=Consent.Purpose.REFERRAL, information="Rusbehandling.",
                grantees=[svc.tildeling], valid_from=NOW.date(), method=Consent.Method.VERBAL, given_by_person=True,
            ),
        )
        rsvc.referral_cancel(referral=delivered, user=svc.nurse, reason="Ikke lenger aktuelt.")
        assert [r["total"] for r in stats_referrals_by_destination(svc.tildeling_staff)] == [1]

    def test_it_lets_a_coordinator_forward_on_an_approved_basis_without_a_second_approval(self, svc, sara, needs_approval):
        leader_a = member(svc.helse, role=Membership.Role.LEADER)
        queued = rsvc.referral_send(
            user=svc.nurse, sender_service=svc.helse, person=sara, kind="substance", reason="Rusbruk.",
            routing_service=svc.rus, basis=STATUTORY, legal_basis=needs_approval,
        )
        disclosure_approve(disclosure=Disclosure.objects.get(subject_id=queued.pk, to_service=svc.rus), user=leader_a)
        hpl = LegalBasis.objects.get(code="helsepersonelloven-45")
        hpl.recipient_kinds = sorted(set(hpl.recipient_kinds) | {"other"})
        hpl.save(update_fields=["recipient_kinds"])
        rsvc.referral_route(referral=queued, user=svc.coordinator, target_service=svc.tildeling, basis=STATUTORY, legal_basis=hpl)
        rsvc.referral_receive(referral=queued, user=svc.tildeling_staff)
        rsvc.referral_decline(referral=queued, user=svc.tildeling_staff, reason="Ikke vår målgruppe.")
        new = rsvc.referral_forward(referral=Referral.objects.get(pk=queued.pk), user=svc.coordinator, target_service=svc.rask,
                                    basis=STATUTORY, legal_basis=hpl)
        router_row = Disclosure.objects.get(subject_id=new.pk, to_service=svc.rus)
        assert router_row.status == Disclosure.Status.IN_FORCE
        assert referral_get_for_user(svc.coordinator, new.code)[1] >= {"router"}
        log = AccessLog.objects.filter(object_type="referrals.referral", object_id=new.pk, action="disclose", user=svc.coordinator)
        assert set(log.values_list("service", flat=True)) == {svc.rus.pk}  # the coordinator's own service, not the sender's


class GranteeIsNotRecipientTests:
    def test_it_shows_a_grantee_service_no_consent_it_received_nothing_on(self, client, svc, sara):
        consent = consent_record(
            user=svc.nurse, service=svc.helse, person=sara, purpose=Consent.Purpose.REFERRAL, information="Rusbehandling hos TSB.",
            grantees=[svc.tildeling], valid_from=NOW.date(), method=Consent.Method.VERBAL, given_by_person=True,
        )
        person_get_or_create(user=svc.tildeling_staff, given_name="S", family_name="Typet", national_id=sara.national_id, service=svc.tildeling)
        rsvc.contact_register(user=svc.tildeling_staff, service=svc.tildeling, given_name="S", person=sara)
        client.force_login(svc.tildeling_staff)
        page = client.get(reverse("consent:person", args=[sara.code]))
        assert page.status_code == 200
        assert consent.reference not in page.content.decode()
        export = client.get(reverse("consent:fhir", args=[sara.code])).content.decode()
        assert "Rusbehandling" not in export and sara.national_id not in export
