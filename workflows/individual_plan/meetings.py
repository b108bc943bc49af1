"""The ansvarsgruppe of an individual plan: its meetings, their minutes and decisions (issue 9, point 5).

The group's members are the plan's live participants and the person (referrals.models explains why
there is no member list of its own). Only the holder of the main responsibility schedules, cancels
and writes minutes; every member service reads (selectors.meeting_get_for_user).

Every write takes the plan's row lock first (services.plan_lock_for_holder, the lock every write
of the plan takes), then the meeting's row, and writes the access log. A meeting's reminders are
rows written in the transaction that schedules it, timed by the policy rows of the individual plan
("meeting": the members' services two days before; "minutes": the holder's staff, then its leaders
when the minutes are not written two working days after the meeting), and cancelled by the
transaction that cancels the meeting or records its minutes, or pauses the plan. A decision becomes
a measure of the plan through services.measure_add, under its rules (and its PlanVersion row: the
measures are the plan content a meeting changes; a meeting, its attendance and minutes are the
group's records, not the plan's content, and bump no version); one decision refused refuses the
whole minutes, and nothing is saved.

The reminders follow the plan (meeting_reminders_refresh, called by services.py in the same
transaction): a service added to the plan is reminded of the meetings to come, a removed one no
longer; the minutes' reminder and escalation pass to the new holder with the main responsibility;
a plan resumed reminds again of its meetings to come and its minutes still owed.
"""
import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.services import access_log_write
from notifications.models import Reminder
from notifications.services import reminder_cancel, reminder_row, reminders_restore, reminders_schedule, system_text
from org.permissions import INDIVIDUAL_PLAN_PARTICIPANT
from people.validators import LONG_TEXT, text_limits
from referrals.models import (IndividualPlan, PlanMeeting, PlanMeetingAttendance, PlanMeetingDecision, PlanMeetingMinutes,
                              PlanMeetingSeries, PlanParticipant)
from workflows.individual_plan import services as svc
from workflows.individual_plan.selectors import group_members
from workflows.services.deadlines import policies_get

PROCESS = "individual_plan"
M = PlanMeeting.Status
MAX_MEETING_HOURS = 12
MAX_EVERY_WEEKS = 26
MAX_SERIES_MEETINGS = 26
DECISION_FIELDS = {"description": "text", "responsible_service": "responsible_service", "starts_on": "starts_on", "evaluate_on": "evaluate_on"}
DIGEST_TOPIC = gettext_noop("Minutes of an ansvarsgruppe meeting")


def meeting_url(meeting: PlanMeeting) -> str:
    return reverse("individual_plans:meeting", args=[meeting.code])


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")


def _obligations(meeting: PlanMeeting) -> dict[str, str]:
    base = f"{PROCESS}:meeting:{meeting.pk}"
    return {"meeting": base, "minutes": f"{PROCESS}:minutes:{meeting.pk}", "digest": f"{base}:digest"}


def _errors():
    errors: dict[str, list] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    return errors, add


# --- scheduling ------------------------------------------------------------------------------------


def _times_errors(plan, *, starts_at, ends_at, place, add) -> None:
    if not (place or "").strip():
        add("place", _("Say where the meeting is held."))
    if starts_at is None:
        add("starts_at", _("Give the meeting's date and start time."))
        return
    if starts_at < timezone.now():
        add("starts_at", _("The meeting cannot start in the past."))
    day = timezone.localtime(starts_at).date()
    if day < plan.period_start or (plan.period_end is not None and day > plan.period_end):
        add("starts_at", _("The meeting must lie within the plan period."))
    if ends_at is None or ends_at <= starts_at:
        add("ends_at", _("The meeting must end after it starts."))
    elif ends_at - starts_at > datetime.timedelta(hours=MAX_MEETING_HOURS):
        add("ends_at", _("A meeting lasts at most %(hours)s hours.") % {"hours": MAX_MEETING_HOURS})


def series_times(starts_at, ends_at, *, every_weeks: int, until: datetime.date) -> list[tuple]:
    """(start, end) of every meeting of a series: every ``every_weeks`` weeks at the first meeting's
    wall-clock time in the local time zone (a summer-time change keeps 13:00 at 13:00), the last on
    or before ``until``. Pure; at most MAX_SERIES_MEETINGS + 1 (the caller refuses more)."""
    zone = timezone.get_current_timezone()
    first = timezone.localtime(starts_at).replace(tzinfo=None)
    length = ends_at - starts_at
    times = []
    while len(times) <= MAX_SERIES_MEETINGS:
        local = first + datetime.timedelta(weeks=every_weeks * len(times))
        if local.date() > until:
            break
        start = timezone.make_aware(local, zone)
        times.append((start, start + length))
    return times


@transaction.atomic
def meeting_schedule(*, user, plan: IndividualPlan, starts_at: datetime.datetime, ends_at: datetime.datetime, place: str,
                     every_weeks: int | None = None, until: datetime.date | None = None) -> list[PlanMeeting]:
    """Schedule a meeting of the plan's ansvarsgruppe, by the holder: one, or with ``every_weeks`` a
    series every that many weeks up to ``until`` (default: the plan period's end; at most
    MAX_SERIES_MEETINGS meetings). Each meeting gets its reminder rows. Refused (a translated
    ValidationError by field, nothing saved) for a start in the past or outside the plan period,
    an end not after the start or more than MAX_MEETING_HOURS later, no place, an interval outside
    1..MAX_EVERY_WEEKS, a series' end before its first meeting or after the plan period, or a
    series too long. Returns the meetings, earliest first."""
    plan, holder = svc.plan_lock_for_holder(user=user, plan=plan)
    errors, add = _errors()
    _times_errors(plan, starts_at=starts_at, ends_at=ends_at, place=place, add=add)
    times = [(starts_at, ends_at)]
    if every_weeks is not None and not errors:
        until = until or plan.period_end
        first_day = timezone.localtime(starts_at).date()
        if not 1 <= every_weeks <= MAX_EVERY_WEEKS:
            add("every_weeks", _("Meetings repeat every 1 to %(max)s weeks.") % {"max": MAX_EVERY_WEEKS})
        elif until is None:
            add("until", _("Give the date of the series' last meeting."))
        elif until < first_day or (plan.period_end is not None and until > plan.period_end):
            add("until", _("The series must end within the plan period, on or after its first meeting."))
        else:
            times = series_times(starts_at, ends_at, every_weeks=every_weeks, until=until)
            if len(times) > MAX_SERIES_MEETINGS:
                add("until", _("A series holds at most %(max)s meetings: choose a longer interval or an earlier end.")
                    % {"max": MAX_SERIES_MEETINGS})
    if errors:
        raise ValidationError(errors)
    text_limits(place=(place, 200))
    series = None
    if every_weeks is not None:
        series = PlanMeetingSeries.objects.create(plan=plan, every_weeks=every_weeks, until=until, created_by=user)
    meetings = [PlanMeeting.objects.create(plan=plan, series=series, starts_at=start, ends_at=end, place=place.strip(), scheduled_by=user)
                for start, end in times]
    reminders_schedule(_reminder_rows(plan, meetings, holder.service))
    for meeting in meetings:
        access_log_write(user=user, action="create", obj=meeting, person=plan.person, purpose="ansvarsgruppe meeting scheduled",
                         service=holder.service)
    return meetings


def _reminder_rows(plan, meetings, holder_service) -> list[Reminder]:
    """The rows the open ``meetings`` of the plan should have now, unsaved: a reminder to each
    service taking part in the plan before each meeting not yet begun ("meeting" policy), and the
    minutes' reminder to ``holder_service``'s staff and escalation to its leaders ("minutes"
    policy). Each key names its service, so the rows of another service (one added, the holder
    after a hand-over) never collide with those it replaces. Texts name the plan's reference and
    the time only."""
    policies = policies_get(PROCESS, ("meeting", "minutes"))
    meeting_policy, minutes_policy = policies["meeting"], policies["minutes"]
    services = [p.service for p in PlanParticipant.objects.filter(plan=plan, service__isnull=False, removed_at__isnull=True)
                .select_related("service").order_by("pk")]
    now = timezone.now()
    rows = []
    for meeting in meetings:
        obligations, url, when = _obligations(meeting), meeting_url(meeting), _when(meeting.starts_at)
        due = meeting_policy.due_from(meeting.starts_at)
        remind_at = meeting_policy.remind_at(due)
        if remind_at is not None and meeting.starts_at > now:
            text = system_text(gettext_noop("%(ref)s: ansvarsgruppe meeting on %(when)s"), ref=plan.reference, when=when)
            rows += [reminder_row(
                key=f"{obligations['meeting']}:remind:{service.pk}", obligation=obligations["meeting"], kind=Reminder.Kind.REMINDER,
                message=text, service=service, audience=meeting_policy.remind, subject=plan, required_perm=INDIVIDUAL_PLAN_PARTICIPANT,
                due_at=remind_at, url=url, topic=meeting_policy.title, deadline_at=due,
            ) for service in services]
        rows += _minutes_rows(plan, meeting, minutes_policy, holder_service)
    return rows


def _minutes_rows(plan, meeting, minutes_policy, holder_service) -> list[Reminder]:
    obligation, when = _obligations(meeting)["minutes"], _when(meeting.starts_at)
    due = minutes_policy.due_from(meeting.ends_at)
    common = dict(obligation=obligation, service=holder_service, subject=plan, required_perm=INDIVIDUAL_PLAN_PARTICIPANT,
                  url=meeting_url(meeting), topic=minutes_policy.title, deadline_at=due)
    rows = []
    remind_at = minutes_policy.remind_at(due)
    if remind_at is not None:
        rows.append(reminder_row(
            key=f"{obligation}:remind:{holder_service.pk}", kind=Reminder.Kind.REMINDER, audience=minutes_policy.remind, due_at=remind_at,
            message=system_text(gettext_noop("%(ref)s: write the minutes of the ansvarsgruppe meeting on %(when)s"),
                                ref=plan.reference, when=when), **common))
    if minutes_policy.escalate != minutes_policy.Escalate.NONE:
        rows.append(reminder_row(
            key=f"{obligation}:escalate:{holder_service.pk}", kind=Reminder.Kind.ESCALATION, audience=Reminder.Audience.LEADERS,
            due_at=due, message=system_text(gettext_noop("%(ref)s: the minutes of the ansvarsgruppe meeting on %(when)s are not written"),
                                            ref=plan.reference, when=when), **common))
    return rows


def meeting_reminders_refresh(plan: IndividualPlan) -> None:
    """Make the reminders of the plan's open meetings (planned: to come, or held with no minutes yet)
    what the plan is now: the meeting's reminder for each service taking part (none for a meeting
    begun), the minutes' reminder and escalation for the holder of the main responsibility, and
    none at all while the plan is not active. Unsent rows no longer owed are cancelled (a removed
    service's, the old holder's after a hand-over); missing ones are scheduled, and cancelled ones
    owed again revived (a plan resumed); a reminder already delivered is never sent again.
    Idempotent. Runs inside the caller's transaction, under the plan's lock (the writes of
    services.py that change the participants, the holder or the plan's status)."""
    meetings = list(PlanMeeting.objects.filter(plan=plan, status=M.PLANNED).order_by("pk"))
    if not meetings:
        return
    wanted = _reminder_rows(plan, meetings, svc.case_owner(plan)) if plan.status == IndividualPlan.Status.ACTIVE else []
    obligations = [_obligations(m)[name] for m in meetings for name in ("meeting", "minutes")]
    Reminder.objects.filter(obligation__in=obligations, sent_at__isnull=True, cancelled_at__isnull=True).exclude(
        key__in=[row.key for row in wanted]).update(cancelled_at=timezone.now())
    reminders_restore(wanted)


def _meeting_lock(plan, meeting) -> PlanMeeting:
    return PlanMeeting.objects.select_for_update(of=("self",)).get(pk=meeting.pk, plan=plan)


def _require_planned(meeting) -> None:
    if meeting.status != M.PLANNED:
        raise ValidationError(_("This meeting is “%(status)s”: it cannot be changed now.") % {"status": meeting.get_status_display()},
                              code="out_of_order")


def _require_fresh(meeting, sequence) -> None:
    if sequence is not None and sequence != meeting.sequence:
        raise ValidationError(_("The meeting was changed while you had this page open. Reload the page and try again."), code="stale")


@transaction.atomic
def meeting_cancel(*, user, meeting: PlanMeeting, sequence: int | None = None) -> PlanMeeting:
    """Cancel a planned meeting, by the holder: its iCalendar SEQUENCE is bumped (the invitation
    becomes a cancellation) and its reminders and escalation are cancelled. Refused for a meeting
    already held or cancelled, or (``sequence``) one changed since the page was shown."""
    plan, holder = svc.plan_lock_for_holder(user=user, plan=meeting.plan)
    meeting = _meeting_lock(plan, meeting)
    _require_fresh(meeting, sequence)
    _require_planned(meeting)
    meeting.status, meeting.cancelled_at, meeting.sequence = M.CANCELLED, timezone.now(), meeting.sequence + 1
    meeting.save(update_fields=["status", "cancelled_at", "sequence", "updated_at"])
    obligations = _obligations(meeting)
    reminder_cancel(obligation=obligations["meeting"])
    reminder_cancel(obligation=obligations["minutes"])
    access_log_write(user=user, action="update", obj=meeting, person=plan.person, purpose="ansvarsgruppe meeting cancelled",
                     service=holder.service)
    return meeting


def meeting_reminders_cancel_all(plan: IndividualPlan) -> None:
    """Cancel every unsent reminder, escalation and digest of the plan's meetings (the plan is
    paused: services.plans_pause_on_withdrawal, inside its transaction and the plan's lock)."""
    for meeting in PlanMeeting.objects.filter(plan=plan).only("pk"):
        for obligation in _obligations(meeting).values():
            reminder_cancel(obligation=obligation)


# --- minutes ---------------------------------------------------------------------------------------


def _decisions_add(user, plan, decisions, add) -> list[tuple[str, object]]:
    """Each decision as a measure of the plan through services.measure_add (its rules, its version,
    its log), each in its own savepoint; a refused one adds its errors under
    ``decisions-<n>-<field>`` (the minutes form's formset names) and creates nothing. Returns
    (text, measure) of those made; the caller's transaction undoes them if anything was refused."""
    made = []
    for n, decision in enumerate(decisions):
        text = (decision.get("text") or "").strip()
        try:
            measure = svc.measure_add(user=user, plan=plan, description=text, responsible_service=decision.get("responsible_service"),
                                      starts_on=decision.get("starts_on"), evaluate_on=decision.get("evaluate_on"))
        except ValidationError as refused:
            if hasattr(refused, "error_dict"):
                for field, messages in refused.message_dict.items():
                    for message in messages:
                        add(f"decisions-{n}-{DECISION_FIELDS.get(field, field)}", message)
            else:
                for message in refused.messages:
                    add(f"decisions-{n}", message)
            continue
        made.append((text, measure))
    return made


def _digest_rows(plan, meeting, absent: list[PlanParticipant], holder_service, made) -> list[Reminder]:
    """One notice per absent member service (not the holder, who wrote the minutes), keyed per
    meeting and member so it is delivered once: what was decided, counted, and a link; no text
    of the minutes and no one named."""
    obligation = _obligations(meeting)["digest"]
    rows = []
    for participant in absent:
        if participant.service_id is None or participant.service_id == holder_service.pk:
            continue
        yours = sum(1 for _text, measure in made if measure.responsible_service_id == participant.service_id)
        message = system_text(
            gettext_noop("%(ref)s: minutes of the ansvarsgruppe meeting on %(when)s, where your service was absent: "
                         "%(decisions)s decision(s), %(yours)s new measure(s) for your service."),
            ref=plan.reference, when=_when(meeting.starts_at), decisions=len(made), yours=yours)
        rows.append(reminder_row(
            key=f"{obligation}:{participant.pk}", obligation=obligation, kind=Reminder.Kind.INFO, message=message,
            service=participant.service, audience=Reminder.Audience.STAFF, subject=plan, required_perm=INDIVIDUAL_PLAN_PARTICIPANT,
            due_at=timezone.now(), url=meeting_url(meeting), topic=DIGEST_TOPIC,
        ))
    return rows


@transaction.atomic
def minutes_record(*, user, meeting: PlanMeeting, text: str, present, decisions=(), sequence: int | None = None) -> PlanMeetingMinutes:
    """Record a meeting as held, by the holder: the minutes' ``text``, who of the group was
    ``present`` (member keys: selectors.group_members; everyone else absent), and ``decisions``
    (dicts of text, responsible_service, starts_on, evaluate_on), each made a measure of the plan.
    The meeting's reminders and escalation are cancelled, and each absent member service gets a
    digest. Refused, with nothing saved, for a meeting not yet started, no longer planned, or
    changed since the page was shown (``sequence``), empty minutes, an unknown member, or any
    decision the measure's rules refuse (errors under ``decisions-<n>-<field>``)."""
    plan, holder = svc.plan_lock_for_holder(user=user, plan=meeting.plan)
    meeting = _meeting_lock(plan, meeting)
    _require_fresh(meeting, sequence)
    _require_planned(meeting)
    if meeting.starts_at > timezone.now():
        raise ValidationError(_("The minutes can be written once the meeting has started."), code="out_of_order")
    errors, add = _errors()
    if not (text or "").strip():
        add("text", _("Write the minutes of the meeting."))
    members = group_members(plan)
    present = {str(key) for key in present}
    if present - {m["key"] for m in members}:
        add("present", _("Choose among the members of the ansvarsgruppe."))
    made = _decisions_add(user, plan, list(decisions), add)
    if errors:
        raise ValidationError(errors)
    text_limits(text=(text, LONG_TEXT))
    minutes = PlanMeetingMinutes.objects.create(meeting=meeting, text=text.strip(), written_by=user)
    PlanMeetingAttendance.objects.bulk_create([
        PlanMeetingAttendance(meeting=meeting, participant=m["participant"], present=m["key"] in present) for m in members
    ])
    PlanMeetingDecision.objects.bulk_create([PlanMeetingDecision(meeting=meeting, text=t, measure=measure) for t, measure in made])
    meeting.status = M.HELD
    meeting.save(update_fields=["status", "updated_at"])
    obligations = _obligations(meeting)
    reminder_cancel(obligation=obligations["meeting"])
    reminder_cancel(obligation=obligations["minutes"])
    absent = [m["participant"] for m in members if m["participant"] is not None and m["key"] not in present]
    reminders_schedule(_digest_rows(plan, meeting, absent, holder.service, made))
    access_log_write(user=user, action="update", obj=meeting, person=plan.person, purpose="ansvarsgruppe minutes written",
                     service=holder.service, changes={"minutes": None, "decisions": [None, len(made)]})
    return minutes
