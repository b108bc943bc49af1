"""Individual plan pages and the hand-over's task page.

Thin: access helper → one service call → redirect. The plan's page shows the person's own goals
first, then the measures, the participants, the main responsibility and its history, and the open
hand-overs, to the services taking part while the plan's consent is in force for them (every read
logged); every other user gets 404, as for a plan that does not exist.
"""
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from consent.pdf import pdf_download
from org.ui import apply_errors
from people.selectors import person_name_for
from referrals.access import EMERGENCY
from referrals.models import IndividualPlan, PlanHandOver, PlanHolder
from workflows.individual_plan import document
from workflows.individual_plan import forms as pforms
from workflows.individual_plan import selectors
from workflows.individual_plan import services as svc
from workflows.list_persons import list_persons_show
from workflows.task_views import ServiceStepTaskView


def _context(request, plan, roles, propose_form=None):
    holders = list(PlanHolder.objects.filter(plan=plan).select_related("service", "koordinator", "handover").order_by("started_at", "id"))
    handovers = list(PlanHandOver.objects.filter(plan=plan, status=PlanHandOver.Status.PROPOSED).select_related("from_service", "to_service"))
    tasks = selectors.open_handover_tasks(request.user, handovers)
    for handover in handovers:
        handover.open_task = tasks.get(handover.pk)
    ctx = {
        "plan": plan, "roles": roles, "emergency": EMERGENCY in roles,
        "holder": next((h for h in holders if h.ended_at is None), None), "holders": holders,
        "measures": list(plan.measures.select_related("responsible_service").order_by("evaluate_on", "id")),
        "participants": selectors.participants_shown(plan), "handovers": handovers,
        "person_name": person_name_for(plan.person, plan.registered_by_service) or "–",
    }
    if selectors.HOLDER in roles and plan.status == IndividualPlan.Status.ACTIVE:
        ctx["propose_form"] = propose_form or pforms.HandOverProposeForm(prefix="handover", services=selectors.handover_candidates(plan))
    return ctx


@login_required
def plan_detail(request, code):
    plan, roles = selectors.plan_read(request.user, code)
    return render(request, "individual_plan/detail.html", _context(request, plan, roles))


@login_required
def plan_pdf(request, code):
    """The plan document (document.py) as a download, for whoever may read the plan's page; the
    read logged as the document's. 404 for everyone else, as for a plan that does not exist."""
    plan, _roles = selectors.plan_read(request.user, code, purpose=selectors.READ_DOCUMENT)
    return pdf_download(document.plan_document_pdf(document.plan_document(plan)), document.filename(plan))


@login_required
@require_POST
def handover_propose(request, code):
    plan, roles = selectors.plan_get_for_user(request.user, code, role=selectors.HOLDER)
    form = pforms.HandOverProposeForm(request.POST, prefix="handover", services=selectors.handover_candidates(plan))
    if form.is_valid():
        try:
            svc.handover_propose(user=request.user, plan=plan, to_service=form.cleaned_data["to_service"], note=form.cleaned_data["note"])
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext_lazy("The hand-over has been proposed; the receiving service has a task to accept or decline it."))
            return redirect("individual_plans:detail", plan.code)
    plan, roles = selectors.plan_read(request.user, code)
    return render(request, "individual_plan/detail.html", _context(request, plan, roles, propose_form=form), status=422)


@login_required
def handover_detail(request, code):
    """A hand-over's address (the step skeleton's, for a notice naming it): its plan's page, for
    whoever may see the hand-over (selectors.handover_get_for_user); else 404."""
    handover = selectors.handover_get_for_user(request.user, code)
    return redirect("individual_plans:detail", handover.plan.code)


def _page_query(request, cursor):
    return "?" + urlencode({"side": cursor}) if cursor else None


@login_required
def plan_list(request):
    """The active plans the user's services take part in, by revision date; the persons named as
    the plan's starter registered them, and logged as a list read."""
    page = selectors.plans_taken_part_in(request.user, cursor=request.GET.get("side"))
    list_persons_show(request.user, page.rows, naming=lambda p: selectors.plan_naming(p, p.seen_through), purpose="individual plan list")
    return render(request, "individual_plan/list.html", {
        "plans": page.rows, "next": _page_query(request, page.next_cursor), "previous": _page_query(request, page.previous_cursor),
    })


# --- viewflow's task page -------------------------------------------------------------------------


class HandOverTaskView(ServiceStepTaskView):
    """viewflow's execute page of a hand-over: the receiving service accepts (naming its
    koordinator) or declines (with a reason), through the same services as everywhere."""

    template_name = "individual_plan/task.html"
    form_class = pforms.HandOverDecideForm

    def dispatch(self, request, *args, **kwargs):
        # The middleware read the plan and the hand-over the task is about through the registry's
        # access helper (request.case_record, the hand-over as its via_handover); the page shows
        # the plan's content, so the read is logged here, once, without reading the plan again.
        plan = getattr(request, "case_record", None) or selectors.plan_get_for_process(request.user, kwargs["process_pk"])
        selectors.plan_process_read(request.user, plan)
        self.plan, self.handover = plan, plan.via_handover
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "service": self.handover.to_service}

    def get_context_data(self, **kwargs):
        return super().get_context_data(plan=self.plan, handover=self.handover, activation=self.request.activation,
                                        person_name=person_name_for(self.plan.person, self.plan.registered_by_service) or "–",
                                        measures=list(self.plan.measures.select_related("responsible_service").order_by("evaluate_on", "id")),
                                        **kwargs)

    def run_step(self, data, activation):
        if data["decision"] == pforms.HandOverDecideForm.ACCEPT:
            svc.handover_accept(user=self.request.user, handover=self.handover, koordinator=data["koordinator"], activation=activation)
        else:
            svc.handover_decline(user=self.request.user, handover=self.handover, reason=data["reason"], activation=activation)

    def done_url(self):
        return reverse("individual_plans:detail", args=[self.plan.code])
