"""Ungdomskontrakt: the youth contract of either variant, from the signatures to the outcome (domain P3).

The diagram only; every step is done through workflows/youth_contract/services.py. Module path and
node names are stored in the database: renaming them needs a data migration.
"""
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from org.access import is_active_member
from org.permissions import HANDLE_TASKS_PERM
from referrals.models import YouthContract
from workflows.flows import nodes
from workflows.models import CaseTask, YouthContractProcess
from workflows.task_views import CaseView
from workflows.youth_contract.views import YouthContractTaskView

S = YouthContract.Status


def followup_service(process):
    """The follow-up service (HFU, the health nurse, the substance prevention team), whose staff do every step."""
    return YouthContract.objects.select_related("followup_service").get(process__pk=process.pk).followup_service


class YouthContractFlow(flow.Flow):
    process_class = YouthContractProcess
    task_class = CaseTask
    process_title = _("Youth contract")
    process_description = _("A youth contract followed up with tests and conversations, its breaches assessed, its outcome reported.")
    process_summary_template = _("Youth contract {{ process.contract.reference }}")
    lock_impl = lock.select_for_update_lock

    # Initiating service (police, barnevern, konfliktråd, a health service): started by contract_initiate.
    start = nodes.StartHandle(this.start_process).Annotation(title=_("Contract initiated")).Next(this.activate)

    # Follow-up service: records every required party's signature, then starts the contract and its schedule.
    activate = (
        CaseView(YouthContractTaskView.as_view())
        .Annotation(title=_("Collect the signatures and start the contract"))
        .Permission(HANDLE_TASKS_PERM, obj=followup_service)
        .Next(this.route_by_status)
    )
    # Follow-up service: logs tests and conversations until a breach, or completes or ends the contract.
    follow_up = (
        CaseView(YouthContractTaskView.as_view())
        .Annotation(title=_("Follow up the contract"))
        .Permission(HANDLE_TASKS_PERM, obj=followup_service)
        .Next(this.route_by_status)
    )
    # Follow-up service: assesses a positive or missed test or a missed conversation (talk and continue, new conditions, or broken).
    assess_breach = (
        CaseView(YouthContractTaskView.as_view())
        .Annotation(title=_("Assess the breach"))
        .Permission(HANDLE_TASKS_PERM, obj=followup_service)
        .Next(this.route_by_status)
    )
    route_by_status = (
        nodes.Switch()
        .Annotation(title=_("What now?"))
        .Case(this.follow_up, this.is_active)
        .Case(this.assess_breach, this.is_in_breach)
        .Case(this.report_outcome, this.needs_report)
        .Default(this.end)
    )
    # Follow-up service: reports the outcome of a police contract to the police (disclosure ledger).
    report_outcome = (
        CaseView(YouthContractTaskView.as_view())
        .Annotation(title=_("Report the outcome to the police"))
        .Permission(HANDLE_TASKS_PERM, obj=followup_service)
        .Next(this.end)
    )

    end = nodes.End()

    def start_process(self, activation, contract):
        activation.process.contract = contract
        return activation.process

    @staticmethod
    def _contract(activation):
        # Read fresh: the step's service changed the row through its own (locked) copy.
        return YouthContract.objects.get(process__pk=activation.process.pk)

    def is_active(self, activation):
        return self._contract(activation).status == S.ACTIVE

    def is_in_breach(self, activation):
        return self._contract(activation).status == S.BREACH_ASSESSMENT

    def needs_report(self, activation):
        contract = self._contract(activation)
        return contract.variant == "police" and contract.status in (S.COMPLETED, S.BROKEN) and contract.outcome_reported_at is None

    def has_view_permission(self, user, obj=None):
        return is_active_member(user)  # read once per request
