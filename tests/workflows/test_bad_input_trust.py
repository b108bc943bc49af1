"""Bad input from the trust review (issue 6, point 10), through the pages and through the services.

Each case is refused with a clear, translated message, and nothing is saved: no concern, person,
referral, contact or feedback row, no disclosure and no access-log row.

Personas: ``reporter`` (Solsiden barnehage), ``caseworker`` (Barneverntjenesten); for referrals
``sender`` (Rådgivning rus og psykisk helse) and ``tildeling_staff`` (Tildelingskontoret).
"""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from audit.models import AccessLog
from consent.models import Disclosure
from people.models import Person
from referrals.models import Concern, ConcernFeedback, Contact, Referral, ReferralEvent
from people.validators import LONG_TEXT, MEDIUM_TEXT, SHORT_TEXT, contains_national_id, synthetic_national_id
from tests.factories import advance, make_child, make_consultation, make_melding
from tests.workflows.concern.test_bad_input import consultation_post, melding_post
from tests.referral_factories import make_contact, make_referral, make_referral_org
from workflows.concern import services as svc
from workflows.referral import services as rsvc
from workflows.services.deadlines import deadline_for

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
TODAY = datetime.date(2026, 9, 1)
# A checksum-valid fødselsnummer (born 23 August 1994): the number of the reproduction.
NUMBER = synthetic_national_id(datetime.date(1994, 8, 23))
WRITTEN = {
    "dash": "230894-00007",
    "letter O for zero": "23O894OOOO7",
    "lower-case o": "23o894oooo7",
    "space": "230894 00007",
    "non-breaking space": "230894\u00a000007",
    "dots and spaces": "23.08.94 000 07",
    "slashes": "23/08/94-00007",
    "full-width digits": "２３０８９４００００７",
    "zero-width spaces": "23\u200b0894\u200b00007",
    "followed by more digits": "230894 00007 5",
}
ID_REFUSED_NB = "Fjern fødselsnummeret: En anonym drøfting skal ikke inneholde noe som identifiserer barnet."
MISSING_VERSION_NB = "Skjemaet er ufullstendig eller utdatert. Last inn siden på nytt og prøv igjen."


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2026, 9, 1, 10, 0, tzinfo=OSLO), tick=False):
        yield


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def rows():
    """Everything a refused request must leave untouched. A page re-rendered with its errors logs
    that the user read it (action "view"), as every page with person data does; no other row."""
    counts = {model.__name__: model.objects.count() for model in (Person, Concern, ConcernFeedback, Contact, Referral, ReferralEvent, Disclosure)}
    counts["AccessLog"] = AccessLog.objects.exclude(action="view").count()
    return counts


def field_messages(error: ValidationError, field: str) -> list[str]:
    return [m for e in error.error_dict[field] for m in e.messages]


# --- b. identity numbers in an anonymous consultation ------------------------------------------


class IdentityNumberInConsultationTests:
    def test_it_knows_the_reproduction_number_is_a_valid_fodselsnummer(self):
        assert NUMBER == "23089400007"

    @pytest.mark.parametrize("how", sorted(WRITTEN))
    def test_it_refuses_the_number_however_it_is_written_on_the_page(self, client, org, how):
        client.force_login(org.reporter)  # Norwegian, the default language
        before = rows()
        text = f"Barnet ({WRITTEN[how]}) sier at mor drikker."
        response = client.post(reverse("concerns:create"), consultation_post(org, observations=text))
        assert response.status_code == 422
        assert response.context["form"].errors["observations"] == [ID_REFUSED_NB]
        assert rows() == before

    @pytest.mark.parametrize("how", sorted(WRITTEN))
    def test_it_refuses_the_number_however_it_is_written_in_the_service(self, org, how):
        before = rows()
        with pytest.raises(ValidationError) as raised:
            make_consultation(org, observations=f"Gjelder {WRITTEN[how]}.")
        assert "observations" in raised.value.error_dict
        assert rows() == before

    def test_it_refuses_the_number_in_the_reason_for_not_telling_the_parents(self, org):
        before = rows()
        with pytest.raises(ValidationError) as raised:
            make_consultation(org, not_informed_reason="Far (23O894OOOO7) er voldelig.")
        assert "not_informed_reason" in raised.value.error_dict
        assert rows() == before

    def test_it_refuses_advice_that_holds_the_number_written_with_the_letter_o(self, org):
        consultation = make_consultation(org)
        before = rows()
        with translation.override("nb"), pytest.raises(ValidationError) as raised:
            svc.consultation_answer(concern=consultation, user=org.caseworker, advice="Meld saken om 23O894-OOOO7.")
        assert field_messages(raised.value, "advice") == ["Fjern fødselsnummeret: Drøftingen er anonym."]
        consultation.refresh_from_db()
        assert (consultation.status, consultation.advice) == (Concern.Status.SUBMITTED, "")
        assert rows() == before

    def test_it_never_repeats_the_number_in_the_message(self, org):
        with pytest.raises(ValidationError) as raised:
            make_consultation(org, observations="Gjelder 230894-00007.")
        text = " ".join(raised.value.messages)
        assert "230894" not in text and "00007" not in text

    @pytest.mark.parametrize("text", [
        "Barnet er 5 år og bor i Oslo; ringte 22 33 44 55 kl. 10.30.",
        "Møtet var 23.08.2026 kl. 12.00, saksnummer 2024/12345.",
        "Ole og to søsken, 3 og 7 år.",
        "Kontonummer skrives 1234 56 78903.",
    ])
    def test_it_accepts_ordinary_numbers_in_the_text(self, text):
        assert not contains_national_id(text)


# --- c. free text without a length limit --------------------------------------------------------


class FreeTextLimitTests:
    def test_it_refuses_100_kb_of_observations_on_the_page(self, client, org):
        english(client).force_login(org.reporter)
        before = rows()
        response = client.post(reverse("concerns:create"), melding_post(org, observations="x" * 100_000))
        assert response.status_code == 422
        assert response.context["form"].has_error("observations", code="max_length")
        assert rows() == before

    def test_it_refuses_too_long_observations_in_the_service_with_a_norwegian_message(self, org):
        child = make_child(org)
        before = rows()
        with translation.override("nb"), pytest.raises(ValidationError) as raised:
            make_melding(org, child=child, observations="x" * (LONG_TEXT + 1))
        assert field_messages(raised.value, "observations") == ["Teksten kan være på høyst 10\xa0000 tegn; den er på 10\xa0001."]
        assert rows() == before

    def test_it_accepts_observations_of_exactly_the_limit(self, org):
        concern = make_melding(org, observations="x" * LONG_TEXT)
        assert len(concern.observations) == LONG_TEXT

    def test_it_refuses_too_long_handling_texts_in_the_services(self, org):
        received = advance(make_melding(org), org, "received")
        investigating = advance(make_melding(org), org, "investigating")
        consultation = make_consultation(org)
        calls = {
            "justification": lambda: svc.concern_review(
                concern=received, user=org.caseworker, decision="close", justification="x" * (MEDIUM_TEXT + 1)),
            "message": lambda: svc.concern_send_feedback(
                concern=investigating, user=org.caseworker, kind="initial", message="x" * (SHORT_TEXT + 1)),
            "reason": lambda: svc.concern_extend_investigation(
                concern=investigating, user=org.caseworker, reason="x" * (SHORT_TEXT + 1)),
            "summary": lambda: svc.concern_conclude_investigation(
                concern=investigating, user=org.caseworker, outcome="closed", summary="x" * (LONG_TEXT + 1)),
            "advice": lambda: svc.consultation_answer(concern=consultation, user=org.caseworker, advice="x" * (MEDIUM_TEXT + 1)),
        }
        before = rows()
        states = {c.pk: Concern.objects.filter(pk=c.pk).values().get() for c in (received, investigating, consultation)}
        for field, call in calls.items():
            with pytest.raises(ValidationError) as raised:
                call()
            assert list(raised.value.error_dict) == [field], field
            assert raised.value.error_dict[field][0].code == "max_length"
        assert rows() == before
        assert {c.pk: Concern.objects.filter(pk=c.pk).values().get() for c in (received, investigating, consultation)} == states

    def test_it_refuses_a_too_long_justification_on_the_page(self, client, org):
        concern = advance(make_melding(org), org, "received")
        english(client).force_login(org.caseworker)
        response = client.post(reverse("concerns:action", args=[concern.code, "review"]), {
            "decision": "close", "justification": "x" * 100_000, "version": svc.concern_version(concern),
        })
        assert response.status_code == 422
        assert response.context["action_forms"]["review"].has_error("justification", code="max_length")
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.RECEIVED

    def test_it_refuses_too_long_referral_texts_in_the_services(self):
        ro = make_referral_org()
        referral = make_referral(ro)
        contact = referral.contact
        rsvc.referral_receive(referral=referral, user=ro.tildeling_staff)
        before = rows()
        calls = {
            ("send", "reason"): lambda: rsvc.referral_send(
                user=ro.sender, sender_service=ro.radgivning, person=contact.person, kind="housing", reason="x" * (MEDIUM_TEXT + 1),
                target_service=ro.tildeling, consent=referral.consent, contact=contact),
            ("decline", "reason"): lambda: rsvc.referral_decline(referral=referral, user=ro.tildeling_staff, reason="x" * (SHORT_TEXT + 1)),
            ("notes", "notes"): lambda: rsvc.referral_notes_save(referral=referral, user=ro.tildeling_staff, notes="x" * (LONG_TEXT + 1)),
            ("cancel", "reason"): lambda: rsvc.referral_cancel(referral=referral, user=ro.sender, reason="x" * (SHORT_TEXT + 1)),
            ("contact", "summary"): lambda: rsvc.contact_register(
                user=ro.sender, service=ro.radgivning, given_name="Per", approx_age=40, summary="x" * (MEDIUM_TEXT + 1)),
            ("contact", "given_name"): lambda: rsvc.contact_register(
                user=ro.sender, service=ro.radgivning, given_name="P" * 121, approx_age=40),
        }
        for (name, field), call in calls.items():
            with pytest.raises(ValidationError) as raised:
                call()
            assert field in raised.value.error_dict, name
        assert rows() == before
        referral.refresh_from_db()
        assert (referral.status, referral.receiver_notes) == (Referral.Status.RECEIVED, "")

    def test_it_refuses_too_long_texts_once_the_referral_is_accepted(self):
        ro = make_referral_org()
        referral = make_referral(ro)
        rsvc.referral_receive(referral=referral, user=ro.tildeling_staff)
        rsvc.referral_accept(referral=referral, user=ro.tildeling_staff)
        before = rows()
        with pytest.raises(ValidationError) as raised:
            rsvc.referral_set_progress(referral=referral, user=ro.tildeling_staff, status="on-hold", reason="x" * (SHORT_TEXT + 1))
        assert "reason" in raised.value.error_dict
        with pytest.raises(ValidationError) as raised:
            rsvc.referral_close(referral=referral, user=ro.tildeling_staff, completed=True, outcome="x" * (MEDIUM_TEXT + 1))
        assert "outcome" in raised.value.error_dict
        assert rows() == before
        assert Referral.objects.get(pk=referral.pk).status == Referral.Status.ACCEPTED

    def test_it_refuses_100_kb_on_the_referral_and_contact_pages(self, client):
        ro = make_referral_org()
        contact = make_contact(ro)
        english(client).force_login(ro.sender)
        before = rows()
        response = client.post(reverse("referrals:contact_create"), {
            "service": ro.radgivning.pk, "given_name": "Per", "approx_age": 40, "summary": "x" * 100_000,
        })
        assert response.status_code == 422
        assert response.context["form"].has_error("summary", code="max_length")
        response = client.post(reverse("referrals:create", args=[contact.code]), {
            "destination": "service", "target_service": ro.tildeling.pk, "kind": "housing", "reason": "x" * 100_000, "basis": "consent",
        })
        assert response.status_code == 422
        assert response.context["form"].has_error("reason", code="max_length")
        assert rows() == before


# --- d. a child born in 1800, or a melding about an adult ---------------------------------------


class ChildAgeTests:
    def test_it_refuses_a_child_born_in_1800_on_the_page(self, client, org):
        client.force_login(org.reporter)
        before = rows()
        response = client.post(reverse("concerns:create"), melding_post(org, national_id="", birth_date="1800-01-01"))
        assert response.status_code == 422
        assert response.context["form"].errors["birth_date"] == ["Fødselsdatoen er mer enn 120 år tilbake i tid. Kontroller årstallet."]
        assert rows() == before

    def test_it_refuses_a_melding_about_an_adult_by_birth_date(self, client, org):
        english(client).force_login(org.reporter)
        before = rows()
        response = client.post(reverse("concerns:create"), melding_post(org, national_id="", birth_date="1990-05-04"))
        assert response.status_code == 422
        assert response.context["form"].has_error("birth_date", code="not_a_child")
        assert "children under 18" in response.context["form"].errors["birth_date"][0]
        assert rows() == before

    def test_it_refuses_a_melding_about_an_adult_by_the_identity_number(self, client, org):
        client.force_login(org.reporter)
        before = rows()
        adult = synthetic_national_id(datetime.date(2008, 8, 31))  # turned 18 yesterday
        response = client.post(reverse("concerns:create"), melding_post(org, national_id=adult))
        assert response.status_code == 422
        assert response.context["form"].errors["national_id"] == [
            "Barnevernstjenesten tar imot bekymringsmeldinger om barn under 18 år; etter denne fødselsdatoen er personen 18 år."
        ]
        assert rows() == before

    def test_it_accepts_a_child_who_turns_18_tomorrow(self, client, org):
        client.force_login(org.reporter)
        child = synthetic_national_id(datetime.date(2008, 9, 2))
        response = client.post(reverse("concerns:create"), melding_post(org, national_id=child))
        assert response.status_code == 302
        assert Concern.objects.get(person__national_id=child).status == Concern.Status.SUBMITTED

    def test_it_refuses_a_melding_about_an_adult_in_the_service(self, org):
        adult = Person.objects.create(given_name="Ola", birth_date=datetime.date(1990, 5, 4), municipality=org.municipality)
        before = rows()
        with pytest.raises(ValidationError) as raised:
            make_melding(org, child=adult)
        assert raised.value.error_dict["person"][0].code == "not_a_child"
        assert rows() == before

    def test_it_refuses_to_send_a_draft_once_the_child_has_turned_18(self, org):
        with time_machine.travel(datetime.datetime(2026, 8, 20, 10, 0, tzinfo=OSLO), tick=False):
            child = Person.objects.create(given_name="Ida", birth_date=datetime.date(2008, 8, 25), municipality=org.municipality)
            draft = make_melding(org, child=child, submit=False)
        before = rows()
        with pytest.raises(ValidationError) as raised:
            svc.concern_submit(concern=draft, user=org.reporter)
        assert raised.value.error_dict["person"][0].code == "not_a_child"
        assert Concern.objects.get(pk=draft.pk).status == Concern.Status.DRAFT
        assert rows() == before

    def test_it_refuses_an_anonymous_consultation_about_an_18_year_old(self, client, org):
        english(client).force_login(org.reporter)
        before = rows()
        response = client.post(reverse("concerns:create"), consultation_post(org, child_age="18"))
        assert response.status_code == 422
        assert response.context["form"].has_error("child_age")
        with pytest.raises(ValidationError) as raised:
            make_consultation(org, child_age=18)
        assert "child_age" in raised.value.error_dict
        assert rows() == before

    def test_it_refuses_an_identity_number_born_more_than_120_years_ago(self, client):
        ro = make_referral_org()
        contact = make_contact(ro)
        old = synthetic_national_id(datetime.date(1890, 5, 5), start=500)  # individual 500–749: the 1800s
        client.force_login(ro.sender)
        before = rows()
        response = client.post(reverse("referrals:contact_identify", args=[contact.code]), {"national_id": old})
        assert response.status_code == 422
        assert response.context["identify_form"].errors["national_id"] == [
            "Fødselsnummeret gir en umulig fødselsdato. Kontroller at alle de 11 sifrene er riktige."
        ]
        with pytest.raises(ValidationError) as raised:
            rsvc.person_identify(user=ro.sender, contact=contact, national_id=old)
        assert raised.value.code == "invalid_national_id"
        response = client.post(reverse("referrals:contact_create"), {
            "service": ro.radgivning.pk, "given_name": "Per", "national_id": old, "family_name": "Hansen",
        })
        assert response.status_code == 422
        assert response.context["form"].has_error("national_id", code="invalid_national_id")
        assert rows() == before
        assert not Person.objects.get(pk=contact.person_id).national_id

    @pytest.mark.parametrize("age", [-1, 121, 999])
    def test_it_refuses_an_impossible_approximate_age(self, age):
        ro = make_referral_org()
        before = rows()
        with pytest.raises(ValidationError) as raised:
            rsvc.contact_register(user=ro.sender, service=ro.radgivning, given_name="Per", approx_age=age)
        assert "approx_age" in raised.value.error_dict
        assert rows() == before


# --- e. dates in the year 9999 -----------------------------------------------------------------


class FarDateTests:
    @pytest.mark.parametrize("until", ["9999-12-31", "0001-01-01"])
    def test_it_refuses_an_investigation_deadline_far_off_on_the_page(self, client, org, until):
        concern = advance(make_melding(org), org, "investigating")
        english(client).force_login(org.caseworker)
        before = rows()
        due = deadline_for(concern, "investigation", process="concern").due_at
        response = client.post(reverse("concerns:action", args=[concern.code, "extend"]), {
            "reason": "Venter på BUP.", "until": until, "version": svc.concern_version(concern),
        })
        assert response.status_code == 422
        assert response.context["action_forms"]["extend"].has_error("until")
        assert Concern.objects.get(pk=concern.pk).investigation_extension_reason == ""
        assert rows() == before
        assert deadline_for(concern, "investigation", process="concern").due_at == due


# --- f. a missing form version -----------------------------------------------------------------


class MissingVersionTests:
    @pytest.mark.parametrize("version", [None, "", "  "])
    def test_it_refuses_a_handling_step_without_a_version_in_the_service(self, org, version):
        concern = make_melding(org)
        before = rows()
        with translation.override("nb"), pytest.raises(ValidationError) as raised:
            svc.concern_confirm_receipt(concern=concern, user=org.caseworker, version=version)
        assert raised.value.code == "stale"
        assert raised.value.messages == [MISSING_VERSION_NB]
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.SUBMITTED
        assert rows() == before

    def test_it_refuses_every_handling_service_without_a_version(self, org):
        received = advance(make_melding(org), org, "received")
        investigating = advance(make_melding(org), org, "investigating")
        consultation = make_consultation(org)
        draft = make_melding(org, submit=False)
        calls = [
            lambda: svc.concern_review(concern=received, user=org.caseworker, decision="investigate", version=None),
            lambda: svc.concern_send_feedback(concern=investigating, user=org.caseworker, kind="initial", version=None),
            lambda: svc.concern_extend_investigation(concern=investigating, user=org.caseworker, reason="Venter på BUP.", version=None),
            lambda: svc.concern_conclude_investigation(concern=investigating, user=org.caseworker, outcome="closed", version=None),
            lambda: svc.consultation_answer(concern=consultation, user=org.caseworker, advice="Snakk med foreldrene.", version=None),
            lambda: svc.concern_draft_update(concern=draft, user=org.reporter, version=None, observations="Ny tekst."),
            lambda: svc.concern_submit(concern=draft, user=org.reporter, version=None),
        ]
        before = rows()
        states = {c.pk: Concern.objects.filter(pk=c.pk).values().get() for c in (received, investigating, consultation, draft)}
        for call in calls:
            with pytest.raises(ValidationError) as raised:
                call()
            assert raised.value.code == "stale"
        assert {c.pk: Concern.objects.filter(pk=c.pk).values().get() for c in (received, investigating, consultation, draft)} == states
        assert rows() == before

    def test_it_refuses_a_handling_form_posted_without_its_version(self, client, org):
        concern = make_melding(org)
        client.force_login(org.caseworker)
        before = rows()
        response = client.post(reverse("concerns:action", args=[concern.code, "receipt"]), {})
        assert response.status_code == 422
        form = response.context["action_forms"]["receipt"]
        assert form.non_field_errors() == [MISSING_VERSION_NB]
        assert MISSING_VERSION_NB in response.content.decode()
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.SUBMITTED
        assert rows() == before

    def test_it_refuses_to_send_a_draft_posted_without_its_version(self, client, org):
        draft = make_melding(org, submit=False)
        client.force_login(org.reporter)
        before = rows()
        response = client.post(reverse("concerns:send", args=[draft.code]), {})
        assert response.status_code == 302
        assert [str(m) for m in get_messages(response.wsgi_request)] == [MISSING_VERSION_NB]
        assert Concern.objects.get(pk=draft.pk).status == Concern.Status.DRAFT
        assert rows() == before

    def test_it_still_accepts_the_version_the_page_rendered(self, client, org):
        concern = make_melding(org)
        client.force_login(org.caseworker)
        response = client.post(reverse("concerns:action", args=[concern.code, "receipt"]), {"version": svc.concern_version(concern)})
        assert response.status_code == 302
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.RECEIVED
