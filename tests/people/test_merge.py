"""A person merge leaves no row pointing at the merged person (issue 13, point 7).

Today is frozen at Tuesday 1 September 2026, 10:00. The persons and services:
- "Kim", about 17: a minimal contact (first name and age) the coordinator in Rådgivning rus og
  psykisk helse registered; he consented, was referred to Rask psykisk helsehjelp, the teacher in
  Fjordvik skole filed a melding about him, the privacy function holds an access request naming him,
  NAV's staff opened an emergency access to his referral, and the guardianships below name him
- Kim Berg, 17: the same young man, registered by Fjordvik skole with his identity number
- Lise Berg: Kim Berg's mother, registered as guardian of both records (a duplicate after the merge)
- Per Hansen: a verge appointed for "Kim" only (moves to Kim Berg)
- Mia, 1: Kim's daughter, "Kim" registered as her guardian (moves), and a consent the health
  service recorded for her, given by "Kim"
- a registration error: "Kim" recorded as Kim Berg's guardian (dropped: nobody is their own guardian)

The walk over the tables is generic: every foreign key and many-to-many to people.Person in every
installed model, so a table added later is covered without touching this test.
"""
import datetime

import pytest
from django.apps import apps
from django.utils import timezone

from audit.models import AccessLog
from consent.models import AccessRequest, Consent
from org.models import Service
from people.models import Guardianship, Person, PersonRecord
from people.services import person_get_or_create, person_merge
from people.validators import synthetic_national_id
from referrals.models import Concern, Contact, ContractParty, ContractTemplate, IndividualPlan, PlanOffer, PlanParticipant, Referral, YouthContract
from tests.factories import make_child, make_consent, make_melding, make_service, member
from tests.referral_scenario import frozen_now, svc  # noqa: F401 (fixtures)
from workflows.referral.services import contact_register, person_identify, referral_send
from workflows.services.break_glass import break_glass_open

KEPT = {"audit.AccessLog.person"}  # append-only and hash-chained: says whom a read concerned then


def person_keys():
    """(model, field name, kind) of every foreign key and many-to-many to a person, in every installed
    model, auto-created many-to-many tables included."""
    keys = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields():
            if not (field.is_relation and field.concrete and field.related_model is Person):
                continue
            kind = "m2m" if field.many_to_many else "fk"
            keys.append((model, field.name, kind))
    return keys


def pointing_at(person) -> dict[str, int]:
    """``{"app.Model.field": rows}`` for every key to a person that has rows pointing at ``person``."""
    counts = {}
    for model, name, _kind in person_keys():
        rows = model._base_manager.filter(**{name: person}).count()
        if rows:
            counts[f"{model._meta.label}.{name}"] = rows
    return counts


def person(org, given, family, birth, start, service=None):
    return person_get_or_create(user=org.reporter, given_name=given, family_name=family, birth_date=None,
                                national_id=synthetic_national_id(birth, start=start), municipality=org.municipality, service=service)


@pytest.fixture
def kim_berg(org):
    return make_child(org, birth=datetime.date(2009, 5, 4), start=600, given="Kim", family="Berg", service=org.skole)


@pytest.fixture
def contact(svc):
    return contact_register(user=svc.coordinator, service=svc.rus, given_name="Kim", approx_age=17, summary="Ringte om hasj.")


@pytest.fixture
def family(org, kim_berg, contact):
    """Lise, Per and Mia, with the guardianships described at the top."""
    minimal = contact.person
    lise = person(org, "Lise", "Berg", datetime.date(1985, 2, 3), 100)
    per = person(org, "Per", "Hansen", datetime.date(1970, 6, 7), 100)
    mia = person(org, "Mia", "", datetime.date(2025, 5, 1), 500)
    Guardianship.objects.create(child=kim_berg, guardian=lise)
    Guardianship.objects.create(child=minimal, guardian=lise)
    Guardianship.objects.create(child=minimal, guardian=per, kind=Guardianship.Kind.GUARDIAN)
    Guardianship.objects.create(child=mia, guardian=minimal)
    Guardianship.objects.create(child=kim_berg, guardian=minimal)
    return {"lise": lise, "per": per, "mia": mia}


@pytest.fixture
def everywhere(org, svc, contact, family):
    """"Kim" in a row of every table that can hold a person."""
    minimal = contact.person
    consent = make_consent(user=svc.coordinator, service=svc.rus, person=minimal, grantees=[svc.rask])
    referral = referral_send(user=svc.coordinator, sender_service=svc.rus, person=minimal, kind="substance",
                             reason="Vil ha hjelp til å slutte.", target_service=svc.rask, consent=consent, contact=contact)
    make_melding(org, child=minimal, user=org.teacher, reporting_service=org.skole)
    make_consent(user=svc.nurse, service=svc.helse, person=family["mia"], grantees=[svc.rask], given_by_person=False,
                 guardians=[minimal])
    privacy = make_service(org.municipality, "Personvernombudet", Service.Kind.PERSONVERN)
    # The privacy function registers a request by identity number only; a minimal person's request
    # cannot come through it, but the table holds persons and the merge must cover it all the same.
    AccessRequest.objects.create(reference="2026/123", person=minimal, received_on=timezone.localdate(),
                                 due_on=timezone.localdate() + datetime.timedelta(days=30),
                                 registered_by=member(privacy), registered_by_service=privacy)
    break_glass_open(user=org.nav_staff, kind="referral", reference=str(referral.code),
                     justification="Akutt: han er savnet og politiet spør etter siste kontakt.", minutes=30)
    # A youth contract's rows as its tables hold them (the process's own rules are tested with it).
    template = ContractTemplate.objects.get(variant=ContractTemplate.Variant.VOLUNTARY)
    today = timezone.localdate()
    contract = YouthContract.objects.create(
        template=template, variant=template.variant, person=minimal, initiating_service=svc.helse,
        followup_service=svc.helse, created_by=svc.nurse, starts_on=today, ends_on=today + datetime.timedelta(days=180))
    ContractParty.objects.create(contract=contract, role=ContractParty.Role.YOUNG_PERSON, person=minimal)
    # An individual plan's rows likewise: his own offer and plan, and his daughter's offer answered by
    # him as guardian and her plan with him taking part as next of kin.
    plan_rows(svc, minimal)
    mia_plans = plan_rows(svc, family["mia"], consent=Consent.objects.get(person=family["mia"]))
    mia_plans[0].answered_by_guardians.add(minimal)
    PlanParticipant.objects.create(plan=mia_plans[1], role=PlanParticipant.Role.NEXT_OF_KIN, person=minimal, added_by=svc.coordinator)
    brukerplan_rows(svc, minimal)
    return minimal


def brukerplan_rows(svc, person):
    """A service period of ``person`` and a BrukerPlan mapping of him, as the tables hold them (rules:
    tests/workflows/brukerplan)."""
    from people.models import ServicePeriod
    from referrals.models import BrukerPlanMapping, BrukerPlanRound

    today = timezone.localdate()
    ServicePeriod.objects.create(person=person, service=svc.rus, started_on=today)
    round_ = BrukerPlanRound.objects.create(
        municipality=svc.rus.municipality, title="BrukerPlan", coordinator_service=svc.rus, period_start=today, period_end=today,
        reference_date=today, deadline=today + datetime.timedelta(days=14), created_by=svc.coordinator)
    BrukerPlanMapping.objects.create(round=round_, service=svc.rus, person=person, status=BrukerPlanMapping.Status.IN_SCOPE,
                                     scope_reason="both", marked_at=timezone.now(), marked_by=svc.coordinator)


def plan_rows(svc, person, *, consent=None):
    """An accepted offer and its plan for ``person``, as the tables hold them (rules: tests/workflows/individual_plan)."""
    today = timezone.localdate()
    offer = PlanOffer.objects.create(person=person, offered_by_service=svc.rus, reason="Langvarige behov.", offered_on=today,
                                     registered_by=svc.coordinator, answer=PlanOffer.Answer.ACCEPTED, answered_on=today)
    plan = IndividualPlan.objects.create(person=person, offer=offer, consent=consent or Consent.objects.filter(person=person).first(),
                                         registered_by_service=svc.rus, goals="Bo for meg selv.", period_start=today, revision_due_on=today,
                                         participation="wrote", created_by=svc.coordinator)
    return offer, plan


class PersonMergeTests:
    def test_it_covers_every_table_that_holds_a_person_in_this_scenario(self, everywhere):
        # Every key to a person has a row pointing at "Kim" (except merged_into: nobody is merged
        # into him): a table added later without a row here fails, so the next test stays complete.
        expected = {f"{model._meta.label}.{name}" for model, name, _kind in person_keys()} - {"people.Person.merged_into"}
        assert set(pointing_at(everywhere)) == expected
        assert {"referrals.Concern.person", "consent.Consent_guardians.person", "consent.Consent.guardians",
                "people.Guardianship.child", "people.Guardianship.guardian", "referrals.BreakGlassAccess.person"} <= expected

    def test_it_leaves_no_row_pointing_at_the_merged_person(self, svc, contact, kim_berg, everywhere):
        logged = AccessLog.objects.filter(person=everywhere).count()
        person_identify(user=svc.coordinator, contact=contact, national_id=kim_berg.national_id)
        # Only the access log still names "Kim"; his own row points on to Kim Berg.
        assert pointing_at(everywhere) == {"audit.AccessLog.person": logged}
        assert Person.objects.get(pk=everywhere.pk).merged_into == kim_berg

    def test_it_moves_every_row_to_the_person_identified(self, svc, org, contact, kim_berg, everywhere):
        before = {key: pointing_at(kim_berg).get(key, 0) + rows for key, rows in pointing_at(everywhere).items()}
        person_identify(user=svc.coordinator, contact=contact, national_id=kim_berg.national_id)
        after = pointing_at(kim_berg)
        for key in ("referrals.Contact.person", "referrals.Referral.person", "referrals.Concern.person",
                    "referrals.BreakGlassAccess.person", "consent.Consent.person", "consent.Disclosure.person",
                    "consent.AccessRequest.person", "consent.Consent_guardians.person", "consent.Consent.guardians"):
            assert after[key] == before[key], key
        assert Contact.objects.get(pk=contact.pk).person == kim_berg
        assert Concern.objects.get(reporting_service=org.skole).person == kim_berg
        assert Referral.objects.get(contact=contact).person == kim_berg

    def test_it_moves_the_guardianships_on_both_sides_dropping_duplicates_and_self_guardianship(self, svc, contact, kim_berg, family,
                                                                                                everywhere):
        person_identify(user=svc.coordinator, contact=contact, national_id=kim_berg.national_id)
        rows = set(Guardianship.objects.filter(child__in=[kim_berg, everywhere, family["mia"]]).values_list("child", "guardian", "kind"))
        assert rows == {
            (kim_berg.pk, family["lise"].pk, "parent"),
            (kim_berg.pk, family["per"].pk, "guardian"),
            (family["mia"].pk, kim_berg.pk, "parent"),
        }
        assert not Guardianship.objects.filter(guardian=kim_berg, child=kim_berg).exists()

    def test_it_keeps_the_guardian_who_gave_the_childs_consent(self, svc, contact, kim_berg, family, everywhere):
        person_identify(user=svc.coordinator, contact=contact, national_id=kim_berg.national_id)
        consent = Consent.objects.get(person=family["mia"])
        assert list(consent.guardians.all()) == [kim_berg]

    def test_it_keeps_each_services_own_record_of_the_name(self, svc, org, contact, kim_berg, everywhere):
        person_identify(user=svc.coordinator, contact=contact, national_id=kim_berg.national_id)
        records = dict(PersonRecord.objects.filter(person=kim_berg).values_list("service__name", "given_name"))
        assert records == {org.skole.name: "Kim", svc.rus.name: "Kim"}
        assert not PersonRecord.objects.filter(person=everywhere).exists()

    def test_it_merges_a_guardian_who_gave_the_same_consent_under_both_records(self, svc, org, contact, kim_berg, family):
        # Mia's consent was given by both records of her father, before anyone knew they were one man.
        mia, minimal = family["mia"], contact.person
        Guardianship.objects.create(child=mia, guardian=kim_berg)
        consent = make_consent(user=svc.nurse, service=svc.helse, person=mia, grantees=[svc.rask], given_by_person=False,
                               guardians=[minimal, kim_berg])
        person_identify(user=svc.coordinator, contact=contact, national_id=kim_berg.national_id)
        assert list(consent.guardians.all()) == [kim_berg]
        assert set(pointing_at(minimal)) == {"audit.AccessLog.person"}

    def test_it_keeps_one_live_participation_of_a_next_of_kin_in_a_plan_under_both_records(self, svc, contact, kim_berg, family, everywhere):
        plan = IndividualPlan.objects.get(person=family["mia"])
        PlanParticipant.objects.create(plan=plan, role=PlanParticipant.Role.NEXT_OF_KIN, person=kim_berg, added_by=svc.coordinator)

        person_identify(user=svc.coordinator, contact=contact, national_id=kim_berg.national_id)

        rows = list(PlanParticipant.objects.filter(plan=plan).order_by("pk").values_list("person", "removed_at"))
        assert [person for person, _removed in rows] == [kim_berg.pk, kim_berg.pk]
        assert [removed is None for _person, removed in rows] == [False, True]

    def test_it_refuses_to_merge_a_person_into_itself(self, kim_berg):
        with pytest.raises(ValueError):
            person_merge(source=kim_berg, target=kim_berg)
        assert Person.objects.get(pk=kim_berg.pk).merged_into is None
