"""The demo municipality: its services and one user per role; each process seeds its own cases
(``workflows/<process>/demo.py``, run through the registry).

Only for demo mode: the users have the known password "demo".
"""
import contextlib
import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from org.models import Membership, Municipality, Service
from org.services import membership_set

DEMO_PASSWORD = "demo"
DEMO_EMERGENCY_PHONE = "12 34 56 78"

SERVICES = [
    # key, name, kind, owner
    ("solsiden", "Solsiden barnehage", Service.Kind.BARNEHAGE, Service.Owner.MUNICIPAL),
    ("eventyr", "Eventyrskogen barnehage", Service.Kind.BARNEHAGE, Service.Owner.PRIVATE),
    ("fjordvik_skole", "Fjordvik skole", Service.Kind.SKOLE, Service.Owner.MUNICIPAL),
    ("fjordvik_us", "Fjordvik ungdomsskole", Service.Kind.SKOLE, Service.Owner.MUNICIPAL),
    ("barnevern", "Barneverntjenesten i Fjordvik", Service.Kind.BARNEVERN, Service.Owner.MUNICIPAL),
    ("helsestasjon", "Helsestasjonen og skolehelsetjenesten", Service.Kind.HELSESTASJON, Service.Owner.MUNICIPAL),
    ("rus", "Psykisk helse og rus", Service.Kind.RUSTJENESTE, Service.Owner.MUNICIPAL),
    ("nav", "NAV Fjordvik", Service.Kind.NAV, Service.Owner.STATE),
    ("slt", "SLT Fjordvik", Service.Kind.SLT, Service.Owner.MUNICIPAL),
    ("radgivning", "Rådgivning rus og psykisk helse", Service.Kind.OTHER, Service.Owner.MUNICIPAL),
    ("tildeling", "Tildelingskontoret", Service.Kind.OTHER, Service.Owner.MUNICIPAL),
    ("rask", "Rask psykisk helsehjelp", Service.Kind.OTHER, Service.Owner.MUNICIPAL),
    ("hfu", "Helsestasjon for ungdom (HFU)", Service.Kind.HELSESTASJON, Service.Owner.MUNICIPAL),
    ("legesenter", "Fjordvik legesenter", Service.Kind.FASTLEGE, Service.Owner.PRIVATE),
    ("tsb", "TSB-poliklinikken, Fjordvik DPS", Service.Kind.OTHER, Service.Owner.STATE),
    ("politi", "Fjordvik politistasjon", Service.Kind.POLITI, Service.Owner.STATE),
    ("personvern", "Personvernombudet i Fjordvik", Service.Kind.PERSONVERN, Service.Owner.MUNICIPAL),
    # Runs the municipality's BrukerPlan rounds (workflows/brukerplan/demo.py): sees counts and the report, no person.
    ("brukerplan", "BrukerPlan-koordinering", Service.Kind.OTHER, Service.Owner.MUNICIPAL),
]

USERS = [
    # username, first, last, service key, role
    ("barnehage", "Berit", "Barnehagelærer", "solsiden", Membership.Role.STAFF),
    ("barnehage-styrer", "Siri", "Styrer", "solsiden", Membership.Role.LEADER),
    ("skole", "Svein", "Kontaktlærer", "fjordvik_skole", Membership.Role.STAFF),
    ("barnevern", "Bente", "Saksbehandler", "barnevern", Membership.Role.STAFF),
    ("barnevern-leder", "Lars", "Barnevernleder", "barnevern", Membership.Role.LEADER),
    ("helsesykepleier", "Hanne", "Helsesykepleier", "helsestasjon", Membership.Role.STAFF),
    ("ruskoordinator", "Rune", "Ruskoordinator", "rus", Membership.Role.STAFF),
    ("koordinator", "Kari", "Koordinator", "rus", Membership.Role.STAFF),
    ("slt", "Sara", "SLT-koordinator", "slt", Membership.Role.STAFF),
    ("radgiver", "Randi", "Rådgiver", "radgivning", Membership.Role.STAFF),
    ("tildeling", "Tor", "Saksbehandler", "tildeling", Membership.Role.STAFF),
    ("tildeling-leder", "Tone", "Avdelingsleder", "tildeling", Membership.Role.LEADER),
    ("rask", "Rita", "Psykolog", "rask", Membership.Role.STAFF),
    ("hfu", "Helga", "Helsesykepleier", "hfu", Membership.Role.STAFF),
    ("nav", "Nils", "Veileder", "nav", Membership.Role.STAFF),
    ("tsb", "Trude", "Inntaksansvarlig", "tsb", Membership.Role.STAFF),
    ("politi", "Petter", "Politibetjent", "politi", Membership.Role.STAFF),
    ("personvern", "Per", "Personvernombud", "personvern", Membership.Role.STAFF),
    # A leader: a service late at the deadline is escalated to the coordinating service's leaders.
    ("brukerplan", "Bodil", "BrukerPlan-koordinator", "brukerplan", Membership.Role.LEADER),
]


@transaction.atomic
def seed_demo(*, skip: tuple[str, ...] = ()) -> dict:
    """Create (or keep) the demo municipality, then each registered process's demo cases (except the
    processes named in ``skip``). Idempotent. Refuses outside demo mode."""
    if not getattr(settings, "DEMO_MODE", False) and not getattr(settings, "EMBEDDED", False):
        raise ImproperlyConfigured("Demo data is only created in demo mode (DJANGO_DEMO=1).")
    User = get_user_model()
    muni, _ = Municipality.objects.get_or_create(number="9999", defaults={"name": "Fjordvik kommune"})
    if not muni.emergency_phone:
        # A made-up number: the demo's barnevernvakt, shown on an acute concern next to 112.
        muni.emergency_phone = DEMO_EMERGENCY_PHONE
        muni.save(update_fields=["emergency_phone"])
    services = {}
    for key, name, kind, owner in SERVICES:
        services[key], _ = Service.objects.get_or_create(
            municipality=muni, name=name, defaults={"kind": kind, "owner": owner, "email": f"{key}@fjordvik.example"}
        )
    users = {}
    for username, first, last, skey, role in USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@fjordvik.example"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        membership_set(user=user, service=services[skey], role=role)
        users[username] = user
    admin, created = User.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True, "email": "admin@fjordvik.example"}
    )
    if created:
        admin.set_password(DEMO_PASSWORD)
        admin.save(update_fields=["password"])
    users["admin"] = admin

    seeded = {"municipality": muni, "services": services, "users": users}
    # Each process seeds its own cases (its ``demo`` hook in workflows/processes.py), in registry order.
    from workflows.processes import processes

    for process in processes():
        if process.name not in skip:
            process.demo_seeder()(seeded)
    return seeded


def days_ago(days):
    """Run the block as if it were ``days`` days ago, so the demo has history and overdue deadlines."""
    if not days:
        return contextlib.nullcontext()
    import time_machine
    from django.utils import timezone

    return time_machine.travel(timezone.now() - datetime.timedelta(days=days), tick=True)


def years_ago(day, years):
    return day.replace(year=day.year - years, day=28 if (day.month, day.day) == (2, 29) else day.day)
