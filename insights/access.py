"""Who may read the insights, and over what: the one place the pages ask.

- An **SLT coordinator** (a member of a service of kind SLT) reads whole municipalities: their SLT
  service's own and those it covers (``Coverage``).
- A **service leader** reads the rows of the services they lead, in those services' municipalities.

Anyone else gets 404 on every insights page, like a case they hold no role in. Nobody reaches a person
here: the pages read aggregate rows only (insights.models.rollup), and a drill-down to a case goes
through the process's own access helper.
"""
from dataclasses import dataclass

from django.http import Http404

from org.access import member_facts
from org.models import Municipality, Service


@dataclass(frozen=True)
class InsightScope:
    """What a user may read: ``municipality_ids`` (every service's rows, for SLT), and
    ``led_service_ids`` with their municipalities (``led_municipality_ids``: only those services' rows)."""

    municipality_ids: frozenset[int]
    led_service_ids: frozenset[int]
    led_municipality_ids: frozenset[int]
    slt_service_ids: frozenset[int]

    @property
    def is_slt(self) -> bool:
        return bool(self.slt_service_ids)

    @property
    def all_municipality_ids(self) -> frozenset[int]:
        return self.municipality_ids | self.led_municipality_ids

    def municipalities(self):
        return Municipality.objects.filter(pk__in=self.all_municipality_ids).order_by("name", "pk")

    def services_only(self, municipality_id: int) -> frozenset[int] | None:
        """The services whose rows the user reads in ``municipality_id``: None for all of them (SLT
        covers it), else the services they lead there (possibly none)."""
        if municipality_id in self.municipality_ids:
            return None
        return self.led_service_ids


def insight_scope(user) -> InsightScope | None:
    """The user's scope, or None when they may read no insights."""
    if not user.is_authenticated:
        return None
    facts = member_facts(user)
    slt_ids = frozenset(service.pk for service, _role in facts.memberships if service.kind == Service.Kind.SLT)
    led_ids = frozenset(facts.leader_service_ids)
    if not slt_ids and not led_ids:
        return None
    from insights.models import Coverage

    services = {service.pk: service for service, _role in facts.memberships}
    municipalities = {services[pk].municipality_id for pk in slt_ids}
    if slt_ids:
        municipalities |= set(Coverage.objects.filter(service_id__in=slt_ids).values_list("municipality_id", flat=True))
    led_municipalities = {services[pk].municipality_id for pk in led_ids}
    return InsightScope(
        municipality_ids=frozenset(municipalities), led_service_ids=led_ids,
        led_municipality_ids=frozenset(led_municipalities), slt_service_ids=slt_ids,
    )


def insight_scope_or_404(user) -> InsightScope:
    scope = insight_scope(user)
    if scope is None:
        raise Http404
    return scope


def menu_flags(facts) -> dict[str, bool]:
    """The insights section (``facts``: org.access.MemberFacts): the figures to SLT members and
    service leaders; the forums also to staff of a member service; the plan measures also to staff
    of a responsible or co-responsible service (facts registered by InsightsConfig.ready)."""
    is_slt = any(service.kind == Service.Kind.SLT for service, _role in facts.memberships)
    figures = is_slt or bool(facts.leader_service_ids)
    forums = is_slt or bool(facts.services_where("forum_member"))
    measures = figures or bool(facts.services_where("measure_responsible"))
    return {"insights": figures or forums or measures, "insights_figures": figures, "insights_forums": forums,
            "insights_measures": measures, "slt": is_slt}
