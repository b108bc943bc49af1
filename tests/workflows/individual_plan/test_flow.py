"""The hand-over's process (issue 9): a task for the receiving service, completed by its answer and
cancelled with the hand-over whichever way that ends (superseded, cancelled, its receiver removed,
the consent withdrawn).

Personas and dates: see scenario.py.
"""
import pytest
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from org.permissions import HANDLE_TASKS_PERM
from referrals.models import PlanHandOver
from tests.workflows.individual_plan.scenario import plan_with_participants
from workflows.individual_plan import services as svc
from workflows.models import IndividualPlanProcess
from workflows.task_lists import task_queue_for_user
from workflows.withdrawal import consent_withdraw_cascade

pytestmark = pytest.mark.django_db


def task_of(handover) -> Task:
    return Task.objects.get(process_id=IndividualPlanProcess.objects.get(handover=handover).pk, flow_task_type="HUMAN")


def process_status(handover) -> str:
    return IndividualPlanProcess.objects.get(handover=handover).status


class HandOverTaskTests:
    def test_it_gives_the_receiving_service_a_task_and_no_one_else(self, org, ip):
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav, note="Ola skal i arbeidstrening.")

        task = task_of(handover)
        assert (task.flow_task.name, task.status, task.owner_permission) == ("decide", STATUS.NEW, HANDLE_TASKS_PERM)
        assert task.owner_permission_obj == ip.nav
        assert [t.pk for t in task_queue_for_user(ip.nav_staff)] == [task.pk]
        for other in (ip.rus_staff, ip.home_staff, ip.dps_staff, org.caseworker):
            assert not task_queue_for_user(other).exists()

    def test_it_completes_the_task_when_the_receiver_accepts_on_the_plans_page(self, org, ip):
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)

        svc.handover_accept(user=ip.nav_staff, handover=handover)

        task = task_of(handover)
        assert (task.status, task.owner) == (STATUS.DONE, ip.nav_staff)
        assert process_status(handover) == PROCESS.DONE

    def test_it_completes_the_task_when_the_receiver_declines(self, org, ip):
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)

        svc.handover_decline(user=ip.nav_staff, handover=handover, reason="Vi har ikke kapasitet nå.")

        assert task_of(handover).status == STATUS.DONE
        assert process_status(handover) == PROCESS.DONE

    def test_it_cancels_the_tasks_of_the_proposals_an_accepted_one_supersedes(self, org, ip):
        plan = plan_with_participants(org, ip)
        to_nav = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        to_home = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.home)

        svc.handover_accept(user=ip.home_staff, handover=to_home)

        assert PlanHandOver.objects.get(pk=to_nav.pk).status == "superseded"
        assert (task_of(to_nav).status, process_status(to_nav)) == (STATUS.CANCELED, PROCESS.CANCELED)
        assert (task_of(to_home).status, process_status(to_home)) == (STATUS.DONE, PROCESS.DONE)
        assert not task_queue_for_user(ip.nav_staff).filter(status__in=[STATUS.NEW, STATUS.ASSIGNED]).exists()

    def test_it_cancels_the_task_when_the_proposer_withdraws_the_proposal(self, org, ip):
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)

        cancelled = svc.handover_cancel(user=ip.rus_staff, handover=handover)

        assert (cancelled.status, cancelled.decided_by) == ("cancelled", ip.rus_staff)
        assert (task_of(handover).status, process_status(handover)) == (STATUS.CANCELED, PROCESS.CANCELED)

    def test_it_cancels_a_hand_over_to_a_service_removed_from_the_plan(self, org, ip):
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)

        svc.participant_remove(user=ip.rus_staff, plan=plan, participant=plan.participants.get(service=ip.nav))

        assert PlanHandOver.objects.get(pk=handover.pk).status == "cancelled"
        assert task_of(handover).status == STATUS.CANCELED

    def test_it_cancels_the_open_hand_overs_and_their_tasks_when_the_consent_is_withdrawn(self, org, ip):
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)

        ended = consent_withdraw_cascade(consent=plan.consent, user=ip.rus_staff, note="Ola trekker samtykket.")

        assert [p.pk for p in ended] == [plan.pk]
        assert PlanHandOver.objects.get(pk=handover.pk).status == "cancelled"
        assert (task_of(handover).status, process_status(handover)) == (STATUS.CANCELED, PROCESS.CANCELED)
        assert not task_queue_for_user(ip.nav_staff).filter(status=STATUS.NEW).exists()
