"""The youth contract scenario shared by the service, view and reminder tests.

Today is frozen at Tuesday 1 September 2026, 10:00 (English active, so messages read as source).
Personas (real users, memberships and groups; no mocked permission checks):
- ``officer``: the police contact in Fjordvik politistasjon, who initiates police contracts
- ``nurse`` / ``nurse_leader``: HFU (Helsestasjon for ungdom), the follow-up service
- ``other_officer``: another police station's officer, an outsider
- the shared Org's caseworker (barnevern), nav_staff, slt_staff: outsiders who must get 404
- Emil, 16 (born 15 June 2010), with his mother Kari as registered guardian
"""
import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone, translation

from org.models import Membership, Service
from referrals.models import ContractTemplate
from tests.factories import make_child, make_consent, make_guardian, make_service, member
from workflows.youth_contract import services as svc

NOW = datetime.datetime(2026, 9, 1, 10, 0, tzinfo=ZoneInfo("Europe/Oslo"))
TODAY = NOW.date()


@dataclass
class Youth:
    police: Service
    other_police: Service
    hfu: Service
    officer: object
    other_officer: object
    nurse: object
    nurse_leader: object


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        with translation.override("en"):
            yield


@pytest.fixture
def yc(org) -> Youth:
    muni = org.municipality
    police = make_service(muni, "Fjordvik politistasjon", Service.Kind.POLITI, Service.Owner.STATE)
    other_police = make_service(muni, "Nabodalen politistasjon", Service.Kind.POLITI, Service.Owner.STATE)
    hfu = make_service(muni, "Helsestasjon for ungdom (HFU)", Service.Kind.HELSESTASJON)
    return Youth(police=police, other_police=other_police, hfu=hfu, officer=member(police), other_officer=member(other_police),
                 nurse=member(hfu), nurse_leader=member(hfu, role=Membership.Role.LEADER))


def police_template():
    return ContractTemplate.objects.get(code="politi-ungdomskontrakt")


def voluntary_template():
    return ContractTemplate.objects.get(code="frivillig-ungdomskontrakt")


def young_person(org, yc, *, birth=datetime.date(2010, 6, 15), given="Emil", start=600):
    """A young person registered by the police, with a registered guardian."""
    person = make_child(org, birth=birth, given=given, family="Strand", start=start, service=yc.police)
    guardian = make_guardian(person)
    return person, guardian


def youth_consent(yc, person, guardian, *, service=None, user=None, grantees=None):
    return make_consent(user=user or yc.officer, service=service or yc.police, person=person, purpose="youth_contract",
                        grantees=grantees or [yc.hfu, yc.police], given_by_person=True, guardians=[guardian] if guardian else [])


def initiate(org, yc, *, person=None, guardian=None, template=None, decision=None, starts_on=None, **extra):
    if person is None:
        person, guardian = young_person(org, yc)
    template = template or police_template()
    starts_on = starts_on or timezone.localdate()
    fields = dict(
        user=yc.officer, initiating_service=yc.police, template=template, person=person, followup_service=yc.hfu,
        consent=youth_consent(yc, person, guardian), starts_on=starts_on,
        police_decision_on=decision or (starts_on if template.variant == "police" else None), guardians=[guardian] if guardian else [],
    )
    fields.update(extra)
    return svc.contract_initiate(**fields)


def sign_all(contract, yc):
    for party in contract.parties.all():
        svc.contract_sign(contract=contract, user=yc.nurse, party_code=party.code, method="signed", signed_on=TODAY)


def active_contract(org, yc, **extra):
    contract = initiate(org, yc, **extra)
    sign_all(contract, yc)
    return svc.contract_activate(contract=contract, user=yc.nurse)
