"""The writes of the SLT forums (issue 11, point 5): a forum and its member services, its meetings
scheduled by the forum's recurrence, their agendas and minutes, and their reminders.

Only the owner's staff (the SLT service that runs the forum) write; each write takes the forum's
row lock, then the meeting's, and is refused with a translated ValidationError (nothing saved)
for anyone else or for a forum or meeting in the wrong state. A meeting's forms carry its
``sequence``: a page left open while someone else changed the meeting is refused.

Reminders are rows (notifications), written in the transaction that schedules a meeting and timed
by the deadline-policy rows of the process "forums" (insights migration 0003_forums): "meeting"
reminds each live member service's staff before the meeting; "minutes" reminds the owner's staff
when the minutes are not written two working days after it (and escalates to the owner's leaders
if the policy is set to). Cancelling the meeting or recording its minutes cancels them; removing
a member cancels its reminders of meetings to come, and adding one schedules them. The sweep
re-checks at delivery that the service still holds the permission on the forum (FORUM_MEMBER,
FORUM_OWNER: org.permissions), which membership grants and removal revokes.

Agenda items and minutes are about themes or de-identified cases: text that looks like a
fødselsnummer or D-nummer is refused (``_identity_errors``).
"""
import datetime
import re

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from insights.forum_selectors import owner_municipality_ids
from insights.models import AgendaItem, Forum, ForumMeeting, ForumMember, ForumMinutes
from notifications.models import Reminder
from notifications.services import reminder_cancel, reminder_row, reminders_restore, reminders_schedule, system_text
from org.access import is_member
from org.models import Service
from org.permissions import FORUM_MEMBER, FORUM_OWNER, grant_to_service, revoke_from_service
from people.validators import LONG_TEXT, SHORT_TEXT, contains_national_id, text_limits
from workflows.services.deadlines import policies_get

PROCESS = "forums"
M = ForumMeeting.Status
R = Forum.Recurrence
MAX_MEETING_HOURS = 12
MAX_EVERY_WEEKS = 26
# A schedule reaches at most this far ahead and holds at most this many meetings: enough for two
# years of a monthly forum, and a typo in the end date cannot create hundreds of meetings.
MAX_SCHEDULE_DAYS = 2 * 366
MAX_SCHEDULED = 30
MAX_AGENDA_ITEMS = 40
# Eleven digits in a row: the length of a fødselsnummer or D-nummer. contains_national_id finds
# the numbers that are (or nearly are) one however they are written; any other bare run of eleven
# digits is refused too, since on an agenda it can hardly be anything else.
ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{11}(?!\d)")


# --- helpers ---------------------------------------------------------------------------------------


def meeting_url(meeting: ForumMeeting) -> str:
    return reverse("insights:forum_meeting", args=[meeting.code])


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")


def _obligations(meeting: ForumMeeting) -> dict[str, str]:
    return {"meeting": f"{PROCESS}:meeting:{meeting.pk}", "minutes": f"{PROCESS}:minutes:{meeting.pk}"}


def _errors():
    errors: dict[str, list] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    return errors, add


def _forum_lock(user, forum: Forum) -> Forum:
    """The forum's row, locked, if ``user`` is on its owner's staff; else a translated refusal."""
    forum = Forum.objects.select_for_update(of=("self",)).select_related("owner").get(pk=forum.pk)
    if not is_member(user, forum.owner):
        raise ValidationError(_("Only the staff of the service that runs the forum can change it."), code="not_owner")
    return forum


def _require_active(forum: Forum) -> None:
    if not forum.active:
        raise ValidationError(_("The forum is no longer active: it cannot be changed."), code="inactive")


def _meeting_lock(user, meeting: ForumMeeting) -> ForumMeeting:
    forum = _forum_lock(user, meeting.forum)
    locked = ForumMeeting.objects.select_for_update(of=("self",)).get(pk=meeting.pk, forum=forum)
    locked.forum = forum
    return locked


def _require_fresh(meeting: ForumMeeting, sequence: int | None) -> None:
    if sequence is not None and sequence != meeting.sequence:
        raise ValidationError(_("The meeting was changed while you had this page open. Reload the page and try again."), code="stale")


def _require_planned(meeting: ForumMeeting) -> None:
    if meeting.status != M.PLANNED:
        raise ValidationError(_("This meeting is “%(status)s”: it cannot be changed now.") % {"status": meeting.get_status_display()},
                              code="out_of_order")


def _bump(meeting: ForumMeeting, *fields: str) -> None:
    meeting.sequence += 1
    meeting.save(update_fields=["sequence", "updated_at", *fields])


def identity_problem(text: str) -> str | None:
    """A translated reason when ``text`` holds something that looks like an identity number."""
    if contains_national_id(text or "") or ELEVEN_DIGITS.search(text or ""):
        return _("Remove the number: it looks like a national identity number (fødselsnummer or D-nummer). "
                 "A forum discusses themes and de-identified cases only.")
    return None


def _identity_errors(add, **texts) -> None:
    for field, text in texts.items():
        problem = identity_problem(text)
        if problem:
            add(field, problem)


# --- forums and their members ----------------------------------------------------------------------


@transaction.atomic
def forum_create(*, user, owner: Service, municipality, kind: str, name: str, recurrence: str, every_weeks: int | None = None,
                 members=()) -> Forum:
    """Create a forum run by ``owner`` (an SLT service ``user`` is on the staff of) in one of the
    municipalities it works in, with ``members`` (services) taking part. The owner's group is
    granted FORUM_OWNER on it, each member's FORUM_MEMBER. Refused (nothing saved) for an owner
    that is not SLT or not the user's, a municipality outside it, an unknown kind or recurrence,
    no name, or an interval missing or outside 1..MAX_EVERY_WEEKS for "every N weeks"."""
    errors, add = _errors()
    if owner is None or owner.kind != Service.Kind.SLT or not is_member(user, owner):
        add("owner", _("Choose an SLT service you work in."))
    elif municipality is None or municipality.pk not in owner_municipality_ids(owner):
        add("municipality", _("Choose a municipality the SLT service works in."))
    if kind not in Forum.Kind.values:
        add("kind", _("Choose the kind of forum."))
    if not (name or "").strip():
        add("name", _("Give the forum a name."))
    if recurrence not in R.values:
        add("recurrence", _("Choose how often the forum meets."))
    elif recurrence == R.EVERY_N_WEEKS:
        if every_weeks is None or not 1 <= every_weeks <= MAX_EVERY_WEEKS:
            add("every_weeks", _("Meetings repeat every 1 to %(max)s weeks.") % {"max": MAX_EVERY_WEEKS})
    _identity_errors(add, name=name)
    if errors:
        raise ValidationError(errors)
    text_limits(name=(name, 200))
    forum = Forum.objects.create(owner=owner, municipality=municipality, kind=kind, name=name.strip(), recurrence=recurrence,
                                 every_weeks=every_weeks if recurrence == R.EVERY_N_WEEKS else None, created_by=user)
    grant_to_service(perm=FORUM_OWNER, obj=forum, service=owner)
    for service in members:
        forum_member_add(user=user, forum=forum, service=service)
    return forum


@transaction.atomic
def forum_member_add(*, user, forum: Forum, service: Service) -> ForumMember:
    """Make ``service`` a member of ``forum``: its group is granted FORUM_MEMBER, and its staff are
    reminded of the meetings to come. Refused for a service already a member, the owner itself,
    an inactive service or one outside the owner's municipalities, or an inactive forum."""
    forum = _forum_lock(user, forum)
    _require_active(forum)
    if service is None or not service.active or service.municipality_id not in owner_municipality_ids(forum.owner):
        raise ValidationError({"service": _("Choose an active service in the municipalities the SLT service works in.")})
    if service.pk == forum.owner_id:
        raise ValidationError({"service": _("The service that runs the forum takes part already.")})
    if ForumMember.objects.filter(forum=forum, service=service, removed_at__isnull=True).exists():
        raise ValidationError({"service": _("This service is a member of the forum already.")})
    member = ForumMember.objects.create(forum=forum, service=service, added_by=user)
    grant_to_service(perm=FORUM_MEMBER, obj=forum, service=service)
    upcoming = list(ForumMeeting.objects.filter(forum=forum, status=M.PLANNED, starts_at__gt=timezone.now()))
    # Restored, not only scheduled: a service removed and added again gets its cancelled rows back.
    reminders_restore(_member_rows(forum, upcoming, [service]))
    return member


@transaction.atomic
def forum_member_remove(*, user, forum: Forum, service: Service) -> ForumMember:
    """End ``service``'s membership: its group's FORUM_MEMBER grant is revoked (its staff no longer
    read the forum) and its unsent reminders of the forum's meetings are cancelled."""
    forum = _forum_lock(user, forum)
    member = ForumMember.objects.select_for_update().filter(forum=forum, service=service, removed_at__isnull=True).first()
    if member is None:
        raise ValidationError({"service": _("This service is not a member of the forum.")})
    member.removed_at = timezone.now()
    member.save(update_fields=["removed_at"])
    revoke_from_service(perm=FORUM_MEMBER, obj=forum, service=service)
    keys = [f"{_obligations(m)['meeting']}:remind:{service.pk}" for m in ForumMeeting.objects.filter(forum=forum, status=M.PLANNED)]
    Reminder.objects.filter(key__in=keys, sent_at__isnull=True, cancelled_at__isnull=True).update(cancelled_at=timezone.now())
    return member


# --- meetings --------------------------------------------------------------------------------------


def recurrence_times(starts_at, ends_at, *, recurrence: str, every_weeks: int | None = None, until: datetime.date) -> list[tuple]:
    """(start, end) of every meeting of a forum from the first (``starts_at``–``ends_at``) by its
    ``recurrence`` up to ``until`` (inclusive): twice a year (every six months), every six weeks,
    monthly (the same day of the month; the 31st falls on the month's last day), or every
    ``every_weeks`` weeks. Each at the first meeting's wall-clock time in the local time zone (a
    summer-time change keeps 13:00 at 13:00), counted from the first, so a short month does not
    drift the rest. Pure; at most MAX_SCHEDULED + 1 (the caller refuses more)."""
    zone = timezone.get_current_timezone()
    first = timezone.localtime(starts_at).replace(tzinfo=None)
    length = ends_at - starts_at
    step = {
        R.TWICE_A_YEAR: relativedelta(months=6),
        R.SIX_WEEKS: relativedelta(weeks=6),
        R.MONTHLY: relativedelta(months=1),
        R.EVERY_N_WEEKS: relativedelta(weeks=every_weeks or 1),
    }[recurrence]
    times = []
    while len(times) <= MAX_SCHEDULED:
        local = first + step * len(times)
        if local.date() > until:
            break
        start = timezone.make_aware(local, zone)
        times.append((start, start + length))
    return times


@transaction.atomic
def meetings_schedule(*, user, forum: Forum, starts_at: datetime.datetime, ends_at: datetime.datetime, place: str,
                      until: datetime.date | None = None) -> list[ForumMeeting]:
    """Schedule the forum's meetings by its recurrence, from the first (``starts_at``–``ends_at``)
    up to ``until`` (a single meeting without it), by the owner's staff; each gets its reminder
    rows. Refused (a translated ValidationError by field, nothing saved) for a start in the past,
    an end not after the start or more than MAX_MEETING_HOURS later, no place, an ``until`` before
    the first meeting or more than MAX_SCHEDULE_DAYS ahead, more than MAX_SCHEDULED meetings, or
    an inactive forum. Returns the meetings, earliest first."""
    forum = _forum_lock(user, forum)
    _require_active(forum)
    errors, add = _errors()
    if not (place or "").strip():
        add("place", _("Say where the meeting is held."))
    _identity_errors(add, place=place)
    if starts_at is None:
        add("starts_at", _("Give the meeting's date and start time."))
    else:
        if starts_at < timezone.now():
            add("starts_at", _("The meeting cannot start in the past."))
        if ends_at is None or ends_at <= starts_at:
            add("ends_at", _("The meeting must end after it starts."))
        elif ends_at - starts_at > datetime.timedelta(hours=MAX_MEETING_HOURS):
            add("ends_at", _("A meeting lasts at most %(hours)s hours.") % {"hours": MAX_MEETING_HOURS})
    times = [(starts_at, ends_at)]
    if until is not None and not errors:
        first_day = timezone.localtime(starts_at).date()
        if until <= first_day:
            add("until", _("The last date must come after the first meeting."))
        elif until > first_day + datetime.timedelta(days=MAX_SCHEDULE_DAYS):
            add("until", _("Schedule at most two years ahead."))
        else:
            times = recurrence_times(starts_at, ends_at, recurrence=forum.recurrence, every_weeks=forum.every_weeks, until=until)
            if len(times) > MAX_SCHEDULED:
                add("until", _("At most %(max)s meetings can be scheduled at once: choose an earlier last date.") % {"max": MAX_SCHEDULED})
    if errors:
        raise ValidationError(errors)
    text_limits(place=(place, 200))
    meetings = ForumMeeting.objects.bulk_create([
        ForumMeeting(forum=forum, starts_at=start, ends_at=end, place=place.strip(), scheduled_by=user) for start, end in times
    ])
    members = [m.service for m in ForumMember.objects.filter(forum=forum, removed_at__isnull=True).select_related("service").order_by("pk")]
    reminders_schedule(_member_rows(forum, meetings, members) + _minutes_rows(forum, meetings))
    return meetings


def _member_rows(forum: Forum, meetings, services) -> list[Reminder]:
    """Unsaved reminders to each of ``services`` before each of ``meetings`` not yet begun (the
    "meeting" policy). The text names the forum and the time, no person."""
    policy = policies_get(PROCESS, ("meeting",)).get("meeting")
    if policy is None or not services:
        return []
    now, rows = timezone.now(), []
    for meeting in meetings:
        due = policy.due_from(meeting.starts_at)
        remind_at = policy.remind_at(due)
        if remind_at is None or meeting.starts_at <= now:
            continue
        obligation = _obligations(meeting)["meeting"]
        text = system_text(gettext_noop("%(forum)s: meeting on %(when)s"), forum=forum.name, when=_when(meeting.starts_at))
        rows += [reminder_row(
            key=f"{obligation}:remind:{service.pk}", obligation=obligation, kind=Reminder.Kind.REMINDER, message=text, service=service,
            audience=policy.remind, subject=forum, required_perm=FORUM_MEMBER, due_at=remind_at, url=meeting_url(meeting),
            topic=policy.title, deadline_at=due,
        ) for service in services]
    return rows


def _minutes_rows(forum: Forum, meetings) -> list[Reminder]:
    """Unsaved reminders to the owner's staff that the minutes of ``meetings`` are missing (the
    "minutes" policy), and its escalation to the owner's leaders if the policy escalates."""
    policy = policies_get(PROCESS, ("minutes",)).get("minutes")
    if policy is None:
        return []
    rows = []
    for meeting in meetings:
        obligation, when = _obligations(meeting)["minutes"], _when(meeting.starts_at)
        due = policy.due_from(meeting.ends_at)
        common = dict(obligation=obligation, service=forum.owner, subject=forum, required_perm=FORUM_OWNER, url=meeting_url(meeting),
                      topic=policy.title, deadline_at=due)
        remind_at = policy.remind_at(due)
        if remind_at is not None:
            rows.append(reminder_row(
                key=f"{obligation}:remind:{forum.owner_id}", kind=Reminder.Kind.REMINDER, audience=policy.remind, due_at=remind_at,
                message=system_text(gettext_noop("%(forum)s: the minutes of the meeting on %(when)s are missing"), forum=forum.name,
                                    when=when), **common))
        if policy.escalate != policy.Escalate.NONE:
            rows.append(reminder_row(
                key=f"{obligation}:escalate:{forum.owner_id}", kind=Reminder.Kind.ESCALATION, audience=Reminder.Audience.LEADERS,
                due_at=due, message=system_text(gettext_noop("%(forum)s: the minutes of the meeting on %(when)s are not written"),
                                                forum=forum.name, when=when), **common))
    return rows


def _reminders_cancel(meeting: ForumMeeting) -> None:
    for obligation in _obligations(meeting).values():
        reminder_cancel(obligation=obligation)


@transaction.atomic
def meeting_cancel(*, user, meeting: ForumMeeting, sequence: int | None = None) -> ForumMeeting:
    """Cancel a planned meeting, by the owner's staff; its reminders are cancelled. Refused for a
    meeting held or cancelled already, or (``sequence``) changed since the page was shown."""
    meeting = _meeting_lock(user, meeting)
    _require_fresh(meeting, sequence)
    _require_planned(meeting)
    meeting.status, meeting.cancelled_at = M.CANCELLED, timezone.now()
    _bump(meeting, "status", "cancelled_at")
    _reminders_cancel(meeting)
    return meeting


@transaction.atomic
def agenda_item_add(*, user, meeting: ForumMeeting, title: str, text: str = "", sequence: int | None = None) -> AgendaItem:
    """Add an item (a theme or a de-identified case) to a planned meeting's agenda, by the owner's
    staff. Refused for an empty title, text that looks like an identity number, too long a text,
    more than MAX_AGENDA_ITEMS items, a meeting not planned, or a stale page (``sequence``)."""
    meeting = _meeting_lock(user, meeting)
    _require_fresh(meeting, sequence)
    _require_planned(meeting)
    errors, add = _errors()
    if not (title or "").strip():
        add("title", _("Give the agenda item a title."))
    _identity_errors(add, title=title, text=text)
    count = meeting.agenda.count()
    if count >= MAX_AGENDA_ITEMS:
        add("title", _("An agenda holds at most %(max)s items.") % {"max": MAX_AGENDA_ITEMS})
    if errors:
        raise ValidationError(errors)
    text_limits(title=(title, 200), text=(text, SHORT_TEXT))
    last = meeting.agenda.order_by("-position").values_list("position", flat=True).first() or 0
    item = AgendaItem.objects.create(meeting=meeting, position=last + 1, title=title.strip(), text=(text or "").strip(), added_by=user)
    _bump(meeting)
    return item


@transaction.atomic
def agenda_item_remove(*, user, meeting: ForumMeeting, item_id: int, sequence: int | None = None) -> None:
    """Take an item off a planned meeting's agenda, by the owner's staff."""
    meeting = _meeting_lock(user, meeting)
    _require_fresh(meeting, sequence)
    _require_planned(meeting)
    deleted, _rows = AgendaItem.objects.filter(meeting=meeting, pk=item_id).delete()
    if not deleted:
        raise ValidationError(_("This item is not on the meeting's agenda."), code="missing")
    _bump(meeting)


@transaction.atomic
def minutes_record(*, user, meeting: ForumMeeting, text: str, sequence: int | None = None) -> ForumMinutes:
    """Write the minutes of a meeting once it has started, by the owner's staff: the meeting is
    held, and its reminders (to the members, of the missing minutes) are cancelled. Written once:
    refused for a meeting held or cancelled already, not yet started, or changed since the page
    was shown (``sequence``), and for empty minutes or text that looks like an identity number."""
    meeting = _meeting_lock(user, meeting)
    _require_fresh(meeting, sequence)
    _require_planned(meeting)
    if meeting.starts_at > timezone.now():
        raise ValidationError(_("The minutes can be written once the meeting has started."), code="out_of_order")
    errors, add = _errors()
    if not (text or "").strip():
        add("text", _("Write the minutes of the meeting."))
    _identity_errors(add, text=text)
    if errors:
        raise ValidationError(errors)
    text_limits(text=(text, LONG_TEXT))
    minutes = ForumMinutes.objects.create(meeting=meeting, text=text.strip(), written_by=user)
    meeting.status = M.HELD
    _bump(meeting, "status")
    _reminders_cancel(meeting)
    return minutes
