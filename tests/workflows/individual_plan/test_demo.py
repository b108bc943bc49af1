"""The individual plan's demo data (issue 9, point 9): two plans held by Psykisk helse og rus, one
with a hand-over to NAV waiting in NAV's queue; the demo user ``koordinator`` (password ``demo``),
through the real services; the other plan's ansvarsgruppe has held a meeting whose minutes created a
measure, and has its next meeting planned."""
import pytest
from django.urls import reverse
from viewflow.workflow.status import STATUS

from referrals.models import IndividualPlan, PlanHandOver, PlanMeeting
from workflows.individual_plan.selectors import current_holder
from workflows.task_lists import task_queue_for_user

pytestmark = pytest.mark.django_db


class DemoIndividualPlanTests:
    def test_it_seeds_two_plans_one_with_a_pending_hand_over_in_the_receivers_queue(self, client):
        from workflows.demo import seed_demo

        seeded = seed_demo()
        users, services = seeded["users"], seeded["services"]
        koordinator = users["koordinator"]
        assert koordinator.check_password("demo")
        plans = IndividualPlan.objects.order_by("pk")
        assert plans.count() == 2
        assert [current_holder(p).service for p in plans] == [services["rus"], services["rus"]]
        assert [current_holder(p).koordinator for p in plans] == [koordinator, koordinator]
        pending = PlanHandOver.objects.get(status="proposed")
        assert (pending.plan, pending.to_service) == (plans[0], services["nav"])
        assert PlanHandOver.objects.get(status="declined").to_service == services["tildeling"]
        assert task_queue_for_user(users["nav"]).filter(status=STATUS.NEW).count() == 1
        assert plans[0].measures.count() == 2

        client.force_login(koordinator)
        page = client.get(reverse("individual_plans:index")).content.decode()
        assert all(reverse("individual_plans:detail", args=[p.code]) in page for p in plans)
        assert client.get(reverse("individual_plans:detail", args=[plans[0].code])).status_code == 200

    def test_it_seeds_a_held_meeting_whose_minutes_made_a_measure_and_an_upcoming_one(self, client):
        from workflows.demo import seed_demo

        seeded = seed_demo()
        maja = IndividualPlan.objects.order_by("pk")[1]
        held = PlanMeeting.objects.get(plan=maja, status="held")
        decision = held.decisions.get()
        assert decision.measure.plan == maja and decision.measure.responsible_service == seeded["services"]["tildeling"]
        assert held.minutes.written_by == seeded["users"]["koordinator"]
        assert PlanMeeting.objects.filter(plan=maja, status="planned").count() == 1
        client.force_login(seeded["users"]["koordinator"])
        assert client.get(reverse("individual_plans:meeting", args=[held.code])).status_code == 200
        page = client.get(reverse("individual_plans:detail", args=[maja.code])).content.decode()
        assert page.count('data-testid="meeting-upcoming"') == 1 and page.count('data-testid="meeting-past"') == 1

    def test_it_seeds_once(self):
        from workflows.demo import seed_demo

        seed_demo()
        seed_demo()
        assert IndividualPlan.objects.count() == 2
