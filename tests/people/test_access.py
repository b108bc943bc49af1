"""The person's roles, read from the registry of where persons are held (issue 13, point 7).

Today is frozen at Tuesday 1 September 2026, 10:00. Sara, 17, and the services around her:
- the teacher in Fjordvik skole filed a melding about her; Barneverntjenesten received it under
  opplysningsplikt
- the nurse in Skolehelsetjenesten recorded her consent and referred her to Rask psykisk helsehjelp
- a second consent named Tildelingskontoret; Sara withdrew it, so its disclosure is revoked
- the coordinator in Rådgivning rus og psykisk helse registered a contact with her
- Solsiden barnehage only registered her name (a record of the name is no role); it, NAV and SLT
  hold no role with her and get 404
"""
import pytest
from django.http import Http404

from consent.services import consent_withdraw, disclosure_record
from people import holders
from people.access import person_get_for_user, person_services_with_role
from tests.factories import make_consent, make_melding
from tests.referral_scenario import frozen_now, sara, svc  # noqa: F401 (fixtures)
from workflows.referral.services import HANDLER, contact_register, referral_send


def only(monkeypatch, model):
    """The holders registry reduced to ``model``'s declaration, to see the roles it gives by itself."""
    kept = {key: h for key, h in holders._registry.items() if h.model == model}
    assert kept, f"{model} is not declared"
    monkeypatch.setattr(holders, "_registry", kept)


@pytest.fixture
def around_sara(org, svc, sara):
    make_melding(org, child=sara, user=org.teacher, reporting_service=org.skole)
    consent = make_consent(user=svc.nurse, service=svc.helse, person=sara, grantees=[svc.rask])
    referral = referral_send(user=svc.nurse, sender_service=svc.helse, person=sara, kind="mental_health",
                             reason="Sover dårlig og har mye angst.", target_service=svc.rask, consent=consent)
    second = make_consent(user=svc.nurse, service=svc.helse, person=sara, grantees=[svc.tildeling], information="Bolig.")
    disclosure_record(obj=referral, person=sara, from_service=svc.helse, to_service=svc.tildeling, basis="consent",
                      purpose="henvisning", perm=HANDLER, user=svc.nurse, consent=second, consent_purpose="referral")
    consent_withdraw(consent=second, user=svc.nurse)
    contact_register(user=svc.coordinator, service=svc.rus, given_name="Sara", person=sara, summary="Spør om samtaler.")
    return sara


class PersonServicesWithRoleTests:
    def test_it_gives_a_role_through_every_declared_holding(self, org, svc, around_sara):
        assert person_services_with_role(around_sara) == {org.skole.pk, org.barnevern.pk, svc.helse.pk, svc.rask.pk, svc.rus.pk}

    def test_it_gives_the_reporting_service_a_role_through_its_concern(self, monkeypatch, org, around_sara):
        only(monkeypatch, "referrals.Concern")
        assert person_services_with_role(around_sara) == {org.skole.pk}

    def test_it_gives_the_sending_service_a_role_through_its_referral(self, monkeypatch, svc, around_sara):
        only(monkeypatch, "referrals.Referral")
        assert person_services_with_role(around_sara) == {svc.helse.pk}

    def test_it_gives_the_recording_service_a_role_through_a_consent(self, monkeypatch, svc, around_sara):
        only(monkeypatch, "consent.Consent")
        assert person_services_with_role(around_sara) == {svc.helse.pk}

    def test_it_gives_both_ends_of_a_live_disclosure_a_role_but_not_a_revoked_one(self, monkeypatch, org, svc, around_sara):
        only(monkeypatch, "consent.Disclosure")
        assert person_services_with_role(around_sara) == {org.skole.pk, org.barnevern.pk, svc.helse.pk, svc.rask.pk}

    def test_it_gives_the_service_of_a_contact_a_role(self, monkeypatch, svc, around_sara):
        only(monkeypatch, "referrals.Contact")
        assert person_services_with_role(around_sara) == {svc.rus.pk}

    def test_it_gives_no_role_through_a_holding_without_services(self, monkeypatch, around_sara):
        only(monkeypatch, "audit.AccessLog")
        assert person_services_with_role(around_sara) == set()


class PersonGetForUserTests:
    def test_it_returns_the_person_to_a_service_with_a_role(self, org, svc, around_sara):
        for user in (org.teacher, org.caseworker, svc.nurse, svc.rask_staff, svc.coordinator):
            assert person_get_for_user(user, around_sara.code) == around_sara

    def test_it_answers_404_to_a_service_without_a_role(self, org, svc, around_sara):
        for user in (org.reporter, org.nav_staff, org.slt_staff, svc.tildeling_staff):
            with pytest.raises(Http404):
                person_get_for_user(user, around_sara.code)

    def test_it_answers_404_once_the_only_role_is_a_revoked_disclosure(self, svc, sara):
        consent = make_consent(user=svc.nurse, service=svc.helse, person=sara, grantees=[svc.rask])
        referral_send(user=svc.nurse, sender_service=svc.helse, person=sara, kind="mental_health",
                      reason="Sover dårlig og har mye angst.", target_service=svc.rask, consent=consent)
        assert person_get_for_user(svc.rask_staff, sara.code) == sara
        consent_withdraw(consent=consent, user=svc.nurse)
        with pytest.raises(Http404):
            person_get_for_user(svc.rask_staff, sara.code)
