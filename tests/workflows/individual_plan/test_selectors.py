"""The consent gate of the individual plan (issue 9): who sees a plan, and that a withdrawal ends it
on the participants' very next read and pauses the plan.

Personas and dates: see scenario.py. Outsiders, forged codes and every participant after the
withdrawal get Http404, missing and forbidden alike.
"""
import dataclasses
import uuid

import pytest
from django.http import Http404

from audit.models import AccessLog
from consent.services import consent_withdraw
from referrals.models import PlanHandOver
from tests.workflows.individual_plan.scenario import TODAY, plan_with_participants
from workflows import processes as registry
from workflows.individual_plan import selectors as sel
from workflows.individual_plan import services as svc
from workflows.processes import process_named
from workflows.withdrawal import consent_withdraw_cascade


@pytest.fixture
def registered(monkeypatch):
    """The individual plan in the registry as its entry will declare it (issue 9): resting on
    consent, with its withdrawal hook and counter, so the real cascade runs them."""
    entry = dataclasses.replace(
        process_named("youth_contract"), name="individual_plan",
        on_consent_withdrawn="workflows.individual_plan.services.plans_pause_on_withdrawal",
        cases_on_consent="workflows.individual_plan.selectors.open_plans_on_consent",
    )
    monkeypatch.setattr(registry, "REGISTRY", [*registry.REGISTRY, entry])


class PlanAccessTests:
    def test_it_shows_the_plan_to_the_holder_and_the_participants(self, org, ip):
        plan = plan_with_participants(org, ip)
        assert sel.plan_get_for_user(ip.rus_koordinator, plan.code)[1] == {"holder": ip.rus, "participant": ip.rus}
        assert sel.plan_get_for_user(ip.nav_staff, plan.code)[1] == {"participant": ip.nav}
        assert sel.plan_get_for_user(ip.home_staff, str(plan.code))[0] == plan

    @pytest.mark.parametrize("who", ["caseworker", "slt_staff", "dps_staff", "reporter"])
    def test_it_answers_404_to_an_outsider(self, org, ip, who):
        plan = plan_with_participants(org, ip)
        user = getattr(ip, who, None) or getattr(org, who)
        with pytest.raises(Http404):
            sel.plan_get_for_user(user, plan.code)

    @pytest.mark.parametrize("code", [uuid.uuid4(), "not-a-code", "", None])
    def test_it_answers_404_to_a_forged_code(self, org, ip, code):
        plan_with_participants(org, ip)
        with pytest.raises(Http404):
            sel.plan_get_for_user(ip.rus_staff, code)
        with pytest.raises(Http404):
            sel.measure_get_for_user(ip.rus_staff, code)
        with pytest.raises(Http404):
            sel.handover_get_for_user(ip.rus_staff, code)
        with pytest.raises(Http404):
            sel.offer_get_for_user(ip.rus_staff, code)

    def test_it_hides_the_plan_from_a_removed_service(self, org, ip):
        plan = plan_with_participants(org, ip)
        svc.participant_remove(user=ip.rus_staff, plan=plan, participant=plan.participants.get(service=ip.home))
        with pytest.raises(Http404):
            sel.plan_get_for_user(ip.home_staff, plan.code)

    def test_it_hides_measures_and_hand_overs_from_outsiders(self, org, ip):
        plan = plan_with_participants(org, ip)
        measure = svc.measure_add(user=ip.rus_staff, plan=plan, description="Arbeidstrening.", responsible_service=ip.nav,
                                  starts_on=TODAY, evaluate_on=TODAY)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.home)
        assert sel.measure_get_for_user(ip.nav_staff, measure.code)[0] == measure
        assert sel.handover_get_for_user(ip.home_staff, handover.code) == handover
        for outsider in (org.caseworker, ip.dps_staff):
            with pytest.raises(Http404):
                sel.measure_get_for_user(outsider, measure.code)
            with pytest.raises(Http404):
                sel.handover_get_for_user(outsider, handover.code)

    def test_it_shows_an_offer_to_the_offering_service_only(self, org, ip):
        plan = plan_with_participants(org, ip)
        assert sel.offer_get_for_user(ip.rus_staff, plan.offer.code) == plan.offer
        with pytest.raises(Http404):
            sel.offer_get_for_user(ip.nav_staff, plan.offer.code)

    def test_it_logs_every_read_of_the_plan(self, org, ip):
        plan = plan_with_participants(org, ip)
        sel.plan_read(ip.nav_staff, plan.code)
        row = AccessLog.objects.filter(purpose="individual plan page").get()
        assert (row.user, row.service, row.person, row.object_id, row.action) == (ip.nav_staff, ip.nav, plan.person, plan.pk, "view")


class ConsentWithdrawnTests:
    def test_it_answers_404_to_every_participant_on_the_next_read_and_pauses_the_plan(self, org, ip, registered):
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        sel.plan_read(ip.nav_staff, plan.code)
        assert sel.open_plans_on_consent(plan.consent) == 1

        ended = consent_withdraw_cascade(consent=plan.consent, user=ip.rus_staff, note="Ola trakk samtykket.")

        assert plan in ended
        for user in (ip.nav_staff, ip.home_staff, ip.rus_staff, ip.rus_koordinator):
            with pytest.raises(Http404):
                sel.plan_read(user, plan.code)
        with pytest.raises(Http404):
            sel.handover_get_for_user(ip.nav_staff, handover.code)
        plan.refresh_from_db()
        handover.refresh_from_db()
        assert (plan.status, handover.status, sel.open_plans_on_consent(plan.consent)) == ("paused", "cancelled", 0)
        version = plan.versions.order_by("-number").first()
        assert (version.change, version.changed_by, version.changed_by_service) == ("paused", ip.rus_staff, ip.rus)
        assert AccessLog.objects.filter(object_id=plan.pk, purpose="individual plan paused (consent withdrawn)").count() == 1

    def test_it_refuses_every_change_to_a_paused_plan(self, org, ip):
        plan = plan_with_participants(org, ip)
        consent_withdraw(consent=plan.consent, user=ip.rus_staff)
        svc.plans_pause_on_withdrawal(consent=plan.consent, user=ip.rus_staff, revoked=[])
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError):
            svc.plan_update(user=ip.rus_staff, plan=plan, goals="Ny")
        with pytest.raises(ValidationError):
            svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        assert not PlanHandOver.objects.exists()

    def test_it_refuses_to_accept_a_hand_over_once_the_consent_is_withdrawn(self, org, ip):
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        consent_withdraw(consent=plan.consent, user=ip.rus_staff)  # the hook not yet run: the plan still reads active
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError) as e:
            svc.handover_accept(user=ip.nav_staff, handover=handover)
        assert e.value.messages == ["The person's consent does not cover sharing the plan with NAV."]
        assert svc.case_owner(plan) == ip.rus
