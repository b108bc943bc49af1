"""The BrukerPlan pages: thin (access helper → selector or service → render or redirect).

Who sees what (selectors' module docstring): the coordinating service sets a round up, opens and
closes it and follows the completion per service (counts only, never a person: every mapping URL
answers it 404); a participating service's members see their own service's worklist and mappings
(every read logged), and mark their mapping done. Everyone else gets 404 on every round URL, as
for a round that does not exist. An invalid form is shown again with the service's translated
errors on its fields (status 422), and nothing is saved.
"""
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.services import access_log_list_read
from org.access import member_facts
from org.ui import apply_errors
from people.selectors import record_name
from referrals.models import BrukerPlanMapping, BrukerPlanRound
from workflows.brukerplan import selectors
from workflows.brukerplan import forms as bforms
from workflows.brukerplan import services as svc

COORDINATOR = selectors.COORDINATOR


# --- the rounds ---------------------------------------------------------------------------------


@login_required
def round_list(request):
    """The rounds the user's services coordinate or take part in, their worklists, and the reports of
    their municipality (for every member of it: the report is shared municipality-wide). The "new
    round" button for a leader of a service only (services.round_create)."""
    return render(request, "brukerplan/round_list.html", {
        "rounds": selectors.rounds_for_user(request.user)[:50],
        "worklists": selectors.rounds_taken_part_in(request.user)[:50],
        "reports": selectors.reports_for_user(request.user),
        "may_set_up": bool(member_facts(request.user).leader_service_ids),
    })


@login_required
def round_create(request):
    """Set a round up (status draft) for one of the user's services; refused fields shown on the form."""
    choices = selectors.round_setup_choices(request.user)
    form = bforms.RoundCreateForm(request.POST or None, **choices)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            round_ = svc.round_create(
                user=request.user, coordinator_service=d["coordinator_service"], title=d["title"], period_start=d["period_start"],
                period_end=d["period_end"], reference_date=d["reference_date"], deadline=d["deadline"], age_threshold=d["age_threshold"],
                services=list(d["services"]), previous_round=d["previous_round"],
            )
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext_lazy("The round has been set up. Check it, then open it for mapping."))
            return redirect("brukerplan:round", round_.code)
    return render(request, "brukerplan/round_new.html", {"form": form}, status=422 if request.method == "POST" else 200)


def _round_page(request, round_, roles, *, error=None, status=200):
    coordinating = COORDINATOR in roles
    ctx = {
        "round": round_, "roles": roles, "coordinating": coordinating, "error": error,
        "services": [p.service for p in round_.participations.select_related("service").order_by("service__name", "pk")],
        "scales": selectors.round_scales(round_),
        "completion": selectors.completion_with_schedule(round_) if coordinating else None,
        "participation": selectors.participation_for_user(request.user, round_),
        "report": selectors.round_report(round_),
    }
    return render(request, "brukerplan/round_detail.html", ctx, status=status)


@login_required
def round_detail(request, code):
    """A round: its settings and scales; for the coordinating service the completion per service
    (counts only) and the open and close buttons; for a participating service a link to its worklist.
    Http404 for everyone without a role on it."""
    round_, roles = selectors.round_get_for_user(request.user, code)
    return _round_page(request, round_, roles)


def _round_change(request, code, action, success):
    round_, roles = selectors.round_get_for_user(request.user, code, role=COORDINATOR)
    try:
        action(round_)
    except ValidationError as e:
        round_.refresh_from_db()
        return _round_page(request, round_, roles, error=e, status=422)
    messages.success(request, success)
    return redirect("brukerplan:round", round_.code)


@login_required
@require_POST
def round_open(request, code):
    return _round_change(request, code, lambda r: svc.round_open(user=request.user, round=r),
                         gettext_lazy("The round is open: the participating services can map their users."))


@login_required
@require_POST
def round_close(request, code):
    """Close the open round, once the coordinator has ticked the confirmation (no mapping can be
    made or changed after it)."""
    if request.POST.get("confirm") != "yes":
        round_, roles = selectors.round_get_for_user(request.user, code, role=COORDINATOR)
        return _round_page(request, round_, roles, status=422,
                           error=ValidationError(gettext_lazy("Tick the box to confirm that the round is to be closed.")))
    return _round_change(request, code, lambda r: svc.round_close(user=request.user, round=r),
                         gettext_lazy("The round is closed. Its report is being computed."))


# --- the worklist -------------------------------------------------------------------------------


def _page_query(cursor):
    return "?" + urlencode({"side": cursor}) if cursor else None


def _worklist_page(request, round_, participation, *, error=None, error_person=None, status=200):
    service = participation.service
    rows, following = selectors.worklist_page(round_, service, request.GET.get("side"))
    for row in rows:
        row.name_here = record_name(row, "")
    # The names shown are a list read of the service's own records.
    access_log_list_read(user=request.user, shown=[(participation, row.pk, service.pk) for row in rows], purpose=selectors.READ_WORKLIST)
    return render(request, "brukerplan/worklist.html", {
        "round": round_, "participation": participation, "service": service, "rows": rows, "next": _page_query(following),
        "first": bool(request.GET.get("side")), "open": round_.status == BrukerPlanRound.Status.OPEN, "error": error,
        "error_person": error_person, "assessments": bforms.ScopeMarkForm.base_fields["assessment"].choices,
    }, status=status)


@login_required
def worklist(request, code, service):
    """The service's worklist for the round: its cohort, named by the service's own records, each
    with its assessment and mapping status, 25 a page (every name shown logged as a list read)."""
    round_, participation = selectors.worklist_get_for_user(request.user, code, service)
    return _worklist_page(request, round_, participation)


@login_required
@require_POST
def scope_mark(request, code, service):
    """Mark one worklist row in or out of scope; the person is named by their code in the form."""
    round_, participation = selectors.worklist_get_for_user(request.user, code, service)
    form = bforms.ScopeMarkForm(request.POST)
    error = None
    if "assessment" in form.errors:  # a value the list does not offer (a forged or outdated form)
        error = ValidationError(gettext_lazy("Choose one of the assessments in the list."), code="invalid_assessment")
    elif not form.is_valid():
        error = ValidationError(gettext_lazy("This person is not on your service's list for this round."))
    elif not form.cleaned_data["assessment"]:
        error = ValidationError(gettext_lazy("Choose an assessment."))
    else:
        try:
            mapping = svc.mapping_scope_mark(user=request.user, round=round_, service=participation.service,
                                             person_code=form.cleaned_data["person"], in_scope=form.in_scope(), reason=form.reason(),
                                             version=form.cleaned_data["version"])
        except ValidationError as e:
            error = e
        else:
            if mapping.status == BrukerPlanMapping.Status.IN_SCOPE:
                messages.success(request, gettext_lazy("Marked in scope. Map the person now or later."))
                return redirect("brukerplan:mapping", mapping.code)
            messages.success(request, gettext_lazy("The assessment has been saved."))
            return redirect(reverse("brukerplan:worklist", args=[round_.code, participation.service.code]) + (_page_query(request.GET.get("side")) or ""))
    return _worklist_page(request, round_, participation, error=error, error_person=request.POST.get("person"), status=422)


@login_required
@require_POST
def service_complete(request, code, service):
    """The service marks its mapping in the round done; a refusal (someone in scope not mapped yet) is shown."""
    round_, participation = selectors.worklist_get_for_user(request.user, code, service)
    try:
        svc.service_complete(user=request.user, round=round_, service=participation.service)
    except ValidationError as e:
        return _worklist_page(request, round_, participation, error=e, status=422)
    messages.success(request, gettext_lazy("Your service's mapping is marked done. Thank you."))
    return redirect("brukerplan:worklist", round_.code, participation.service.code)


# --- the mapping --------------------------------------------------------------------------------


def _mapping_form(mapping, data=None):
    plan = selectors.plan_status_for(mapping.service, mapping.person)
    return bforms.MappingForm(data, scales=selectors.round_scales(mapping.round), plan=plan, initial=bforms.mapping_initial(mapping, plan))


def _mapping_page(request, mapping, form, *, status=200, error=None):
    return render(request, "brukerplan/mapping.html", {
        "mapping": mapping, "round": mapping.round, "form": form, "error": error, "name_here": selectors.mapping_name_here(mapping),
        **selectors.mapping_page_state(mapping),
    }, status=status)


@login_required
def mapping_detail(request, code):
    """The mapping's page and form, for the mapping service's members only (the read logged);
    Http404 for everyone else, the round's coordinator included. A form from an older version is refused."""
    mapping = selectors.mapping_read(request.user, code)
    form = _mapping_form(mapping, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = svc.mapping_save(user=request.user, mapping=mapping, **form.values())
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext_lazy("The mapping has been saved."))
            if saved.has_children:
                messages.info(request, gettext_lazy("The person cares for children under 18: a follow-up of the children as next of kin "
                                                    "has been added to your service's tasks."))
            return redirect("brukerplan:mapping", saved.code)
    return _mapping_page(request, mapping, form, status=422 if request.method == "POST" else 200)


@login_required
@require_POST
def children_done(request, code):
    """The mapping service has followed the person's children up as next of kin."""
    mapping = selectors.mapping_get_for_user(request.user, code)
    try:
        svc.children_follow_up_done(user=request.user, mapping=mapping)
    except ValidationError as e:
        mapping = selectors.mapping_read(request.user, code)
        return _mapping_page(request, mapping, _mapping_form(mapping), status=422, error=e)
    messages.success(request, gettext_lazy("The follow-up of the children is recorded as done."))
    return redirect("brukerplan:mapping", mapping.code)
