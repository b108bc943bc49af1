"""Individual plan pages and the hand-over's task page.

Thin: access helper → one service call → redirect. The plan's page shows the person's own goals
first, then the measures, the participants, the main responsibility and its history, and the open
hand-overs, to the services taking part while the plan's consent is in force for them (every read
logged); every other user gets 404, as for a plan that does not exist.
"""
import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from consent.pdf import pdf_download
from org.ui import apply_errors
from people.selectors import person_name_for
from referrals.access import EMERGENCY
from referrals.models import IndividualPlan, PlanHandOver, PlanHolder
from workflows.individual_plan import document
from workflows.individual_plan import forms as pforms
from workflows.individual_plan import meetings
from workflows.individual_plan import selectors
from workflows.individual_plan import services as svc
from workflows.individual_plan.meeting_ical import meeting_ical
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
    ctx.update(group_context(plan, roles))  # the ansvarsgruppe's section (below)
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


# --- the ansvarsgruppe ----------------------------------------------------------------------------
# The plan page's section, a meeting's page, its invitation (.ics), scheduling, cancelling and the
# minutes. Meetings are reached only through their plan's access (selectors.meeting_get_for_user);
# only the holder's staff schedule, cancel and write minutes.


def group_context(plan, roles) -> dict:
    """The plan page's ansvarsgruppe section: the members and the upcoming and past meetings."""
    upcoming, past = selectors.plan_meetings(plan)
    return {"group_members": selectors.group_members(plan), "meetings_upcoming": upcoming, "meetings_past": past,
            "may_schedule": selectors.HOLDER in roles and plan.status == IndividualPlan.Status.ACTIVE}


def _at(day, time):
    return timezone.make_aware(datetime.datetime.combine(day, time)) if day and time else None


@login_required
def meeting_new(request, code):
    """Schedule a meeting (or a series), by the holder's staff; 404 for everyone else."""
    plan, roles = selectors.plan_get_for_user(request.user, code, role=selectors.HOLDER)
    form = pforms.MeetingScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = meetings.meeting_schedule(user=request.user, plan=plan, starts_at=_at(data["day"], data["starts"]),
                                             ends_at=_at(data["day"], data["ends"]), place=data["place"],
                                             every_weeks=data["every_weeks"], until=data["until"])
        except ValidationError as e:
            apply_errors(form, _on_fields(e, {"starts_at": "starts", "ends_at": "ends"}))
        else:
            messages.success(request, gettext("The meeting has been scheduled.") if len(made) == 1
                             else gettext("%(count)s meetings have been scheduled.") % {"count": len(made)})
            return redirect("individual_plans:meeting", made[0].code)
    status = 422 if request.method == "POST" else 200
    return render(request, "individual_plan/meeting_new.html", {"plan": plan, "form": form}, status=status)


def _on_fields(error: ValidationError, names: dict) -> ValidationError:
    """The service's errors under the form's field names (``names``: service field → form field)."""
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError({names.get(field, field): errs for field, errs in error.error_dict.items()})


def _meeting_context(meeting, roles, **extra) -> dict:
    plan = meeting.plan
    attendance = list(meeting.attendance.select_related("participant", "participant__service", "participant__person").order_by("id"))
    labels = {m["key"]: m["label"] for m in selectors.group_members(plan)}
    for row in attendance:
        row.label = labels.get(str(row.participant.code) if row.participant_id else selectors.PERSON_MEMBER) or (
            row.participant.service.name if row.participant_id and row.participant.service_id else "–")
    return {
        "plan": plan, "meeting": meeting, "roles": roles,
        "holder": selectors.current_holder(plan),
        "person_name": person_name_for(plan.person, plan.registered_by_service) or "–",
        "agenda": list(selectors.meeting_agenda(meeting)), "attendance": attendance,
        "minutes": getattr(meeting, "minutes", None) if meeting.status == meeting.Status.HELD else None,
        "decisions": list(meeting.decisions.select_related("measure", "measure__responsible_service").order_by("id")),
        "is_holder": selectors.HOLDER in roles and plan.status == IndividualPlan.Status.ACTIVE,
        **extra,
    }


@login_required
def meeting_detail(request, code):
    meeting, roles = selectors.meeting_read(request.user, code)
    return render(request, "individual_plan/meeting.html", _meeting_context(meeting, roles))


@login_required
def meeting_ics(request, code):
    """The meeting's invitation as an iCalendar file (a cancellation once it is cancelled)."""
    meeting, roles = selectors.meeting_read(request.user, code, purpose="ansvarsgruppe meeting invitation")
    body = meeting_ical(meeting, organiser=selectors.current_holder(meeting.plan).service.name,
                        url=request.build_absolute_uri(reverse("individual_plans:meeting", args=[meeting.code])))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ansvarsgruppe-{meeting.plan.reference}.ics"'
    return response


@login_required
@require_POST
def meeting_cancel(request, code):
    meeting, roles = selectors.meeting_get_for_user(request.user, code, role=selectors.HOLDER)
    try:
        sequence = int(request.POST.get("sequence", ""))
    except ValueError:
        sequence = -1  # a forged or missing value: refused as stale
    try:
        meetings.meeting_cancel(user=request.user, meeting=meeting, sequence=sequence)
    except ValidationError as e:
        for message in e.messages:
            messages.error(request, message)
    else:
        messages.success(request, gettext_lazy("The meeting has been cancelled; download the invitation again to remove it from calendars."))
    return redirect("individual_plans:meeting", meeting.code)


@login_required
def minutes_write(request, code):
    """The minutes of a meeting: attendance, text and decisions (each a new measure), by the holder's staff."""
    meeting, roles = selectors.meeting_get_for_user(request.user, code, role=selectors.HOLDER)
    plan = meeting.plan
    members = selectors.group_members(plan)
    services = selectors.participating_services(plan)
    data = request.POST if request.method == "POST" else None
    form = pforms.MinutesForm(data, members=members, initial={"sequence": meeting.sequence, "present": [m["key"] for m in members]})
    decisions = pforms.DecisionFormSet(data, prefix="decisions", form_kwargs={"services": services})
    if request.method == "POST" and form.is_valid() and decisions.is_valid():
        rows = [f.cleaned_data for f in decisions.forms if f.has_changed() and f.cleaned_data]
        try:
            meetings.minutes_record(user=request.user, meeting=meeting, text=form.cleaned_data["text"], present=form.cleaned_data["present"],
                                    decisions=rows, sequence=form.cleaned_data["sequence"])
        except ValidationError as e:
            _minutes_errors(form, decisions, e, [i for i, f in enumerate(decisions.forms) if f.has_changed() and f.cleaned_data])
        else:
            messages.success(request, gettext_lazy("The minutes have been saved; the decisions are now measures of the plan."))
            return redirect("individual_plans:meeting", meeting.code)
    meeting, roles = selectors.meeting_read(request.user, code)
    return render(request, "individual_plan/meeting_minutes.html", _meeting_context(meeting, roles, form=form, decisions_formset=decisions),
                  status=422 if request.method == "POST" else 200)


def _minutes_errors(form, formset, error: ValidationError, rows: list[int]) -> None:
    """The service's errors on the forms: ``decisions-<n>-<field>`` on the n-th decision sent
    (``rows``: the formset's indexes of the decisions sent), the rest on the minutes form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errs in error.error_dict.items():
        if key.startswith("decisions-"):
            n, _sep, field = key.removeprefix("decisions-").partition("-")
            target = formset.forms[rows[int(n)]]
            target.add_error(field if field in target.fields else None, errs)
        else:
            form.add_error(key if key in form.fields else None, errs)
