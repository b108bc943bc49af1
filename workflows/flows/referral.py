"""Referral routing with a closed loop (domain P6).

The diagram only; every step is done through workflows/referral/services.py. Module path and
node names are stored in the database: renaming them needs a data migration.
"""
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from referrals.models import Referral
from org.access import is_active_member
from org.permissions import HANDLE_TASKS_PERM
from workflows.flows import nodes
from workflows.models import CaseTask, ReferralProcess
from workflows.referral.views import ReferralTaskView
from workflows.task_views import CaseView


def routing_service(process):
    """The coordinator's service, whose staff triage the routing queue."""
    if ReferralProcess.referral.is_cached(process):  # the referral the step skeleton locked
        return process.referral.routing_service
    return Referral.objects.select_related("routing_service").get(process__pk=process.pk).routing_service


def target_service(process):
    """The receiving service, whose staff answer and follow up the referral."""
    if ReferralProcess.referral.is_cached(process):  # the referral the step skeleton locked
        return process.referral.target_service
    return Referral.objects.select_related("target_service").get(process__pk=process.pk).target_service


class ReferralFlow(flow.Flow):
    process_class = ReferralProcess
    task_class = CaseTask
    process_title = _("Referral")
    process_description = _("A referral from one service to another, closed with an outcome the sender sees.")
    process_summary_template = _("Referral {{ process.referral.reference }}")
    lock_impl = lock.select_for_update_lock

    # Sender: sends the referral to a service or to a coordinator's routing queue; started by referral_send.
    start = nodes.StartHandle(this.start_process).Annotation(title=_("Referral sent")).Next(this.route_by_target)
    route_by_target = (
        nodes.If(this.has_target)
        .Annotation(title=_("Addressed to a service?"))
        .Then(this.receive)
        .Else(this.route)
    )

    # Coordinator (rustjeneste): triages and routes to a service from the catalogue.
    route = (
        CaseView(ReferralTaskView.as_view())
        .Annotation(title=_("Route the referral"))
        .Permission(HANDLE_TASKS_PERM, obj=routing_service)
        .Next(this.receive)
    )

    # Receiving service: marks it received, then accepts or declines with a reason.
    receive = (
        CaseView(ReferralTaskView.as_view())
        .Annotation(title=_("Mark as received"))
        .Permission(HANDLE_TASKS_PERM, obj=target_service)
        .Next(this.decide)
    )
    decide = (
        CaseView(ReferralTaskView.as_view())
        .Annotation(title=_("Accept or decline"))
        .Permission(HANDLE_TASKS_PERM, obj=target_service)
        .Next(this.route_by_decision)
    )
    route_by_decision = (
        nodes.If(this.is_accepted)
        .Annotation(title=_("Accepted?"))
        .Then(this.close)
        .Else(this.end)
    )
    # Receiving service: follows up, and completes with an outcome or records why it failed.
    close = (
        CaseView(ReferralTaskView.as_view())
        .Annotation(title=_("Follow up and close"))
        .Permission(HANDLE_TASKS_PERM, obj=target_service)
        .Next(this.end)
    )

    end = nodes.End()

    def start_process(self, activation, referral):
        activation.process.referral = referral
        return activation.process

    def has_target(self, activation):
        return activation.process.referral.target_service_id is not None

    def is_accepted(self, activation):
        return activation.process.referral.status == Referral.Status.ACCEPTED

    def has_view_permission(self, user, obj=None):
        return is_active_member(user)  # read once per request
