"""Reads of individual plans that encode policy: the access helpers and the consent gate.

A plan's content reaches a user only as a member of a service that takes part in the plan now (a
participant not removed, or the current holder of the main responsibility) **and** only while the
plan's consent is in force for that service (consent.selectors.consent_is_active: granted to it, for
an individual plan, not withdrawn, not expired, given by someone entitled at the person's age).
Everything else answers Http404, missing and forbidden alike: an outsider, a service removed from
the plan, every participant the moment the consent is withdrawn (the plan is then paused too).
An offer is seen by the service that registered it; a hand-over by the plan's participants.
Through an emergency access (break the glass) a user without a role reads a plan, never changes it.
"""
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, Exists, F, FilteredRelation, OuterRef, Q, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.services import access_log_write
from consent.models import Consent
from consent.selectors import active_consents_for, consent_is_active, consents_in_force_for
from org.access import code_as_uuid, member_service_ids, permitted_ids_subquery
from org.compiled import CompiledQuery
from org.models import Service
from org.paging import PAGE_SIZE, KeysetPage, OpaqueCursors
from org.permissions import INDIVIDUAL_PLAN_PARTICIPANT, codename
from people.models import Person
from people.selectors import person_name_for, record_name, with_record_name
from referrals.access import EMERGENCY, break_glass_active, case_get_for_user
from referrals.models import (
    IndividualPlan, PlanHandOver, PlanHolder, PlanMeasure, PlanMeeting, PlanOffer, PlanParticipant, PlanVersion,
)
from workflows.list_persons import Naming
from workflows.models import Deadline

HOLDER, PARTICIPANT = "holder", "participant"
# Kinds of service that never take part in a person's plan: the privacy function holds no case, SLT
# sees aggregates only, and the police are no party to a health or welfare plan.
NOT_IN_PLANS = frozenset({Service.Kind.PERSONVERN, Service.Kind.SLT, Service.Kind.POLITI})
PURPOSE = Consent.Purpose.INDIVIDUAL_PLAN


def current_holder(plan: IndividualPlan) -> PlanHolder:
    """The plan's current holder of the main responsibility (the row without an end)."""
    return PlanHolder.objects.select_related("service", "koordinator").get(plan=plan, ended_at__isnull=True)


def participant_service_ids(plan: IndividualPlan) -> set[int]:
    """The services taking part in the plan now (participants not removed)."""
    return set(PlanParticipant.objects.filter(plan=plan, service__isnull=False, removed_at__isnull=True).values_list("service_id", flat=True))


def plan_roles(user, plan: IndividualPlan) -> dict[str, Service]:
    """The user's roles on ``plan`` through the services they are an active member of, each with the
    service it is held through: {"holder": service} for the current holder's staff, {"participant":
    service} for a participating service's (the holder is a participant too). A role counts only
    while the plan's consent is in force for that service. Empty for everyone else.

    Three queries whatever the plan's size: the user's services that hold or take part in the plan
    (one), and the consent in force for them (consent.selectors.consents_in_force_for: the consent
    app's one rule, two)."""
    mine = set(member_service_ids(user))
    if not mine:
        return {}
    holds = PlanHolder.objects.filter(plan=plan, ended_at__isnull=True, service_id=OuterRef("pk"))
    takes_part = PlanParticipant.objects.filter(plan=plan, removed_at__isnull=True, service_id=OuterRef("pk"))
    services = list(
        Service.objects.filter(pk__in=mine).annotate(holds=Exists(holds)).filter(Q(holds=True) | Exists(takes_part)).order_by("name", "pk")
    )
    if not services:
        return {}
    granted = consents_in_force_for({plan.consent_id}, {service.pk for service in services}, purpose=PURPOSE)
    services = [service for service in services if (plan.consent_id, service.pk) in granted]
    roles: dict[str, Service] = {}
    for service in services:
        if service.holds:
            roles[HOLDER] = service
        roles.setdefault(PARTICIPANT, service)
    plan.taking_part_through = {service.pk for service in services}
    return roles


def plan_person_name(plan) -> str:
    """The person's name as the plan's starting service registered it ("–" without a record), from
    the plan's own query where it was read there (``_plans``, plan_get_for_process)."""
    if not hasattr(plan, "record_given"):
        plan = with_record_name(IndividualPlan.objects.filter(pk=plan.pk), "person_id", plan.registered_by_service_id).get()
    return record_name(plan)


def _plans():
    # The person named as the starting service registered them, in the plan's own query (the page's
    # and the document's participants_named reads it there).
    qs = IndividualPlan.objects.select_related("person", "consent", "registered_by_service")
    return with_record_name(qs, "person_id", OuterRef("registered_by_service_id"))


def plan_get_for_user(user, code, *, role: str | None = None) -> tuple[IndividualPlan, dict[str, Service]]:
    """The plan with ``code`` and the user's roles on it (plan_roles); Http404 if the code is
    malformed or unknown, the user holds no role, or, with ``role``, lacks that one."""
    return case_get_for_user(_plans(), code, lambda plan: plan_roles(user, plan), role)


# Why a plan's content is read, as the access log records it and the person's transparency report
# shows it (declared in the registry's audit_purposes): its page, its document (the PDF), and the
# hand-over's task page, which shows the plan to the receiving service.
READ_PAGE, READ_DOCUMENT, READ_HANDOVER_TASK = "individual plan page", "individual plan document", "individual plan hand-over task"
READ_HISTORY = "individual plan history"


def plan_read(user, code, *, purpose: str = READ_PAGE) -> tuple[IndividualPlan, dict[str, Service]]:
    """plan_get_for_user for a page that shows the plan's content: the read is written to the
    access log (one row, with ``purpose``: the page's, the document's) under the service the role
    is held through. A user without a role who has broken the glass for the plan reads it too, with
    the roles {"emergency": None}, logged as an emergency read under no service; everyone else gets
    Http404 and nothing is logged."""
    plan = _plans().filter(code=code_as_uuid(code)).first()
    if plan is None:
        raise Http404
    roles = plan_roles(user, plan)
    if roles:
        access_log_write(user=user, action="view", obj=plan, person=plan.person, purpose=purpose,
                         service=roles.get(HOLDER) or roles[PARTICIPANT])
    elif break_glass_active(user, plan):
        roles = {EMERGENCY: None}
        access_log_write(user=user, action="view", obj=plan, person=plan.person, purpose="emergency access", via="break_glass")
    else:
        raise Http404
    return plan, roles


# --- what the plan's page shows ----------------------------------------------------------------

HISTORY_PAGE_SIZE = 25


def plan_history(plan: IndividualPlan, *, cursor: str | None = None):
    """One page of the plan's versions, newest first (who, for which service, when, what kind of
    change, and the names of the fields changed; never their values, which may be the person's own
    words): (rows, next cursor or None). Each row carries ``fields``: the changed fields' labels."""
    from org.paging import keyset_page

    rows, next_cursor = keyset_page(PlanVersion.objects.filter(plan=plan).select_related("changed_by", "changed_by_service"),
                                    "changed_at", cursor, descending=True, page_size=HISTORY_PAGE_SIZE)
    labels = {f.name: f.verbose_name for f in IndividualPlan._meta.get_fields() if hasattr(f, "verbose_name")}
    for row in rows:
        row.fields = [labels.get(name, name) for name in (row.changes or {}) if name in labels]
    return rows, next_cursor


def handover_candidates(plan, *, holder_service_id=None, named=None) -> list[Service]:
    """The services the holder may hand the plan to: the other participating services, active, by
    name. ``holder_service_id`` and ``named`` (participants_named, whose services are loaded) when
    the page has read them already: then no query."""
    holder_service_id = current_holder(plan).service_id if holder_service_id is None else holder_service_id
    if named is None:
        return list(Service.objects.filter(pk__in=participant_service_ids(plan) - {holder_service_id}, active=True).order_by("name"))
    services = {p.service_id: p.service for p, _name in named.participants if p.service_id and p.service_id != holder_service_id}
    return sorted((s for s in services.values() if s.active), key=lambda s: s.name)


class Named:
    """A plan's live participants with their names (``participants``: (participant, name) pairs: a
    service by its name, a next of kin by the name the plan's starting service registered) and the
    person's own name as that service registered it (``person``)."""

    def __init__(self, participants, person):
        self.participants, self.person = participants, person


def participants_named(plan) -> Named:
    """The plan's live participants and the person, named (Named). One query whatever their number
    (the person's name too when the plan came from ``_plans``, as every page's does; else two)."""
    named_by = plan.registered_by_service_id
    participants = list(with_record_name(PlanParticipant.objects.filter(plan=plan, removed_at__isnull=True), "person_id", named_by)
                        .select_related("service").order_by("id"))
    return Named([(p, p.service.name if p.service_id else record_name(p)) for p in participants], plan_person_name(plan))


def participants_shown(plan, named: Named | None = None) -> list[dict]:
    """The plan's participants as its page lists them (``named``: participants_named(plan), read
    here when not given)."""
    named = participants_named(plan) if named is None else named
    return [{"role": p.get_role_display(), "name": name, "relation": p.relation, "since": p.added_at} for p, name in named.participants]


def open_handover_tasks(user, handovers) -> dict:
    """{hand-over pk: its open task} for the open hand-overs whose receiving service the user is a
    member of (the plan page links them to the task)."""
    mine = set(member_service_ids(user))
    ids = [h.pk for h in handovers if h.to_service_id in mine]
    if not ids:
        return {}
    tasks = Task.objects.filter(process__individualplanprocess__handover_id__in=ids, status__in=[STATUS.NEW, STATUS.ASSIGNED]).values_list(
        "process__individualplanprocess__handover_id", "pk", "process_id")
    return {handover_id: {"pk": pk, "process_pk": process_pk} for handover_id, pk, process_pk in tasks}


def measure_get_for_user(user, code) -> tuple[PlanMeasure, dict[str, Service]]:
    """A measure of a plan the user may see (plan_get_for_user's rule), with the roles; else Http404."""
    measure = PlanMeasure.objects.select_related("plan", "plan__person", "plan__consent", "responsible_service").filter(
        code=code_as_uuid(code)).first()
    if measure is None:
        raise Http404
    roles = plan_roles(user, measure.plan)
    if not roles:
        raise Http404
    return measure, roles


def handover_get_for_user(user, code) -> PlanHandOver:
    """A hand-over the user may see: as a member of its receiving service or of a service with a role
    on its plan (plan_roles), the consent in force for it; else Http404."""
    handover = PlanHandOver.objects.select_related("plan", "plan__person", "plan__consent", "from_service", "to_service").filter(
        code=code_as_uuid(code)).first()
    if handover is None:
        raise Http404
    if handover.to_service_id in set(member_service_ids(user)) and consent_is_active(
            handover.plan.consent, service=handover.to_service, purpose=PURPOSE):
        return handover
    if not plan_roles(user, handover.plan):
        raise Http404
    return handover


def offer_get_for_user(user, code) -> PlanOffer:
    """An offer, for a member of the service that registered it; else Http404."""
    offer = PlanOffer.objects.select_related("person", "offered_by_service").filter(code=code_as_uuid(code)).first()
    if offer is None or offer.offered_by_service_id not in set(member_service_ids(user)):
        raise Http404
    return offer


def open_plans_on_consent(consent: Consent) -> int:
    """How many active plans rest on ``consent`` (the consent page's warning before a withdrawal)."""
    return IndividualPlan.objects.filter(consent=consent, status=IndividualPlan.Status.ACTIVE).count()


# --- the registry's hooks, the task lists and the plans list --------------------------------------


def plan_registry_roles(user, plan: IndividualPlan) -> set[str]:
    """The user's roles on ``plan`` as the shared pages ask them (emergency access): plan_roles'
    names, or {"emergency"} when none but the glass is broken for the plan."""
    roles = set(plan_roles(user, plan))
    if not roles and break_glass_active(user, plan):
        roles.add(EMERGENCY)
    return roles


def _handover_of_process(process_pk):
    """The hand-over of a process (one at most) with its plan, the plan's person, consent and
    registering service, both services, and the person's name as that service registered it."""
    handovers = PlanHandOver.objects.select_related(
        "plan", "plan__person", "plan__consent", "plan__registered_by_service", "from_service", "to_service",
    ).filter(process__pk=process_pk)
    return with_record_name(handovers, "plan__person_id", OuterRef("plan__registered_by_service_id")).order_by("pk")[:1]


# Compiled once per process (org.compiled): six joins and two subqueries took PostgreSQL 7 ms to
# plan on every task page of a hand-over, against well under one to run; prepared, it plans once.
_HANDOVER_OF_PROCESS = CompiledQuery(_handover_of_process, "process_pk")


def plan_get_for_process(user, process_pk: int) -> IndividualPlan:
    """viewflow's pages of a hand-over's process: its plan, for a member of the receiving or the
    proposing service while that service takes part in the plan on a consent in force for it; else
    Http404 (every other participant reads the hand-overs on the plan's page). The plan carries
    the hand-over it was reached through as ``via_handover`` (with both services) and the user's
    service through which it is seen as ``via_service`` (the receiving one if the user is a member
    of both): the task page shows and logs them from the access check's one read
    (workflows.middleware: ``request.case_record``; plan_process_read)."""
    handover = next(iter(_HANDOVER_OF_PROCESS.objects(process_pk=process_pk)), None)
    if handover is None:
        raise Http404
    services = set(member_service_ids(user)) & {handover.from_service_id, handover.to_service_id}
    seen = services & set(plans_seen_through(user, [handover.plan]).get(handover.plan_id, ()))
    if not seen:
        raise Http404
    plan = handover.plan
    plan.record_given, plan.record_family = handover.record_given, handover.record_family  # plan_person_name's
    plan.via_handover = handover
    plan.via_service = handover.to_service if handover.to_service_id in seen else handover.from_service
    return plan


def plan_process_read(user, plan: IndividualPlan) -> None:
    """The hand-over's task page shows the plan's content: one access-log row (purpose
    READ_HANDOVER_TASK, the plan's person) under the service through which plan_get_for_process,
    which returned ``plan`` in this request, found the user to see it. Not asked again: that
    helper has just judged the consent for that service."""
    access_log_write(user=user, action="view", obj=plan, person=plan.person, purpose=READ_HANDOVER_TASK, service=plan.via_service)


def plans_seen_through(user, plans) -> dict[int, list[int]]:
    """``{plan pk: [ids of the user's services through which the user sees it now]}`` for ``plans``:
    a service taking part (a participant not removed), the plan's consent in force for it. In four
    queries whatever the number of plans (the consents judged in bulk: consent.selectors)."""
    plans = [p for p in plans if p is not None]
    services = set(member_service_ids(user))
    if not plans or not services:
        return {}
    taking_part = PlanParticipant.objects.filter(plan__in=plans, service_id__in=services, removed_at__isnull=True).values_list("plan_id", "service_id")
    by_plan: dict[int, set[int]] = {}
    for plan_id, service_id in taking_part:
        by_plan.setdefault(plan_id, set()).add(service_id)
    if not by_plan:
        return {}
    consent_of = {p.pk: p.consent_id for p in plans if p.pk in by_plan}
    granted = consents_in_force_for(set(consent_of.values()), services, purpose=PURPOSE)
    return {
        plan_id: sorted(s for s in mine if (consent_of[plan_id], s) in granted)
        for plan_id, mine in by_plan.items() if any((consent_of[plan_id], s) in granted for s in mine)
    }


def plan_delivery_gate(pairs) -> set[tuple[int, int]]:
    """The sweep's re-check of a reminder about a plan (notifications.gates), beyond the participant's
    permission: of ``pairs`` (plan pk, service pk), those whose service may still be told of the plan
    now: the plan active (a paused or closed plan reminds no one), the service taking part (a
    participant not removed), and the plan's consent in force today for it. Four queries."""
    pairs = set(pairs)
    consent_of = dict(IndividualPlan.objects.filter(pk__in={p for p, _s in pairs}, status=IndividualPlan.Status.ACTIVE)
                      .values_list("pk", "consent_id"))
    if not consent_of:
        return set()
    services = {s for _p, s in pairs}
    taking_part = set(PlanParticipant.objects.filter(plan_id__in=consent_of, service_id__in=services, removed_at__isnull=True)
                      .values_list("plan_id", "service_id"))
    granted = consents_in_force_for(set(consent_of.values()), services, purpose=PURPOSE)
    return {(p, s) for p, s in pairs if (p, s) in taking_part and (consent_of[p], s) in granted}


def plan_naming(plan: IndividualPlan, service_id: int) -> Naming:
    """A plan's row names its person by the record of the service that started the plan, for the
    user's service ``service_id`` through which the row is seen."""
    return Naming(obj=plan, person_id=plan.person_id, named_by_id=plan.registered_by_service_id, acting_service_id=service_id)


def plan_list_namings(user, plans) -> dict:
    """For the task lists: ``{plan pk: Naming}`` for the plans the user sees now (plans_seen_through)."""
    seen = plans_seen_through(user, plans)
    return {plan.pk: plan_naming(plan, seen[plan.pk][0]) for plan in plans if plan.pk in seen}


# The list's cursors: signed, so a user can neither read nor edit a position (a forged one shows the first page).
CURSORS = OpaqueCursors("workflows.individual_plan.paging")
PARTICIPANT_CODENAME = codename(INDIVIDUAL_PLAN_PARTICIPANT)


def plans_taken_part_in(user, *, cursor: str | None = None, page_size: int = PAGE_SIZE) -> KeysetPage:
    """The active plans the user's services take part in, by revision date: a keyset page of the
    plans on which a service of the user holds the participant's permission (granted to the starter,
    and through the ledger to each participant; revoked on removal and withdrawal), then narrowed to
    those seen now (plans_seen_through: the consent judged today). Each row carries
    ``seen_through`` (a service id) and ``holder`` (the current PlanHolder). A constant number of queries."""
    services = list(member_service_ids(user))
    qs = (
        IndividualPlan.objects.filter(status=IndividualPlan.Status.ACTIVE, participants__service_id__in=services,
                                      participants__removed_at__isnull=True)
        .filter(permitted_ids_subquery(user, IndividualPlan, PARTICIPANT_CODENAME))
        .distinct()
    )
    page = CURSORS.browse(qs, "revision_due_on", cursor, descending=False, page_size=page_size)
    seen = plans_seen_through(user, page.rows)
    holders = {h.plan_id: h for h in PlanHolder.objects.filter(plan__in=page.rows, ended_at__isnull=True).select_related("service", "koordinator")}
    rows = []
    for plan in page.rows:
        if plan.pk in seen:
            plan.seen_through, plan.holder = seen[plan.pk][0], holders.get(plan.pk)
            rows.append(plan)
    page.rows = rows
    return page


# --- the ansvarsgruppe ----------------------------------------------------------------------------
# Its members are the plan's live participants and the person (see referrals.models); a meeting is
# reached only through its plan's access (plan_roles): outsiders and removed participants get 404.

PERSON_MEMBER = "person"


def group_members(plan: IndividualPlan, named: Named | None = None) -> list[dict]:
    """The ansvarsgruppe's members, the person first: ``key`` ("person", or the participant's code
    as text: the minutes form's values), ``label`` (a service's name, a next of kin's name as the
    plan's starting service registered it), ``role``, and ``participant`` (None for the person).
    ``named``: participants_named(plan), read here when not given (two queries)."""
    from django.utils.translation import gettext as _

    named = participants_named(plan) if named is None else named
    rows = [{"key": PERSON_MEMBER, "label": _("The person the plan is for"), "role": _("The person"), "participant": None}]
    rows += [{"key": str(p.code), "label": name, "role": p.get_role_display(), "participant": p} for p, name in named.participants]
    return rows


def _meetings():
    return PlanMeeting.objects.select_related("plan", "plan__person", "plan__consent", "plan__registered_by_service", "series")


def meeting_get_for_user(user, code, *, role: str | None = None) -> tuple[PlanMeeting, dict[str, Service]]:
    """The meeting with ``code`` and the user's roles on its plan (plan_roles); Http404 if the code
    is malformed or unknown, the user holds no role on the plan, or, with ``role``, lacks that one."""
    return case_get_for_user(_meetings(), code, lambda meeting: plan_roles(user, meeting.plan), role)


def meeting_read(user, code, *, purpose: str = "ansvarsgruppe meeting page") -> tuple[PlanMeeting, dict[str, Service]]:
    """meeting_get_for_user for a page that shows the meeting (its plan's person data): the read is
    written to the access log under the service the role is held through."""
    meeting, roles = meeting_get_for_user(user, code)
    access_log_write(user=user, action="view", obj=meeting, person=meeting.plan.person, purpose=purpose,
                     service=roles.get(HOLDER) or roles[PARTICIPANT])
    return meeting, roles


def plan_meetings(plan: IndividualPlan) -> tuple[list[PlanMeeting], list[PlanMeeting]]:
    """The plan's meetings: (upcoming planned ones, soonest first; the others, latest first)."""
    now = timezone.now()
    meetings = list(PlanMeeting.objects.filter(plan=plan).select_related("minutes").order_by("starts_at", "id"))
    upcoming = [m for m in meetings if m.status == PlanMeeting.Status.PLANNED and m.ends_at >= now]
    return upcoming, [m for m in reversed(meetings) if m not in upcoming]


def meeting_agenda(meeting: PlanMeeting):
    """The agenda: the plan's measures still planned or ongoing whose evaluation date falls on or
    before the meeting's day (overdue ones included), by evaluation date."""
    day = timezone.localtime(meeting.starts_at).date()
    return (PlanMeasure.objects.filter(plan_id=meeting.plan_id, evaluate_on__lte=day,
                                       status__in=[PlanMeasure.Status.PLANNED, PlanMeasure.Status.ONGOING])
            .select_related("responsible_service").order_by("evaluate_on", "id"))


def participating_services(plan: IndividualPlan):
    """The services taking part in the plan now, by name (a decision's possible owners)."""
    return Service.objects.filter(pk__in=participant_service_ids(plan)).order_by("name")


def plan_open_deadlines(plan: IndividualPlan):
    """The open deadlines of ``plan``, of its measures and of its hand-overs (workflows.Deadline,
    individual_plan.clocks), earliest first: what the plan's page lists as its clocks."""
    types = ContentType.objects.get_for_models(IndividualPlan, PlanMeasure, PlanHandOver)
    return (
        Deadline.objects.select_related("policy", "responsible_service")
        .filter(met_at__isnull=True, cancelled_at__isnull=True)
        .filter(
            Q(subject_type=types[IndividualPlan], subject_id=plan.pk)
            | Q(subject_type=types[PlanMeasure], subject_id__in=PlanMeasure.objects.filter(plan=plan).values("pk"))
            | Q(subject_type=types[PlanHandOver], subject_id__in=PlanHandOver.objects.filter(plan=plan).values("pk"))
        )
        .order_by("due_at", "pk")
    )


# --- the offers' pages ---------------------------------------------------------------------------

OFFER_CURSORS = OpaqueCursors("workflows.individual_plan.offers")


def offers_waiting(user, *, cursor: str | None = None, page_size: int = PAGE_SIZE) -> KeysetPage:
    """The offers of the user's services still waiting for a step, oldest first: not answered yet,
    or accepted with no plan made yet. Each row carries ``due_at``: the open deadline of its answer
    (the "offer_answer" policy) when one runs, else None. Two queries whatever the page's length."""
    qs = PlanOffer.objects.filter(offered_by_service_id__in=member_service_ids(user)).filter(
        Q(answer="") | Q(answer=PlanOffer.Answer.ACCEPTED, plan__isnull=True)).select_related("offered_by_service")
    page = OFFER_CURSORS.browse(qs, "offered_on", cursor, descending=False, page_size=page_size)
    due = offer_deadlines([o for o in page.rows if not o.answer])
    for offer in page.rows:
        offer.due_at = due.get(offer.pk)
    return page


def offer_deadlines(offers) -> dict[int, object]:
    """``{offer pk: due_at}`` of the open deadlines on ``offers`` (one query; none when no clock runs)."""
    if not offers:
        return {}
    rows = Deadline.objects.filter(subject_type=ContentType.objects.get_for_model(PlanOffer), subject_id__in=[o.pk for o in offers],
                                   met_at__isnull=True, cancelled_at__isnull=True).values_list("subject_id", "due_at")
    return dict(rows)


def offer_naming(offer: PlanOffer) -> Naming:
    """An offer names its person by the offering service's own record (its only reader)."""
    return Naming(obj=offer, person_id=offer.person_id, named_by_id=offer.offered_by_service_id, acting_service_id=offer.offered_by_service_id)


def offer_guardians(offer: PlanOffer):
    """The person's registered guardians, who may answer the offer on their behalf (by age)."""
    return Person.objects.filter(guardian_of__child=offer.person_id, merged_into__isnull=True).order_by("pk")


def plan_consents(offer: PlanOffer, service: Service) -> list[Consent]:
    """The person's consents for an individual plan in force for ``service`` now: those the plan of
    ``offer`` can rest on."""
    return active_consents_for(offer.person, service=service, purpose=PURPOSE)


# --- the plan's forms ------------------------------------------------------------------------------

def participants_removable(plan) -> list[PlanParticipant]:
    """The plan's live participants (participants_named), each with ``shown_name`` and ``removable``
    (every one but the holder's own service). Three queries whatever their number."""
    holder_id = PlanHolder.objects.filter(plan=plan, ended_at__isnull=True).values_list("service_id", flat=True).first()
    rows = []
    for p, name in participants_named(plan).participants:
        p.shown_name, p.removable = name, p.service_id != holder_id
        rows.append(p)
    return rows


def participant_get(plan, code) -> PlanParticipant:
    """A live participant of ``plan`` by its code; Http404 for any other (a forged code too)."""
    participant = PlanParticipant.objects.filter(plan=plan, code=code_as_uuid(code), removed_at__isnull=True).first()
    if participant is None:
        raise Http404
    return participant


def services_to_add(plan):
    """The active services the holder may ask to take part (the service refuses those the consent
    does not cover, with its reason): those of the plan's municipality that are not taking part."""
    return Service.objects.filter(active=True, municipality_id=plan.registered_by_service.municipality_id).exclude(
        kind__in=NOT_IN_PLANS).exclude(pk__in=participant_service_ids(plan)).order_by("name")


def measure_get_for_editor(user, code) -> tuple[PlanMeasure, Service]:
    """A measure the user may change (measure_update's rule), with the service the user acts for:
    the holder's, or the measure's responsible service while it takes part on a consent in force
    for it. Http404 for everyone else, a reader of the plan too."""
    measure, roles = measure_get_for_user(user, code)
    if HOLDER in roles:
        return measure, roles[HOLDER]
    responsible = measure.responsible_service
    if (responsible.pk in set(member_service_ids(user)) and responsible.pk in participant_service_ids(measure.plan)
            and consent_is_active(measure.plan.consent, service=responsible, purpose=PURPOSE)):
        return measure, responsible
    raise Http404


def insight_cases():
    """The individual plans for the insights rollup (workflows.processes.Process.insight_cases): held
    by the service with the main responsibility now (the current PlanHolder; the registering service
    should there be none), from the service that registered it, from its creation to ``closed_at``.
    A paused plan (consent withdrawn) is still open: it resumes on a new consent."""
    return (
        IndividualPlan.objects.order_by()
        # At most one current holder per plan (uniq_current_plan_holder): the join adds no rows.
        .annotate(current=FilteredRelation("holders", condition=Q(holders__ended_at__isnull=True)))
        .values_list(
            Coalesce("current__service__municipality_id", "registered_by_service__municipality_id"),
            Coalesce("current__service_id", "registered_by_service_id"),
            Coalesce("current__service__kind", "registered_by_service__kind"),
            "registered_by_service_id",
            Coalesce("registered_by_service__area_id", "current__service__area_id"),
            "created_at", "closed_at", "person__birth_date",
            Case(When(person__birth_date__isnull=True, then=F("person__approx_age")), default=None),
        )
    )
