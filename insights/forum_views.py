"""The forums' pages: the user's forums, a forum (members, meetings to come, past meetings and
whether their minutes are written), a new forum, its members, scheduling, and a meeting (agenda,
minutes). Every page fetches through forum_selectors' access helpers (404 for missing and
forbidden alike); every change is a POST to a view of its own, which calls one service and
redirects, or shows the form again with the service's translated refusal (422), having saved nothing.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from insights import forum_forms as ff
from insights import forum_selectors as sel
from insights import forums as svc
from org.models import Municipality, Service
from org.ui import apply_errors


def _on_fields(error: ValidationError, names: dict) -> ValidationError:
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError({names.get(field, field): errs for field, errs in error.error_dict.items()})


# --- the list and a new forum ----------------------------------------------------------------------


@login_required
@require_GET
def forum_list(request):
    """The forums the user runs or takes part in; 404 for a user with none who may not start one."""
    forums = list(sel.forums_for_user(request.user))
    owners = sel.owner_services(request.user)
    if not forums and not owners:
        raise Http404
    return render(request, "insights/forums/list.html", {"forums": forums, "may_create": bool(owners)})


def _forum_form(request, data=None):
    owners = sel.owner_services(request.user)
    if not owners:
        raise Http404
    municipality_ids = set().union(*(sel.owner_municipality_ids(owner) for owner in owners))
    return ff.ForumForm(
        data, owners=owners, municipalities=Municipality.objects.filter(pk__in=municipality_ids).order_by("name", "pk"),
        candidates=Service.objects.filter(active=True, municipality_id__in=municipality_ids).exclude(
            pk__in=[o.pk for o in owners]).order_by("name", "pk"),
        initial={"municipality": owners[0].municipality_id},
    )


@login_required
@require_GET
def forum_new(request):
    return render(request, "insights/forums/new.html", {"form": _forum_form(request)})


@login_required
@require_POST
def forum_create(request):
    form = _forum_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            forum = svc.forum_create(user=request.user, owner=data["owner"], municipality=data["municipality"], kind=data["kind"],
                                     name=data["name"], recurrence=data["recurrence"], every_weeks=data["every_weeks"],
                                     members=list(data["members"]))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext("The forum has been created."))
            return redirect("insights:forum", forum.code)
    return render(request, "insights/forums/new.html", {"form": form}, status=422)


# --- a forum and its members -----------------------------------------------------------------------


@login_required
@require_GET
def forum_detail(request, code):
    forum = sel.forum_get_for_user(request.user, code)
    upcoming, past = sel.forum_meetings(forum)
    return render(request, "insights/forums/detail.html", {
        "forum": forum, "runs": sel.forum_runs(request.user, forum), "members": sel.forum_members(forum),
        "upcoming": upcoming, "past": past[:sel.PAST_SHOWN], "past_more": len(past) > sel.PAST_SHOWN,
    })


def _members_page(request, forum, *, add_form=None, status=200):
    candidates = sel.member_candidates(forum)
    return render(request, "insights/forums/members.html", {
        "forum": forum, "members": sel.forum_members(forum), "add_form": add_form or ff.MemberAddForm(candidates=candidates),
    }, status=status)


@login_required
@require_GET
def forum_members(request, code):
    return _members_page(request, sel.forum_get_for_user(request.user, code, run=True))


@login_required
@require_POST
def forum_member_add(request, code):
    forum = sel.forum_get_for_user(request.user, code, run=True)
    form = ff.MemberAddForm(request.POST, candidates=sel.member_candidates(forum))
    if form.is_valid():
        try:
            svc.forum_member_add(user=request.user, forum=forum, service=form.cleaned_data["service"])
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext("The service has been added to the forum."))
            return redirect("insights:forum_members", forum.code)
    return _members_page(request, forum, add_form=form, status=422)


@login_required
@require_POST
def forum_member_remove(request, code):
    forum = sel.forum_get_for_user(request.user, code, run=True)
    form = ff.MemberRemoveForm(request.POST)
    service = Service.objects.filter(code=form.cleaned_data["service"]).first() if form.is_valid() else None
    try:
        if service is None:
            raise ValidationError(gettext("This service is not a member of the forum."))
        svc.forum_member_remove(user=request.user, forum=forum, service=service)
    except ValidationError as e:
        for message in e.messages:
            messages.error(request, message)
    else:
        messages.success(request, gettext("The service has been removed from the forum."))
    return redirect("insights:forum_members", forum.code)


# --- scheduling ------------------------------------------------------------------------------------


@login_required
@require_GET
def meetings_new(request, code):
    forum = sel.forum_get_for_user(request.user, code, run=True)
    return render(request, "insights/forums/schedule.html", {"forum": forum, "form": ff.ScheduleForm()})


@login_required
@require_POST
def meetings_create(request, code):
    forum = sel.forum_get_for_user(request.user, code, run=True)
    form = ff.ScheduleForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            made = svc.meetings_schedule(user=request.user, forum=forum, starts_at=form.at(data["starts"]), ends_at=form.at(data["ends"]),
                                         place=data["place"], until=data["until"])
        except ValidationError as e:
            apply_errors(form, _on_fields(e, {"starts_at": "day", "ends_at": "ends"}))
        else:
            messages.success(request, gettext("The meeting has been scheduled.") if len(made) == 1
                             else gettext("%(count)s meetings have been scheduled.") % {"count": len(made)})
            return redirect("insights:forum", forum.code)
    return render(request, "insights/forums/schedule.html", {"forum": forum, "form": form}, status=422)


# --- a meeting -------------------------------------------------------------------------------------


def _meeting_page(request, meeting, *, agenda_form=None, minutes_form=None, status=200):
    runs = sel.forum_runs(request.user, meeting.forum)
    initial = {"sequence": meeting.sequence}
    return render(request, "insights/forums/meeting.html", {
        "forum": meeting.forum, "meeting": meeting, "runs": runs, "agenda": sel.meeting_agenda(meeting),
        "minutes": getattr(meeting, "minutes", None) if meeting.status == meeting.Status.HELD else None,
        "agenda_form": agenda_form or ff.AgendaItemForm(initial=initial),
        "minutes_form": minutes_form or ff.MinutesForm(initial=initial),
        "started": meeting.has_started,
    }, status=status)


@login_required
@require_GET
def forum_meeting(request, code):
    return _meeting_page(request, sel.meeting_get_for_user(request.user, code))


@login_required
@require_POST
def agenda_item_add(request, code):
    meeting = sel.meeting_get_for_user(request.user, code, run=True)
    form = ff.AgendaItemForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            svc.agenda_item_add(user=request.user, meeting=meeting, title=data["title"], text=data["text"], sequence=data["sequence"])
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext("The item has been added to the agenda."))
            return redirect("insights:forum_meeting", meeting.code)
    return _meeting_page(request, sel.meeting_get_for_user(request.user, code, run=True), agenda_form=form, status=422)


def _sequence_action(request, code, form_class, action, success):
    """A meeting's change with no fields to show again: done, or refused with its message."""
    meeting = sel.meeting_get_for_user(request.user, code, run=True)
    form = form_class(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(gettext("The meeting was changed while you had this page open. Reload the page and try again."))
        action(meeting, form.cleaned_data)
    except ValidationError as e:
        for message in e.messages:
            messages.error(request, message)
    else:
        messages.success(request, success)
    return redirect("insights:forum_meeting", meeting.code)


@login_required
@require_POST
def agenda_item_remove(request, code):
    return _sequence_action(request, code, ff.AgendaItemRemoveForm, lambda meeting, data: svc.agenda_item_remove(
        user=request.user, meeting=meeting, item_id=data["item"], sequence=data["sequence"]),
        gettext("The item has been taken off the agenda."))


@login_required
@require_POST
def meeting_cancel(request, code):
    return _sequence_action(request, code, ff.SequenceForm, lambda meeting, data: svc.meeting_cancel(
        user=request.user, meeting=meeting, sequence=data["sequence"]), gettext("The meeting has been cancelled."))


@login_required
@require_POST
def minutes_record(request, code):
    meeting = sel.meeting_get_for_user(request.user, code, run=True)
    form = ff.MinutesForm(request.POST)
    if form.is_valid():
        try:
            svc.minutes_record(user=request.user, meeting=meeting, text=form.cleaned_data["text"], sequence=form.cleaned_data["sequence"])
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext("The minutes have been saved."))
            return redirect("insights:forum_meeting", meeting.code)
    return _meeting_page(request, sel.meeting_get_for_user(request.user, code, run=True), minutes_form=form, status=422)

