"""The demo municipality: services, one user per role, and concerns in several states.

Only for demo mode: the users have the known password "demo".
"""
import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from referrals.models import Concern, Membership, Municipality, Person, Service
from referrals.services import membership_set, person_get_or_create
from referrals.validators import synthetic_national_id
from workflows.services import concern as svc

DEMO_PASSWORD = "demo"

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
    ("slt", "Sara", "SLT-koordinator", "slt", Membership.Role.STAFF),
]


@transaction.atomic
def seed_demo(*, with_concerns: bool = True) -> dict:
    """Create (or keep) the demo municipality. Idempotent. Refuses outside demo mode."""
    if not getattr(settings, "DEMO_MODE", False) and not getattr(settings, "EMBEDDED", False):
        raise ImproperlyConfigured("Demo data is only created in demo mode (DJANGO_DEMO=1).")
    User = get_user_model()
    muni, _ = Municipality.objects.get_or_create(number="9999", defaults={"name": "Fjordvik kommune"})
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

    if with_concerns and not Concern.objects.exists():
        _seed_concerns(services, users, muni)
    return {"municipality": muni, "services": services, "users": users}


def _child(user, muni, service, given, family, birth):
    return person_get_or_create(
        user=user, given_name=given, family_name=family, national_id=synthetic_national_id(birth), municipality=muni, service=service,
    )


def _seed_concerns(services, users, muni):
    bh, sk, bv = users["barnehage"], users["skole"], users["barnevern"]
    sol, skole, barnevern = services["solsiden"], services["fjordvik_skole"], services["barnevern"]

    def melding(user, service, child, text, categories, urgency=Concern.Urgency.NORMAL):
        return svc.concern_draft_create(
            user=user, kind=Concern.Kind.MELDING, reporting_service=service, receiving_service=barnevern,
            observations=text, categories=categories, urgency=urgency, person=child,
            parents_informed=True, child_informed=False, not_informed_reason="Barnet er for lite til å forstå.",
        )

    emma = _child(bh, muni, sol, "Emma", "Demo", datetime.date(2021, 3, 14))
    noah = _child(bh, muni, sol, "Noah", "Demo", datetime.date(2020, 9, 2))
    ida = _child(sk, muni, skole, "Ida", "Demo", datetime.date(2014, 5, 21))
    jonas = _child(sk, muni, skole, "Jonas", "Demo", datetime.date(2013, 11, 30))

    # A draft not yet sent.
    melding(bh, sol, noah, "Noah virker sliten og sulten flere morgener i uka.", [Concern.Category.NEGLECT])
    # Sent, waiting for receipt.
    c = melding(bh, sol, emma, "Mor virket påvirket ved henting fredag. Bilen sto på tomgang.",
                [Concern.Category.PARENT_INTOXICATED, Concern.Category.PARENTAL_SUBSTANCE_USE], Concern.Urgency.URGENT)
    svc.concern_submit(concern=c, user=bh)
    # Received, awaiting review.
    c = melding(sk, skole, ida, "Ida har hatt stort fravær og forteller om krangling hjemme.", [Concern.Category.NEGLECT])
    svc.concern_submit(concern=c, user=sk)
    svc.concern_confirm_receipt(concern=c, user=bv)
    # Under investigation, initial feedback sent.
    c = melding(sk, skole, jonas, "Jonas kom til skolen med blåmerker og sier han er redd for å gå hjem.", [Concern.Category.VIOLENCE], Concern.Urgency.URGENT)
    svc.concern_submit(concern=c, user=sk)
    svc.concern_confirm_receipt(concern=c, user=bv)
    svc.concern_review(concern=c, user=bv, decision=Concern.ReviewDecision.INVESTIGATE)
    svc.concern_send_feedback(concern=c, user=bv, kind="initial")
    # Closed after review, with justification and feedback.
    c = melding(bh, sol, noah, "Noah var lei seg etter helgen (tidligere melding).", [Concern.Category.OTHER])
    svc.concern_submit(concern=c, user=bh)
    svc.concern_confirm_receipt(concern=c, user=bv)
    svc.concern_review(concern=c, user=bv, decision=Concern.ReviewDecision.CLOSE, justification="Samtale med foreldre; ingen grunn til undersøkelse.")
    svc.concern_send_feedback(concern=c, user=bv, kind="initial")
    # An anonymous consultation answered with advice.
    c = svc.concern_draft_create(
        user=bh, kind=Concern.Kind.CONSULTATION, reporting_service=sol, receiving_service=barnevern,
        observations="En gutt på 4 år forteller om at pappa «sover på sofaen hele dagen». Hva bør vi gjøre?",
        categories=[Concern.Category.PARENTAL_SUBSTANCE_USE], child_age=4,
    )
    svc.concern_submit(concern=c, user=bh)
    svc.consultation_answer(concern=c, user=bv, advice="Snakk med far ved henting, og send melding hvis dette gjentar seg.")
    # An anonymous consultation waiting for an answer.
    c = svc.concern_draft_create(
        user=sk, kind=Concern.Kind.CONSULTATION, reporting_service=skole, receiving_service=barnevern,
        observations="En elev i 7. klasse lukter alkohol etter helgene. Vi ønsker å drøfte saken.",
        categories=[Concern.Category.CHILD_SUBSTANCE_USE], child_age=12,
    )
    svc.concern_submit(concern=c, user=sk)
