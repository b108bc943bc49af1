"""Personas and dates of the forum tests.

Today is frozen at Tuesday 1 September 2026, 10:00 in Oslo (English active, so refusals read as
their msgids). Fjordvik's SLT coordinator (``slt``) runs the politiråd's working group, which meets
every six weeks; the police (``police``) and NAV (``nav_staff``) take part; the barnevern
caseworker (``org.caseworker``) does not, and gets 404 everywhere.
"""
import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from insights import forums as svc
from insights.models import Forum
from org.models import Membership, Service
from tests.factories import make_service, member

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime.datetime(2026, 9, 1, 10, 0, tzinfo=OSLO)
FIRST = datetime.datetime(2026, 9, 15, 13, 0, tzinfo=OSLO)  # a Tuesday
HOUR = datetime.timedelta(hours=1)


def at(*args):
    return datetime.datetime(*args, tzinfo=OSLO)


@dataclass
class Forums:
    org: object
    police_service: Service
    forum: Forum
    slt: object  # the SLT coordinator: runs the forum
    slt_leader: object
    police: object  # a police officer: a member service's staff
    nav_staff: object  # NAV: a member too, reads but does not change


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        with translation.override("en"):
            yield


def make_forum(org, *, recurrence=Forum.Recurrence.SIX_WEEKS, every_weeks=None, kind=Forum.Kind.POLITIRAD_WORKING_GROUP,
               name="Arbeidsutvalget for politirådet", members=None, police_service=None) -> Forum:
    police_service = police_service or Service.objects.get(municipality=org.municipality, kind=Service.Kind.POLITI)
    return svc.forum_create(user=org.slt_staff, owner=org.slt, municipality=org.municipality, kind=kind, name=name,
                            recurrence=recurrence, every_weeks=every_weeks,
                            members=members if members is not None else [police_service, org.nav])


@pytest.fixture
def fo(org, frozen) -> Forums:
    police_service = make_service(org.municipality, "Fjordvik politistasjon", Service.Kind.POLITI, Service.Owner.STATE)
    police = member(police_service)
    slt_leader = member(org.slt, role=Membership.Role.LEADER)
    forum = make_forum(org, police_service=police_service)
    return Forums(org=org, police_service=police_service, forum=forum, slt=org.slt_staff, slt_leader=slt_leader, police=police,
                  nav_staff=org.nav_staff)


def schedule(fo, *, starts=FIRST, hours=2, until=None, forum=None):
    return svc.meetings_schedule(user=fo.slt, forum=forum or fo.forum, starts_at=starts, ends_at=starts + hours * HOUR,
                                 place="Rådhuset, møterom 2", until=until)
