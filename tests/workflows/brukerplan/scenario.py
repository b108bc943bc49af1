"""The BrukerPlan personas and round, under frozen time.

Today is Tuesday 1 December 2026, 10:00 (Oslo). The round "BrukerPlan 2026" of Testkommune: mapping
period November–December 2026, reference date 1 December 2026, deadline Tuesday 15 December,
age threshold 16; the cohort's twelve months run from 1 December 2025 to 1 December 2026.
- the coordinator (``coordinator``, leader of BrukerPlan-koordinering) sets the round up;
- Psykisk helse og rus (``rus_worker``) and NAV (the org's ``nav_staff``) take part and map;
- the reporter in Solsiden barnehage is an outsider: 404 on every round;
- persons: ``ola`` (40, served by both services), ``kari`` (30, served by rus only).
"""
import datetime
import itertools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from org.models import Membership, Service
from people.services import person_get_or_create, service_period_record
from people.validators import synthetic_national_id
from referrals.models import LifeArea
from tests.factories import make_service, member
from workflows.brukerplan import services as svc

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=OSLO)
TODAY = NOW.date()
REFERENCE = datetime.date(2026, 12, 1)
_n = itertools.count()


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        with translation.override("en"):
            yield


@dataclass
class BP:
    org: object
    rus: Service
    nav: Service
    coordination: Service
    rus_worker: object
    nav_worker: object
    coordinator: object


@pytest.fixture
def bp(org, frozen) -> BP:
    muni = org.municipality
    rus = make_service(muni, "Psykisk helse og rus", Service.Kind.RUSTJENESTE)
    coordination = make_service(muni, "BrukerPlan-koordinering", Service.Kind.OTHER)
    return BP(org=org, rus=rus, nav=org.nav, coordination=coordination, rus_worker=member(rus), nav_worker=org.nav_staff,
              coordinator=member(coordination, role=Membership.Role.LEADER))


def person(bp: BP, born: datetime.date, *, service=None, given="Ola", started_on=datetime.date(2025, 6, 1), ended_on=None):
    """A person born on ``born`` with a service period from ``service`` (default rus)."""
    service = service or bp.rus
    user = bp.rus_worker if service == bp.rus else bp.nav_worker
    p = person_get_or_create(user=user, given_name=given, family_name="Nordmann", national_id=synthetic_national_id(born, (500 if born.year >= 2000 else 0) + next(_n) % 400),
                             municipality=bp.org.municipality, service=service)
    service_period_record(user=user, service=service, person=p, started_on=started_on, ended_on=ended_on)
    return p


def serve(bp: BP, p, service, *, started_on=datetime.date(2025, 6, 1), ended_on=None):
    user = bp.rus_worker if service == bp.rus else bp.nav_worker
    return service_period_record(user=user, service=service, person=p, started_on=started_on, ended_on=ended_on)


def make_round(bp: BP, *, open_=True, **overrides):
    fields = dict(user=bp.coordinator, coordinator_service=bp.coordination, title="BrukerPlan 2026", period_start=datetime.date(2026, 11, 1),
                  period_end=datetime.date(2026, 12, 31), reference_date=REFERENCE, deadline=datetime.date(2026, 12, 15), age_threshold=16,
                  services=[bp.rus, bp.nav])
    fields.update(overrides)
    round_ = svc.round_create(**fields)
    if open_:
        round_ = svc.round_open(user=bp.coordinator, round=round_)
    return round_


def levels(value=1, **overrides):
    return {area: overrides.get(area, value) for area in LifeArea.values}


def mapping_values(**overrides):
    values = dict(sex="female", has_children=False, levels=levels(), services_used=["gp"], expected_need=["work"], lar=False, tsb=True,
                  ansvarsgruppe="no", individual_plan="unknown")
    values.update(overrides)
    return values


def map_person(bp: BP, round_, service, p, *, reason="both", user=None, **overrides):
    user = user or (bp.rus_worker if service == bp.rus else bp.nav_worker)
    mapping = svc.mapping_scope_mark(user=user, round=round_, service=service, person_code=p.code, in_scope=True, reason=reason)
    return svc.mapping_save(user=user, mapping=mapping, version=mapping.version, **mapping_values(**overrides))
