"""Bad consent input from the trust review (issue 6, point 10): refused with a translated message,
and nothing saved (no consent, no disclosure, no access-log row).

Today is frozen at 1 September 2026. The persons:
- Jonas, 15, turns 16 on 1 March 2027; Tea, 13 (born 1 March 2013), turns 16 in 2029
- Kari and Per, their registered guardians
The nurse in Skolehelsetjenesten records the consents; Rask psykisk helsehjelp is the grantee.
"""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from audit.models import AccessLog
from consent.models import AgeRule, Consent, Disclosure
from consent.services import CONSENT_MAX_YEARS, consent_record, consent_withdraw
from people.validators import SHORT_TEXT
from tests.consent.ui_factories import guardians_for, person_aged, record
from tests.factories import make_child, make_guardian, make_org, make_referral_services
from tests.referral_factories import make_contact, make_referral_org

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 9, 1)
HEALTH = AgeRule.Domain.HEALTH


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2026, 9, 1, 12, 0, tzinfo=ZoneInfo("Europe/Oslo")), tick=False):
        with translation.override("en"):
            yield


@pytest.fixture
def world(db):
    org = make_org()
    return org, make_referral_services(org)


def rows():
    """What a refused consent must leave untouched (a re-rendered page logs only its read)."""
    return Consent.objects.count(), Disclosure.objects.count(), AccessLog.objects.exclude(action="view").count()


def give(world, person, **overrides):
    org, svc = world
    fields = dict(
        user=svc.nurse, service=svc.helse, person=person, purpose=Consent.Purpose.REFERRAL,
        information="Henvisningen og kontaktopplysninger.", grantees=[svc.rask], valid_from=TODAY,
        method=Consent.Method.VERBAL, given_by_person=True, guardians=[], domain=HEALTH,
    )
    fields.update(overrides)
    return consent_record(**fields)


def refused(world, person, **overrides) -> ValidationError:
    before = rows()
    with pytest.raises(ValidationError) as raised:
        give(world, person, **overrides)
    assert rows() == before
    return raised.value


# --- a. the age is judged on the day the consent is given ---------------------------------------


class AgeOnTheDayGivenTests:
    def test_it_refuses_a_15_year_olds_own_consent_dated_from_the_16th_birthday(self, world):
        jonas = make_child(world[0], birth=datetime.date(2011, 3, 1), given="Jonas")
        error = refused(world, jonas, valid_from=datetime.date(2027, 3, 1))
        assert list(error.message_dict) == ["given_by_person"]
        assert "age rules" in error.message_dict["given_by_person"][0]

    def test_it_refuses_it_with_a_norwegian_message(self, world):
        jonas = make_child(world[0], birth=datetime.date(2011, 3, 1), given="Jonas")
        with translation.override("nb"):
            error = refused(world, jonas, valid_from=datetime.date(2027, 3, 1))
        assert error.message_dict["given_by_person"] == [
            "På personens alder må dette samtykket gis av noen andre (se aldersreglene). Samtykket er ikke registrert."
        ]

    def test_it_refuses_a_13_year_olds_own_consent_starting_years_ahead(self, world):
        tea = make_child(world[0], birth=datetime.date(2013, 3, 1), given="Tea")
        error = refused(world, tea, valid_from=datetime.date(2029, 3, 1))
        assert "valid_from" in error.message_dict

    def test_it_refuses_the_guardians_consent_when_the_person_decides_on_the_start_date(self, world):
        jonas = make_child(world[0], birth=datetime.date(2011, 3, 1), given="Jonas")
        guardians = [make_guardian(jonas, given="Kari"), make_guardian(jonas, given="Per")]
        error = refused(world, jonas, given_by_person=False, guardians=guardians, valid_from=datetime.date(2027, 3, 1))
        assert "age rules" in error.message_dict["given_by_person"][0]

    def test_it_accepts_the_guardians_consent_for_a_15_year_old_from_next_month(self, world):
        jonas = make_child(world[0], birth=datetime.date(2011, 3, 1), given="Jonas")
        guardians = [make_guardian(jonas, given="Kari")]
        consent = give(world, jonas, given_by_person=False, guardians=guardians, valid_from=datetime.date(2026, 10, 1))
        assert consent.valid_from == datetime.date(2026, 10, 1)

    def test_it_accepts_a_16_year_olds_own_consent_from_next_month(self, world):
        sara = make_child(world[0], birth=datetime.date(2010, 3, 10), given="Sara")
        assert give(world, sara, valid_from=datetime.date(2026, 10, 1)).given_by_person


# --- a. and e. validity dates far ahead or far back ---------------------------------------------


class ValidityDateTests:
    def test_it_refuses_an_end_in_the_year_9999(self, world):
        sara = make_child(world[0], birth=datetime.date(2010, 3, 10), given="Sara")
        with translation.override("nb"):
            error = refused(world, sara, valid_to=datetime.date(9999, 12, 31))
        assert error.message_dict["valid_to"] == [
            "Et samtykke kan gjelde i høyst 10 år. Velg en tidligere sluttdato, eller la feltet stå tomt (gjelder til det trekkes tilbake)."
        ]

    def test_it_accepts_an_end_exactly_ten_years_after_the_start(self, world):
        sara = make_child(world[0], birth=datetime.date(2010, 3, 10), given="Sara")
        end = datetime.date(2026 + CONSENT_MAX_YEARS, 9, 1)
        assert give(world, sara, valid_to=end).valid_to == end
        error = refused(world, sara, valid_to=end + datetime.timedelta(days=1))
        assert "valid_to" in error.message_dict

    @pytest.mark.parametrize("start", [datetime.date(9999, 1, 1), datetime.date(2027, 9, 2), datetime.date(2025, 8, 31), datetime.date(1, 1, 1)])
    def test_it_refuses_a_start_more_than_a_year_from_today(self, world, start):
        sara = make_child(world[0], birth=datetime.date(2010, 3, 10), given="Sara")
        error = refused(world, sara, valid_from=start, valid_to=None)
        assert error.message_dict["valid_from"] == ["The start date must lie within a year of today."]

    @pytest.mark.parametrize("start", [datetime.date(2027, 9, 1), datetime.date(2025, 9, 1)])
    def test_it_accepts_a_start_a_year_from_today(self, world, start):
        ali = make_child(world[0], birth=datetime.date(2000, 3, 10), given="Ali")
        assert give(world, ali, valid_from=start).valid_from == start

    def test_it_refuses_the_year_9999_on_the_consent_page(self, client):
        org = make_org()
        child = person_aged(org, 10, given="Emma")
        guardians = guardians_for(org, child)
        record(org, child, guardians=guardians)  # gives the barnehage its role with the child
        client.force_login(org.reporter)
        before = rows()
        response = client.post(reverse("consent:create", args=[child.code]), {
            "service": org.barnehage.pk, "domain": "health", "guardians": [g.pk for g in guardians], "grantees": [org.skole.pk],
            "purpose": "individual_plan", "information": "Kartlegging og plan.", "valid_from": TODAY.isoformat(),
            "valid_to": "9999-12-31", "method": "verbal",
        })
        assert response.status_code == 422
        assert response.context["form"].has_error("valid_to")
        assert rows() == before

    def test_it_refuses_the_year_9999_on_the_contact_page(self, client):
        ro = make_referral_org()
        contact = make_contact(ro)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        client.force_login(ro.sender)
        before = rows()
        response = client.post(reverse("referrals:contact_consent", args=[contact.code]), {
            "purpose": "referral", "grantees": [ro.rus.pk], "information": "Navn og alder.", "given_by_person": "on",
            "domain": "health", "method": "verbal", "valid_from": TODAY.isoformat(), "valid_to": "9999-12-31",
        })
        assert response.status_code == 422
        assert response.context["consent_form"].has_error("valid_to")
        assert "A consent may last at most 10 years." in response.content.decode()
        assert rows() == before


# --- c. free text without a length limit --------------------------------------------------------


class ConsentTextLimitTests:
    def test_it_refuses_100_kb_of_information_in_the_service(self, world):
        sara = make_child(world[0], birth=datetime.date(2010, 3, 10), given="Sara")
        error = refused(world, sara, information="x" * 100_000)
        assert error.error_dict["information"][0].code == "max_length"

    def test_it_refuses_100_kb_of_information_on_the_contact_page(self, client):
        ro = make_referral_org()
        contact = make_contact(ro)
        client.force_login(ro.sender)
        before = rows()
        response = client.post(reverse("referrals:contact_consent", args=[contact.code]), {
            "purpose": "referral", "grantees": [ro.rus.pk], "information": "x" * 100_000, "given_by_person": "on",
            "domain": "health", "method": "verbal", "valid_from": TODAY.isoformat(),
        })
        assert response.status_code == 422
        assert response.context["consent_form"].has_error("information", code="max_length")
        assert rows() == before

    def test_it_refuses_a_too_long_withdrawal_note_and_keeps_the_consent(self, world):
        sara = make_child(world[0], birth=datetime.date(2010, 3, 10), given="Sara")
        consent = give(world, sara)
        before = rows()
        with pytest.raises(ValidationError) as raised:
            consent_withdraw(consent=consent, user=world[1].nurse, note="x" * (SHORT_TEXT + 1))
        assert "note" in raised.value.error_dict
        consent.refresh_from_db()
        assert consent.withdrawn_at is None
        assert rows() == before

    def test_it_refuses_a_too_long_withdrawal_note_on_the_page(self, client, world):
        sara = make_child(world[0], birth=datetime.date(2010, 3, 10), given="Sara")
        consent = give(world, sara)
        client.force_login(world[1].nurse)
        before = rows()
        response = client.post(reverse("consent:withdraw", args=[consent.code]), {"note": "x" * 100_000})
        assert response.status_code == 422
        consent.refresh_from_db()
        assert consent.withdrawn_at is None
        assert rows() == before
