"""Resuming a plan paused by a withdrawn consent, on a new consent (issue 9, points 2 and 6): the
holder alone, only on a consent in force for an individual plan covering every participating service;
the plan is disclosed again through the ledger and its clocks run again. Bad input changes nothing.

Personas and dates: see scenario.py (today Tuesday 1 September 2026).
"""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from audit.models import AccessLog
from consent.models import Disclosure
from consent.services import consent_withdraw
from notifications.models import Notification
from notifications.services import reminders_sweep
from referrals.models import IndividualPlan, PlanMeasure
from tests.workflows.individual_plan.scenario import TODAY, adult, plan_consent, plan_with_participants
from workflows.individual_plan import clocks
from workflows.individual_plan import services as svc
from workflows.individual_plan.selectors import plan_roles
from workflows.services.deadlines import deadline_for
from workflows.withdrawal import consent_withdraw_cascade

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")


def paused_plan(org, ip):
    """Ola's plan (NAV and Hjemmetjenesten taking part, a measure of NAV's evaluated on 15 September),
    paused by the withdrawal of its consent."""
    plan = plan_with_participants(org, ip)
    svc.measure_add(user=ip.rus_staff, plan=plan, description="Arbeidstrening.", responsible_service=ip.nav, starts_on=TODAY,
                    evaluate_on=datetime.date(2026, 9, 15))
    consent_withdraw_cascade(consent=plan.consent, user=ip.rus_staff)
    plan.refresh_from_db()
    assert plan.status == IndividualPlan.Status.PAUSED
    return plan


def state(plan):
    plan.refresh_from_db()
    return (plan.status, plan.consent_id, plan.version, Disclosure.objects.filter(subject_id=plan.pk, revoked_at__isnull=True).count(),
            deadline_for(plan, clocks.REVISION, process=clocks.PROCESS).is_open)


class PlanResumeTests:
    def test_it_resumes_the_plan_on_the_new_consent_for_every_participant(self, org, ip):
        plan = paused_plan(org, ip)
        consent = plan_consent(ip, plan.person)

        svc.plan_resume(user=ip.rus_staff, plan=plan, consent=consent)

        plan.refresh_from_db()
        assert (plan.status, plan.consent, plan.paused_at) == (IndividualPlan.Status.ACTIVE, consent, None)
        shared = Disclosure.objects.filter(subject_id=plan.pk, consent=consent, revoked_at__isnull=True)
        assert sorted(shared.values_list("to_service__name", flat=True)) == ["Hjemmetjenesten", "NAV"]
        assert ip.nav_staff.has_perm(clocks.PARTICIPANT_PERM, plan) and ip.home_staff.has_perm(clocks.PARTICIPANT_PERM, plan)
        assert set(plan_roles(ip.nav_staff, plan)) == {"participant"} and set(plan_roles(ip.rus_staff, plan)) == {"holder", "participant"}
        version = plan.versions.last()
        assert (version.number, version.changes["status"]) == (plan.version, ["paused", "active"])
        assert AccessLog.objects.filter(object_id=plan.pk, purpose="individual plan resumed (new consent)").count() == 1

    def test_its_clocks_run_again(self, postgresql_only, org, ip):
        plan = paused_plan(org, ip)
        svc.plan_resume(user=ip.rus_staff, plan=plan, consent=plan_consent(ip, plan.person))

        measure = PlanMeasure.objects.get(plan=plan)
        evaluation = deadline_for(measure, clocks.EVALUATION, process=clocks.PROCESS)
        assert evaluation.is_open and deadline_for(plan, clocks.REVISION, process=clocks.PROCESS).is_open
        with time_machine.travel(datetime.datetime(2026, 9, 9, 0, 0, tzinfo=OSLO), tick=False):
            reminders_sweep()
            reminders_sweep()
        assert list(Notification.objects.filter(user=ip.nav_staff, reminder__obligation=f"deadline:{evaluation.pk}")
                    .values_list("kind", flat=True)) == ["reminder"]

    @pytest.mark.parametrize("which", ["withdrawn", "expired", "another person's", "another purpose", "not covering NAV", "none"])
    def test_it_refuses_a_consent_not_in_force_for_the_plan_and_changes_nothing(self, org, ip, which):
        plan = paused_plan(org, ip)
        before = state(plan)
        if which == "withdrawn":
            consent = plan_consent(ip, plan.person)
            consent_withdraw(consent=consent, user=ip.rus_staff)
        elif which == "expired":
            consent = plan_consent(ip, plan.person, valid_from=TODAY - datetime.timedelta(days=30), valid_to=TODAY - datetime.timedelta(days=1))
        elif which == "another person's":
            consent = plan_consent(ip, adult(org, ip, given="Kåre", start=340))
        elif which == "another purpose":
            consent = plan_consent(ip, plan.person)
            consent.purpose = "referral"
            consent.save(update_fields=["purpose"])
        elif which == "not covering NAV":
            consent = plan_consent(ip, plan.person, grantees=[ip.rus, ip.home])
        else:
            consent = None

        with pytest.raises(ValidationError) as e:
            svc.plan_resume(user=ip.rus_staff, plan=plan, consent=consent)

        expected = ("The consent does not cover NAV, taking part in the plan: record a consent that does, or remove them from the plan first."
                    if which == "not covering NAV" else "Choose a consent in force from the person for an individual plan.")
        assert e.value.message_dict["consent"] == [expected]
        assert state(plan) == before

    def test_it_refuses_a_plan_that_is_not_paused(self, org, ip):
        plan = plan_with_participants(org, ip)
        before = state(plan)
        with pytest.raises(ValidationError) as e:
            svc.plan_resume(user=ip.rus_staff, plan=plan, consent=plan_consent(ip, plan.person))
        assert e.value.code == "out_of_order"
        assert state(plan) == before

    def test_only_the_holder_resumes_it(self, org, ip):
        plan = paused_plan(org, ip)
        before = state(plan)
        with pytest.raises(ValidationError) as e:
            svc.plan_resume(user=ip.nav_staff, plan=plan, consent=plan_consent(ip, plan.person))
        assert e.value.messages == ["Only the service holding the main responsibility can do this."]
        assert state(plan) == before
