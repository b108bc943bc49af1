"""Persons, guardians, consents and a referral for the consent page tests (through the real services)."""
import datetime
import itertools
from dataclasses import dataclass

from django.utils import timezone

from consent.models import Consent
from consent.services import consent_record
from org.models import Membership, Service
from people.models import Guardianship, Person
from referrals.models import CatalogueEntry, ReferralKind
from people.services import person_get_or_create
from people.validators import synthetic_national_id
from tests.factories import Org, make_service, member
from workflows.referral.services import referral_send

_seq = itertools.count(1)
_handed_out: set[str] = set()


_BARNEHAGE = object()


def person_aged(org: Org, years: int, *, given="Nora", family="Berg", service=_BARNEHAGE) -> Person:
    """A person exactly ``years`` old all year today (born 1 January), registered by the barnehage
    (which then holds its record of the name) unless ``service`` says otherwise (None: no record)."""
    birth = datetime.date(timezone.localdate().year - years, 1, 1)
    # Neighbouring starts can reach the same valid number (synthetic_national_id skips the individual
    # numbers without check digits): a number already handed out is the same person, so move past it.
    number = synthetic_national_id(birth, start=(100 if birth.year < 2000 else 500) + next(_seq))
    while number in _handed_out:
        number = synthetic_national_id(birth, start=int(number[6:9]) + 1)
    _handed_out.add(number)
    return person_get_or_create(
        user=org.reporter, given_name=given, family_name=family,
        national_id=number, municipality=org.municipality,
        service=org.barnehage if service is _BARNEHAGE else service,
    )


def guardians_for(org: Org, child: Person) -> list[Person]:
    # Guardians as the population register links them: no service registered their names.
    mother = person_aged(org, 40, given="Kari", family="Berg", service=None)
    father = person_aged(org, 42, given="Ola", family="Berg", service=None)
    for g in (mother, father):
        Guardianship.objects.create(child=child, guardian=g)
    return [mother, father]


def record(org: Org, person: Person, *, user=None, service=None, grantees=None, **overrides) -> Consent:
    fields = dict(
        user=user or org.reporter, service=service or org.barnehage, person=person, purpose=Consent.Purpose.REFERRAL,
        information="Henvisningen og det som trengs for å følge den opp.", grantees=grantees or [org.skole],
        valid_from=timezone.localdate(), method=Consent.Method.SIGNED,
    )
    fields.update(overrides)
    return consent_record(**fields)


@dataclass
class Recipient:
    service: Service
    staff: object
    leader: object


def recipient_service(org: Org) -> Recipient:
    """A catalogue service taking mental-health referrals for ages 12–25, with a staff member and a leader."""
    service = make_service(org.municipality, "Rask psykisk helsehjelp", Service.Kind.OTHER)
    entry = CatalogueEntry.objects.create(
        service=service, description="Lavterskel psykisk helsehjelp.", accepts=[ReferralKind.MENTAL_HEALTH], min_age=12, max_age=25,
    )
    entry.areas.add(org.municipality)
    return Recipient(service=service, staff=member(service), leader=member(service, role=Membership.Role.LEADER))


def send_referral(org: Org, person: Person, consent: Consent, recipient: Recipient):
    return referral_send(
        user=org.teacher, sender_service=org.skole, person=person, kind=ReferralKind.MENTAL_HEALTH,
        reason="Trenger noen å snakke med.", target_service=recipient.service, consent=consent,
    )


def log_reads(person: Person, rows) -> None:
    """Append access-log rows about ``person`` at given moments, in one INSERT (the log's bulk path,
    hash-chained as any other): ``rows`` of (user, service, action, purpose, at)."""
    from audit.services import access_log_entry, access_log_write_many

    entries = []
    for user, service, action, purpose, at in rows:
        entry = access_log_entry(user=user, action=action, obj=person, person=person, purpose=purpose, service=service)
        entry.at = at
        entries.append(entry)
    access_log_write_many(entries)
