"""Individuell plan: handing a plan's main responsibility (and its koordinator) to another service (domain P4).

The diagram only; the writes are workflows/individual_plan/services.py. Module path and node names
are stored in the database: renaming them needs a data migration.

One process per proposed hand-over, not one long process per plan. The plan itself has no human
step that waits on one service: its content, participants and measures are changed on the plan's
page by whoever may, at any time. The one step that waits is a hand-over: the holder proposes
(``handover_propose`` starts this process), the receiving service accepts it, naming its koordinator,
or declines it with a reason (``decide``, its task in that service's queue), and the process ends.
Several proposals of one plan may be open at once (to different services, as the core allows), each
its own task for its own service; accepting one supersedes the others, whose processes the same
transaction cancels. A long process per plan would need a task per open proposal inside one
process, which viewflow's open edition has no node for.

The flow's lock is the plan's row, not the process's (``plan_flow_lock``). Every write to a plan
locks the plan's row first (services: the consent first where it discloses, as its withdrawal does),
and the database admits one current holder per plan (``uniq_current_plan_holder``). viewflow's own
task pages take the flow's lock before the service runs; with the process's row as the lock, a
hand-over accepted on its task page (that process, then the plan) and another accepted on the plan's
page (the plan, then every superseded process) would take the same rows in opposite orders. With
the plan's row as the lock both paths queue on one row, in one order, whichever page is used.
"""
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from org.access import is_active_member
from org.permissions import HANDLE_TASKS_PERM
from referrals.models import PlanHandOver
from workflows.flows import nodes
from workflows.individual_plan.services import plan_flow_lock
from workflows.individual_plan.views import HandOverTaskView
from workflows.models import CaseTask, IndividualPlanProcess
from workflows.task_views import CaseView


def receiving_service(process):
    """The service the main responsibility is proposed to, whose staff accept or decline it."""
    return PlanHandOver.objects.select_related("to_service").get(process__pk=process.pk).to_service


class IndividualPlanFlow(flow.Flow):
    process_class = IndividualPlanProcess
    task_class = CaseTask
    process_title = _("Hand-over of an individual plan")
    process_description = _("The main responsibility for an individual plan, and its koordinator, handed to another service.")
    process_summary_template = _("Hand-over of individual plan {{ process.handover.plan.reference }}")
    lock_impl = plan_flow_lock

    # Holding service: proposes the hand-over (handover_propose starts the process).
    start = nodes.StartHandle(this.start_process).Annotation(title=_("Hand-over proposed")).Next(this.decide)

    # Receiving service: accepts the main responsibility and names its koordinator, or declines with a reason.
    decide = (
        CaseView(HandOverTaskView.as_view())
        .Annotation(title=_("Accept or decline the main responsibility"))
        .Permission(HANDLE_TASKS_PERM, obj=receiving_service)
        .Next(this.end)
    )

    end = nodes.End()

    def start_process(self, activation, handover):
        activation.process.handover = handover
        return activation.process

    def has_view_permission(self, user, obj=None):
        return is_active_member(user)  # read once per request
