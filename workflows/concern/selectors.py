"""Reads that encode policy: which concerns a user's lists show, in which order, page by page.

Lists page by keyset (never OFFSET) and run a constant number of queries whatever the data size.
"""
from django.contrib.contenttypes.models import ContentType
from django.db.models import F, OuterRef, Q, Subquery

from org.access import member_service_ids, permitted_ids_subquery
from referrals.access import HANDLER_PERM, REPORTER_PERM
from org.models import Membership
from referrals.models import Concern
from workflows.models import Deadline
from org.paging import PAGE_SIZE, keyset_page


def concern_intake_list(user, *, cursor: str | None = None, pending_only: bool = True, page_size: int = PAGE_SIZE):
    """Barnevern's intake list: concerns addressed to the user's services that it may handle.

    Pending ones (a deadline still open) come first by deadline; ``pending_only=False`` lists all,
    newest first. Returns ``(rows, next_cursor)``.
    """
    qs = (
        Concern.objects.filter(receiving_service__in=member_service_ids(user))
        .exclude(status=Concern.Status.DRAFT)
        .filter(permitted_ids_subquery(user, Concern, HANDLER_PERM))
        .select_related("reporting_service")
        .only("code", "kind", "status", "urgency", "categories", "submitted_at", "received_at", "next_deadline_at",
              "reporting_service__name", "receiving_service_id")
    )
    if pending_only:
        # Pending: a deadline still open (the pager leaves out rows without one).
        return keyset_page(qs, "next_deadline_at", cursor, descending=False, page_size=page_size)
    # Every sent concern has submitted_at; saying so lets the (service, submitted_at, id) index,
    # read backwards, give this order on every database (NULLS FIRST or LAST no longer matters).
    return keyset_page(qs, "submitted_at", cursor, descending=True, page_size=page_size)


def concern_sent_list(user, *, cursor: str | None = None, page_size: int = PAGE_SIZE):
    """“Mine bekymringer”: concerns of the user's reporting services, newest first, with the
    feedback deadline the reporter is entitled to know. Returns ``(rows, next_cursor)``."""
    concern_ct = ContentType.objects.get_for_model(Concern)
    feedback_due = Deadline.objects.filter(
        subject_type=concern_ct, subject_id=OuterRef("pk"), policy__process="concern", policy__step="feedback_initial"
    ).values("due_at")[:1]
    qs = (
        Concern.objects.filter(reporting_service__in=member_service_ids(user))
        .filter(permitted_ids_subquery(user, Concern, REPORTER_PERM))
        .select_related("reporting_service")
        .only("code", "kind", "status", "urgency", "categories", "created_at", "submitted_at", "received_at",
              "reporting_service__name")
        .annotate(feedback_due_at=Subquery(feedback_due))
    )
    return keyset_page(qs, "created_at", cursor, descending=True, page_size=page_size)


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
