"""The plan's own pages (issue 9, point 3): the holder changes the content (a form rendered from an
older version refused), adds and removes participants (a service only as the consent covers it),
adds measures, names the koordinator and cancels its open hand-over; a measure's responsible
service changes that measure. Only the roles the selectors allow see the forms: every other user,
a participant removed from the plan and everyone after the consent's withdrawal get 404 on every
URL, GET and POST alike. Bad input gets a translated error and nothing is saved.

Personas and dates: see scenario.py (the pages speak bokmål).
"""
import datetime

import pytest
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from consent.models import Disclosure
from referrals.models import PlanHandOver, PlanHolder, PlanMeasure, PlanParticipant, PlanVersion
from people.models import Person, PersonRecord
from tests.factories import make_child, make_guardian, make_service, member
from tests.queries import page_queries
from tests.workflows.individual_plan.scenario import TODAY, adult, create_plan, plan_consent, plan_with_participants
from tests.workflows.individual_plan.test_pages_offers import shown
from tests.workflows.individual_plan.test_views import bokmal, task_kwargs
from workflows.individual_plan import services as svc
from workflows.withdrawal import consent_withdraw_cascade

pytestmark = pytest.mark.django_db
DECEMBER = TODAY.replace(month=12)


@pytest.fixture
def plan(org, ip):
    """Ola's plan held by Psykisk helse og rus, NAV and Hjemmetjenesten taking part, a measure NAV
    is responsible for, and a hand-over to NAV waiting for its answer."""
    plan = plan_with_participants(org, ip)
    plan.measure = svc.measure_add(user=ip.rus_staff, plan=plan, description="Arbeidstrening tre dager i uka.", responsible_service=ip.nav,
                                   starts_on=TODAY, evaluate_on=DECEMBER)
    plan.handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav, note="Arbeid er nå det viktigste.")
    plan.refresh_from_db()
    return plan


def content(plan, **extra) -> dict:
    data = {f: getattr(plan, f) for f in svc.CONTENT_FIELDS}
    data = {k: ("" if v is None else v.isoformat() if isinstance(v, datetime.date) else v) for k, v in data.items()}
    data["version"] = plan.version
    data.update(extra)
    return data


def measure_data(ip, **extra) -> dict:
    data = {"description": "Støttesamtaler hver uke.", "responsible_service": ip.home.pk, "starts_on": TODAY.isoformat(),
            "evaluate_on": DECEMBER.isoformat(), "status": "planned"}
    data.update(extra)
    return data


def holder_urls(plan) -> list[tuple[str, str]]:
    """(method, url) of every page and form only the holder may use."""
    home = PlanParticipant.objects.get(plan=plan, service__name="Hjemmetjenesten", removed_at__isnull=True)
    return [
        ("get", reverse("individual_plans:edit", args=[plan.code])),
        ("post", reverse("individual_plans:edit", args=[plan.code])),
        ("get", reverse("individual_plans:participants", args=[plan.code])),
        ("post", reverse("individual_plans:participant_add_service", args=[plan.code])),
        ("post", reverse("individual_plans:participant_add_guardian", args=[plan.code])),
        ("post", reverse("individual_plans:participant_add_next_of_kin", args=[plan.code])),
        ("post", reverse("individual_plans:participant_remove", args=[plan.code, home.code])),
        ("get", reverse("individual_plans:measure_add", args=[plan.code])),
        ("post", reverse("individual_plans:measure_add", args=[plan.code])),
        ("post", reverse("individual_plans:koordinator", args=[plan.code])),
        ("post", reverse("individual_plans:handover_cancel", args=[plan.handover.code])),
    ]


def measure_urls(plan) -> list[tuple[str, str]]:
    url = reverse("individual_plans:measure_edit", args=[plan.measure.code])
    return [("get", url), ("post", url)]


def state(plan) -> tuple:
    """What the pages could change: nothing of it may move on refused input."""
    return (PlanVersion.objects.filter(plan=plan).count(), PlanParticipant.objects.filter(plan=plan, removed_at__isnull=True).count(),
            PlanMeasure.objects.filter(plan=plan).count(), PlanHandOver.objects.filter(plan=plan, status="proposed").count())


class PlanPageLinksTests:
    def test_the_holder_sees_the_forms_and_a_participant_none_of_them(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        page = client.get(reverse("individual_plans:detail", args=[plan.code])).content.decode()
        for testid in ("plan-edit", "measure-add", "participants-link", "koordinator-form", "handover-cancel", "measure-edit"):
            assert f'data-testid="{testid}"' in page, testid
        client.force_login(ip.home_staff)
        page = client.get(reverse("individual_plans:detail", args=[plan.code])).content.decode()
        for testid in ("plan-edit", "measure-add", "participants-link", "koordinator-form", "handover-cancel", "measure-edit"):
            assert f'data-testid="{testid}"' not in page, testid

    def test_the_measures_responsible_service_gets_its_edit_link(self, client, ip, plan):
        client.force_login(ip.nav_staff)
        page = client.get(reverse("individual_plans:detail", args=[plan.code])).content.decode()
        assert reverse("individual_plans:measure_edit", args=[plan.measure.code]) in page and 'data-testid="plan-edit"' not in page


    def test_the_plans_page_asks_the_database_as_often_with_many_measures_as_with_few(self, client, ip, plan):
        url = reverse("individual_plans:detail", args=[plan.code])
        few = {user: len(page_queries(client, user, url)) for user in (ip.rus_staff, ip.nav_staff)}
        for n in range(4):
            svc.measure_add(user=ip.rus_staff, plan=plan, description=f"Tiltak {n}.", responsible_service=(ip.nav, ip.home)[n % 2],
                            starts_on=TODAY, evaluate_on=DECEMBER)
        assert {user: len(page_queries(client, user, url)) for user in few} == few


class AccessTests:
    def test_every_outsider_gets_404_on_every_new_url(self, client, org, ip, plan):
        before = state(plan)
        for outsider in (ip.dps_staff, org.caseworker, org.slt_staff):
            client.force_login(outsider)
            for method, url in holder_urls(plan) + measure_urls(plan):
                assert getattr(client, method)(url, {}).status_code == 404, (outsider, url)
        assert state(plan) == before

    def test_a_participant_that_does_not_hold_the_plan_gets_404_on_the_holders_urls(self, client, ip, plan):
        before = state(plan)
        for user in (ip.nav_staff, ip.home_staff):
            client.force_login(user)
            for method, url in holder_urls(plan):
                assert getattr(client, method)(url, {}).status_code == 404, (user, url)
        client.force_login(ip.home_staff)  # not the measure's responsible service
        for method, url in measure_urls(plan):
            assert getattr(client, method)(url, {}).status_code == 404, url
        assert state(plan) == before

    def test_a_removed_participant_gets_404_on_every_url(self, client, ip, plan):
        nav = PlanParticipant.objects.get(plan=plan, service=ip.nav)
        svc.participant_remove(user=ip.rus_staff, plan=plan, participant=nav)
        client.force_login(ip.nav_staff)
        for method, url in holder_urls(plan) + measure_urls(plan):
            assert getattr(client, method)(url, {}).status_code == 404, url

    def test_after_the_withdrawal_the_holder_gets_404_on_every_url(self, client, ip, plan):
        consent_withdraw_cascade(consent=plan.consent, user=ip.rus_staff, note="Ola trekker samtykket.")
        client.force_login(ip.rus_staff)
        for method, url in holder_urls(plan) + measure_urls(plan):
            assert getattr(client, method)(url, {}).status_code == 404, url

    def test_forged_codes_get_404(self, client, ip, plan):
        forged = "00000000-0000-0000-0000-000000000000"
        client.force_login(ip.rus_staff)
        assert client.get(reverse("individual_plans:edit", args=[forged])).status_code == 404
        assert client.get(reverse("individual_plans:measure_edit", args=[forged])).status_code == 404
        assert client.post(reverse("individual_plans:participant_remove", args=[plan.code, forged])).status_code == 404
        assert client.post(reverse("individual_plans:handover_cancel", args=[forged])).status_code == 404

    def test_state_changes_refuse_get(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        for name, args in (("koordinator", [plan.code]), ("participant_add_service", [plan.code]), ("handover_cancel", [plan.handover.code])):
            assert client.get(reverse(f"individual_plans:{name}", args=args)).status_code == 405


class PlanEditPageTests:
    def test_it_shows_the_holder_the_content_in_bokmal(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        page = client.get(reverse("individual_plans:edit", args=[plan.code])).content.decode()
        assert bokmal("Kind of plan") in page and bokmal("Revise by") in page and plan.goals in page
        assert f'name="version" value="{plan.version}"' in page

    def test_it_saves_the_change_as_a_new_version(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:edit", args=[plan.code]), content(plan, goals="Jeg vil bo for meg selv."))
        assert response.status_code == 302
        plan.refresh_from_db()
        version = PlanVersion.objects.get(plan=plan, number=plan.version)
        assert (plan.goals, version.change, version.changed_by) == ("Jeg vil bo for meg selv.", "content", ip.rus_staff)

    def test_a_stale_form_is_refused_and_nothing_saved(self, client, ip, plan):
        stale = content(plan, goals="Min gamle side.")
        svc.koordinator_set(user=ip.rus_staff, plan=plan, koordinator=ip.rus_staff)  # someone else's change meanwhile
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:edit", args=[plan.code]), stale)
        assert response.status_code == 422
        assert shown("Someone else changed this plan while you had it open. Reload the page and try again.") in response.content.decode()
        plan.refresh_from_db()
        assert plan.goals != "Min gamle side."

    def test_a_form_without_its_version_is_refused_as_stale(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:edit", args=[plan.code]), content(plan, goals="Uten versjon.", version=""))
        assert response.status_code == 422
        assert shown("Someone else changed this plan while you had it open. Reload the page and try again.") in response.content.decode()
        assert PlanVersion.objects.filter(plan=plan).count() == plan.version

    def test_a_period_ending_before_it_starts_is_refused_and_nothing_saved(self, client, ip, plan):
        before = state(plan)
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:edit", args=[plan.code]),
                               content(plan, period_end=(TODAY - datetime.timedelta(days=1)).isoformat()))
        assert response.status_code == 422
        assert shown("The plan period cannot end before it starts.") in response.content.decode()
        assert state(plan) == before


class ParticipantPageTests:
    def test_it_lists_the_participants_to_the_holder(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        page = client.get(reverse("individual_plans:participants", args=[plan.code])).content.decode()
        assert bokmal("Participants") in page and page.count('data-testid="participant"') == 3
        assert page.count('data-testid="participant-remove"') == 2  # not the holder's own service

    def test_it_adds_a_service_the_consent_covers_through_the_ledger(self, client, org, ip):
        ola = adult(org, ip)
        plan = create_plan(ip, ola)  # the consent covers NAV and Hjemmetjenesten; neither takes part yet
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:participant_add_service", args=[plan.code]), {"service-service": ip.home.pk})
        assert response.status_code == 302
        assert PlanParticipant.objects.filter(plan=plan, service=ip.home, removed_at__isnull=True).exists()
        assert Disclosure.objects.filter(to_service=ip.home, consent=plan.consent).exists()
        client.force_login(ip.home_staff)
        assert client.get(reverse("individual_plans:detail", args=[plan.code])).status_code == 200

    def test_a_service_the_consent_does_not_cover_is_refused_with_the_reason_and_nothing_saved(self, client, ip, plan):
        before = state(plan)
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:participant_add_service", args=[plan.code]), {"service-service": ip.dps.pk})
        assert response.status_code == 422
        assert bokmal("The person's consent does not cover sharing the plan with %(service)s.") % {"service": "DPS"} in response.content.decode()
        assert state(plan) == before and not Disclosure.objects.filter(to_service=ip.dps).exists()

    def test_it_removes_a_participant_who_loses_the_plan_at_once(self, client, ip, plan):
        home = PlanParticipant.objects.get(plan=plan, service=ip.home)
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:participant_remove", args=[plan.code, home.code]))
        assert response.status_code == 302
        home.refresh_from_db()
        assert home.removed_at is not None
        client.force_login(ip.home_staff)
        assert client.get(reverse("individual_plans:detail", args=[plan.code])).status_code == 404

    def test_the_holders_own_service_cannot_be_removed(self, client, ip, plan):
        rus = PlanParticipant.objects.get(plan=plan, service=ip.rus)
        before = state(plan)
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:participant_remove", args=[plan.code, rus.code]))
        assert response.status_code == 422
        assert shown("The service holding the main responsibility cannot leave the plan: hand it over first.") in response.content.decode()
        assert state(plan) == before

    def test_a_participant_of_another_plan_gets_404(self, client, org, ip, plan):
        other = create_plan(ip, adult(org, ip, given="Kåre", start=310))
        theirs = PlanParticipant.objects.get(plan=other, service=ip.rus)
        client.force_login(ip.rus_staff)
        assert client.post(reverse("individual_plans:participant_remove", args=[plan.code, theirs.code])).status_code == 404
        assert PlanParticipant.objects.get(pk=theirs.pk).removed_at is None

    def test_it_adds_a_next_of_kin_as_the_holders_own_record(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:participant_add_next_of_kin", args=[plan.code]),
                               {"kin-given_name": "Sara", "kin-family_name": "Nordmann", "kin-birth_date": "1994-01-20", "kin-relation": "søster"})
        assert response.status_code == 302
        sara = PlanParticipant.objects.get(plan=plan, role="next_of_kin")
        assert (sara.relation, PersonRecord.objects.get(person=sara.person, service=ip.rus).full_name) == ("søster", "Sara Nordmann")
        assert "Sara Nordmann" in client.get(response.url).content.decode()

    def test_a_next_of_kin_without_a_number_or_birth_date_is_refused_and_nothing_saved(self, client, ip, plan):
        before, people = state(plan), Person.objects.count()
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:participant_add_next_of_kin", args=[plan.code]), {"kin-given_name": "Sara"})
        assert response.status_code == 422
        assert bokmal("Give the birth date when the person has no identity number.") in response.content.decode()
        assert (state(plan), Person.objects.count()) == (before, people)

    def test_a_registered_guardian_takes_part_and_a_forged_one_is_refused(self, client, org, ip):
        emma = make_child(org, birth=datetime.date(2014, 5, 1), given="Emma", start=710, service=ip.rus)
        kari = make_guardian(emma)
        stranger = make_guardian(adult(org, ip, given="Per", start=330), given="Stranger")
        offer = svc.offer_answer(user=ip.rus_staff, offer=svc.offer_register(user=ip.rus_staff, service=ip.rus, person=emma, reason="Behov."),
                                 answer="accepted", guardians=[kari])
        plan = create_plan(ip, emma, offer=offer, consent=plan_consent(ip, emma, given_by_person=False, guardians=[kari]))
        url = reverse("individual_plans:participant_add_guardian", args=[plan.code])
        client.force_login(ip.rus_staff)
        assert f'value="{kari.pk}"' in client.get(reverse("individual_plans:participants", args=[plan.code])).content.decode()
        assert client.post(url, {"guardian-guardian": stranger.pk}).status_code == 422
        assert not PlanParticipant.objects.filter(plan=plan, role="guardian").exists()
        assert client.post(url, {"guardian-guardian": kari.pk, "guardian-relation": "mor"}).status_code == 302
        assert PlanParticipant.objects.get(plan=plan, role="guardian").person == kari

    def test_it_asks_the_database_as_often_with_many_participants_as_with_few(self, client, org, ip):
        ola = adult(org, ip)
        extra = [make_service(org.municipality, f"Tjeneste {n}", "other") for n in range(4)]
        for service in extra:
            member(service)
        plan = create_plan(ip, ola, consent=plan_consent(ip, ola, grantees=[ip.rus, ip.nav, ip.home, *extra]))
        svc.participant_add(user=ip.rus_staff, plan=plan, role="service", service=ip.nav)

        def kin(given, start):
            person = make_child(org, birth=datetime.date(1994, 1, 20), given=given, start=start, service=ip.rus)
            svc.participant_add(user=ip.rus_staff, plan=plan, role="next_of_kin", person=person, relation="søsken")

        kin("Sara", 200)
        url = reverse("individual_plans:participants", args=[plan.code])
        few = len(page_queries(client, ip.rus_staff, url))
        for service in [ip.home, *extra]:
            svc.participant_add(user=ip.rus_staff, plan=plan, role="service", service=service)
        kin("Jon", 210)
        kin("Liv", 220)
        assert all(name in client.get(url).content.decode() for name in ("Sara", "Jon", "Liv"))
        assert len(page_queries(client, ip.rus_staff, url)) == few


class MeasurePageTests:
    def test_the_holder_adds_a_measure(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        assert bokmal("Evaluate by") in client.get(reverse("individual_plans:measure_add", args=[plan.code])).content.decode()
        response = client.post(reverse("individual_plans:measure_add", args=[plan.code]), measure_data(ip))
        assert response.status_code == 302
        measure = PlanMeasure.objects.get(plan=plan, description="Støttesamtaler hver uke.")
        assert (measure.responsible_service, measure.evaluate_on) == (ip.home, DECEMBER)

    @pytest.mark.parametrize("field, value, message", [
        ("evaluate_on", (TODAY - datetime.timedelta(days=1)).isoformat(), "The evaluation date cannot be before the measure starts."),
        ("responsible_service", "dps", "%(service)s does not take part in this plan: choose a participating service."),
    ])
    def test_bad_input_is_refused_with_a_translated_error_and_nothing_saved(self, client, ip, plan, field, value, message):
        before = state(plan)
        client.force_login(ip.rus_staff)
        data = measure_data(ip, **{field: ip.dps.pk if value == "dps" else value})
        response = client.post(reverse("individual_plans:measure_add", args=[plan.code]), data)
        assert response.status_code == 422
        assert shown(message, service="DPS") in response.content.decode()
        assert state(plan) == before

    def test_the_responsible_service_changes_its_measures_status(self, client, ip, plan):
        url = reverse("individual_plans:measure_edit", args=[plan.measure.code])
        client.force_login(ip.nav_staff)
        page = client.get(url).content.decode()
        assert "Arbeidstrening tre dager i uka." in page
        response = client.post(url, measure_data(ip, description="Arbeidstrening tre dager i uka.", responsible_service=ip.nav.pk, status="ongoing"))
        assert response.status_code == 302
        plan.measure.refresh_from_db()
        assert plan.measure.status == "ongoing"
        assert PlanVersion.objects.filter(plan=plan, change="measure_changed", changed_by_service=ip.nav).exists()

    def test_an_edit_with_the_evaluation_before_the_start_is_refused(self, client, ip, plan):
        url = reverse("individual_plans:measure_edit", args=[plan.measure.code])
        client.force_login(ip.rus_staff)
        response = client.post(url, measure_data(ip, responsible_service=ip.nav.pk, starts_on=DECEMBER.isoformat(), evaluate_on=TODAY.isoformat()))
        assert response.status_code == 422
        plan.measure.refresh_from_db()
        assert (plan.measure.starts_on, plan.measure.evaluate_on) == (TODAY, DECEMBER)


class KoordinatorPageTests:
    def test_the_holder_names_its_koordinator(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:koordinator", args=[plan.code]), {"koordinator-koordinator": ip.rus_staff.pk})
        assert response.status_code == 302
        assert PlanHolder.objects.get(plan=plan, ended_at__isnull=True).koordinator == ip.rus_staff

    def test_a_member_of_another_service_is_refused_and_nothing_saved(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:koordinator", args=[plan.code]), {"koordinator-koordinator": ip.nav_staff.pk})
        assert response.status_code == 422
        assert PlanHolder.objects.get(plan=plan, ended_at__isnull=True).koordinator == ip.rus_koordinator


class HandOverCancelPageTests:
    def test_the_holder_cancels_its_proposal_and_the_task_goes(self, client, ip, plan):
        kwargs = task_kwargs(plan.handover)
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:handover_cancel", args=[plan.handover.code]))
        assert response.status_code == 302
        assert PlanHandOver.objects.get(pk=plan.handover.pk).status == "cancelled"
        assert Task.objects.get(pk=kwargs["task_pk"]).status == STATUS.CANCELED

    def test_a_closed_proposal_is_refused_with_the_reason(self, client, ip, plan):
        svc.handover_cancel(user=ip.rus_staff, handover=plan.handover)
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:handover_cancel", args=[plan.handover.code]))
        assert response.status_code == 422
        assert PlanHandOver.objects.get(pk=plan.handover.pk).status == "cancelled"

    def test_the_receiver_cannot_cancel_it(self, client, ip, plan):
        client.force_login(ip.nav_staff)
        assert client.post(reverse("individual_plans:handover_cancel", args=[plan.handover.code])).status_code == 404
        assert PlanHandOver.objects.get(pk=plan.handover.pk).status == "proposed"
