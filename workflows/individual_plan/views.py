"""Individual plan pages and the hand-over's task page.

Thin: access helper → one service call → redirect. The plan's page shows the person's own goals
first, then the measures, the participants, the main responsibility and its history, and the open
hand-overs, to the services taking part while the plan's consent is in force for them (every read
logged); every other user gets 404, as for a plan that does not exist.

The holder's forms (the content, the participants, the measures, the koordinator, cancelling its
proposal) answer 404 to every other user, GET and POST alike; a measure's responsible service may
change that measure. The offers are the offering service's alone (selectors.offer_get_for_user):
registered, answered, given a koordinator when the person wants only that, and made into a plan on
the person's consent. An invalid form is shown again with its translated errors (status 422).
"""
import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from accounts import submission
from audit.services import access_log_write
from consent.models import AgeRule
from consent.pdf import pdf_download
from org.access import user_services
from org.models import Service
from org.ui import apply_errors, form_apply
from people.selectors import guardian_label, person_name_for
from referrals.access import EMERGENCY
from referrals.models import IndividualPlan, PlanHandOver, PlanHolder, PlanOffer
from workflows.individual_plan import document
from workflows.individual_plan import forms as pforms
from workflows.individual_plan import meetings
from workflows.individual_plan import rules, selectors
from workflows.individual_plan import services as svc
from workflows.individual_plan.meeting_ical import meeting_ical
from workflows.list_persons import list_persons_show
from workflows.task_views import ServiceStepTaskView


def _context(request, plan, roles, propose_form=None, koordinator_form=None):
    named = selectors.participants_named(plan)
    holders = list(PlanHolder.objects.filter(plan=plan).select_related("service", "koordinator", "handover").order_by("started_at", "id"))
    handovers = list(PlanHandOver.objects.filter(plan=plan, status=PlanHandOver.Status.PROPOSED).select_related("from_service", "to_service"))
    tasks = selectors.open_handover_tasks(request.user, handovers)
    for handover in handovers:
        handover.open_task = tasks.get(handover.pk)
    ctx = {
        "plan": plan, "roles": roles, "emergency": EMERGENCY in roles,
        "holder": next((h for h in holders if h.ended_at is None), None), "holders": holders,
        "measures": list(plan.measures.select_related("responsible_service").order_by("evaluate_on", "id")),
        "participants": selectors.participants_shown(plan, named), "handovers": handovers, "person_name": named.person,
    }
    ctx.update(group_context(plan, roles, named))  # the ansvarsgruppe's section (below)
    if selectors.HOLDER in roles and plan.status == IndividualPlan.Status.ACTIVE:
        candidates = selectors.handover_candidates(plan, holder_service_id=ctx["holder"].service_id, named=named)
        ctx["propose_form"] = propose_form or pforms.HandOverProposeForm(prefix="handover", services=candidates)
        ctx["koordinator_form"] = koordinator_form or pforms.KoordinatorForm(
            prefix="koordinator", service=roles[selectors.HOLDER], initial={"koordinator": ctx["holder"].koordinator_id})
        ctx["holding"] = True
        for handover in handovers:
            handover.cancellable = handover.from_service_id == roles[selectors.HOLDER].pk
    if EMERGENCY not in roles:
        _measure_links(plan, roles, ctx["measures"])
        ctx["measures_editable"] = any(hasattr(m, "edit_url") for m in ctx["measures"])
    return ctx


def _measure_links(plan, roles, measures) -> None:
    """Give each measure the user may change (as the holder, or as its responsible service taking
    part on the consent: the services plan_roles found, ``plan.taking_part_through``) its edit
    address: selectors.measure_get_for_editor's rule, for the page."""
    editing = None if selectors.HOLDER in roles else getattr(plan, "taking_part_through", set())
    for m in measures:
        if editing is None or m.responsible_service_id in editing:
            m.edit_url = reverse("individual_plans:measure_edit", args=[m.code])


@login_required
def plan_detail(request, code):
    plan, roles = selectors.plan_read(request.user, code)
    return render(request, "individual_plan/detail.html", _context(request, plan, roles))


@login_required
def plan_history(request, code):
    """The plan's change history (every version: who, for which service, when, what kind of change
    and which fields), for whoever may read the plan; the read is logged."""
    plan, _roles = selectors.plan_read(request.user, code, purpose=selectors.READ_HISTORY)
    rows, next_cursor = selectors.plan_history(plan, cursor=request.GET.get("side"))
    return render(request, "individual_plan/history.html", {"plan": plan, "versions": rows, "next": _page_query(request, next_cursor)})


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
    if form_apply(request, form, lambda: svc.handover_propose(user=request.user, plan=plan, to_service=form.cleaned_data["to_service"],
                                                              note=form.cleaned_data["note"]),
                  success=gettext_lazy("The hand-over has been proposed; the receiving service has a task to accept or decline it.")):
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


# --- the plan's own changes (the holder's; a measure's responsible service changes that measure) ----


def _log_form_read(request, plan, service):
    """A form page showing the plan's content is a read of it, logged as the plan's page."""
    access_log_write(user=request.user, action="view", obj=plan, person=plan.person, purpose=selectors.READ_PAGE, service=service)


def _render_form(request, template, ctx, *, invalid: bool = False):
    return render(request, f"individual_plan/{template}", ctx, status=422 if invalid else 200)


def _content_initial(plan) -> dict:
    return {field: getattr(plan, field) for field in svc.CONTENT_FIELDS}


@login_required
def plan_edit(request, code):
    """The holder changes the plan's content; a form rendered from an older version is refused."""
    plan, roles = selectors.plan_get_for_user(request.user, code, role=selectors.HOLDER)
    form = pforms.PlanEditForm(request.POST or None, initial={**_content_initial(plan), "version": plan.version})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            svc.plan_update_fresh(user=request.user, plan=plan, version=d["version"], **{f: d[f] for f in svc.CONTENT_FIELDS})
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext_lazy("The plan has been saved."))
            return redirect("individual_plans:detail", plan.code)
    _log_form_read(request, plan, roles[selectors.HOLDER])
    return _render_form(request, "plan_edit.html", {"plan": plan, "form": form}, invalid=request.method == "POST")


def _participants_page(request, plan, roles, *, service_form=None, guardian_form=None, kin_form=None, remove_error=None):
    holder = roles[selectors.HOLDER]
    guardians = selectors.offer_guardians(plan.offer)
    ctx = {
        "plan": plan, "participants": selectors.participants_removable(plan), "remove_error": remove_error,
        "service_form": service_form or pforms.ParticipantServiceForm(prefix="service", services=selectors.services_to_add(plan)),
        "guardian_form": guardian_form or pforms.ParticipantGuardianForm(prefix="guardian", guardians=guardians, service=holder),
        "kin_form": kin_form or pforms.ParticipantNextOfKinForm(prefix="kin"),
        "has_guardians": guardians.exists(),
        # The consent's page is its recording service's (consent.access): linked only for it.
        "consent_url": reverse("consent:detail", args=[plan.consent.code]) if plan.consent.recorded_by_service_id == holder.pk else None,
    }
    _log_form_read(request, plan, holder)  # the participants, next of kin named, are the plan's content
    invalid = any(f is not None for f in (service_form, guardian_form, kin_form, remove_error))
    return _render_form(request, "participants.html", ctx, invalid=invalid)


@login_required
def participants(request, code):
    """The holder's page of the participants: who takes part, and the forms to add or remove one."""
    plan, roles = selectors.plan_get_for_user(request.user, code, role=selectors.HOLDER)
    return _participants_page(request, plan, roles)


@login_required
@require_POST
def participant_add_service(request, code):
    plan, roles = selectors.plan_get_for_user(request.user, code, role=selectors.HOLDER)
    form = pforms.ParticipantServiceForm(request.POST, prefix="service", services=selectors.services_to_add(plan))
    if form_apply(request, form, lambda: svc.participant_add(user=request.user, plan=plan, role="service",
                                                             service=form.cleaned_data["service"]),
                  success=gettext_lazy("The service takes part in the plan now; it has been shared on the person's consent.")):
        return redirect("individual_plans:participants", plan.code)
    return _participants_page(request, plan, roles, service_form=form)


@login_required
@require_POST
def participant_add_guardian(request, code):
    plan, roles = selectors.plan_get_for_user(request.user, code, role=selectors.HOLDER)
    form = pforms.ParticipantGuardianForm(request.POST, prefix="guardian", guardians=selectors.offer_guardians(plan.offer),
                                          service=roles[selectors.HOLDER])
    if form_apply(request, form, lambda: svc.participant_add(user=request.user, plan=plan, role="guardian", person=form.cleaned_data["guardian"],
                                                relation=form.cleaned_data["relation"]),
                  success=gettext_lazy("The guardian takes part in the plan now.")):
        return redirect("individual_plans:participants", plan.code)
    return _participants_page(request, plan, roles, guardian_form=form)


@login_required
@require_POST
def participant_add_next_of_kin(request, code):
    plan, roles = selectors.plan_get_for_user(request.user, code, role=selectors.HOLDER)
    form = pforms.ParticipantNextOfKinForm(request.POST, prefix="kin")
    if form_apply(request, form, lambda: svc.participant_register_next_of_kin(user=request.user, plan=plan, identity=form.identity(),
                                                                             relation=form.cleaned_data["relation"]),
                  success=gettext_lazy("The next of kin takes part in the plan now.")):
        return redirect("individual_plans:participants", plan.code)
    return _participants_page(request, plan, roles, kin_form=form)


@login_required
@require_POST
def participant_remove(request, code, participant):
    plan, roles = selectors.plan_get_for_user(request.user, code, role=selectors.HOLDER)
    found = selectors.participant_get(plan, participant)
    try:
        svc.participant_remove(user=request.user, plan=plan, participant=found)
    except ValidationError as e:
        return _participants_page(request, plan, roles, remove_error=" ".join(e.messages))
    messages.success(request, gettext_lazy("The participant no longer takes part in the plan."))
    return redirect("individual_plans:participants", plan.code)


@login_required
def measure_add(request, code):
    plan, roles = selectors.plan_get_for_user(request.user, code, role=selectors.HOLDER)
    form = pforms.MeasureForm(request.POST or None, services=selectors.participating_services(plan), initial={"starts_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            svc.measure_add(user=request.user, plan=plan, **form.cleaned_data)
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext_lazy("The measure has been added to the plan."))
            return redirect("individual_plans:detail", plan.code)
    _log_form_read(request, plan, roles[selectors.HOLDER])
    return _render_form(request, "measure_form.html", {"plan": plan, "form": form, "measure": None}, invalid=request.method == "POST")


@login_required
def measure_edit(request, code):
    """The holder, or the measure's responsible service, changes the measure (its status and dates)."""
    measure, service = selectors.measure_get_for_editor(request.user, code)
    plan = measure.plan
    initial = {f: getattr(measure, f) for f in ("description", "starts_on", "evaluate_on", "status")}
    form = pforms.MeasureForm(request.POST or None, services=selectors.participating_services(plan), initial={**initial, "responsible_service": measure.responsible_service_id})
    if request.method == "POST" and form.is_valid():
        try:
            svc.measure_update(user=request.user, measure=measure, **form.cleaned_data)
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext_lazy("The measure has been saved."))
            return redirect("individual_plans:detail", plan.code)
    _log_form_read(request, plan, service)
    return _render_form(request, "measure_form.html", {"plan": plan, "form": form, "measure": measure}, invalid=request.method == "POST")


@login_required
@require_POST
def koordinator_set(request, code):
    plan, roles = selectors.plan_get_for_user(request.user, code, role=selectors.HOLDER)
    form = pforms.KoordinatorForm(request.POST, prefix="koordinator", service=roles[selectors.HOLDER])
    if form_apply(request, form, lambda: svc.koordinator_set(user=request.user, plan=plan, koordinator=form.cleaned_data["koordinator"]),
                  success=gettext_lazy("The koordinator has been saved.")):
        return redirect("individual_plans:detail", plan.code)
    plan, roles = selectors.plan_read(request.user, code)
    return render(request, "individual_plan/detail.html", _context(request, plan, roles, koordinator_form=form), status=422)


@login_required
@require_POST
def handover_cancel(request, code):
    """The holder withdraws its open proposal (its task is cancelled)."""
    handover = selectors.handover_get_for_user(request.user, code)
    plan, roles = selectors.plan_get_for_user(request.user, handover.plan.code, role=selectors.HOLDER)
    try:
        svc.handover_cancel(user=request.user, handover=handover)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        plan, roles = selectors.plan_read(request.user, plan.code)
        return render(request, "individual_plan/detail.html", _context(request, plan, roles), status=422)
    messages.success(request, gettext_lazy("The hand-over has been cancelled; your service keeps the main responsibility."))
    return redirect("individual_plans:detail", plan.code)


# --- the offer ---------------------------------------------------------------------------------------


def _offer_services(user):
    """The user's services that may offer a plan (every kind that takes part in plans)."""
    return user_services(user).exclude(kind__in=selectors.NOT_IN_PLANS)


@login_required
def offer_list(request):
    """The offers of the user's services waiting for a step (an answer, or the plan of an accepted
    one), oldest first, with the answer's deadline where a clock runs; the persons named by the
    offering service's record, logged as a list read."""
    page = selectors.offers_waiting(request.user, cursor=request.GET.get("side"))
    list_persons_show(request.user, page.rows, naming=selectors.offer_naming, purpose="individual plan offer list")
    return render(request, "individual_plan/offers.html", {
        "offers": page.rows, "next": _page_query(request, page.next_cursor), "previous": _page_query(request, page.previous_cursor),
        "can_offer": _offer_services(request.user).exists(),
    })


@login_required
@submission.once
def offer_register(request):
    form = pforms.OfferRegisterForm(request.POST or None, user=request.user)
    if not form.fields["service"].queryset.exists():
        raise Http404
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with submission.claim(form) as sent:
                offer = svc.offer_register_person(user=request.user, service=d["service"], identity=form.identity(), guardians=form.guardians(),
                                                  reason=d["reason"], offered_on=d["offered_on"])
                sent.leads_to(reverse("individual_plans:offer", args=[offer.code]))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext_lazy("The offer has been registered. Record the person's answer when it comes."))
            return redirect("individual_plans:offer", offer.code)
    return render(request, "individual_plan/offer_register.html", {"form": form}, status=422 if request.method == "POST" else 200)


def _offer_page(request, offer, *, answer_form=None, koordinator_form=None):
    """The offer's page (its read logged): the person, why, the answer and who gave it, the age
    rule that decides who answers, the answer's deadline if a clock runs; the form of its next step."""
    access_log_write(user=request.user, action="view", obj=offer, person=offer.person, purpose="individual plan offer page",
                     service=offer.offered_by_service)
    today = timezone.localdate()
    consenter = rules.answer_consenter(offer.person, today)
    plan = IndividualPlan.objects.filter(offer=offer).only("code").first()
    ctx = {
        "offer": offer, "plan": plan, "person_name": person_name_for(offer.person, offer.offered_by_service) or "–",
        "consenter": AgeRule.Consenter(consenter).label if consenter else None,
        "due_at": selectors.offer_deadlines([offer]).get(offer.pk) if not offer.answer else None,
        # Named as the offering service registered them (a few: no query per row worth saving).
        "answered_by_guardians": [guardian_label(g, offer.offered_by_service, n) for n, g in
                                  enumerate(offer.answered_by_guardians.order_by("pk"), start=1)] if offer.answer else [],
    }
    if not offer.answer:
        ctx["answer_form"] = answer_form or pforms.OfferAnswerForm(
            prefix="answer", guardians=selectors.offer_guardians(offer), service=offer.offered_by_service)
    elif offer.answer == PlanOffer.Answer.COORDINATOR_ONLY:
        ctx["koordinator_form"] = koordinator_form or pforms.OfferKoordinatorForm(
            prefix="koordinator", services=_offer_services(request.user),
            initial={"koordinator_service": offer.koordinator_service_id or offer.offered_by_service_id, "koordinator": offer.koordinator_id})
    elif offer.answer == PlanOffer.Answer.ACCEPTED and plan is None:
        ctx["plan_create_url"] = reverse("individual_plans:plan_create", args=[offer.code])
    return render(request, "individual_plan/offer.html", ctx, status=422 if (answer_form or koordinator_form) else 200)


@login_required
def offer_detail(request, code):
    return _offer_page(request, selectors.offer_get_for_user(request.user, code))


@login_required
@require_POST
def offer_answer(request, code):
    offer = selectors.offer_get_for_user(request.user, code)
    form = pforms.OfferAnswerForm(request.POST, prefix="answer", guardians=selectors.offer_guardians(offer), service=offer.offered_by_service)
    if form.is_valid():
        d = form.cleaned_data
        try:
            svc.offer_answer(user=request.user, offer=offer, answer=d["answer"], answered_on=d["answered_on"], by_person=d["by_person"],
                             guardians=list(d["guardians"]))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext_lazy("The answer has been recorded."))
            return redirect("individual_plans:offer", offer.code)
    offer.refresh_from_db()
    return _offer_page(request, offer, answer_form=form)


@login_required
@require_POST
def offer_koordinator(request, code):
    offer = selectors.offer_get_for_user(request.user, code)
    form = pforms.OfferKoordinatorForm(request.POST, prefix="koordinator", services=_offer_services(request.user))
    if form_apply(request, form, lambda: svc.offer_koordinator_set(user=request.user, offer=offer, service=form.cleaned_data["koordinator_service"],
                                                      koordinator=form.cleaned_data["koordinator"]),
                  success=gettext_lazy("The koordinator has been saved.")):
        return redirect("individual_plans:offer", offer.code)
    offer.refresh_from_db()
    return _offer_page(request, offer, koordinator_form=form)


@login_required
@submission.once
def plan_create(request, code):
    """Make the plan of an accepted offer, held by the offering service, on the person's consent.
    Without a consent in force the page says so and links to recording one."""
    offer = selectors.offer_get_for_user(request.user, code)
    existing = IndividualPlan.objects.filter(offer=offer).only("code").first()
    if existing is not None:
        return redirect("individual_plans:detail", existing.code)
    if offer.answer != PlanOffer.Answer.ACCEPTED:
        raise Http404
    service = offer.offered_by_service
    consents = selectors.plan_consents(offer, service)
    form = pforms.PlanCreateForm(request.POST or None, consents=consents, service=service, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with submission.claim(form) as sent:
                plan = svc.plan_create(user=request.user, service=service, offer=offer, consent=d["consent"], koordinator=d["koordinator"],
                                       **{f: d[f] for f in svc.CONTENT_FIELDS})
                sent.leads_to(reverse("individual_plans:detail", args=[plan.code]))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext_lazy("The individual plan has been made. Add the participating services and the measures."))
            return redirect("individual_plans:detail", plan.code)
    access_log_write(user=request.user, action="view", obj=offer, person=offer.person, purpose="individual plan offer page", service=service)
    return render(request, "individual_plan/plan_create.html", {
        "offer": offer, "form": form, "has_consent": bool(consents), "person_name": person_name_for(offer.person, service) or "–",
        "consent_create_url": reverse("consent:create", args=[offer.person.code]),
    }, status=422 if request.method == "POST" else 200)


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
                                        person_name=selectors.plan_person_name(self.plan),
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


def group_context(plan, roles, named=None) -> dict:
    """The plan page's ansvarsgruppe section: the members and the upcoming and past meetings."""
    upcoming, past = selectors.plan_meetings(plan)
    return {"group_members": selectors.group_members(plan, named), "meetings_upcoming": upcoming, "meetings_past": past,
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
    named = selectors.participants_named(plan)
    labels = {m["key"]: m["label"] for m in selectors.group_members(plan, named)}
    for row in attendance:
        row.label = labels.get(str(row.participant.code) if row.participant_id else selectors.PERSON_MEMBER) or (
            row.participant.service.name if row.participant_id and row.participant.service_id else "–")
    return {
        "plan": plan, "meeting": meeting, "roles": roles,
        "holder": selectors.current_holder(plan), "person_name": named.person,
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
