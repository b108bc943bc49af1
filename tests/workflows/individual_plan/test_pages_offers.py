"""The offer's pages (issue 9, points 1 and 2): a service registers an offer for a person it types
in (a known number links to the person and shows nothing others registered), lists its offers
waiting for a step with the answer's deadline where a clock runs, records the answer given by whom
the age rules say (the registered guardians offered to choose), names the koordinator of an offer
answered "a koordinator only", and makes the plan of an accepted offer on the person's consent.
Every other user gets 404 on every offer URL; bad input is refused with a translated error and
nothing saved.

Personas and dates: see scenario.py (the pages speak bokmål).
"""
import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from accounts.submission import token_issue
from audit.models import AccessLog
from people.models import Guardianship, Person, PersonRecord
from people.validators import synthetic_national_id
from referrals.models import IndividualPlan, PlanOffer
from tests.factories import make_child, make_guardian
from tests.queries import page_queries
from tests.workflows.individual_plan.scenario import NOW, TODAY, accepted_offer, adult, plan_consent
from tests.workflows.individual_plan.test_views import bokmal
from workflows.individual_plan import services as svc
from workflows.models import Deadline, DeadlinePolicy

pytestmark = pytest.mark.django_db
REASON = "Trenger langvarige, koordinerte tjenester."


def shown(msgid: str, **values) -> str:
    """A message as a bokmål page shows it: its translation once the catalogue has it, else as
    written (a new message's bokmål reaches the catalogue when the branch is merged)."""
    with translation.override("nb"):
        text = translation.gettext(msgid)
    return escape(text % values if values else text)


def offer_for(ip, person) -> PlanOffer:
    return svc.offer_register(user=ip.rus_staff, service=ip.rus, person=person, reason=REASON)


def emma_and_kari(org, ip):
    emma = make_child(org, birth=datetime.date(2014, 5, 1), given="Emma", start=710, service=ip.rus)
    return emma, make_guardian(emma)


def offer_urls(offer) -> list[tuple[str, str]]:
    """(method, url) of every offer URL; the register page and the list are the user's own."""
    return [
        ("get", reverse("individual_plans:offer", args=[offer.code])),
        ("post", reverse("individual_plans:offer_answer", args=[offer.code])),
        ("post", reverse("individual_plans:offer_koordinator", args=[offer.code])),
        ("get", reverse("individual_plans:plan_create", args=[offer.code])),
        ("post", reverse("individual_plans:plan_create", args=[offer.code])),
    ]


def register_data(ip, **extra) -> dict:
    data = {"service": ip.rus.pk, "national_id": synthetic_national_id(datetime.date(1990, 6, 1), start=410), "given_name": "Per",
            "family_name": "Hansen", "reason": REASON, "offered_on": TODAY.isoformat(), "submission": token_issue(ip.rus_staff)}
    data.update(extra)
    return data


class OfferRegisterPageTests:
    def test_it_shows_the_form_in_bokmal_to_a_service_that_takes_part_in_plans(self, client, ip):
        client.force_login(ip.rus_staff)
        page = client.get(reverse("individual_plans:offer_register")).content.decode()
        assert bokmal("National identity number or D number (11 digits)") in page and bokmal("Given name") in page
        assert 'data-testid="offer-form"' in page

    def test_it_registers_the_offer_and_the_person_as_the_services_own_record(self, client, ip):
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:offer_register"), register_data(ip))
        offer = PlanOffer.objects.get()
        assert response.status_code == 302 and response.url == reverse("individual_plans:offer", args=[offer.code])
        assert (offer.offered_by_service, offer.reason, offer.offered_on, offer.answer) == (ip.rus, REASON, TODAY, "")
        assert PersonRecord.objects.get(person=offer.person, service=ip.rus).full_name == "Per Hansen"
        assert AccessLog.objects.filter(user=ip.rus_staff, purpose="individual plan offered", object_id=offer.pk).exists()

    def test_a_known_number_links_to_the_person_and_shows_nothing_another_service_registered(self, client, org, ip):
        emma = make_child(org, birth=datetime.date(2014, 5, 1), given="Emma", family="Barnehagenavn", start=730)  # the barnehage's record
        client.force_login(ip.rus_staff)
        client.post(reverse("individual_plans:offer_register"), register_data(ip, national_id=emma.national_id, given_name="E.", family_name="N."))
        offer = PlanOffer.objects.get()
        page = client.get(reverse("individual_plans:offer", args=[offer.code])).content.decode()
        assert offer.person == emma and "E. N." in page and "Barnehagenavn" not in page

    def test_it_registers_a_childs_guardians_who_are_then_offered_to_answer(self, client, ip):
        client.force_login(ip.rus_staff)
        data = register_data(ip, national_id=synthetic_national_id(datetime.date(2014, 5, 1), start=740), given_name="Emma",
                             guardian1_national_id=synthetic_national_id(datetime.date(1985, 4, 2), start=150), guardian1_given_name="Kari",
                             guardian1_family_name="Forelder")
        response = client.post(reverse("individual_plans:offer_register"), data)
        assert response.status_code == 302, response.context["form"].errors
        offer = PlanOffer.objects.get()
        kari = Guardianship.objects.get(child=offer.person).guardian
        page = client.get(reverse("individual_plans:offer", args=[offer.code])).content.decode()
        assert f'value="{kari.pk}"' in page and "Kari Forelder" in page

    @pytest.mark.parametrize("field, value, message", [
        ("national_id", "12345678901", "The national identity number is not valid. Check that all 11 digits are correct."),
        ("reason", "", "This field is required."),
        ("offered_on", (TODAY + datetime.timedelta(days=1)).isoformat(), "The offer's date must lie within the last year, and not in the future."),
    ])
    def test_bad_input_is_refused_with_a_translated_error_and_nothing_saved(self, client, ip, field, value, message):
        client.force_login(ip.rus_staff)
        people = Person.objects.count()
        response = client.post(reverse("individual_plans:offer_register"), register_data(ip, **{field: value}))
        assert response.status_code == 422
        assert shown(message) in response.content.decode()
        assert (PlanOffer.objects.count(), Person.objects.count()) == (0, people)

    def test_a_user_whose_services_take_no_part_in_plans_gets_404(self, client, org):
        client.force_login(org.slt_staff)
        assert client.get(reverse("individual_plans:offer_register")).status_code == 404


class OfferListTests:
    def test_it_lists_the_services_waiting_offers_with_the_person_named_and_logs_it(self, client, org, ip):
        ola = adult(org, ip)
        waiting = offer_for(ip, ola)
        answered = accepted_offer(ip, adult(org, ip, given="Kåre", start=310))
        declined = svc.offer_answer(user=ip.rus_staff, offer=offer_for(ip, adult(org, ip, given="Nils", start=320)), answer="declined", by_person=True)
        client.force_login(ip.rus_staff)
        page = client.get(reverse("individual_plans:offers")).content.decode()
        for offer in (waiting, answered):
            assert reverse("individual_plans:offer", args=[offer.code]) in page
        assert reverse("individual_plans:offer", args=[declined.code]) not in page and "Nils" not in page
        assert "Ola Nordmann" in page
        assert AccessLog.objects.filter(user=ip.rus_staff, purpose="individual plan offer list", object_id=waiting.pk).exists()

    def test_it_shows_the_answers_deadline_when_a_clock_runs(self, client, org, ip):
        offer = offer_for(ip, adult(org, ip))  # registering the offer starts its clock (workflows.individual_plan.clocks)
        due = Deadline.objects.get(policy=DeadlinePolicy.objects.get(process="individual_plan", step="offer_answer"),
                                   subject_type=ContentType.objects.get_for_model(PlanOffer), subject_id=offer.pk, responsible_service=ip.rus).due_at
        client.force_login(ip.rus_staff)
        page = client.get(reverse("individual_plans:offers")).content.decode()
        assert f'datetime="{timezone.localtime(due).isoformat()}"' in page
        assert 'data-testid="offer-due"' in client.get(reverse("individual_plans:offer", args=[offer.code])).content.decode()

    def test_another_service_sees_none_of_the_offers(self, client, org, ip):
        offer = offer_for(ip, adult(org, ip))
        client.force_login(ip.nav_staff)
        page = client.get(reverse("individual_plans:offers")).content.decode()
        assert reverse("individual_plans:offer", args=[offer.code]) not in page and "Ola" not in page

    def test_it_asks_the_database_as_often_with_many_offers_as_with_few(self, client, org, ip):
        for n in range(2):
            offer_for(ip, adult(org, ip, given=f"Few{n}", start=340 + n))
        url = reverse("individual_plans:offers")
        few = len(page_queries(client, ip.rus_staff, url))
        for n in range(6):
            accepted_offer(ip, adult(org, ip, given=f"Many{n}", start=350 + n))
        assert len(page_queries(client, ip.rus_staff, url)) == few


class OfferPageTests:
    def test_it_shows_the_offer_and_the_answer_form_to_the_offering_service_and_logs_the_read(self, client, org, ip):
        offer = offer_for(ip, adult(org, ip))
        client.force_login(ip.rus_staff)
        page = client.get(reverse("individual_plans:offer", args=[offer.code])).content.decode()
        assert bokmal("Individual plan offer %(ref)s") % {"ref": offer.reference} in page
        assert "Ola Nordmann" in page and REASON in page and 'data-testid="answer-form"' in page
        assert AccessLog.objects.filter(user=ip.rus_staff, purpose="individual plan offer page", object_id=offer.pk).exists()

    def test_every_outsider_gets_404_on_every_offer_url(self, client, org, ip):
        offer = offer_for(ip, adult(org, ip))
        for outsider in (ip.nav_staff, ip.dps_staff, org.caseworker, org.slt_staff):
            client.force_login(outsider)
            for method, url in offer_urls(offer):
                assert getattr(client, method)(url, {}).status_code == 404, (outsider, url)
        assert not AccessLog.objects.filter(purpose="individual plan offer page").exists()

    def test_a_forged_code_gets_404(self, client, ip):
        client.force_login(ip.rus_staff)
        assert client.get(reverse("individual_plans:offer", args=["00000000-0000-0000-0000-000000000000"])).status_code == 404
        assert client.post(reverse("individual_plans:offer_answer", args=["00000000-0000-0000-0000-000000000000"]), {}).status_code == 404

    def test_the_answer_pages_refuse_get(self, client, org, ip):
        offer = offer_for(ip, adult(org, ip))
        client.force_login(ip.rus_staff)
        assert client.get(reverse("individual_plans:offer_answer", args=[offer.code])).status_code == 405


class OfferAnswerPageTests:
    def test_the_adult_answers_for_himself(self, client, org, ip):
        offer = offer_for(ip, adult(org, ip))
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:offer_answer", args=[offer.code]),
                               {"answer-answer": "accepted", "answer-answered_on": TODAY.isoformat(), "answer-by_person": "on"})
        assert response.status_code == 302
        offer.refresh_from_db()
        assert (offer.answer, offer.answered_by_person, offer.answer_consenter, offer.answer_recorded_by) == ("accepted", True, "person", ip.rus_staff)
        assert 'data-testid="plan-create"' in client.get(response.url).content.decode()

    def test_the_registered_guardian_answers_for_a_twelve_year_old(self, client, org, ip):
        emma, kari = emma_and_kari(org, ip)
        offer = offer_for(ip, emma)
        client.force_login(ip.rus_staff)
        page = client.get(reverse("individual_plans:offer", args=[offer.code])).content.decode()
        assert f'value="{kari.pk}"' in page  # the form offers her registered guardian
        client.post(reverse("individual_plans:offer_answer", args=[offer.code]),
                    {"answer-answer": "accepted", "answer-answered_on": TODAY.isoformat(), "answer-guardians": [kari.pk]})
        offer.refresh_from_db()
        assert (offer.answer, list(offer.answered_by_guardians.all())) == ("accepted", [kari])

    def test_a_twelve_year_olds_own_answer_is_refused_and_nothing_saved(self, client, org, ip):
        emma, _kari = emma_and_kari(org, ip)
        offer = offer_for(ip, emma)
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:offer_answer", args=[offer.code]),
                               {"answer-answer": "accepted", "answer-answered_on": TODAY.isoformat(), "answer-by_person": "on"})
        assert response.status_code == 422
        assert bokmal("At the person's age the guardians answer the offer.") in response.content.decode()
        assert PlanOffer.objects.get(pk=offer.pk).answer == ""

    def test_a_forged_guardian_is_refused_and_nothing_saved(self, client, org, ip):
        emma, _kari = emma_and_kari(org, ip)
        stranger = make_guardian(adult(org, ip, given="Per", start=330))
        offer = offer_for(ip, emma)
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:offer_answer", args=[offer.code]),
                               {"answer-answer": "accepted", "answer-answered_on": TODAY.isoformat(), "answer-guardians": [stranger.pk]})
        assert response.status_code == 422
        assert PlanOffer.objects.get(pk=offer.pk).answer == ""

    def test_an_answer_before_the_offer_is_refused(self, client, org, ip):
        offer = offer_for(ip, adult(org, ip))
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:offer_answer", args=[offer.code]),
                               {"answer-answer": "declined", "answer-answered_on": (TODAY - datetime.timedelta(days=3)).isoformat(),
                                "answer-by_person": "on"})
        assert response.status_code == 422
        assert shown("The answer's date must lie between the offer's date and today.") in response.content.decode()
        assert PlanOffer.objects.get(pk=offer.pk).answer == ""


class KoordinatorOnlyServiceTests:
    def koordinator_only(self, org, ip):
        return svc.offer_answer(user=ip.rus_staff, offer=offer_for(ip, adult(org, ip)), answer="coordinator_only", by_person=True)

    def test_it_names_the_koordinator_on_an_offer_answered_koordinator_only(self, org, ip):
        offer = svc.offer_koordinator_set(user=ip.rus_staff, offer=self.koordinator_only(org, ip), service=ip.rus, koordinator=ip.rus_koordinator)
        offer.refresh_from_db()
        assert (offer.koordinator_service, offer.koordinator, offer.koordinator_named_at) == (ip.rus, ip.rus_koordinator, NOW)
        assert AccessLog.objects.filter(user=ip.rus_staff, purpose="individual plan koordinator", object_id=offer.pk).exists()

    def test_it_refuses_an_offer_with_another_answer(self, org, ip):
        offer = accepted_offer(ip, adult(org, ip))
        with pytest.raises(ValidationError) as e:
            svc.offer_koordinator_set(user=ip.rus_staff, offer=offer, service=ip.rus, koordinator=ip.rus_koordinator)
        assert e.value.code == "out_of_order"
        assert PlanOffer.objects.get(pk=offer.pk).koordinator_id is None

    def test_it_refuses_a_koordinator_outside_the_service_and_a_service_not_the_users(self, org, ip):
        offer = self.koordinator_only(org, ip)
        with pytest.raises(ValidationError) as e:
            svc.offer_koordinator_set(user=ip.rus_staff, offer=offer, service=ip.rus, koordinator=ip.nav_staff)
        assert e.value.message_dict == {"koordinator": ["The koordinator must be a member of Psykisk helse og rus."]}
        with pytest.raises(ValidationError) as e:
            svc.offer_koordinator_set(user=ip.rus_staff, offer=offer, service=ip.nav, koordinator=ip.nav_staff)
        assert list(e.value.message_dict) == ["koordinator_service"]
        assert PlanOffer.objects.get(pk=offer.pk).koordinator_id is None

    def test_only_the_offering_service_names_it(self, org, ip):
        offer = self.koordinator_only(org, ip)
        with pytest.raises(ValidationError) as e:
            svc.offer_koordinator_set(user=ip.nav_staff, offer=offer, service=ip.nav, koordinator=ip.nav_staff)
        assert e.value.code == "not_member"

    def test_the_database_admits_a_koordinator_only_on_a_koordinator_only_offer(self, org, ip):
        offer = accepted_offer(ip, adult(org, ip))
        with pytest.raises(IntegrityError), transaction.atomic():
            PlanOffer.objects.filter(pk=offer.pk).update(koordinator_service=ip.rus, koordinator=ip.rus_koordinator)


class KoordinatorOnlyPageTests:
    def test_it_offers_the_form_after_the_answer_and_shows_the_koordinator_named(self, client, org, ip):
        offer = offer_for(ip, adult(org, ip))
        client.force_login(ip.rus_staff)
        client.post(reverse("individual_plans:offer_answer", args=[offer.code]),
                    {"answer-answer": "coordinator_only", "answer-answered_on": TODAY.isoformat(), "answer-by_person": "on"})
        page = client.get(reverse("individual_plans:offer", args=[offer.code])).content.decode()
        assert 'data-testid="offer-koordinator-form"' in page and 'data-testid="plan-create"' not in page
        response = client.post(reverse("individual_plans:offer_koordinator", args=[offer.code]),
                               {"koordinator-koordinator_service": ip.rus.pk, "koordinator-koordinator": ip.rus_koordinator.pk})
        assert response.status_code == 302
        assert 'data-testid="offer-koordinator"' in client.get(response.url).content.decode()
        assert PlanOffer.objects.get(pk=offer.pk).koordinator == ip.rus_koordinator

    def test_a_koordinator_outside_the_chosen_service_is_refused_and_nothing_saved(self, client, org, ip):
        offer = svc.offer_answer(user=ip.rus_staff, offer=offer_for(ip, adult(org, ip)), answer="coordinator_only", by_person=True)
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:offer_koordinator", args=[offer.code]),
                               {"koordinator-koordinator_service": ip.rus.pk, "koordinator-koordinator": ip.nav_staff.pk})
        assert response.status_code == 422
        assert PlanOffer.objects.get(pk=offer.pk).koordinator_id is None


def plan_data(ip, **extra) -> dict:
    data = {"submission": token_issue(ip.rus_staff), "kind": "ip", "goals": "Jeg vil ha egen leilighet.", "resources": "Søsteren.", "period_start": TODAY.isoformat(),
            "period_end": (TODAY + datetime.timedelta(days=365)).isoformat(), "revision_due_on": (TODAY + datetime.timedelta(days=180)).isoformat(),
            "participation": "wrote", "participation_note": ""}
    data.update(extra)
    return data


class PlanCreatePageTests:
    def test_without_a_consent_it_links_to_recording_one_and_refuses_the_plan(self, client, org, ip):
        offer = accepted_offer(ip, adult(org, ip))
        client.force_login(ip.rus_staff)
        page = client.get(reverse("individual_plans:plan_create", args=[offer.code])).content.decode()
        assert 'data-testid="no-consent"' in page and reverse("consent:create", args=[offer.person.code]) in page
        assert bokmal("Record the consent") in page
        assert client.get(reverse("consent:create", args=[offer.person.code])).status_code == 200  # the offering service may record it
        response = client.post(reverse("individual_plans:plan_create", args=[offer.code]), plan_data(ip))
        assert response.status_code == 422
        assert bokmal("There is no consent in force from the person for an individual plan shared with %(service)s.") % {
            "service": "Psykisk helse og rus"} in response.content.decode()
        assert not IndividualPlan.objects.exists()

    def test_with_the_consent_it_makes_the_plan_held_by_the_offering_service(self, client, org, ip):
        ola = adult(org, ip)
        offer = accepted_offer(ip, ola)
        consent = plan_consent(ip, ola)
        client.force_login(ip.rus_staff)
        page = client.get(reverse("individual_plans:plan_create", args=[offer.code])).content.decode()
        assert bokmal("Kind of plan") in page and f'value="{consent.pk}"' in page
        response = client.post(reverse("individual_plans:plan_create", args=[offer.code]),
                               plan_data(ip, consent=consent.pk, koordinator=ip.rus_koordinator.pk))
        plan = IndividualPlan.objects.get()
        assert response.status_code == 302 and response.url == reverse("individual_plans:detail", args=[plan.code])
        assert (plan.offer, plan.consent, plan.goals, plan.version) == (offer, consent, "Jeg vil ha egen leilighet.", 1)
        assert plan.holders.get().koordinator == ip.rus_koordinator
        # The offer's page links to its plan, and making a second one leads to the first.
        assert client.get(reverse("individual_plans:plan_create", args=[offer.code])).url == response.url

    def test_a_revision_date_outside_the_period_is_refused_and_nothing_saved(self, client, org, ip):
        ola = adult(org, ip)
        offer = accepted_offer(ip, ola)
        consent = plan_consent(ip, ola)
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:plan_create", args=[offer.code]),
                               plan_data(ip, consent=consent.pk, revision_due_on=(TODAY - datetime.timedelta(days=1)).isoformat()))
        assert response.status_code == 422
        assert shown("The revision date must lie within the plan period.") in response.content.decode()
        assert not IndividualPlan.objects.exists()

    def test_an_offer_not_accepted_has_no_plan_page(self, client, org, ip):
        offer = offer_for(ip, adult(org, ip))
        client.force_login(ip.rus_staff)
        assert client.get(reverse("individual_plans:plan_create", args=[offer.code])).status_code == 404
