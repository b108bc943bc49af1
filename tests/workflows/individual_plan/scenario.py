"""The individual plan scenario shared by the service, selector and concurrency tests.

Today is frozen at Tuesday 1 September 2026, 10:00 (English active, so messages read as source).
Personas (real users, memberships and groups; no mocked permission checks):
- ``rus_staff`` / ``rus_koordinator``: Psykisk helse og rus, which meets Ola first, offers the plan
  and holds the main responsibility
- ``nav_staff`` (the shared Org's): NAV, a participating service
- ``home_staff``: Hjemmetjenesten, a participating service
- ``dps_staff``: DPS, a service the consent does not cover
- the shared Org's caseworker (barnevern) and slt_staff: outsiders who must get 404
- Ola, 30, who consents and answers for himself; Emma, 12, whose mother Kari answers
"""
import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from org.models import Service
from referrals.models import PlanOffer
from tests.factories import make_child, make_consent, make_service, member
from workflows.individual_plan import services as svc

NOW = datetime.datetime(2026, 9, 1, 10, 0, tzinfo=ZoneInfo("Europe/Oslo"))
TODAY = NOW.date()


@dataclass
class Plans:
    rus: Service
    nav: Service
    home: Service
    dps: Service
    rus_staff: object
    rus_koordinator: object
    nav_staff: object
    home_staff: object
    dps_staff: object


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        with translation.override("en"):
            yield


def make_plans(org) -> Plans:
    muni = org.municipality
    rus = make_service(muni, "Psykisk helse og rus", Service.Kind.RUSTJENESTE)
    home = make_service(muni, "Hjemmetjenesten", Service.Kind.OTHER)
    dps = make_service(muni, "DPS", Service.Kind.OTHER, Service.Owner.STATE)
    return Plans(rus=rus, nav=org.nav, home=home, dps=dps, rus_staff=member(rus), rus_koordinator=member(rus), nav_staff=org.nav_staff,
                 home_staff=member(home), dps_staff=member(dps))


@pytest.fixture
def ip(org, frozen) -> Plans:
    return make_plans(org)


def adult(org, ip, *, given="Ola", start=300):
    return make_child(org, birth=datetime.date(1996, 3, 10), given=given, family="Nordmann", start=start, service=ip.rus)


def plan_consent(ip, person, *, grantees=None, **extra):
    return make_consent(user=ip.rus_staff, service=ip.rus, person=person, purpose="individual_plan",
                        grantees=grantees if grantees is not None else [ip.rus, ip.nav, ip.home],
                        information="Den individuelle planen og tiltakene.", **extra)


def accepted_offer(ip, person) -> PlanOffer:
    offer = svc.offer_register(user=ip.rus_staff, service=ip.rus, person=person, reason="Trenger langvarige, koordinerte tjenester.")
    return svc.offer_answer(user=ip.rus_staff, offer=offer, answer=PlanOffer.Answer.ACCEPTED, by_person=True)


def create_plan(ip, person, *, consent=None, offer=None, **extra):
    fields = dict(
        user=ip.rus_staff, service=ip.rus, offer=offer or accepted_offer(ip, person), consent=consent or plan_consent(ip, person),
        goals="Jeg vil ha egen leilighet og komme i jobb.", resources="God kontakt med søsteren.",
        period_start=TODAY, period_end=TODAY + datetime.timedelta(days=365), revision_due_on=TODAY + datetime.timedelta(days=180),
        participation="wrote", koordinator=ip.rus_koordinator,
    )
    fields.update(extra)
    return svc.plan_create(**fields)


def plan_with_participants(org, ip, person=None):
    """Ola's plan held by Psykisk helse og rus, with NAV and Hjemmetjenesten taking part."""
    person = person or adult(org, ip)
    plan = create_plan(ip, person)
    svc.participant_add(user=ip.rus_staff, plan=plan, role="service", service=ip.nav)
    svc.participant_add(user=ip.rus_staff, plan=plan, role="service", service=ip.home)
    plan.refresh_from_db()
    return plan
