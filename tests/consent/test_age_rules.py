"""Who may consent at which age (domain brief, "Consent and legal basis"; issue #3, item 2).

Today is frozen at 1 September 2026. The persons:
- Emma, 14 (born 10 March 2012); Jonas, 15 (2011); Sara, 16 (2010); Ali, 18 (2008)
- Kari and Per, their registered guardians; Nina, a neighbour who is nobody's guardian
The nurse in Skolehelsetjenesten records the consents; Rask psykisk helsehjelp is the grantee.
"""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from consent.models import AgeRule, Consent
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from consent.selectors import age_rule_for, consent_givers_sufficient, consent_is_active, consent_locked_for_sharing
from people.models import Guardianship, Person
from tests.factories import make_child, make_consent, make_guardian, make_org, make_referral_services

TODAY = datetime.date(2026, 9, 1)
HEALTH, BARNEVERN, GENERAL = AgeRule.Domain.HEALTH, AgeRule.Domain.BARNEVERN, AgeRule.Domain.GENERAL


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2026, 9, 1, 12, 0, tzinfo=ZoneInfo("Europe/Oslo")), tick=False):
        with translation.override("en"):
            yield


@pytest.fixture
def world(db):
    org = make_org()
    svc = make_referral_services(org)
    return org, svc


def aged(org, years, given):
    """A person who is ``years`` old today (born 10 March)."""
    child = make_child(org, birth=datetime.date(TODAY.year - years, 3, 10), given=given)
    assert child.age_on(TODAY) == years
    return child


def assert_refused_by_age_rule(world, person, **kwargs):
    """consent_record refuses because nobody entitled at the person's age gave it, and saves nothing."""
    before = Consent.objects.count()
    with pytest.raises(ValidationError) as exc:
        record(world, person, **kwargs)
    assert list(exc.value.message_dict) == ["given_by_person"]
    assert "age rules" in exc.value.message_dict["given_by_person"][0]
    assert Consent.objects.count() == before


def parents(child):
    return [make_guardian(child, given="Kari"), make_guardian(child, given="Per")]


def record(world, person, *, domain=HEALTH, given_by_person=False, guardians=()):
    org, svc = world
    return make_consent(
        user=svc.nurse, service=svc.helse, person=person, grantees=[svc.rask], domain=domain,
        given_by_person=given_by_person, guardians=guardians,
    )


class AgeRuleForTests:
    def test_it_has_guardians_consent_for_health_under_16(self, db):
        for age in (0, 6, 15):
            rule = age_rule_for(domain=HEALTH, age=age)
            assert (rule.code, rule.consenter) == ("health-under-16", AgeRule.Consenter.GUARDIANS)

    def test_it_reports_that_the_child_is_heard_from_7_with_great_weight_from_12(self, db):
        for domain in AgeRule.Domain.values:
            rule = age_rule_for(domain=domain, age=10)
            assert (rule.consenter, rule.heard_from_age, rule.great_weight_from_age) == (AgeRule.Consenter.GUARDIANS, 7, 12), domain

    def test_it_lets_the_young_person_consent_to_health_care_from_16(self, db):
        assert age_rule_for(domain=HEALTH, age=16).consenter == AgeRule.Consenter.PERSON
        assert age_rule_for(domain=HEALTH, age=17).code == "health-16-18"

    def test_it_makes_a_child_of_15_a_party_in_barnevern_matters(self, db):
        assert age_rule_for(domain=BARNEVERN, age=14).consenter == AgeRule.Consenter.GUARDIANS
        assert age_rule_for(domain=BARNEVERN, age=15).consenter == AgeRule.Consenter.PERSON_AND_GUARDIANS

    def test_it_leaves_only_the_person_at_18_in_every_domain(self, db):
        for domain in AgeRule.Domain.values:
            for age in (18, 40):
                assert age_rule_for(domain=domain, age=age).consenter == AgeRule.Consenter.PERSON, (domain, age)

    def test_it_has_no_rule_for_an_unknown_age(self, db):
        assert age_rule_for(domain=HEALTH, age=None) is None

    def test_it_covers_every_age_in_every_domain_with_exactly_one_rule_and_a_legal_reference(self, db):
        for domain in AgeRule.Domain.values:
            for age in range(0, 101):
                matching = [
                    r for r in AgeRule.objects.filter(domain=domain)
                    if r.from_age <= age and (r.to_age is None or age < r.to_age)
                ]
                assert len(matching) == 1, (domain, age)
                assert matching[0].legal_reference.strip()


class HealthConsentUnder16Tests:
    def test_it_refuses_a_15_year_olds_own_consent_to_health_care(self, world):
        jonas = aged(world[0], 15, "Jonas")
        assert_refused_by_age_rule(world, jonas, given_by_person=True)

    def test_it_accepts_the_guardians_consent_for_a_15_year_old(self, world):
        jonas = aged(world[0], 15, "Jonas")
        consent = record(world, jonas, guardians=parents(jonas))
        assert consent_is_active(consent, service=world[1].rask, purpose=Consent.Purpose.REFERRAL)

    def test_it_accepts_one_of_two_guardians(self, world):
        jonas = aged(world[0], 15, "Jonas")
        kari, _per = parents(jonas)
        consent = record(world, jonas, guardians=[kari])
        assert consent_givers_sufficient(consent)


class HealthConsentFrom16Tests:
    def test_it_refuses_a_consent_from_the_guardians_only_at_16(self, world):
        sara = aged(world[0], 16, "Sara")
        assert_refused_by_age_rule(world, sara, guardians=parents(sara))

    def test_it_accepts_the_young_persons_own_consent_at_16(self, world):
        sara = aged(world[0], 16, "Sara")
        consent = record(world, sara, given_by_person=True)
        assert consent_is_active(consent, service=world[1].rask, purpose=Consent.Purpose.REFERRAL)

    def test_it_stops_counting_a_guardian_consent_on_the_16th_birthday(self, world):
        jonas = make_child(world[0], birth=datetime.date(2010, 9, 2), given="Jonas")  # 16 tomorrow
        consent = record(world, jonas, guardians=parents(jonas))
        assert consent_is_active(consent, on=TODAY)
        assert not consent_is_active(consent, on=TODAY + datetime.timedelta(days=1))


class BarnevernConsentTests:
    def test_it_accepts_the_guardians_alone_at_14(self, world):
        emma = aged(world[0], 14, "Emma")
        consent = record(world, emma, domain=BARNEVERN, guardians=parents(emma))
        assert consent_givers_sufficient(consent)

    def test_it_refuses_the_guardians_alone_at_15(self, world):
        jonas = aged(world[0], 15, "Jonas")
        assert_refused_by_age_rule(world, jonas, domain=BARNEVERN, guardians=parents(jonas))

    def test_it_refuses_the_young_person_alone_at_15(self, world):
        jonas = aged(world[0], 15, "Jonas")
        assert_refused_by_age_rule(world, jonas, domain=BARNEVERN, given_by_person=True)

    def test_it_accepts_the_young_person_and_the_guardians_together_at_15(self, world):
        jonas = aged(world[0], 15, "Jonas")
        consent = record(world, jonas, domain=BARNEVERN, given_by_person=True, guardians=parents(jonas))
        assert consent_is_active(consent, service=world[1].rask)


class AdultConsentTests:
    def test_it_refuses_the_guardians_alone_at_18_in_every_domain(self, world):
        ali = aged(world[0], 18, "Ali")
        guardians = parents(ali)
        for domain in AgeRule.Domain.values:
            assert_refused_by_age_rule(world, ali, domain=domain, guardians=guardians)

    def test_it_accepts_the_persons_own_consent_at_18_in_every_domain(self, world):
        ali = aged(world[0], 18, "Ali")
        for domain in AgeRule.Domain.values:
            assert consent_givers_sufficient(record(world, ali, domain=domain, given_by_person=True)), domain


class GuardianRegistrationTests:
    def test_it_refuses_a_consent_from_someone_not_registered_as_guardian(self, world):
        emma = aged(world[0], 14, "Emma")
        nina = make_guardian(aged(world[0], 10, "Lise"), given="Nina")  # Lise's mother, not Emma's
        with pytest.raises(ValidationError) as exc:
            record(world, emma, guardians=[nina])
        assert "registered guardians" in exc.value.message_dict["guardians"][0]
        assert not Consent.objects.filter(person=emma).exists()

    def test_it_refuses_a_mix_of_a_registered_and_an_unregistered_guardian(self, world):
        emma = aged(world[0], 14, "Emma")
        kari, _per = parents(emma)
        nina = make_guardian(aged(world[0], 10, "Lise"), given="Nina")
        with pytest.raises(ValidationError) as exc:
            record(world, emma, guardians=[kari, nina])
        assert "registered guardians" in exc.value.message_dict["guardians"][0]
        assert not Consent.objects.filter(person=emma).exists()

    def test_it_stops_counting_a_guardian_whose_registration_has_ended(self, world):
        emma = aged(world[0], 14, "Emma")
        kari, _per = parents(emma)
        consent = record(world, emma, guardians=[kari])
        Guardianship.objects.filter(child=emma, guardian=kari).delete()
        assert not consent_is_active(Consent.objects.get(pk=consent.pk))

    def test_it_does_not_count_a_consent_with_no_guardian_and_not_from_the_person(self, world):
        emma = aged(world[0], 14, "Emma")
        parents(emma)
        assert_refused_by_age_rule(world, emma)


class LockedForSharingTests:
    """A disclosure reads its consent with what consent_is_active asks of it, in the lock's statement
    (consent_locked_for_sharing): it must judge as the separate reads do."""

    @staticmethod
    def judged_and_read(consent, service, on=None):
        with transaction.atomic():
            locked = consent_locked_for_sharing(consent.pk, person=consent.person, service=service, on=on)
            with CaptureQueriesContext(connection) as queries:
                judged = consent_is_active(locked, service=service, purpose=Consent.Purpose.REFERRAL, on=on)
        assert len(queries) == 0
        return judged, consent_is_active(Consent.objects.get(pk=consent.pk), service=service, purpose=Consent.Purpose.REFERRAL, on=on)

    def test_it_judges_as_the_separate_reads_do(self, world):
        org, svc = world
        jonas = aged(org, 15, "Jonas")
        kari, _per = parents(jonas)
        by_guardian = record(world, jonas, guardians=[kari])
        sara = aged(org, 17, "Sara")
        own = record(world, sara, given_by_person=True)
        assert self.judged_and_read(by_guardian, svc.rask) == (True, True)
        assert self.judged_and_read(own, svc.rask) == (True, True)
        assert self.judged_and_read(by_guardian, svc.helse) == (False, False)  # not granted to it
        # On his 16th birthday his guardian's consent to health care no longer counts.
        assert self.judged_and_read(by_guardian, svc.rask, on=datetime.date(TODAY.year + 1, 3, 10)) == (False, False)
        Guardianship.objects.filter(child=jonas, guardian=kari).delete()
        assert self.judged_and_read(by_guardian, svc.rask) == (False, False)

    def test_it_judges_the_stored_persons_age_not_the_callers_copy(self, world):
        org, svc = world
        jonas = aged(org, 15, "Jonas")
        kari, _per = parents(jonas)
        by_guardian = record(world, jonas, guardians=[kari])
        stale = Person.objects.get(pk=jonas.pk)
        stale.birth_date = datetime.date(TODAY.year - 17, 1, 1)  # 17 in the caller's copy: the guardian's consent would not count
        with transaction.atomic():
            locked = consent_locked_for_sharing(by_guardian.pk, person=stale, service=svc.rask)
            assert consent_is_active(locked, service=svc.rask, purpose=Consent.Purpose.REFERRAL)

    def test_it_finds_no_consent_of_another_person(self, world):
        org, svc = world
        sara = aged(org, 17, "Sara")
        own = record(world, sara, given_by_person=True)
        with transaction.atomic():
            assert consent_locked_for_sharing(own.pk, person=aged(org, 16, "Ida"), service=svc.rask) is None

    def test_it_is_compiled_once_a_day(self, world):
        from consent import selectors

        org, svc = world
        own = record(world, aged(org, 17, "Sara"), given_by_person=True)
        day = datetime.date(TODAY.year, 6, 1)
        selectors._LOCKED_FOR_SHARING._compiled.clear()
        with transaction.atomic():
            consent_locked_for_sharing(own.pk, person=own.person, service=svc.rask, on=day)
            with CaptureQueriesContext(connection) as queries:
                locked = consent_locked_for_sharing(own.pk, person=own.person, service=svc.helse, on=day)
                consent_locked_for_sharing(own.pk, person=own.person, service=svc.rask, on=day + datetime.timedelta(days=1))
        assert len(queries) == 2 and locked.granted_to_service is False  # not granted to the health service
        assert len(selectors._LOCKED_FOR_SHARING._compiled) == 2  # the day's statement, then the next day's


# Serialized rollback: the age rules are data the migrations write (see ConcurrentAppendTests in tests/audit/test_hash_chain.py).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_consent_is_locked_for_sharing_only_inside_a_transaction(world, postgresql_only):
    """Outside one, the lock would end with its own statement and hold nothing: refused, as the ORM
    refuses select_for_update there, on every run of the compiled statement (org.compiled)."""
    from django.db.transaction import TransactionManagementError

    org, svc = world
    own = record(world, aged(org, 17, "Sara"), given_by_person=True)
    with transaction.atomic():  # the day's statement compiled here
        assert consent_locked_for_sharing(own.pk, person=own.person, service=svc.rask).pk == own.pk
    with pytest.raises(TransactionManagementError):
        consent_locked_for_sharing(own.pk, person=own.person, service=svc.rask)


class AgeRulesAreDataTests:
    def test_it_follows_an_edited_rule_at_once(self, world):
        sara = aged(world[0], 16, "Sara")
        consent = record(world, sara, given_by_person=True)
        assert consent_givers_sufficient(consent)
        AgeRule.objects.filter(code="health-16-18").update(consenter=AgeRule.Consenter.PERSON_AND_GUARDIANS)
        assert not consent_givers_sufficient(consent)

    def test_it_follows_a_moved_age_threshold(self, world):
        jonas = aged(world[0], 15, "Jonas")
        assert_refused_by_age_rule(world, jonas, given_by_person=True)
        AgeRule.objects.filter(code="health-under-16").update(to_age=15)
        AgeRule.objects.filter(code="health-16-18").update(from_age=15)
        assert age_rule_for(domain=HEALTH, age=15).code == "health-16-18"
        assert consent_givers_sufficient(record(world, jonas, given_by_person=True))

    def test_it_refuses_every_consent_when_no_rule_covers_the_age(self, world):
        ali = aged(world[0], 18, "Ali")
        consent = record(world, ali, given_by_person=True)
        AgeRule.objects.filter(code="health-adult").delete()
        assert not consent_givers_sufficient(consent)


class ApproximateAgeTests:
    def test_it_judges_a_minimal_contact_by_the_approximate_age(self, world):
        # A low-threshold contact may start with a first name and an age only.
        kim = Person.objects.create(given_name="Kim", approx_age=17, municipality=world[0].municipality)
        assert consent_givers_sufficient(record(world, kim, given_by_person=True))
        assert_refused_by_age_rule(world, kim, guardians=[make_guardian(kim)])
