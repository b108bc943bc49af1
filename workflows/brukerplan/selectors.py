"""Reads of BrukerPlan rounds that encode policy: the cohort, completion, the access helpers, the rows
the report is computed from.

Who sees what (domain P5, "Privacy"):
* a round (its settings, its completion counts) is seen by the members of its coordinating service
  and of its participating services; everyone else gets Http404 (``round_get_for_user``);
* a mapping (person data) is seen by the members of the service that made it, and by no one else:
  not the coordinator, not another participating service (``mapping_get_for_user``);
* the worklist of a service (``worklist_for_service``) is shown to that service's members only;
* the report's rows (``mappings_for_report``) carry no name, no identity number, no code: only what
  the de-identified report counts, keyed by the person's internal id so that a person mapped by two
  services is counted once.

The cohort of a service (``cohort_for_service``): the persons with a service period from it that
intersects the twelve months up to the reference date, ``[reference_date − 12 months,
reference_date]`` (a period that ended exactly twelve months before counts; one that ended a day
earlier does not; one that starts after the reference date does not), and who have reached the age
threshold on the reference date (born on or before ``reference_date − threshold years``: a person
whose birthday is on the reference date counts). A person without a birth date, or whose record was
merged into another, is in no cohort (the record it was merged into is).
"""
import datetime
import uuid

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, DateField, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.services import access_log_write
from consent.models import Consent
from consent.selectors import consents_in_force_for
from org.access import code_as_uuid, member_service_ids
from org.models import Service
from people.models import Person, ServicePeriod
from people.selectors import person_name_for, with_record_name
from referrals.access import case_get_for_user
from referrals.models import (
    BrukerPlanMapping, BrukerPlanParticipation, BrukerPlanRound, BrukerPlanScaleLevel, IndividualPlan, LifeArea, PlanMeeting,
    PlanParticipant, help_kinds_decode, level_field,
)

COORDINATOR, PARTICIPANT = "coordinator", "participant"
M = BrukerPlanMapping.Status
# Why a mapping is read, as the access log records it (declared in the registry's audit_purposes).
READ_MAPPING, READ_WORKLIST = "brukerplan mapping page", "brukerplan worklist"


# --- the cohort --------------------------------------------------------------------------------------


def cohort_window(round_: BrukerPlanRound) -> tuple[datetime.date, datetime.date]:
    """The first and the last day (both counted) of the twelve months up to the reference date."""
    return round_.reference_date - relativedelta(months=12), round_.reference_date


def born_by(round_: BrukerPlanRound) -> datetime.date:
    """The last birth date that has reached the age threshold on the reference date (people.Person.age_on
    counts the same way: a birthday on the reference date has been reached)."""
    return round_.reference_date - relativedelta(years=round_.age_threshold)


def _periods_in_window(round_: BrukerPlanRound, service_ids):
    start, end = cohort_window(round_)
    return ServicePeriod.objects.filter(service_id__in=service_ids, started_on__lte=end).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=start))


def _eligible_persons():
    return Person.objects.filter(merged_into__isnull=True, birth_date__isnull=False)


def cohort_for_service(round_: BrukerPlanRound, service: Service):
    """The persons on ``service``'s worklist in ``round_`` (see the module's docstring), a queryset
    of people.Person (one query when evaluated; walks ``serviceperiod_cohort_idx``)."""
    periods = _periods_in_window(round_, [service.pk]).filter(person_id=OuterRef("pk"))
    return _eligible_persons().filter(birth_date__lte=born_by(round_)).filter(Exists(periods))


def cohort_person(round_: BrukerPlanRound, service: Service, code) -> Person:
    """The person with ``code`` on ``service``'s worklist; a translated ValidationError when the code
    is malformed, unknown or the person is not in the cohort (alike: a forged code learns nothing)."""
    try:
        code = uuid.UUID(str(code))
    except (TypeError, ValueError):
        code = None
    person = cohort_for_service(round_, service).filter(code=code).first() if code else None
    if person is None:
        raise ValidationError({"person": _("This person is not on your service's list for this round.")}, code="not_in_cohort")
    return person


def worklist_for_service(round_: BrukerPlanRound, service: Service):
    """``service``'s worklist: its cohort, each person annotated with the service's own record of the
    name (people.selectors.with_record_name: ``record_given``, ``record_family``, never another
    service's record; ``record_name(row, "")`` names a row) and the service's mapping, if any (``mapping_code``, ``mapping_status``), ordered by id for keyset
    paging. A page showing it logs the names shown (audit.services.access_log_list_read, purpose
    READ_WORKLIST, the service)."""
    mappings = BrukerPlanMapping.objects.filter(round=round_, service=service, person_id=OuterRef("pk"))
    return with_record_name(cohort_for_service(round_, service), "pk", service.pk).annotate(
        mapping_code=Subquery(mappings.values("code")[:1]), mapping_status=Subquery(mappings.values("status")[:1]),
    ).order_by("pk")


# --- completion ----------------------------------------------------------------------------------


def completion_for_round(round_: BrukerPlanRound) -> list[dict]:
    """Per participating service, by name: ``service``, ``eligible`` (its cohort), ``assessed`` (marked
    in or out of scope), ``in_scope``, ``mapped``, ``share_done`` (the worklist's share that is
    finished: marked out of scope or mapped, of the eligible; None for an empty worklist),
    ``completed_at`` (when the service marked its mapping done, or None). Three queries whatever the
    number of services and persons; counts only, never a person."""
    participations = list(BrukerPlanParticipation.objects.filter(round=round_).select_related("service").order_by("service__name", "pk"))
    ids = [p.service_id for p in participations]
    eligible = dict(
        _periods_in_window(round_, ids).filter(person__merged_into__isnull=True, person__birth_date__lte=born_by(round_))
        .values("service_id").annotate(n=Count("person_id", distinct=True)).values_list("service_id", "n")
    ) if ids else {}
    counts = {
        row["service_id"]: row for row in BrukerPlanMapping.objects.filter(round=round_).values("service_id").annotate(
            assessed=Count("pk"), in_scope=Count("pk", filter=~Q(status=M.OUT_OF_SCOPE)), mapped=Count("pk", filter=Q(status=M.MAPPED)),
            out=Count("pk", filter=Q(status=M.OUT_OF_SCOPE)),
        ).order_by()
    }
    rows = []
    for p in participations:
        c = counts.get(p.service_id, {})
        n = eligible.get(p.service_id, 0)
        finished = c.get("mapped", 0) + c.get("out", 0)
        rows.append({
            "service": p.service, "eligible": n, "assessed": c.get("assessed", 0), "in_scope": c.get("in_scope", 0),
            "mapped": c.get("mapped", 0), "share_done": (finished / n) if n else None, "completed_at": p.completed_at,
        })
    return rows


# --- the pages' reads ---------------------------------------------------------------------------

WORKLIST_PAGE_SIZE = 25
# The worklist's cursor: signed, so a user can neither read nor edit a position (a forged one shows the first page).
_WORKLIST_SALT = "workflows.brukerplan.worklist"


def completion_with_schedule(round_: BrukerPlanRound) -> list[dict]:
    """completion_for_round's rows, each with ``behind``: the round is open, the service has not
    marked its mapping done, and the mapping clock's reminders have started
    (clocks.mapping_reminded_from): behind schedule is what the reminders say. One query more
    than completion_for_round."""
    from django.utils import timezone

    from workflows.brukerplan.clocks import mapping_reminded_from

    rows = completion_for_round(round_)
    late = round_.status == BrukerPlanRound.Status.OPEN and timezone.now() >= mapping_reminded_from(round_)
    for row in rows:
        row["behind"] = late and row["completed_at"] is None
    return rows


def worklist_get_for_user(user, round_code, service_code) -> tuple[BrukerPlanRound, BrukerPlanParticipation]:
    """The round with ``round_code`` and the participation of the service with ``service_code`` in
    it, for a member of that service; Http404 for a malformed or unknown code, a service the user is
    not a member of, or one that does not take part in the round (the coordinator included: it
    sees counts, never a worklist)."""
    participation = (BrukerPlanParticipation.objects.select_related("round__coordinator_service", "round__municipality", "service")
                     .filter(round__code=code_as_uuid(round_code), service__code=code_as_uuid(service_code)).first())
    if participation is None or participation.service_id not in set(member_service_ids(user)):
        raise Http404
    return participation.round, participation


def worklist_page(round_: BrukerPlanRound, service: Service, cursor: str | None = None, *, page_size: int = WORKLIST_PAGE_SIZE):
    """One page of ``service``'s worklist (worklist_for_service, each row also with
    ``mapping_version``), after the signed ``cursor``: ``(rows, next cursor or None)``. One query."""
    from django.core import signing

    mappings = BrukerPlanMapping.objects.filter(round=round_, service=service, person_id=OuterRef("pk"))
    qs = worklist_for_service(round_, service).annotate(mapping_version=Subquery(mappings.values("version")[:1]))
    after = None
    if cursor:
        try:
            after = int(signing.loads(cursor, salt=_WORKLIST_SALT))
        except (signing.BadSignature, TypeError, ValueError):
            after = None
    if after is not None:
        qs = qs.filter(pk__gt=after)
    rows = list(qs[:page_size + 1])
    following = signing.dumps(rows[page_size - 1].pk, salt=_WORKLIST_SALT) if len(rows) > page_size else None
    return rows[:page_size], following


def rounds_taken_part_in(user) -> list[BrukerPlanParticipation]:
    """The participations of the user's services in open and closed rounds, newest round first:
    "my worklists". One query."""
    return list(BrukerPlanParticipation.objects.filter(service_id__in=member_service_ids(user))
                .exclude(round__status=BrukerPlanRound.Status.DRAFT)
                .select_related("round", "service").order_by("-round__reference_date", "-round_id", "service__name"))


def round_setup_choices(user) -> dict:
    """What the new round's form offers: the services the user leads as the coordinating service
    (the BrukerPlan coordinator is a leader: services.round_create), the active services of their
    municipalities as participants, their closed rounds to compare with. Three queries."""
    from org.access import user_services
    from org.models import Membership

    coordinators = list(user_services(user, role=Membership.Role.LEADER))
    municipalities = {s.municipality_id for s in coordinators}
    return {
        "coordinators": coordinators,
        "services": list(Service.objects.filter(municipality_id__in=municipalities, active=True).order_by("name")),
        "previous_rounds": list(BrukerPlanRound.objects.filter(municipality_id__in=municipalities, status=BrukerPlanRound.Status.CLOSED)
                                .order_by("-reference_date", "-pk")),
    }


def mapping_name_here(mapping: BrukerPlanMapping) -> str:
    """The mapped person's name as the mapping service's own record holds it (never another
    service's record); the mapping's reference where it holds none. One query."""
    return person_name_for(mapping.person, mapping.service) or mapping.reference


def coordinates_rounds(service_ids) -> bool:
    """Whether every one of ``service_ids`` coordinates a BrukerPlan round (any status): their work
    is the round's coordination, so the rounds are where its members start their day. One query."""
    ids = set(service_ids)
    if not ids:
        return False
    coordinating = set(BrukerPlanRound.objects.filter(coordinator_service_id__in=ids).values_list("coordinator_service_id", flat=True).distinct())
    return coordinating == ids


def rounds_in_menu_fact():
    """The menu's fact of a membership's service (registered in workflows.processes: read with the
    memberships, no query of its own): it coordinates a round, or takes part in an open one, or a
    report of its municipality has figures to read (report_roles: every member of the municipality
    reads them)."""
    from referrals.models import BrukerPlanReport

    service = OuterRef("service_id")
    taking_part = BrukerPlanParticipation.objects.filter(round=OuterRef("pk"), service_id=OuterRef(service))
    rounds = Exists(BrukerPlanRound.objects.filter(Q(coordinator_service_id=service) | Q(Exists(taking_part), status=BrukerPlanRound.Status.OPEN)))
    reports = Exists(BrukerPlanReport.objects.filter(data__isnull=False, round__municipality__services=service))
    return rounds | reports


# --- access --------------------------------------------------------------------------------------


def round_roles(user, round_: BrukerPlanRound) -> dict[str, Service]:
    """The user's roles on ``round_``, each with the service it is held through: {"coordinator":
    service} for the coordinating service's members, {"participant": service} for a participating
    service's (the first by name, when the user belongs to several). Empty for everyone else. One
    query beyond the user's memberships (read once per request)."""
    mine = set(member_service_ids(user))
    if not mine:
        return {}
    roles: dict[str, Service] = {}
    taking_part = BrukerPlanParticipation.objects.filter(round=round_, service_id=OuterRef("pk"))
    services = (Service.objects.filter(pk__in=mine).annotate(takes_part=Exists(taking_part))
                .filter(Q(pk=round_.coordinator_service_id) | Q(takes_part=True)).order_by("name", "pk"))
    for service in services:
        if service.pk == round_.coordinator_service_id:
            roles[COORDINATOR] = service
        if service.takes_part:
            roles.setdefault(PARTICIPANT, service)
    return roles


def _rounds():
    return BrukerPlanRound.objects.select_related("coordinator_service", "municipality")


def round_get_for_user(user, code, *, role: str | None = None) -> tuple[BrukerPlanRound, dict[str, Service]]:
    """The round with ``code`` and the user's roles on it (round_roles); Http404 when the code is
    malformed or unknown, the user holds no role, or, with ``role``, lacks that one."""
    return case_get_for_user(_rounds(), code, lambda r: round_roles(user, r), role)


def participation_for_user(user, round_: BrukerPlanRound) -> BrukerPlanParticipation | None:
    """The participation of the (first by name) participating service the user maps for, or None."""
    return (BrukerPlanParticipation.objects.filter(round=round_, service_id__in=member_service_ids(user))
            .select_related("service").order_by("service__name", "pk").first())


def rounds_for_user(user):
    """The rounds the user sees (coordinating or participating through a service of theirs), newest first."""
    mine = member_service_ids(user)
    taking_part = BrukerPlanParticipation.objects.filter(round=OuterRef("pk"), service_id__in=mine)
    return _rounds().filter(Q(coordinator_service_id__in=mine) | Exists(taking_part)).order_by("-reference_date", "-pk")


MUNICIPALITY_REPORTS_SHOWN = 20


def reports_for_user(user, *, limit: int = MUNICIPALITY_REPORTS_SHOWN) -> list[BrukerPlanRound]:
    """The ``limit`` newest closed rounds of the municipalities of the user's services whose report
    has figures to read (report_get_for_user lets every member of the municipality read them), each
    with ``report_computed_at``; newest reference date first. One query (the report's figures are not
    read)."""
    from django.db.models import F

    municipalities = Service.objects.filter(pk__in=member_service_ids(user)).values("municipality_id")
    return list(_rounds().filter(status=BrukerPlanRound.Status.CLOSED, municipality_id__in=municipalities, report__data__isnull=False)
                .annotate(report_computed_at=F("report__computed_at")).order_by("-reference_date", "-pk")[:limit])


def _mappings():
    return BrukerPlanMapping.objects.select_related("round", "service", "person")


def mapping_get_for_user(user, code) -> BrukerPlanMapping:
    """The mapping with ``code`` for a member of the service that made it; Http404 for everyone else,
    the round's coordinator included (it sees counts and the report, never a person), and for a
    malformed or unknown code."""
    mapping = _mappings().filter(code=code_as_uuid(code)).first()
    if mapping is None or mapping.service_id not in set(member_service_ids(user)):
        raise Http404
    return mapping


def mapping_read(user, code, *, purpose: str = READ_MAPPING) -> BrukerPlanMapping:
    """mapping_get_for_user for a page that shows the mapping: the read is written to the access log."""
    mapping = mapping_get_for_user(user, code)
    access_log_write(user=user, action="view", obj=mapping, person=mapping.person, purpose=purpose, service=mapping.service)
    return mapping


def round_get_for_process(user, process_pk: int) -> BrukerPlanRound:
    """viewflow's pages of a round's process: the round, for its coordinating and participating
    services' members; else Http404."""
    round_ = _rounds().filter(process__pk=process_pk).first()
    if round_ is None or not round_roles(user, round_):
        raise Http404
    return round_


def round_registry_roles(user, round_: BrukerPlanRound) -> set[str]:
    return set(round_roles(user, round_))


def round_list_namings(user, rounds) -> dict:
    """A round names no person: nothing to name on the task lists."""
    return {}


# --- the scales and the plan's status -------------------------------------------------------------


def round_scales(round_: BrukerPlanRound) -> dict[str, list[BrukerPlanScaleLevel]]:
    """The round's scale per life area (every LifeArea, in order), each its levels in order. One query."""
    scales: dict[str, list[BrukerPlanScaleLevel]] = {area: [] for area in LifeArea.values}
    for level in BrukerPlanScaleLevel.objects.filter(round=round_).order_by("area", "level"):
        scales.setdefault(level.area, []).append(level)
    return scales


def default_scales() -> dict[str, list[BrukerPlanScaleLevel]]:
    """The default scales (rows without a round), per life area."""
    scales: dict[str, list[BrukerPlanScaleLevel]] = {}
    for level in BrukerPlanScaleLevel.objects.filter(round__isnull=True).order_by("area", "level"):
        scales.setdefault(level.area, []).append(level)
    return scales


def plan_status_for(service: Service, person: Person) -> dict | None:
    """What the individual-plan process says of ``person`` as ``service`` may see it: when the service
    takes part in an active plan of the person with the plan's consent in force for it,
    ``{"individual_plan": "yes", "ansvarsgruppe": "yes"|"no"}`` (an ansvarsgruppe: a meeting of the
    plan's group held or planned); else None (the worker answers). Never a plan of another service's
    alone: that would tell the mapping service what it may not know."""
    plans = dict(IndividualPlan.objects.filter(
        person=person, status=IndividualPlan.Status.ACTIVE,
        pk__in=PlanParticipant.objects.filter(service=service, removed_at__isnull=True).values("plan_id"),
    ).values_list("pk", "consent_id"))
    if not plans:
        return None
    granted = consents_in_force_for(set(plans.values()), {service.pk}, purpose=Consent.Purpose.INDIVIDUAL_PLAN)
    seen = [pk for pk, consent_id in plans.items() if (consent_id, service.pk) in granted]
    if not seen:
        return None
    has_group = PlanMeeting.objects.filter(plan_id__in=seen).exclude(status=PlanMeeting.Status.CANCELLED).exists()
    yes, no = BrukerPlanMapping.Answer.YES, BrukerPlanMapping.Answer.NO
    return {"individual_plan": yes, "ansvarsgruppe": yes if has_group else no}


def mapping_help_links(mapping: BrukerPlanMapping) -> dict[str, str]:
    """Where the mapping service goes from a mapping to help (domain P5: "individual results may start
    a referral or an IP"): ``referral`` (the catalogue, to find the service to refer to: a referral
    starts from the service's contact with the person), ``contact`` (register the contact first),
    ``plan_offer`` (register an offer of an individual plan). The existing processes' own pages and
    services do the writes; no person is named in these addresses."""
    return {
        "referral": reverse("referrals:catalogue"),
        "contact": reverse("referrals:contact_create"),
        "plan_offer": reverse("individual_plans:offer_register"),
    }


def mapping_page_state(mapping: BrukerPlanMapping) -> dict:
    """What the mapping's page offers: ``editable`` (the round is open and the person in scope: what
    services.mapping_save accepts), ``help`` (mapping_help_links, once mapped), and the children's
    follow-up clock as ``children_open`` / ``children_met``."""
    from workflows.brukerplan.clocks import children_clock

    children = children_clock(mapping) if mapping.has_children else None
    return {
        "editable": mapping.round.status == BrukerPlanRound.Status.OPEN and mapping.status != BrukerPlanMapping.Status.OUT_OF_SCOPE,
        "help": mapping_help_links(mapping) if mapping.status == BrukerPlanMapping.Status.MAPPED else None,
        "children_open": children is not None and children.is_open, "children_met": children is not None and children.met_at is not None,
    }


# --- the report's rows ----------------------------------------------------------------------------

REPORT_FIELDS = (
    "person_id", "service_id", "service__kind", "mapped_at", "sex", "age", "has_children",
    *(level_field(area) for area in LifeArea.values), "lar", "tsb", "ansvarsgruppe", "individual_plan", "services_used", "expected_need",
)


def mappings_for_report(round_: BrukerPlanRound, *, chunk_size: int = 5000):
    """The rows the round's report counts: one per person, an iterator of dicts with ``person_id``,
    ``service_id``, ``service_kind``, ``mapped_at``, ``sex``, ``age``, ``has_children``, ``levels``
    ({life area: level or None}), ``lar``, ``tsb``, ``ansvarsgruppe``, ``individual_plan`` (Answer
    values or ""), ``services_used``, ``expected_need`` (tuples of HelpKind values).

    Only mapped rows count (status "mapped"; a person marked in scope but never mapped is not in the
    report). **A person mapped by two services counts once: the most recent mapping wins (the latest
    ``mapped_at``), and of two saved at the same moment the one of the service with the lower id.**
    The most recent is the best knowledge of the person's situation at the round's close, and the
    rule needs nothing but the rows themselves, so it gives the same answer on every run.

    One query, streamed (``iterator``): on PostgreSQL ``DISTINCT ON (person_id)`` over the partial
    index ``bpmapping_report_idx``; elsewhere the same order, deduplicated while streaming.
    """
    rows = (BrukerPlanMapping.objects.filter(round=round_, status=M.MAPPED)
            .order_by("person_id", "-mapped_at", "service_id").values_list(*REPORT_FIELDS))
    distinct = connection.vendor == "postgresql"
    if distinct:
        rows = rows.distinct("person_id")
    areas = LifeArea.values
    n_areas = len(areas)
    last_person = None
    for row in rows.iterator(chunk_size=chunk_size):
        person_id = row[0]
        if not distinct:
            if person_id == last_person:
                continue
            last_person = person_id
        levels = row[7:7 + n_areas]
        rest = row[7 + n_areas:]
        yield {
            "person_id": person_id, "service_id": row[1], "service_kind": row[2], "mapped_at": row[3], "sex": row[4], "age": row[5],
            "has_children": row[6], "levels": dict(zip(areas, levels)), "lar": rest[0], "tsb": rest[1], "ansvarsgruppe": rest[2],
            "individual_plan": rest[3], "services_used": help_kinds_decode(rest[4]), "expected_need": help_kinds_decode(rest[5]),
        }


# --- the stored report -----------------------------------------------------------------------------

READER = "reader"
# A computation that has written no progress for this long is taken for dead (its worker killed);
# a report pending for REPORT_PENDING_AFTER has lost its task (services.report_requeue_due).
REPORT_STALE_AFTER = datetime.timedelta(minutes=10)
REPORT_PENDING_AFTER = datetime.timedelta(minutes=1)


def report_stalled(report, *, now=None) -> bool:
    """Whether ``report`` (a BrukerPlanReport, saved or the unsaved pending one of round_report)
    waits or runs longer than it should: pending for more than REPORT_PENDING_AFTER since it was
    asked for (``progress_at``, or the round's close when its task has not written the row yet), or
    running with no progress for REPORT_STALE_AFTER. The coordinator may then compute it again, and
    the beat enqueues it again. False for a done or failed report."""
    from django.utils import timezone

    from referrals.models import BrukerPlanReport

    now = now or timezone.now()
    since = report.progress_at or report.round.closed_at
    if report.status == BrukerPlanReport.Status.PENDING:
        return since is None or since < now - REPORT_PENDING_AFTER
    if report.status == BrukerPlanReport.Status.RUNNING:
        return since is None or since < now - REPORT_STALE_AFTER
    return False


def report_roles(user, round_: BrukerPlanRound) -> set[str]:
    """The user's roles on ``round_``'s report: round_roles' ("coordinator", "participant"), and
    "reader" for every active member of a service of the round's municipality (the report is
    de-identified and "can be shared municipality-wide", issue 10). Empty for everyone else."""
    roles = set(round_roles(user, round_))
    if Service.objects.filter(pk__in=member_service_ids(user), municipality_id=round_.municipality_id).exists():
        roles.add(READER)
    return roles


def report_may_recompute(user, round_: BrukerPlanRound, report) -> bool:
    """Whether to offer ``user`` "compute the report again" (services.report_recompute decides): a
    leader of the coordinating service, for a report done, failed, or waiting or running longer than
    it should (report_stalled); not while a computation is under way."""
    from org.access import is_member
    from org.models import Membership
    from referrals.models import BrukerPlanReport

    if report is None or not is_member(user, round_.coordinator_service, role=Membership.Role.LEADER):
        return False
    return report.status in (BrukerPlanReport.Status.DONE, BrukerPlanReport.Status.FAILED) or report_stalled(report)


def round_report(round_: BrukerPlanRound):
    """The round's BrukerPlanReport, an unsaved pending one when a closed round's task has not
    started yet, or None for a round not closed (the round page's and the report page's status)."""
    from referrals.models import BrukerPlanReport

    if round_.status != BrukerPlanRound.Status.CLOSED:
        return None
    report = BrukerPlanReport.objects.filter(round=round_).first() or BrukerPlanReport(round=round_)
    report.round = round_
    return report


def report_get_for_user(user, code, *, ready: bool = False):
    """``(round, report, roles)`` for the report pages of the round with ``code``: ``report`` is the
    round's BrukerPlanReport, or an unsaved pending one when a closed round's task has not started
    yet, or None for a round not closed. Who may read it: the round's coordinating and participating
    services' members always (its status, then its figures), every member of a service of the
    municipality once it has figures (``data``: a computation done, kept while it is computed again).
    With ``ready`` only a report with figures is found. Http404 for everyone and everything else,
    missing and forbidden alike."""
    round_, roles = case_get_for_user(_rounds(), code, lambda r: report_roles(user, r))
    report = round_report(round_)
    ready_ = report is not None and report.data is not None
    if (ready and not ready_) or (not ready_ and not roles & {COORDINATOR, PARTICIPANT}):
        raise Http404
    return round_, report, roles


def insight_cases():
    """The BrukerPlan rounds for the insights rollup (workflows.processes.Process.insight_cases): one
    case per participating service in an opened round (its mapping work), held by that service, from
    the coordinating service, open from the round's opening until the service marked its mapping
    done (or the round closed). About a service's work, not a person: no birth date, no age."""
    return (
        BrukerPlanParticipation.objects.filter(round__opened_at__isnull=False).order_by()
        .values_list(
            "service__municipality_id", "service_id", "service__kind", "round__coordinator_service_id",
            Coalesce("round__coordinator_service__area_id", "service__area_id"), "round__opened_at",
            Coalesce("completed_at", "round__closed_at"), Value(None, output_field=DateField()), Value(None, output_field=IntegerField()),
        )
    )
