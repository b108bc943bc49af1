"""Personas and a plan for the plan-measure tests (issue 11, point 6).

Today is 1 March 2025 (Europe/Oslo). Testkommune's SLT service keeps the plan 2025–2030:
- ``coordinator``: staff of the SLT service (the plan's owner) — sets up the plan and its measures;
- ``caseworker``: staff of Barneverntjenesten, responsible for measure 2 — records its evaluation;
- ``kindergarten``: staff of Solsiden barnehage, co-responsible for measure 2 — reads it;
- ``school_leader``: leader of Fjordvik skole, no measure — reads the plan's measure list only;
- ``outsider``: staff of NAV, no role — 404 everywhere; ``far_leader``: a leader in another
  municipality — 404 on the plan.
"""
import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine

from insights import measures as svc
from org.models import Membership, Service
from tests.factories import make_org, make_service, member

OSLO = ZoneInfo("Europe/Oslo")
TODAY = datetime.datetime(2025, 3, 1, 10, 0, tzinfo=OSLO)


def at(*args):
    return datetime.datetime(*args, tzinfo=OSLO)


@dataclass
class Plans:
    org: object
    plan: object
    measure: object
    coordinator: object
    caseworker: object
    kindergarten: object
    school_leader: object
    outsider: object
    far_leader: object


@pytest.fixture
def frozen():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


def add_measure(plans, number, *, responsible=None, co=(), **extra):
    return svc.measure_create(
        user=plans.coordinator, plan=plans.plan, number=number, text=extra.pop("text", f"Tiltak {number}: samarbeidsmøter hvor rus er tema."),
        responsible_service=responsible or plans.org.barnevern, co_responsible=list(co), **extra,
    )


@pytest.fixture
def plans(db, frozen) -> Plans:
    org = make_org()
    far = make_org("9997")
    plan = svc.policy_plan_create(user=org.slt_staff, municipality=org.municipality, owner_service=org.slt,
                                  title="Rusmiddelpolitisk handlingsplan 2025–2030", from_year=2025, to_year=2030)
    p = Plans(org=org, plan=plan, measure=None, coordinator=org.slt_staff, caseworker=org.caseworker, kindergarten=org.reporter,
              school_leader=member(org.skole, role=Membership.Role.LEADER), outsider=org.nav_staff, far_leader=far.bv_leader)
    p.measure = add_measure(p, "2", co=[org.barnehage], text="Styrke samarbeidet mellom barnevernet og barnehagene: årlige "
                                                             "samarbeidsmøter med kompetansehevende innhold hvor også rus er tema.")
    return p


def police(org):
    return make_service(org.municipality, "Politiet", Service.Kind.POLITI, Service.Owner.STATE)
