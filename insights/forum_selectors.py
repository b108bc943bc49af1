"""Reads of the SLT forums, and the one access helper every forum page fetches through.

Who reads a forum: the staff of its owner (an SLT service) and the staff of its live member
services. Who changes it: the owner's staff only. Everyone else gets 404, as for a forum that does
not exist. Membership is read through org.access (active memberships of active services), never
through a user's groups or ``has_perm``.
"""
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone

from insights.models import Coverage, Forum, ForumMeeting, ForumMember
from org.access import code_as_uuid, member_facts
from org.models import Service

PAST_SHOWN = 24  # past meetings on a forum's page: two years of a monthly forum


def _service_ids(user) -> tuple[int, ...]:
    return member_facts(user).service_ids if user.is_authenticated else ()


def _visible(user):
    """The forums ``user`` may read: run by one of their services or with one of them as a live member."""
    ids = _service_ids(user)
    if not ids:
        return Forum.objects.none()
    live_member = ForumMember.objects.filter(forum=OuterRef("pk"), service_id__in=ids, removed_at__isnull=True)
    return Forum.objects.filter(Q(owner_id__in=ids) | Exists(live_member))


def forum_runs(user, forum: Forum) -> bool:
    """Whether ``user`` is on the staff of the service that runs ``forum`` (may change it)."""
    return forum.owner_id in _service_ids(user)


def forum_get_for_user(user, code, *, run: bool = False) -> Forum:
    """The forum with ``code`` if ``user`` may read it (``run``: change it), else Http404, for a
    missing and a forbidden forum alike."""
    forum = _visible(user).select_related("owner", "municipality").filter(code=code_as_uuid(code)).first()
    if forum is None or (run and not forum_runs(user, forum)):
        raise Http404
    return forum


def meeting_get_for_user(user, code, *, run: bool = False) -> ForumMeeting:
    """The meeting with ``code`` if ``user`` may read its forum (``run``: change it), else Http404."""
    meeting = ForumMeeting.objects.select_related("forum").filter(code=code_as_uuid(code)).first()
    if meeting is None:
        raise Http404
    meeting.forum = forum_get_for_user(user, meeting.forum.code, run=run)
    return meeting


def forums_for_user(user):
    """The forums ``user`` reads, by name, with their owner and the number of live members."""
    return (_visible(user).select_related("owner", "municipality")
            .annotate(member_count=Count("members", filter=Q(members__removed_at__isnull=True), distinct=True))
            .order_by("-active", "name", "pk"))


def owner_services(user) -> list[Service]:
    """The SLT services ``user`` is on the staff of: those that may own a new forum."""
    return [service for service, _role in member_facts(user).memberships if service.kind == Service.Kind.SLT]


def owner_municipality_ids(owner: Service) -> set[int]:
    """The municipalities an SLT service works in: its own and those it covers."""
    return {owner.municipality_id, *Coverage.objects.filter(service=owner).values_list("municipality_id", flat=True)}


def member_candidates(forum: Forum):
    """The active services that may be added to ``forum``: those of the owner's municipalities,
    not the owner, not already a live member."""
    live = ForumMember.objects.filter(forum=forum, removed_at__isnull=True).values("service_id")
    return (Service.objects.filter(active=True, municipality_id__in=owner_municipality_ids(forum.owner))
            .exclude(pk=forum.owner_id).exclude(pk__in=live).order_by("name", "pk"))


def forum_members(forum: Forum) -> list[ForumMember]:
    return list(ForumMember.objects.filter(forum=forum, removed_at__isnull=True).select_related("service").order_by("service__name", "pk"))


def forum_meetings(forum: Forum) -> tuple[list[ForumMeeting], list[ForumMeeting]]:
    """(meetings to come, earliest first; past and cancelled meetings, newest first), each with
    ``agenda_count`` and ``has_minutes``. A meeting begun but without minutes is past."""
    now = timezone.now()
    meetings = (ForumMeeting.objects.filter(forum=forum)
                .annotate(agenda_count=Count("agenda", distinct=True), has_minutes=Exists(
                    ForumMeeting.objects.filter(pk=OuterRef("pk"), minutes__isnull=False))))
    upcoming = list(meetings.filter(status=ForumMeeting.Status.PLANNED, starts_at__gt=now).order_by("starts_at", "pk"))
    past = list(meetings.exclude(pk__in=[m.pk for m in upcoming]).order_by("-starts_at", "-pk"))
    return upcoming, past


def meeting_agenda(meeting: ForumMeeting):
    return list(meeting.agenda.order_by("position", "pk"))
