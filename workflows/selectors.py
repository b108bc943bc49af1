"""Reads that encode policy: which concerns a user's lists show, in which order, page by page.

Lists page by keyset (never OFFSET) and run a constant number of queries whatever the data size.
"""
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, OuterRef, Q, Subquery

from referrals.access import HANDLER_PERM, REPORTER_PERM, permitted_ids_subquery
from referrals.models import Concern, Membership
from workflows.models import Deadline

PAGE_SIZE = 25


def _member_service_ids(user) -> list[int]:
    # A list, not a subquery: with the service as a constant (usually just one) PostgreSQL walks
    # the list's (service, sort key, id) index in order and stops after one page.
    return list(Membership.objects.filter(user=user, active=True).values_list("service_id", flat=True))


def _encode(ts: datetime | None, pk: int) -> str:
    return f"{ts.timestamp() if ts else ''}_{pk}"


def _decode(cursor: str | None):
    if not cursor:
        return None
    try:
        ts, pk = cursor.split("_", 1)
        from django.utils import timezone

        return (datetime.fromtimestamp(float(ts), tz=timezone.get_current_timezone()) if ts else None, int(pk))
    except (ValueError, OverflowError):
        return None


def _page(qs, cursor_field, page_size):
    rows = list(qs[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = _encode(getattr(rows[-1], cursor_field), rows[-1].pk) if (more and rows) else None
    return rows, next_cursor


def concern_intake_list(user, *, cursor: str | None = None, pending_only: bool = True, page_size: int = PAGE_SIZE):
    """Barnevern's intake list: concerns addressed to the user's services that it may handle.

    Pending ones (a deadline still open) come first by deadline; ``pending_only=False`` lists all,
    newest first. Returns ``(rows, next_cursor)``.
    """
    qs = (
        Concern.objects.filter(receiving_service__in=_member_service_ids(user))
        .exclude(status=Concern.Status.DRAFT)
        .filter(permitted_ids_subquery(user, Concern, HANDLER_PERM))
        .select_related("reporting_service")
        .only("code", "kind", "status", "urgency", "categories", "submitted_at", "received_at", "next_deadline_at",
              "reporting_service__name", "receiving_service_id")
    )
    key = _decode(cursor)
    if pending_only:
        qs = qs.filter(next_deadline_at__isnull=False)
        if key and key[0]:
            # The redundant ``__gte`` lets the index start at the cursor instead of filtering up to it.
            qs = qs.filter(Q(next_deadline_at__gt=key[0]) | Q(next_deadline_at=key[0], pk__gt=key[1]), next_deadline_at__gte=key[0])
        qs = qs.order_by("next_deadline_at", "pk")
        return _page(qs, "next_deadline_at", page_size)
    # Every sent concern has submitted_at; saying so lets the (service, submitted_at, id) index,
    # read backwards, give this order on every database (NULLS FIRST or LAST no longer matters).
    qs = qs.filter(submitted_at__isnull=False)
    if key and key[0]:
        qs = qs.filter(Q(submitted_at__lt=key[0]) | Q(submitted_at=key[0], pk__lt=key[1]), submitted_at__lte=key[0])
    qs = qs.order_by(F("submitted_at").desc(), "-pk")
    return _page(qs, "submitted_at", page_size)


def concern_sent_list(user, *, cursor: str | None = None, page_size: int = PAGE_SIZE):
    """“Mine bekymringer”: concerns of the user's reporting services, newest first, with the
    feedback deadline the reporter is entitled to know. Returns ``(rows, next_cursor)``."""
    concern_ct = ContentType.objects.get_for_model(Concern)
    feedback_due = Deadline.objects.filter(
        subject_type=concern_ct, subject_id=OuterRef("pk"), policy__process="concern", policy__step="feedback_initial"
    ).values("due_at")[:1]
    qs = (
        Concern.objects.filter(reporting_service__in=_member_service_ids(user))
        .filter(permitted_ids_subquery(user, Concern, REPORTER_PERM))
        .select_related("reporting_service")
        .only("code", "kind", "status", "urgency", "categories", "created_at", "submitted_at", "received_at",
              "reporting_service__name")
        .annotate(feedback_due_at=Subquery(feedback_due))
    )
    key = _decode(cursor)
    if key and key[0]:
        qs = qs.filter(Q(created_at__lt=key[0]) | Q(created_at=key[0], pk__lt=key[1]), created_at__lte=key[0])
    qs = qs.order_by("-created_at", "-pk")
    return _page(qs, "created_at", page_size)


REPORTER_STATUS = {
    Concern.Status.DRAFT: Concern.Status.DRAFT,
    Concern.Status.SUBMITTED: Concern.Status.SUBMITTED,
    Concern.Status.RECEIVED: Concern.Status.RECEIVED,
    Concern.Status.INVESTIGATING: Concern.Status.RECEIVED,
    Concern.Status.CLOSED: Concern.Status.RECEIVED,
    Concern.Status.INVESTIGATED: Concern.Status.RECEIVED,
    Concern.Status.ANSWERED: Concern.Status.ANSWERED,
    Concern.Status.UPGRADED: Concern.Status.UPGRADED,
}


def reporter_status_label(concern: Concern) -> str:
    """The status a reporter may see: barnevern's decisions reach the reporter only as feedback."""
    return Concern.Status(REPORTER_STATUS[concern.status]).label


def task_queue_for_user(user, flow_classes=None):
    """Human tasks waiting in the queues of the user's services.

    Every human step of our flows is permitted per service object (HANDLE_TASKS_PERM on the
    Service, granted to the service's group), so a service member's queue is a filter on the ids of
    their services. viewflow's own ``user_queue`` instead loads every object permission of the
    user's groups into memory — one per concern at a large barnevern service.
    """
    from django.contrib.contenttypes.models import ContentType as CT
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from referrals.models import Service
    from referrals.permissions import HANDLE_TASKS_PERM

    service_ids = [str(pk) for pk in Membership.objects.filter(user=user, active=True, service__active=True).values_list("service_id", flat=True)]
    tasks = Task.objects.filter(
        flow_task_type="HUMAN",
        status=STATUS.NEW,
        owner_permission=HANDLE_TASKS_PERM,
        owner_permission_content_type=CT.objects.get_for_model(Service),
        owner_permission_obj_pk__in=service_ids,
    )
    return tasks.filter(process__flow_class__in=list(flow_classes)) if flow_classes else tasks
