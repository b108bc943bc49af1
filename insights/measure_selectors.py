"""Who reads which plan and measure, and what the plan pages show (issue 11, point 6).

A plan is read by
- the staff of its owner service (SLT), who also write it (``OWNER``);
- the leaders of any service of its municipality: the measure list, an aggregate of no person (``READER``);
- the staff of a service responsible or co-responsible for one of its measures (``READER``).
A measure is opened by the plan's owner (``OWNER``), the staff of its responsible service, who
record its evaluation (``RESPONSIBLE``), and those of its co-responsible services, who read it
(``CO_RESPONSIBLE``). Everyone else gets 404, as for a plan or measure that does not exist
(``plan_get_for_user``, ``measure_get_for_user``: the one way the pages fetch them).
"""
from collections import Counter
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404

from insights.models import Coverage, MeasureEvaluation, PolicyMeasure, PolicyPlan
from org.access import code_as_uuid, member_facts
from org.models import Membership, Municipality, Service

OWNER = "owner"
READER = "reader"
RESPONSIBLE = "responsible"
CO_RESPONSIBLE = "co_responsible"


def _facts(user):
    facts = member_facts(user)
    service_ids = frozenset(facts.service_ids)
    led_municipalities = frozenset(s.municipality_id for s, role in facts.memberships if role == Membership.Role.LEADER)
    return service_ids, led_municipalities


def plans_for_user(user):
    """The plans the user may read, newest period first."""
    service_ids, led_municipalities = _facts(user)
    if not service_ids:
        return PolicyPlan.objects.none()
    takes_part = PolicyMeasure.objects.filter(plan=OuterRef("pk")).filter(
        Q(responsible_service_id__in=service_ids) | Q(co_responsible__in=service_ids))
    return (PolicyPlan.objects.filter(Q(owner_service_id__in=service_ids) | Q(municipality_id__in=led_municipalities) | Exists(takes_part))
            .select_related("municipality", "owner_service").order_by("-from_year", "title", "pk"))


def plan_roles(user, plan: PolicyPlan) -> frozenset[str]:
    service_ids, led_municipalities = _facts(user)
    if plan.owner_service_id in service_ids:
        return frozenset({OWNER, READER})
    if plan.municipality_id in led_municipalities:
        return frozenset({READER})
    if service_ids and PolicyMeasure.objects.filter(plan=plan).filter(
            Q(responsible_service_id__in=service_ids) | Q(co_responsible__in=service_ids)).exists():
        return frozenset({READER})
    return frozenset()


def plan_get_for_user(user, code) -> tuple[PolicyPlan, frozenset[str]]:
    """The plan with ``code`` and the user's roles in it; Http404 when it is missing or the user may not read it."""
    plan = PolicyPlan.objects.select_related("municipality", "owner_service").filter(code=code_as_uuid(code)).first()
    roles = plan_roles(user, plan) if plan is not None else frozenset()
    if not roles:
        raise Http404
    return plan, roles


def measure_roles(user, measure: PolicyMeasure) -> frozenset[str]:
    service_ids, _led = _facts(user)
    roles = set()
    if measure.plan.owner_service_id in service_ids:
        roles.add(OWNER)
    if measure.responsible_service_id in service_ids:
        roles.add(RESPONSIBLE)
    if service_ids & {s.pk for s in measure.co_responsible.all()}:
        roles.add(CO_RESPONSIBLE)
    return frozenset(roles)


def measure_get_for_user(user, code, *, need: frozenset[str] | None = None) -> tuple[PolicyMeasure, frozenset[str]]:
    """The measure with ``code`` and the user's roles in it; Http404 when it is missing, the user has
    no role in it, or (with ``need``) none of the roles ``need`` names."""
    measure = (PolicyMeasure.objects.select_related("plan", "plan__municipality", "plan__owner_service", "responsible_service")
               .prefetch_related("co_responsible").filter(code=code_as_uuid(code)).first())
    roles = measure_roles(user, measure) if measure is not None else frozenset()
    if not roles or (need is not None and not roles & need):
        raise Http404
    return measure, roles


def openable_measure_ids(user, plan_roles: frozenset[str], rows: list["MeasureRow"]) -> set[int]:
    """Which of the plan's measures (``rows``) the user may open: all for the owner, else those
    their services are responsible or co-responsible for (a leader reads the list only)."""
    if OWNER in plan_roles:
        return {row.measure.pk for row in rows}
    service_ids, _led = _facts(user)
    return {row.measure.pk for row in rows
            if row.measure.responsible_service_id in service_ids or service_ids & {s.pk for s in row.measure.co_responsible.all()}}


def may_evaluate(roles) -> bool:
    return bool(roles & {OWNER, RESPONSIBLE})


@dataclass(frozen=True)
class MeasureRow:
    """A measure as the plan page and the export show it: the measure, its co-responsible services'
    names and its latest evaluation (or None)."""

    measure: PolicyMeasure
    co_responsible: tuple[str, ...]
    latest: MeasureEvaluation | None


def plan_measures(plan: PolicyPlan) -> list[MeasureRow]:
    """Every measure of the plan in the plan's order (2 before 2a before 10), with its latest
    evaluation: three queries, however many measures."""
    measures = list(
        PolicyMeasure.objects.filter(plan=plan).select_related("responsible_service")
        .prefetch_related(Prefetch("co_responsible", queryset=Service.objects.order_by("name")))
    )
    by_measure = {}
    # A plan's evaluations are few (a measure, a year): the latest of each is picked here, on any database.
    for evaluation in MeasureEvaluation.objects.filter(measure__plan=plan).select_related("service").order_by("-year"):
        by_measure.setdefault(evaluation.measure_id, evaluation)
    measures.sort(key=PolicyMeasure.sort_key)
    return [MeasureRow(m, tuple(s.name for s in m.co_responsible.all()), by_measure.get(m.pk)) for m in measures]


def status_counts(rows: list[MeasureRow]) -> list[tuple[str, str, int]]:
    """(status, its label, how many measures have it) for every status, in the statuses' order."""
    counts = Counter(row.measure.status for row in rows)
    return [(value, label, counts.get(value, 0)) for value, label in PolicyMeasure.Status.choices]


def evaluation_year_default(measure: PolicyMeasure, today) -> int | None:
    """The year the evaluation form offers first: the latest year of the plan period up to ``today``'s
    that is not evaluated yet (in January, last year's), or None."""
    evaluated = set(measure.evaluations.values_list("year", flat=True))
    years = [y for y in range(measure.plan.from_year, min(measure.plan.to_year, today.year) + 1) if y not in evaluated]
    if today.year in years and today < measure.evaluation_date(today.year) and today.year - 1 in years:
        return today.year - 1
    return years[-1] if years else None


def measure_evaluations(measure: PolicyMeasure):
    return measure.evaluations.select_related("service").order_by("-year")


def plan_setup_choices(user) -> dict:
    """The SLT services the user works in (the owners they may choose) and the municipalities those
    cover (their own and those of Coverage)."""
    owners = [s for s, _role in member_facts(user).memberships if s.kind == Service.Kind.SLT]
    ids = {s.municipality_id for s in owners}
    ids |= set(Coverage.objects.filter(service__in=owners).values_list("municipality_id", flat=True))
    return {"owners": owners, "municipalities": list(Municipality.objects.filter(pk__in=ids).order_by("name"))}


def may_set_up_plans(user) -> bool:
    return any(s.kind == Service.Kind.SLT for s, _role in member_facts(user).memberships)


def measure_service_choices(plan: PolicyPlan):
    """The services a measure of the plan may name: the active services of its municipality."""
    return Service.objects.filter(municipality_id=plan.municipality_id, active=True).order_by("name")
