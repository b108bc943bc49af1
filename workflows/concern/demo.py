"""The concern process's demo cases: meldinger in several states and two anonymous consultations."""
import datetime

from people.services import person_get_or_create
from people.validators import synthetic_national_id
from referrals.models import Concern
from workflows.concern import services as svc


def seed(seeded: dict) -> None:
    """Seed the demo concerns once (nothing when any concern exists)."""
    if not Concern.objects.exists():
        _seed_concerns(seeded["services"], seeded["users"], seeded["municipality"])


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
