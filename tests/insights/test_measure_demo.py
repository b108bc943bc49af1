"""The demo plan (insights.demo_measures): the municipality's plan 2025–2030 with its measures,
statuses and evaluations, kept by the ``slt`` demo user, written through the real services."""
import pytest
import time_machine
from django.urls import reverse

from insights import demo_measures
from insights import measures as svc
from insights.models import MeasureEvaluation, PolicyMeasure, PolicyPlan
from notifications.models import Reminder
from tests.insights.measure_scenario import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    from workflows.demo import seed_demo

    seeded = seed_demo()
    with time_machine.travel(at(2026, 12, 10, 9, 0), tick=False):
        demo_measures.seed(seeded)
    return seeded


class DemoMeasuresTests:
    def test_it_seeds_the_plan_with_its_measures_statuses_and_two_years_of_evaluations(self, seeded):
        plan = PolicyPlan.objects.get()
        assert (plan.owner_service, plan.from_year, plan.to_year) == (seeded["services"]["slt"], 2025, 2030)
        assert PolicyMeasure.objects.filter(plan=plan).count() == len(demo_measures.MEASURES)
        assert set(PolicyMeasure.objects.values_list("status", flat=True)) == set(PolicyMeasure.Status.values)
        assert set(MeasureEvaluation.objects.values_list("year", flat=True)) == {2025, 2026}
        dropped = PolicyMeasure.objects.get(number="14")
        assert dropped.status == PolicyMeasure.Status.DROPPED and not Reminder.objects.filter(
            obligation=svc.obligation(dropped), sent_at__isnull=True, cancelled_at__isnull=True).exists()

    def test_it_is_idempotent(self, seeded):
        with time_machine.travel(at(2026, 12, 10, 9, 0), tick=False):
            demo_measures.seed(seeded)
        assert PolicyPlan.objects.count() == 1 and PolicyMeasure.objects.count() == len(demo_measures.MEASURES)

    def test_the_slt_user_and_the_responsible_services_reach_the_pages(self, seeded, client):
        plan = PolicyPlan.objects.get()
        client.force_login(seeded["users"]["slt"])
        assert client.get(reverse("insights:policy_plan", args=[plan.code])).status_code == 200
        client.force_login(seeded["users"]["barnevern"])
        measure = PolicyMeasure.objects.get(number="2")
        assert client.get(reverse("insights:measure_evaluate", args=[measure.code])).status_code == 200
