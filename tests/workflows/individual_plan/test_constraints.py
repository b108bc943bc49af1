"""The database itself keeps one current holder of a plan's main responsibility, and the measures'
and hand-overs' own rules, whatever code writes (issue 9: "enforced by the database, not only by
code"). Each write here bypasses the services on purpose."""
import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from referrals.models import PlanHandOver, PlanHolder, PlanMeasure
from tests.workflows.individual_plan.scenario import TODAY, adult, create_plan, plan_with_participants


class DatabaseConstraintTests:
    def test_it_rejects_a_second_current_holder(self, org, ip):
        plan = create_plan(ip, adult(org, ip))
        with pytest.raises(IntegrityError), transaction.atomic():
            PlanHolder.objects.create(plan=plan, service=ip.nav, started_at=timezone.now())
        assert PlanHolder.objects.filter(plan=plan, ended_at__isnull=True).count() == 1

    def test_it_accepts_a_second_holder_once_the_first_has_ended(self, org, ip):
        plan = create_plan(ip, adult(org, ip))
        PlanHolder.objects.filter(plan=plan).update(ended_at=timezone.now())
        PlanHolder.objects.create(plan=plan, service=ip.nav, started_at=timezone.now())
        assert PlanHolder.objects.filter(plan=plan).count() == 2

    def test_it_rejects_an_evaluation_before_the_start(self, org, ip):
        plan = create_plan(ip, adult(org, ip))
        with pytest.raises(IntegrityError), transaction.atomic():
            PlanMeasure.objects.create(plan=plan, description="x", responsible_service=ip.rus, starts_on=TODAY,
                                       evaluate_on=TODAY - datetime.timedelta(days=1), created_by=ip.rus_staff)

    def test_it_rejects_a_hand_over_to_the_same_service_and_two_open_to_one_service(self, org, ip):
        plan = plan_with_participants(org, ip)
        with pytest.raises(IntegrityError), transaction.atomic():
            PlanHandOver.objects.create(plan=plan, from_service=ip.rus, to_service=ip.rus, proposed_by=ip.rus_staff)
        PlanHandOver.objects.create(plan=plan, from_service=ip.rus, to_service=ip.nav, proposed_by=ip.rus_staff)
        with pytest.raises(IntegrityError), transaction.atomic():
            PlanHandOver.objects.create(plan=plan, from_service=ip.rus, to_service=ip.nav, proposed_by=ip.rus_staff)
