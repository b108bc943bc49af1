"""Reads that encode policy: which concerns a user's lists show, in which order, page by page.

Lists page by keyset (never OFFSET) and run a constant number of queries whatever the data size.
"""
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, DateTimeField, Exists, F, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce

from org.access import held_roles, member_service_ids, permitted_ids_subquery, user_services
from referrals.access import HANDLER_PERM, REPORTER_PERM
from org.models import Membership, Service, ServiceKindSetting
from referrals.models import Concern, ConcernFeedback
from workflows.list_persons import Naming
from workflows.models import Deadline
from org.paging import PAGE_SIZE, keyset_page


def reporting_services(user):
    """The user's services that may file concerns (org.ServiceKindSetting.may_report_concerns), by name."""
    reporting_kinds = ServiceKindSetting.objects.filter(may_report_concerns=True).values("kind")
    return user_services(user).filter(kind__in=reporting_kinds).order_by("name")


def receiving_services(municipality_ids):
    """The active child welfare services of these municipalities: where a melding may be sent, by name."""
    return (
        Service.objects.filter(kind=Service.Kind.BARNEVERN, active=True, municipality_id__in=municipality_ids)
        .select_related("municipality").order_by("name")
    )


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
              "reporting_service__name", "receiving_service_id", "person")
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
    # The feedback still owed (after receipt, then after the investigation): none once given.
    feedback_due = Deadline.objects.filter(
        subject_type=concern_ct, subject_id=OuterRef("pk"), policy__process="concern",
        policy__step__in=("feedback_initial", "feedback_final"), met_at__isnull=True, cancelled_at__isnull=True,
    ).order_by("due_at").values("due_at")[:1]
    feedback = ConcernFeedback.objects.filter(concern=OuterRef("pk"))
    qs = (
        Concern.objects.filter(reporting_service__in=member_service_ids(user))
        .filter(permitted_ids_subquery(user, Concern, REPORTER_PERM))
        .select_related("reporting_service")
        .only("code", "kind", "status", "urgency", "categories", "created_at", "submitted_at", "received_at",
              "reporting_service__name", "person")
        .annotate(
            feedback_due_at=Subquery(feedback_due),
            final_feedback_sent=Exists(feedback.filter(kind=ConcernFeedback.Kind.FINAL)),
            initial_investigation_opened=Subquery(feedback.filter(kind=ConcernFeedback.Kind.INITIAL).values("investigation_opened")[:1]),
        )
    )
    return keyset_page(qs, "created_at", cursor, descending=True, page_size=page_size)


# Statuses at which barnevern handles a melding: what the reporter sees of them comes from the
# feedback it was given (barnevernsloven § 13-2: received; whether an investigation was opened,
# or the melding closed (henlagt); after the investigation, that it has ended).
HANDLED = {Concern.Status.RECEIVED, Concern.Status.INVESTIGATING, Concern.Status.CLOSED, Concern.Status.INVESTIGATED}


def reporter_status_label(concern: Concern) -> str:
    """The stage a reporter may see: barnevern's decisions reach the reporter as the feedback the
    law promises, so a melding shows "received" until the feedback says an investigation was opened
    or not, and "investigation concluded" once the feedback after the investigation is given.

    Reads the annotations of ``concern_sent_list`` on its rows; otherwise the concern's feedback.
    """
    if concern.status not in HANDLED:
        return concern.get_status_display()
    if hasattr(concern, "final_feedback_sent"):
        final, opened = concern.final_feedback_sent, concern.initial_investigation_opened
    else:
        given = {f.kind: f.investigation_opened for f in concern.feedbacks.all()}
        final, opened = ConcernFeedback.Kind.FINAL in given, given.get(ConcernFeedback.Kind.INITIAL)
    if final:
        return Concern.Status.INVESTIGATED.label
    if opened is True:
        return Concern.Status.INVESTIGATING.label
    if opened is False:
        return Concern.Status.CLOSED.label
    return Concern.Status.RECEIVED.label


# --- who a list row names (workflows.list_persons) ---------------------------------------------


def concern_naming(*, as_role: str):
    """The Naming of a concern row on a list the user sees as ``as_role`` ("reporter" or "handler"):
    the child, named by the reporting service's record (as the concern page names them), for the
    user's reporting or receiving service. An anonymous consultation names no one.

    Only for lists already narrowed to the concerns the user holds that role on (the reporter's and
    the intake lists filter by the role's object permission).
    """
    def naming(concern):
        if concern.kind == Concern.Kind.CONSULTATION or concern.person_id is None:
            return None
        acting = concern.reporting_service_id if as_role == "reporter" else concern.receiving_service_id
        return Naming(obj=concern, person_id=concern.person_id, named_by_id=concern.reporting_service_id, acting_service_id=acting)

    return naming


def concern_list_namings(user, concerns) -> dict:
    """For lists not narrowed by the role (the task lists): ``{concern pk: Naming}`` for the
    ``concerns`` the user holds a role on now, through a service group (concern_roles, asked for
    all of them in one query); a handler's role comes first. Emergency access names no one."""
    roles = held_roles(user, Concern, [c.pk for c in concerns], {"handler": HANDLER_PERM, "reporter": REPORTER_PERM})
    namings = {c.pk: concern_naming(as_role=roles[c.pk])(c) for c in concerns if c.pk in roles}
    return {pk: n for pk, n in namings.items() if n is not None}


def insight_cases():
    """The concerns for the insights rollup (workflows.processes.Process.insight_cases): every sent
    concern (drafts are not counted), held by the receiving service, from the reporting service.

    Closed when the case ended: a review that closed it, a concluded investigation, advice given, or
    an upgrade to a melding (when the melding was drafted, unless advice had been given first). An
    anonymous consultation has no birth date: its ``child_age`` is the age hint.
    """
    S = Concern.Status
    closed_at = Case(
        When(status=S.CLOSED, then=F("reviewed_at")),
        When(status=S.INVESTIGATED, then=F("investigation_ended_at")),
        When(status=S.ANSWERED, then=F("answered_at")),
        When(status=S.UPGRADED, then=Coalesce("answered_at", "upgraded_to__created_at")),
        default=None, output_field=DateTimeField(),
    )
    age_hint = Case(When(person__birth_date__isnull=True, then=F("child_age")), default=None)
    return (
        Concern.objects.filter(submitted_at__isnull=False).exclude(status=S.DRAFT).order_by()
        .values_list(
            "receiving_service__municipality_id", "receiving_service_id", "receiving_service__kind", "reporting_service_id",
            Coalesce("reporting_service__area_id", "receiving_service__area_id"), "submitted_at", closed_at,
            "person__birth_date", age_hint,
        )
    )
