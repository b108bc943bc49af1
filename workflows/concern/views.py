"""Concern pages and the viewflow task pages. Thin: access helper → one service → redirect.

Which handling forms a page offers comes from the steps' own guards (workflows.steps), and every
transaction is the service's.
"""
from dataclasses import dataclass
from typing import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.urls import reverse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import submission
from audit.selectors import access_log_for_object
from audit.services import access_log_read_record, access_log_write
from org.ui import apply_errors
from org.access import user_is_leader_of
from referrals.access import concern_get_for_process, concern_get_for_user, EMERGENCY
from org.models import Service
from people.selectors import person_record_for
from referrals.models import Concern
from workflows.concern import forms, selectors
from workflows.list_persons import list_persons_show
from workflows.task_views import ServiceStepTaskView
from workflows.concern import services as svc
from workflows.services.deadlines import open_deadlines


def _render_invalid(request, template, context):
    # 422 so Hotwire Turbo renders the errors, and so no client mistakes it for success.
    return render(request, template, context, status=422)


@login_required
def concern_list(request):
    rows, next_cursor = selectors.concern_sent_list(request.user, cursor=request.GET.get("etter"))
    rows = list_persons_show(request.user, rows, naming=selectors.concern_naming(as_role="reporter"), purpose="concern list")
    for row in rows:
        row.reporter_status = selectors.reporter_status_label(row)
    can_report = selectors.reporting_services(request.user).exists()
    return render(request, "workflows/concern_list.html", {"rows": rows, "next_cursor": next_cursor, "can_report": can_report})


@login_required
def intake_list(request):
    pending = request.GET.get("vis") != "alle"
    rows, next_cursor = selectors.concern_intake_list(request.user, cursor=request.GET.get("etter"), pending_only=pending)
    rows = list_persons_show(request.user, rows, naming=selectors.concern_naming(as_role="handler"), purpose="concern list")
    return render(request, "workflows/intake_list.html", {"rows": rows, "next_cursor": next_cursor, "pending": pending})


def _emergency_numbers(receiving):
    """The barnevernvakt numbers of the municipalities the form may send to, for the acute box."""
    seen, out = set(), []
    for service in receiving:
        m = service.municipality
        if m.pk not in seen and m.emergency_phone:
            seen.add(m.pk)
            out.append({"municipality": m.name, "phone": m.emergency_phone})
    return out


def _sends(data) -> bool:
    """A post sends the concern unless its "Save as draft" button was pressed. (A form submitted
    with Enter in a text field uses the first button, which sends; so does the detail page.)"""
    return data is not None and "draft" not in data


def _concern_form(request, data=None):
    reporting = selectors.reporting_services(request.user)
    receiving = selectors.receiving_services(reporting.values("municipality_id"))
    full = data is None or _sends(data)
    return forms.ConcernForm(
        data, reporting_services=reporting, receiving_services=receiving, full=full, submitted_by=request.user,
    )


def _draft_form(request, concern, data=None, *, full=None, initial=None):
    receiving = selectors.receiving_services([concern.reporting_service.municipality_id])
    full = (data is None or _sends(data)) if full is None else full
    return forms.ConcernForm(
        data, initial=initial, reporting_services=Service.objects.filter(pk=concern.reporting_service_id),
        receiving_services=receiving, full=full, draft=concern, submitted_by=request.user,
    )


def _draft_read(request, concern) -> dict:
    """The draft's answers as its edit form's values, the child named by the reporting service's own
    record (people.selectors.person_record_for, as on the concern's page); logged as a read."""
    access_log_write(user=request.user, action="view", obj=concern, person=concern.person, purpose="concern draft",
                     service=concern.reporting_service)
    return forms.concern_form_initial(concern, person_record_for(concern.person, concern.reporting_service))


def _form_page(request, form, *, concern=None, status=200):
    receiving = list(form.fields["receiving_service"].queryset)
    ctx = {"form": form, "concern": concern, "emergency_numbers": _emergency_numbers(receiving)}
    if concern is not None:
        ctx["version"] = svc.concern_version(concern)
    return render(request, "workflows/concern_form.html", ctx, status=status)


def _content(data) -> dict:
    """The concern's content from a valid form, as the services take it."""
    return {
        "receiving_service": data["receiving_service"], "observations": data["observations"], "categories": data["categories"],
        "urgency": data["urgency"], "child_age": data.get("child_age"), "parents_informed": data["parents_informed"],
        "child_informed": data["child_informed"], "not_informed_reason": data["not_informed_reason"],
    }


@login_required
@submission.once
def concern_create(request):
    form = _concern_form(request, request.POST or None)
    if not form.fields["reporting_service"].queryset.exists():
        raise Http404
    if request.method != "POST":
        return _form_page(request, form)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with submission.claim(form) as sent:
                concern = svc.concern_create(
                    user=request.user, send=form.full, child=form.person_data, kind=data["kind"],
                    reporting_service=data["reporting_service"], **_content(data),
                )
                sent.leads_to(reverse("concerns:detail", args=[concern.code]))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("The concern has been sent.") if form.full else _("The draft has been saved."))
            return redirect("concerns:detail", concern.code)
    # 422 so Hotwire Turbo renders the errors, and so no client mistakes it for success.
    return _form_page(request, form, status=422)


@login_required
@submission.once
def concern_edit(request, code):
    """Edit a draft (also the melding made from an upgraded consultation): save it again, or send it."""
    concern, roles = concern_get_for_user(request.user, code, role="reporter")
    if "edit" not in svc.STEPS.available(concern, roles):
        messages.info(request, _("This concern has been sent and can no longer be changed."))
        return redirect("concerns:detail", concern.code)
    if request.method != "POST":
        return _form_page(request, _draft_form(request, concern, initial=_draft_read(request, concern)), concern=concern)
    form = _draft_form(request, concern, request.POST)
    if form.is_valid():
        try:
            with submission.claim(form) as sent:
                concern = svc.concern_draft_save(
                    concern=concern, user=request.user, version=request.POST.get("version"), child=form.person_data,
                    send=form.full, **_content(form.cleaned_data),
                )
                sent.leads_to(reverse("concerns:detail", args=[concern.code]))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("The concern has been sent.") if form.full else _("The draft has been saved."))
            return redirect("concerns:detail", concern.code)
    return _form_page(request, form, concern=concern, status=422)


@login_required
def concern_delete(request, code):
    """Delete a draft after the user confirms it (a page of its own, so no click deletes by mistake)."""
    concern, roles = concern_get_for_user(request.user, code, role="reporter")
    offered = svc.STEPS.available(concern, roles)
    if "delete" not in offered:
        raise Http404
    if request.method == "POST":
        try:
            svc.concern_draft_delete(concern=concern, user=request.user, version=request.POST.get("version"))
        except ValidationError as e:
            for msg in e.messages:
                messages.error(request, msg)
            return redirect("concerns:detail", concern.code)
        messages.success(request, _("The draft has been deleted."))
        return redirect("concerns:index")
    return render(request, "workflows/concern_delete.html", {"concern": concern, "version": svc.concern_version(concern)})


def _action_forms(concern, offered):
    """The unbound handling forms of the steps on offer (workflows.steps.Steps.available), by step
    name, rendered from the concern's current version."""
    version = svc.concern_version(concern)
    out = {}
    for name in offered:
        if name in FEEDBACK_KIND:
            kind = FEEDBACK_KIND[name]
            out[name] = forms.FeedbackForm(initial={"version": version, "kind": kind, "message": svc.feedback_default_message(concern, kind)})
        elif name in ACTIONS:
            out[name] = ACTIONS[name].form(initial={"version": version})
    return out


def _detail_context(request, concern, roles, action_forms=None):
    # The feedbacks read once: the page lists them, and the feedback steps' guards ask whether each
    # kind has been sent (workflows.concern.services._feedback_not_sent reads this cache).
    prefetch_related_objects([concern], "feedbacks")
    offered = svc.STEPS.available(concern, roles)
    ctx = {
        "concern": concern, "roles": roles, "is_handler": "handler" in roles, "feedbacks": list(concern.feedbacks.all()),
        "offered": offered,
    }
    if "handler" in roles:
        ctx["deadlines"] = list(open_deadlines(concern))
        ctx["action_forms"] = {**_action_forms(concern, offered), **(action_forms or {})}
        ctx["max_investigation_due"] = svc.investigation_max_due(concern, deadlines_read=ctx["deadlines"]) if "extend" in offered else None
    ctx["reporter_status"] = selectors.reporter_status_label(concern)
    ctx["can_see_log"] = any(user_is_leader_of(request.user, s) for s in (concern.reporting_service, concern.receiving_service))
    # Only a consultation is ever upgraded (services.consultation_upgrade): a melding has no melding made from it.
    ctx["upgraded_to"] = (
        Concern.objects.filter(upgraded_from=concern).only("code").first() if concern.kind == Concern.Kind.CONSULTATION else None
    )
    if concern.urgency == Concern.Urgency.ACUTE:
        ctx["emergency_phone"] = concern.receiving_service.municipality.emergency_phone
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
        if hasattr(e, "error_dict") and concern.status == Concern.Status.DRAFT:
            # An incomplete draft: its form, with every missing answer at once.
            # The draft's answers as if posted, with a fresh token: the form shown is sent from here.
            data = {**_draft_read(request, concern), submission.FIELD: submission.token_issue(request.user)}
            form = _draft_form(request, concern, data, full=True)
            if form.is_valid():
                apply_errors(form, e)
            return _form_page(request, form, concern=concern, status=422)
        for msg in e.messages:
            messages.error(request, msg)
    else:
        messages.success(request, _("The concern has been sent."))
    return redirect("concerns:detail", concern.code)


@dataclass(frozen=True)
class Action:
    """A handling form and the one service call it makes: ``call(concern, user, data, activation)``."""

    form: type
    call: Callable
    done: Promise


def _version(d):
    return d["version"] or None


ACTIONS = {
    # By the step's name (workflows.concern.services.STEPS), which is also the task page's ``step``;
    # "feedback" posts its kind and stands for both feedback steps.
    "receipt": Action(forms.ReceiptForm, lambda c, u, d, act=None: svc.concern_confirm_receipt(concern=c, user=u, version=_version(d), activation=act), gettext_lazy("Receipt confirmed.")),
    "review": Action(forms.ReviewForm, lambda c, u, d, act=None: svc.concern_review(concern=c, user=u, decision=d["decision"], justification=d["justification"], version=_version(d), activation=act), gettext_lazy("The review decision has been recorded.")),
    "extend": Action(forms.ExtendForm, lambda c, u, d, act=None: svc.concern_extend_investigation(concern=c, user=u, reason=d["reason"], until=d["until"], version=_version(d)), gettext_lazy("The investigation deadline has been extended.")),
    "conclude": Action(forms.ConcludeForm, lambda c, u, d, act=None: svc.concern_conclude_investigation(concern=c, user=u, outcome=d["outcome"], summary=d["summary"], version=_version(d), activation=act), gettext_lazy("The investigation has been concluded.")),
    "feedback": Action(forms.FeedbackForm, lambda c, u, d, act=None: svc.concern_send_feedback(concern=c, user=u, kind=d["kind"], message=d["message"], version=_version(d)), gettext_lazy("The feedback has been sent to the reporter.")),
    "answer": Action(forms.AnswerForm, lambda c, u, d, act=None: svc.consultation_answer(concern=c, user=u, advice=d["advice"], version=_version(d), activation=act), gettext_lazy("Your advice has been sent.")),
}
FEEDBACK_KIND = {step.name: kind for kind, step in svc.FEEDBACK.items()}


@login_required
@require_POST
def concern_action(request, code, action):
    if action not in ACTIONS:
        raise Http404
    concern, roles = concern_get_for_user(request.user, code, role="handler")
    form = ACTIONS[action].form(request.POST)
    if form.is_valid():
        try:
            ACTIONS[action].call(concern, request.user, form.cleaned_data)
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, ACTIONS[action].done)
            return redirect("concerns:detail", concern.code)
    concern.refresh_from_db()
    key = f"feedback_{request.POST.get('kind')}" if action == "feedback" else action
    return _render_invalid(request, "workflows/concern_detail.html", _detail_context(request, concern, roles, {key: form}))


@login_required
@submission.once
def concern_upgrade(request, code):
    concern, _roles = concern_get_for_user(request.user, code, role="reporter")
    if concern.kind != Concern.Kind.CONSULTATION:
        raise Http404
    form = forms.UpgradeForm(request.POST or None, submitted_by=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            with submission.claim(form) as sent:
                melding = svc.consultation_upgrade(
                    consultation=concern, user=request.user, child=form.person_data,
                    parents_informed=form.cleaned_data["parents_informed"], child_informed=form.cleaned_data["child_informed"],
                    not_informed_reason=form.cleaned_data["not_informed_reason"],
                )
                sent.leads_to(reverse("concerns:detail", args=[melding.code]))
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
    entries, next_cursor = access_log_for_object(concern, services=services, cursor=request.GET.get("etter"))
    return render(request, "workflows/concern_log.html", {"concern": concern, "entries": entries, "next_cursor": next_cursor})


class ConcernTaskView(ServiceStepTaskView):
    """viewflow's execute page of a human step: the same form and service as the concern page."""

    template_name = "workflows/task.html"

    def dispatch(self, request, *args, **kwargs):
        self.concern = concern_get_for_process(request.user, kwargs["process_pk"])
        self.concern, self.roles = concern_get_for_user(request.user, self.concern.code, role="handler")
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return ACTIONS[self.step].form

    def get_initial(self):
        return {"version": svc.concern_version(self.concern)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(concern=self.concern, step=self.step, activation=self.request.activation, **kwargs)

    def run_step(self, data, activation):
        ACTIONS[self.step].call(self.concern, self.request.user, data, activation)

    def done_url(self):
        return reverse("concerns:detail", args=[self.concern.code])
