"""Factories for the shared personas and for concerns in any state (through the real services)."""
import datetime
import itertools
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from referrals.models import Concern, Membership, Municipality, Service
from referrals.services import membership_set, person_get_or_create
from referrals.validators import synthetic_national_id
from workflows.services import concern as svc

_seq = itertools.count(1)


def make_user(username=None, **extra):
    User = get_user_model()
    username = username or f"user{next(_seq)}"
    user = User.objects.create_user(username=username, password="pw", email=f"{username}@example.test", **extra)
    return user


def make_service(municipality, name, kind, owner=Service.Owner.MUNICIPAL):
    return Service.objects.create(municipality=municipality, name=name, kind=kind, owner=owner)


def member(service, username=None, role=Membership.Role.STAFF):
    user = make_user(username)
    membership_set(user=user, service=service, role=role)
    return user


@dataclass
class Org:
    municipality: Municipality
    barnehage: Service
    other_barnehage: Service
    skole: Service
    barnevern: Service
    nav: Service
    slt: Service
    reporter: object
    reporter_leader: object
    teacher: object
    caseworker: object
    bv_leader: object
    nav_staff: object
    slt_staff: object
    other_bh_staff: object
    extra: dict = field(default_factory=dict)

    @property
    def outsiders(self):
        return {"nav_staff": self.nav_staff, "slt_staff": self.slt_staff, "other_bh_staff": self.other_bh_staff}


def make_org(number="9998") -> Org:
    muni = Municipality.objects.create(name=f"Testkommune {number}", number=number)
    bh = make_service(muni, "Solsiden barnehage", Service.Kind.BARNEHAGE)
    bh2 = make_service(muni, "Eventyrskogen barnehage", Service.Kind.BARNEHAGE, Service.Owner.PRIVATE)
    skole = make_service(muni, "Fjordvik skole", Service.Kind.SKOLE)
    bv = make_service(muni, "Barneverntjenesten", Service.Kind.BARNEVERN)
    nav = make_service(muni, "NAV", Service.Kind.NAV, Service.Owner.STATE)
    slt = make_service(muni, "SLT", Service.Kind.SLT)
    return Org(
        municipality=muni, barnehage=bh, other_barnehage=bh2, skole=skole, barnevern=bv, nav=nav, slt=slt,
        reporter=member(bh), reporter_leader=member(bh, role=Membership.Role.LEADER), teacher=member(skole),
        caseworker=member(bv), bv_leader=member(bv, role=Membership.Role.LEADER),
        nav_staff=member(nav), slt_staff=member(slt), other_bh_staff=member(bh2),
    )


def make_child(org: Org, *, birth=datetime.date(2020, 1, 15), start=500, given="Emma", family="Test"):
    return person_get_or_create(
        user=org.reporter, given_name=given, family_name=family,
        national_id=synthetic_national_id(birth, start=start), municipality=org.municipality,
    )


def make_melding(org: Org, *, child=None, submit=True, **overrides) -> Concern:
    child = child or make_child(org, start=500 + next(_seq))
    fields = dict(
        user=org.reporter, kind=Concern.Kind.MELDING, reporting_service=org.barnehage, receiving_service=org.barnevern,
        observations="Far virket beruset ved henting.", categories=[Concern.Category.PARENT_INTOXICATED],
        person=child, parents_informed=True, child_informed=True,
    )
    fields.update(overrides)
    concern = svc.concern_draft_create(**fields)
    if submit:
        concern = svc.concern_submit(concern=concern, user=fields["user"])
    return concern


def make_consultation(org: Org, *, submit=True, **overrides) -> Concern:
    fields = dict(
        user=org.reporter, kind=Concern.Kind.CONSULTATION, reporting_service=org.barnehage, receiving_service=org.barnevern,
        observations="En jente på 5 år sier at mamma sover hele dagen.", categories=[Concern.Category.PARENTAL_SUBSTANCE_USE],
        child_age=5,
    )
    fields.update(overrides)
    concern = svc.concern_draft_create(**fields)
    if submit:
        concern = svc.concern_submit(concern=concern, user=fields["user"])
    return concern


def advance(concern: Concern, org: Org, to: str) -> Concern:
    """Move a submitted melding on to ``received``, ``investigating``, ``closed`` or ``investigated``."""
    steps = {
        "received": [lambda c: svc.concern_confirm_receipt(concern=c, user=org.caseworker)],
        "investigating": ["received", lambda c: svc.concern_review(concern=c, user=org.caseworker, decision="investigate")],
        "closed": ["received", lambda c: svc.concern_review(concern=c, user=org.caseworker, decision="close", justification="Ingen grunn.")],
        "investigated": ["investigating", lambda c: svc.concern_conclude_investigation(concern=c, user=org.caseworker, outcome="closed")],
    }
    for step in steps[to]:
        concern = advance(concern, org, step) if isinstance(step, str) else step(concern)
    return Concern.objects.get(pk=concern.pk)
