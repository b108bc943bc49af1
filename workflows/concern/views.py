"""Concern pages and the viewflow task pages. Thin: access helper → one service → redirect."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from viewflow.workflow.status import STATUS

from audit.selectors import access_log_for_object
from audit.services import access_log_read_record, access_log_write
from org.ui import apply_errors
from org.access import user_is_leader_of, user_services
from referrals.access import concern_get_for_process, concern_get_for_user, EMERGENCY
from org.models import Service
from referrals.models import Concern, ConcernFeedback
from people.services import person_get_or_create
from workflows.concern import forms, selectors
from workflows.task_views import ServiceStepTaskView
from workflows.concern import services as svc
from workflows.services.deadlines import open_deadlines


def _render_invalid(request, template, context):
    # 422 so Hotwire Turbo renders the errors, and so no client mistakes it for success.
    return render(request, template, context, status=422)


@login_required
def concern_list(request):
    rows, next_cursor = selectors.concern_sent_list(request.user, cursor=request.GET.get("etter"))
    for row in rows:
        row.reporter_status = selectors.reporter_status_label(row)
    can_report = user_services(request.user).filter(kind__in=[Service.Kind.BARNEHAGE, Service.Kind.SKOLE]).exists()
    return render(request, "workflows/concern_list.html", {"rows": rows, "next_cursor": next_cursor, "can_report": can_report})


@login_required
def intake_list(request):
    pending = request.GET.get("vis") != "alle"
    rows, next_cursor = selectors.concern_intake_list(request.user, cursor=request.GET.get("etter"), pending_only=pending)
    return render(request, "workflows/intake_list.html", {"rows": rows, "next_cursor": next_cursor, "pending": pending})


def _concern_form(request, data=None):
    reporting = user_services(request.user).filter(kind__in=[Service.Kind.BARNEHAGE, Service.Kind.SKOLE])
    municipality_ids = reporting.values("municipality_id")
    receiving = Service.objects.filter(kind=Service.Kind.BARNEVERN, active=True, municipality_id__in=municipality_ids).order_by("name")
    return forms.ConcernForm(data, reporting_services=reporting, receiving_services=receiving)


@login_required
def concern_create(request):
    form = _concern_form(request, request.POST or None)
    if not form.fields["reporting_service"].queryset.exists():
        raise Http404
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        send_now = "send" in request.POST
        try:
            with transaction.atomic():
                person = None
                if data["kind"] == Concern.Kind.MELDING:
                    person = person_get_or_create(
                        user=request.user, municipality=data["reporting_service"].municipality,
                        service=data["reporting_service"], **form.person_data,
                    )
                concern = svc.concern_draft_create(
                    user=request.user, kind=data["kind"], reporting_service=data["reporting_service"],
                    receiving_service=data["receiving_service"], observations=data["observations"],
                    categories=data["categories"], urgency=data["urgency"], person=person,
                    child_age=data.get("child_age"), parents_informed=data["parents_informed"],
                    child_informed=data["child_informed"], not_informed_reason=data["not_informed_reason"],
                )
                if send_now:
                    svc.concern_submit(concern=concern, user=request.user)
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("The concern has been sent.") if send_now else _("The draft has been saved."))
            return redirect("concerns:detail", concern.code)
    if request.method == "POST":
        return _render_invalid(request, "workflows/concern_form.html", {"form": form})
    return render(request, "workflows/concern_form.html", {"form": form})


def _action_forms(concern):
    version = svc.concern_version(concern)
    initial = {"version": version}
    out = {}
    if concern.kind == Concern.Kind.CONSULTATION:
        if concern.status == Concern.Status.SUBMITTED:
            out["answer"] = forms.AnswerForm(initial=initial)
        return out
    if concern.status == Concern.Status.SUBMITTED:
        out["receipt"] = forms.ReceiptForm(initial=initial)
    if concern.status == Concern.Status.RECEIVED:
        out["review"] = forms.ReviewForm(initial=initial)
    if concern.status == Concern.Status.INVESTIGATING:
        out["extend"] = forms.ExtendForm(initial=initial)
        out["conclude"] = forms.ConcludeForm(initial=initial)
    sent = {f.kind for f in concern.feedbacks.all()}
    if concern.status not in (Concern.Status.SUBMITTED, Concern.Status.DRAFT) and ConcernFeedback.Kind.INITIAL not in sent:
        out["feedback_initial"] = forms.FeedbackForm(initial={**initial, "kind": "initial", "message": svc.feedback_default_message(concern, "initial")})
    if concern.status == Concern.Status.INVESTIGATED and ConcernFeedback.Kind.FINAL not in sent:
        out["feedback_final"] = forms.FeedbackForm(initial={**initial, "kind": "final", "message": svc.feedback_default_message(concern, "final")})
    return out


def _detail_context(request, concern, roles, action_forms=None):
    ctx = {"concern": concern, "roles": roles, "is_handler": "handler" in roles, "feedbacks": list(concern.feedbacks.all())}
    if "handler" in roles:
        ctx["deadlines"] = list(open_deadlines(concern))
        ctx["action_forms"] = action_forms if action_forms is not None else _action_forms(concern)
        ctx["max_investigation_due"] = svc.investigation_max_due(concern) if concern.status == Concern.Status.INVESTIGATING else None
    ctx["reporter_status"] = selectors.reporter_status_label(concern)
    ctx["can_see_log"] = any(user_is_leader_of(request.user, s) for s in (concern.reporting_service, concern.receiving_service))
    ctx["upgraded_to"] = Concern.objects.filter(upgraded_from=concern).only("code").first()
    return ctx


@login_required
def concern_detail(request, code):
    concern, roles = concern_get_for_user(request.user, code)
    if EMERGENCY in roles:
        # The real user, no service: an emergency read is nobody's role in the case.
        access_log_write(user=request.user, action="view", obj=concern, person=concern.person, purpose="emergency access", via="break_glass")
    else:
        service = concern.receiving_service if "handler" in roles else concern.reporting_service
        access_log_write(user=request.user, action="view", obj=concern, person=concern.person, purpose="concern page", service=service)
    return render(request, "workflows/concern_detail.html", _detail_context(request, concern, roles))


@login_required
@require_POST
def concern_send(request, code):
    concern, _roles = concern_get_for_user(request.user, code, role="reporter")
    try:
        svc.concern_submit(concern=concern, user=request.user, version=request.POST.get("version"))
    except ValidationError as e:
        for msg in e.messages:
            messages.error(request, msg)
    else:
        messages.success(request, _("The concern has been sent."))
    return redirect("concerns:detail", concern.code)


ACTIONS = {
    # name: (form class, service call)
    "receipt": (forms.ReceiptForm, lambda c, u, d: svc.concern_confirm_receipt(concern=c, user=u, version=d["version"] or None), gettext_lazy("Receipt confirmed.")),
    "review": (forms.ReviewForm, lambda c, u, d: svc.concern_review(concern=c, user=u, decision=d["decision"], justification=d["justification"], version=d["version"] or None), gettext_lazy("The review decision has been recorded.")),
    "extend": (forms.ExtendForm, lambda c, u, d: svc.concern_extend_investigation(concern=c, user=u, reason=d["reason"], until=d["until"], version=d["version"] or None), gettext_lazy("The investigation deadline has been extended.")),
    "conclude": (forms.ConcludeForm, lambda c, u, d: svc.concern_conclude_investigation(concern=c, user=u, outcome=d["outcome"], summary=d["summary"], version=d["version"] or None), gettext_lazy("The investigation has been concluded.")),
    "feedback": (forms.FeedbackForm, lambda c, u, d: svc.concern_send_feedback(concern=c, user=u, kind=d["kind"], message=d["message"], version=d["version"] or None), gettext_lazy("The feedback has been sent to the reporter.")),
    "answer": (forms.AnswerForm, lambda c, u, d: svc.consultation_answer(concern=c, user=u, advice=d["advice"], version=d["version"] or None), gettext_lazy("Your advice has been sent.")),
}


@login_required
@require_POST
def concern_action(request, code, action):
    if action not in ACTIONS:
        raise Http404
    concern, roles = concern_get_for_user(request.user, code, role="handler")
    form_class, call, done = ACTIONS[action]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(concern, request.user, form.cleaned_data)
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, done)
            return redirect("concerns:detail", concern.code)
    concern.refresh_from_db()
    forms_ = _action_forms(concern)
    key = f"feedback_{request.POST.get('kind')}" if action == "feedback" else action
    forms_[key] = form
    return _render_invalid(request, "workflows/concern_detail.html", _detail_context(request, concern, roles, forms_))


@login_required
def concern_upgrade(request, code):
    concern, _roles = concern_get_for_user(request.user, code, role="reporter")
    if concern.kind != Concern.Kind.CONSULTATION:
        raise Http404
    form = forms.UpgradeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                person = person_get_or_create(
                    user=request.user, municipality=concern.reporting_service.municipality,
                    service=concern.reporting_service, **form.person_data,
                )
                melding = svc.consultation_upgrade(
                    consultation=concern, user=request.user, person=person,
                    parents_informed=form.cleaned_data["parents_informed"], child_informed=form.cleaned_data["child_informed"],
                    not_informed_reason=form.cleaned_data["not_informed_reason"],
                )
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("A melding has been drafted from the consultation. Check it and send it."))
            return redirect("concerns:detail", melding.code)
    ctx = {"form": form, "concern": concern}
    if request.method == "POST":
        return _render_invalid(request, "workflows/concern_upgrade.html", ctx)
    return render(request, "workflows/concern_upgrade.html", ctx)


@login_required
def concern_log(request, code):
    concern, _roles = concern_get_for_user(request.user, code)
    led = [s for s in (concern.reporting_service, concern.receiving_service) if user_is_leader_of(request.user, s)]
    if not led:
        raise Http404
    # The reporting service's leader sees only its own service's entries: barnevern's entries
    # ("investigation extended" …) would tell the reporter what the law keeps from it.
    services = None if concern.receiving_service in led else led
    # Reading a log is itself logged (and so shows in the list it reads).
    access_log_read_record(user=request.user, subject=concern, person=concern.person, service=led[-1])
    entries = list(access_log_for_object(concern, services=services))
    return render(request, "workflows/concern_log.html", {"concern": concern, "entries": entries})


STEP_FORMS = {"receipt": forms.ReceiptForm, "review": forms.ReviewForm, "conclude": forms.ConcludeForm, "answer": forms.AnswerForm}


class ConcernTaskView(ServiceStepTaskView):
    """viewflow's execute page of a human step: the same form and service as the concern page."""

    step = None
    template_name = "workflows/task.html"

    def dispatch(self, request, *args, **kwargs):
        self.concern = concern_get_for_process(request.user, kwargs["process_pk"])
        self.concern, self.roles = concern_get_for_user(request.user, self.concern.code, role="handler")
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return STEP_FORMS[self.step]

    def get_initial(self):
        return {"version": svc.concern_version(self.concern)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(concern=self.concern, step=self.step, activation=self.request.activation, **kwargs)

    def run_step(self, d, act):
        c, u, v = self.concern, self.request.user, d.get("version") or None
        calls = {
            "receipt": lambda: svc.concern_confirm_receipt(concern=c, user=u, version=v, activation=act),
            "review": lambda: svc.concern_review(concern=c, user=u, decision=d["decision"], justification=d["justification"], version=v, activation=act),
            "conclude": lambda: svc.concern_conclude_investigation(concern=c, user=u, outcome=d["outcome"], summary=d["summary"], version=v, activation=act),
            "answer": lambda: svc.consultation_answer(concern=c, user=u, advice=d["advice"], version=v, activation=act),
        }
        calls[self.step]()

    def done_url(self):
        return reverse("concerns:detail", args=[self.concern.code])
