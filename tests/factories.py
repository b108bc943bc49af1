"""Factories for the shared personas and for concerns in any state (through the real services)."""
import datetime
import itertools
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from org.models import Membership, Municipality, Service
from referrals.models import Concern
from org.services import membership_set
from people.services import person_get_or_create
from people.validators import synthetic_national_id
from workflows.concern import services as svc

_seq = itertools.count(1)
_child_seq = itertools.count(0)


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


def make_child(org: Org, *, birth=datetime.date(2020, 1, 15), start=500, given="Emma", family="Test", service=None):
    """A child registered by the barnehage (or ``service``), which then holds its record of the name."""
    return person_get_or_create(
        user=org.reporter, given_name=given, family_name=family,
        national_id=synthetic_national_id(birth, start=start), municipality=org.municipality,
        service=service or org.barnehage,
    )


def next_child_identity() -> dict:
    """Birth date and individual-number start for a fresh child: a different birth date per call,
    so a long test session never runs out of individual numbers (there are only 500 per date)."""
    n = next(_child_seq)
    return {"birth": datetime.date(2015, 1, 1) + datetime.timedelta(days=n % 3000), "start": 500 + 10 * (n // 3000)}


def make_melding(org: Org, *, child=None, submit=True, **overrides) -> Concern:
    child = child or make_child(org, **next_child_identity())
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


# --- consent and the service catalogue (issue #3) ----------------------------------------------


def make_guardian(child, *, given="Kari", family="Forelder", birth=datetime.date(1985, 4, 2), start=None):
    """A person registered as ``child``'s guardian (parent with parental responsibility).

    Without ``start`` a new person with the next free identity number is made.
    """
    from people.models import Guardianship, Person

    individual = start if start is not None else 100
    number = synthetic_national_id(birth, start=individual)
    while start is None and Person.objects.filter(national_id=number).exists():
        individual = int(number[6:9]) + 1
        number = synthetic_national_id(birth, start=individual)
    guardian = Person.objects.filter(national_id=number).first() or Person.objects.create(
        given_name=given, family_name=family, national_id=number, id_kind=Person.IdKind.FNR, birth_date=birth,
        municipality=child.municipality,
    )
    Guardianship.objects.get_or_create(child=child, guardian=guardian)
    return guardian


def make_catalogue(service, *, accepts=("substance", "mental_health"), min_age=None, max_age=None, areas=(), capacity="open", **extra):
    """The service's catalogue entry (what it receives, for which ages and areas, capacity)."""
    from referrals.models import CatalogueEntry

    entry = CatalogueEntry.objects.create(
        service=service, description=extra.pop("description", f"{service.name} tar imot henvisninger."),
        accepts=list(accepts), min_age=min_age, max_age=max_age, capacity=capacity,
        last_verified_at=extra.pop("last_verified_at", datetime.date(2026, 1, 5)), **extra,
    )
    entry.areas.set(areas)
    return entry


def make_consent(*, user, service, person, grantees, purpose="referral", domain="health", given_by_person=True, guardians=(),
                 valid_from=None, valid_to=None, method="verbal", information="Henvisningen og kontaktopplysninger."):
    """A consent recorded through ``consent_record`` (so it obeys the same rules as the UI)."""
    from django.utils import timezone

    from consent.services import consent_record

    return consent_record(
        user=user, service=service, person=person, purpose=purpose, information=information, grantees=list(grantees),
        valid_from=valid_from or timezone.localdate(), valid_to=valid_to, method=method,
        given_by_person=given_by_person, guardians=list(guardians), domain=domain,
    )


@dataclass
class ReferralServices:
    """Health and substance services around the shared Org (domain P6).

    - ``nurse``: staff in Skolehelsetjenesten (records consents, sends referrals)
    - ``coordinator`` / ``rus_leader``: Rådgivning rus og psykisk helse (routes referrals)
    - ``rask_staff`` / ``rask_leader``: Rask psykisk helsehjelp (catalogue: from 16 years)
    - ``tildeling_staff`` / ``tildeling_leader``: Tildelingskontoret (catalogue: all ages)
    """

    helse: Service
    rus: Service
    rask: Service
    tildeling: Service
    nurse: object
    coordinator: object
    rus_leader: object
    rask_staff: object
    rask_leader: object
    tildeling_staff: object
    tildeling_leader: object


def make_referral_services(org: Org) -> ReferralServices:
    muni = org.municipality
    helse = make_service(muni, "Skolehelsetjenesten", Service.Kind.SKOLEHELSETJENESTE)
    rus = make_service(muni, "Rådgivning rus og psykisk helse", Service.Kind.RUSTJENESTE)
    rask = make_service(muni, "Rask psykisk helsehjelp", Service.Kind.OTHER)
    tildeling = make_service(muni, "Tildelingskontoret", Service.Kind.OTHER)
    make_catalogue(rus, accepts=("substance", "mental_health", "drug_testing"), areas=[muni])
    make_catalogue(rask, accepts=("mental_health", "substance"), min_age=16, areas=[muni])
    make_catalogue(tildeling, accepts=("housing", "substance"), areas=[muni])
    leader = Membership.Role.LEADER
    return ReferralServices(
        helse=helse, rus=rus, rask=rask, tildeling=tildeling, nurse=member(helse),
        coordinator=member(rus), rus_leader=member(rus, role=leader),
        rask_staff=member(rask), rask_leader=member(rask, role=leader),
        tildeling_staff=member(tildeling), tildeling_leader=member(tildeling, role=leader),
    )
