"""Concern about a child: barnehage/skole → barnevern (domain P1).

The diagram only: gates call selectors, human steps are done through the services in
workflows/concern/services.py (from the concern pages or viewflow's task pages alike).
Module path and node names are stored in the database: renaming them needs a data migration.
"""
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from referrals.models import Concern
from org.access import is_active_member
from org.permissions import HANDLE_TASKS_PERM
from workflows.flows import nodes
from workflows.models import CaseTask, ConcernProcess
from workflows.concern.views import ConcernTaskView
from workflows.task_views import CaseView


def receiving_service(process):
    """The service whose staff work this process's human tasks (the task permission object)."""
    if ConcernProcess.concern.is_cached(process):  # the concern the step skeleton locked
        return process.concern.receiving_service
    return Concern.objects.select_related("receiving_service").get(process__pk=process.pk).receiving_service


class ConcernFlow(flow.Flow):
    process_class = ConcernProcess
    task_class = CaseTask
    process_title = _("Concern about a child")
    process_description = _("A concern from a service with a duty to report to the child welfare service.")
    process_summary_template = _("Concern {{ process.concern.reference }}")
    lock_impl = lock.select_for_update_lock

    # Reporter (a service whose kind may report, org.ServiceKindSetting): sends the concern; started by concern_submit.
    start = (
        nodes.StartHandle(this.start_process)
        .Annotation(title=_("Concern sent"))
        .Next(this.route_by_kind)
    )
    route_by_kind = (
        nodes.If(this.is_consultation)
        .Annotation(title=_("Anonymous consultation?"))
        .Then(this.answer)
        .Else(this.receipt)
    )

    # Barnevern: advises on an anonymous consultation.
    answer = (
        CaseView(ConcernTaskView.as_view())
        .Annotation(title=_("Give advice"))
        .Permission(HANDLE_TASKS_PERM, obj=receiving_service)
        .Next(this.end)
    )

    # Barnevern: confirms receipt of a melding.
    receipt = (
        CaseView(ConcernTaskView.as_view())
        .Annotation(title=_("Confirm receipt"))
        .Permission(HANDLE_TASKS_PERM, obj=receiving_service)
        .Next(this.review)
    )
    # Barnevern: reviews within one week (barnevernsloven § 2-1).
    review = (
        CaseView(ConcernTaskView.as_view())
        .Annotation(title=_("Review the melding"))
        .Permission(HANDLE_TASKS_PERM, obj=receiving_service)
        .Next(this.route_by_review)
    )
    route_by_review = (
        nodes.If(this.investigation_opened)
        .Annotation(title=_("Investigation opened?"))
        .Then(this.conclude)
        .Else(this.end)
    )
    # Barnevern: investigates within three months after the review window (§ 2-2).
    conclude = (
        CaseView(ConcernTaskView.as_view())
        .Annotation(title=_("Conclude the investigation"))
        .Permission(HANDLE_TASKS_PERM, obj=receiving_service)
        .Next(this.end)
    )

    end = nodes.End()

    def start_process(self, activation, concern):
        activation.process.concern = concern
        return activation.process

    def is_consultation(self, activation):
        return activation.process.concern.kind == Concern.Kind.CONSULTATION

    def investigation_opened(self, activation):
        return activation.process.concern.review_decision == Concern.ReviewDecision.INVESTIGATE

    def has_view_permission(self, user, obj=None):
        # The inbox and queue are for service staff; which processes they show is scoped by the
        # task permissions (per service object) and by FlowObjectAccessMiddleware.
        return is_active_member(user)  # read once per request
