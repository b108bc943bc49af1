"""Personas and objects for the referral pages (domain P6), built through the real services.

Personas on top of ``tests.factories.make_org`` (each a real user with a real membership):
- ``sender``: staff in Rådgivning rus og psykisk helse (low-threshold, registers contacts, refers on)
- ``coordinator``: staff in Psykisk helse og rus (rustjeneste: runs the routing queue)
- ``tildeling_staff``: staff in Tildelingskontoret (a catalogue service, 18+)
- ``rask_staff``: staff in Rask psykisk helsehjelp (a catalogue service, 16+)
- outsiders who must get 404: ``org.nav_staff``, ``org.slt_staff``, ``org.other_bh_staff``
"""
import datetime
from dataclasses import dataclass

from django.utils import timezone

from consent.models import Consent
from consent.services import consent_record
from org.models import Service
from referrals.models import CatalogueEntry, Contact, Referral, ReferralKind
from tests.factories import Org, make_org, make_service, member
from workflows.referral import services as svc


@dataclass
class ReferralOrg:
    org: Org
    radgivning: Service
    rus: Service
    tildeling: Service
    rask: Service
    sender: object
    coordinator: object
    tildeling_staff: object
    rask_staff: object

    @property
    def outsiders(self):
        return self.org.outsiders


def catalogue_entry(service, *, accepts, min_age=None, max_age=None, referral_required=True, **extra):
    entry, _ = CatalogueEntry.objects.update_or_create(
        service=service,
        defaults=dict(
            description=extra.pop("description", f"{service.name} tar imot henvisninger."), accepts=accepts,
            min_age=min_age, max_age=max_age, referral_required=referral_required,
            last_verified_at=timezone.localdate(), **extra,
        ),
    )
    return entry


def make_referral_org(number="9997") -> ReferralOrg:
    org = make_org(number)
    muni = org.municipality
    radgivning = make_service(muni, "Rådgivning rus og psykisk helse", Service.Kind.OTHER)
    rus = make_service(muni, "Psykisk helse og rus", Service.Kind.RUSTJENESTE)
    tildeling = make_service(muni, "Tildelingskontoret", Service.Kind.OTHER)
    rask = make_service(muni, "Rask psykisk helsehjelp", Service.Kind.OTHER)
    catalogue_entry(radgivning, accepts=[ReferralKind.SUBSTANCE, ReferralKind.MENTAL_HEALTH], min_age=18, referral_required=False,
                    opening_hours="Ekspedisjon 08.00–15.30")
    catalogue_entry(rus, accepts=[ReferralKind.SUBSTANCE, ReferralKind.SPECIALIST], min_age=16)
    catalogue_entry(tildeling, accepts=[ReferralKind.HOUSING, ReferralKind.SUBSTANCE], min_age=18, phone="67 50 00 00",
                    intake_notes="Søknad om helse- og omsorgstjenester; vedtak innen fire uker.")
    catalogue_entry(rask, accepts=[ReferralKind.MENTAL_HEALTH, ReferralKind.SUBSTANCE], min_age=16, referral_required=False,
                    capacity=CatalogueEntry.Capacity.WAITING_LIST)
    catalogue_entry(org.nav, accepts=[ReferralKind.WORK], min_age=16)
    return ReferralOrg(
        org=org, radgivning=radgivning, rus=rus, tildeling=tildeling, rask=rask,
        sender=member(radgivning), coordinator=member(rus), tildeling_staff=member(tildeling), rask_staff=member(rask),
    )


def make_contact(ro: ReferralOrg, *, given="Kari", age=34, summary="Ønsker hjelp med alkohol og bolig.") -> Contact:
    return svc.contact_register(user=ro.sender, service=ro.radgivning, given_name=given, approx_age=age, summary=summary)


def make_consent(ro: ReferralOrg, person, grantees=None) -> Consent:
    return consent_record(
        user=ro.sender, service=ro.radgivning, person=person, purpose=Consent.Purpose.REFERRAL,
        information="Navn, alder og hva henvisningen gjelder.",
        grantees=grantees or [ro.rus, ro.tildeling, ro.rask], valid_from=timezone.localdate() - datetime.timedelta(days=1),
        method=Consent.Method.VERBAL, given_by_person=True,
    )


def make_referral(ro: ReferralOrg, *, contact=None, to=None, via_coordinator=False, kind=ReferralKind.SUBSTANCE, consent=None) -> Referral:
    """A referral from Rådgivning, on consent: to ``to`` (default Tildelingskontoret) or to the routing queue."""
    contact = contact or make_contact(ro)
    consent = consent or make_consent(ro, contact.person)
    target = None if via_coordinator else (to or ro.tildeling)
    return svc.referral_send(
        user=ro.sender, sender_service=ro.radgivning, person=contact.person, kind=kind,
        reason="Trenger bolig og oppfølging for alkohol.", target_service=target,
        routing_service=ro.rus if via_coordinator else None, consent=consent, contact=contact,
    )
