"""The BrukerPlan pages (issue 10): the coordinator sets a round up, opens it, follows the completion
per service (counts only) and closes it; each participating service marks its worklist and maps its
users. Privacy: the coordinator gets 404 on every mapping URL, an outsider on every round URL and
worklist, one service on another's worklist and mappings, a forged code 404; bad input is refused
with a translated error (status 422) and nothing is saved; the worklist asks the same number of
queries with 3 and with 30 persons, and logs the names it shows.

Personas and dates: scenario.py (Tuesday 1 December 2026; the pages speak bokmål).
"""
import datetime
import uuid

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from audit.models import AccessLog
from referrals.models import BrukerPlanMapping, BrukerPlanRound, LifeArea, level_field
from tests.queries import MAX_QUERIES, page_queries
from tests.workflows.brukerplan.scenario import OSLO, make_round, map_person, person, serve
from workflows.brukerplan import services as svc

pytestmark = pytest.mark.django_db


def bokmal(msgid: str, **params) -> str:
    with translation.override("nb"):
        text = translation.gettext(msgid)
    assert text != msgid, f"no bokmål for {msgid!r}"
    return escape(text % params if params else text)


@pytest.fixture
def round_(bp):
    """The open round with Ola (served by both services) mapped by rus, and Kari on rus's list."""
    r = make_round(bp)
    r.ola = person(bp, datetime.date(1986, 5, 1), given="Ola")
    serve(bp, r.ola, bp.nav)
    r.kari = person(bp, datetime.date(1996, 5, 1), given="Kari")
    r.mapping = map_person(bp, r, bp.rus, r.ola)
    return r


def round_urls(r) -> list[str]:
    return [reverse("brukerplan:round", args=[r.code])]


def worklist_url(r, service) -> str:
    return reverse("brukerplan:worklist", args=[r.code, service.code])


def mapping_urls(mapping) -> list[str]:
    return [reverse("brukerplan:mapping", args=[mapping.code]), reverse("brukerplan:children_done", args=[mapping.code])]


def post_mapping(client, mapping, **overrides):
    data = {"version": mapping.version, "sex": "male", "has_children": "no", "lar": "no", "tsb": "yes", "ansvarsgruppe": "no",
            "individual_plan": "unknown", "services_used": ["gp"], "expected_need": ["work"]}
    data.update({level_field(area): "1" for area in LifeArea.values})
    data.update(overrides)
    return client.post(reverse("brukerplan:mapping", args=[mapping.code]), data)


class RoundSetUpTests:
    def form(self, bp, **overrides):
        data = {"title": "BrukerPlan 2027", "coordinator_service": bp.coordination.pk, "period_start": "2027-11-01",
                "period_end": "2027-12-31", "reference_date": "2027-12-01", "deadline": "2027-12-15", "age_threshold": "18",
                "services": [bp.rus.pk, bp.nav.pk], "previous_round": ""}
        data.update(overrides)
        return data

    def test_it_sets_a_round_up_as_a_draft_and_shows_its_scales(self, client, bp):
        client.force_login(bp.coordinator)
        response = client.post(reverse("brukerplan:round_new"), self.form(bp))
        r = BrukerPlanRound.objects.get(title="BrukerPlan 2027")
        assert response.status_code == 302 and response.url == reverse("brukerplan:round", args=[r.code])
        assert r.status == BrukerPlanRound.Status.DRAFT and r.age_threshold == 18
        assert set(r.participations.values_list("service_id", flat=True)) == {bp.rus.pk, bp.nav.pk}
        page = client.get(response.url).content.decode()
        assert page.count('data-testid="scale"') == len(LifeArea.values)
        assert 'data-testid="round-open"' in page and 'data-testid="round-close"' not in page

    def test_it_refuses_a_reference_date_outside_the_period_on_its_field_and_saves_nothing(self, client, bp):
        client.force_login(bp.coordinator)
        response = client.post(reverse("brukerplan:round_new"), self.form(bp, reference_date="2028-01-05", deadline="2028-01-20"))
        assert response.status_code == 422
        assert bokmal("The reference date must lie inside the mapping period.") in response.content.decode()
        assert response.context["form"].errors["reference_date"]
        assert not BrukerPlanRound.objects.exists()

    def test_a_nav_worker_who_leads_nothing_cannot_set_a_round_up_for_nav(self, client, bp):
        client.force_login(bp.nav_worker)
        assert client.get(reverse("brukerplan:round_new")).context["form"].fields["coordinator_service"].queryset.count() == 0
        response = client.post(reverse("brukerplan:round_new"), self.form(bp, coordinator_service=bp.nav.pk))
        assert response.status_code == 422
        assert not BrukerPlanRound.objects.exists()

    def test_the_coordinating_services_staff_cannot_open_the_round(self, client, bp):
        from tests.factories import member

        r = make_round(bp, open_=False)
        client.force_login(member(bp.coordination))
        response = client.post(reverse("brukerplan:round_open", args=[r.code]))
        assert response.status_code == 422
        assert response.context["error"].code == "not_leader" and 'data-testid="form-errors"' in response.content.decode()
        r.refresh_from_db()
        assert r.status == BrukerPlanRound.Status.DRAFT

    def test_it_opens_the_draft_and_closes_it_only_when_confirmed(self, client, bp):
        r = make_round(bp, open_=False)
        client.force_login(bp.coordinator)
        assert client.post(reverse("brukerplan:round_open", args=[r.code])).status_code == 302
        r.refresh_from_db()
        assert r.status == BrukerPlanRound.Status.OPEN
        response = client.post(reverse("brukerplan:round_close", args=[r.code]))
        assert response.status_code == 422
        r.refresh_from_db()
        assert r.status == BrukerPlanRound.Status.OPEN
        assert client.post(reverse("brukerplan:round_close", args=[r.code]), {"confirm": "yes"}).status_code == 302
        r.refresh_from_db()
        assert r.status == BrukerPlanRound.Status.CLOSED

    def test_it_shows_the_coordinator_counts_per_service_with_the_behind_schedule_flag(self, client, bp, round_):
        client.force_login(bp.coordinator)
        page = client.get(reverse("brukerplan:round", args=[round_.code])).content.decode()
        assert page.count('data-testid="completion-row"') == 2
        # Ola and Kari are rus's cohort, Ola is mapped; no name on the page.
        assert "Ola" not in page and "Kari" not in page
        completion = {row["service"].pk: row for row in client.get(reverse("brukerplan:round", args=[round_.code])).context["completion"]}
        assert (completion[bp.rus.pk]["eligible"], completion[bp.rus.pk]["mapped"]) == (2, 1)
        assert not any(row["behind"] for row in completion.values())  # two weeks to go: no reminder yet
        svc.service_complete(user=bp.nav_worker, round=round_, service=bp.nav)
        with time_machine.travel(datetime.datetime(2026, 12, 9, 12, 0, tzinfo=OSLO), tick=False):  # inside the reminders' week
            client.force_login(bp.coordinator)
            completion = {row["service"].pk: row for row in client.get(reverse("brukerplan:round", args=[round_.code])).context["completion"]}
        assert completion[bp.rus.pk]["behind"] and not completion[bp.nav.pk]["behind"]


class WorklistTests:
    def test_it_lists_the_services_cohort_by_its_own_records_and_logs_the_names_shown(self, client, bp, round_):
        client.force_login(bp.rus_worker)
        page = client.get(worklist_url(round_, bp.rus)).content.decode()
        assert page.count('data-testid="worklist-row"') == 2 and "Kari" in page
        assert reverse("brukerplan:mapping", args=[round_.mapping.code]) in page
        logged = set(AccessLog.objects.filter(purpose="brukerplan worklist", user=bp.rus_worker).values_list("person_id", flat=True))
        assert logged == {round_.ola.pk, round_.kari.pk}

    def test_it_marks_a_person_in_scope_and_sends_the_worker_to_the_mapping(self, client, bp, round_):
        client.force_login(bp.rus_worker)
        response = client.post(reverse("brukerplan:scope_mark", args=[round_.code, bp.rus.code]),
                               {"person": str(round_.kari.code), "version": "0", "assessment": "substance"})
        mapping = BrukerPlanMapping.objects.get(person=round_.kari, service=bp.rus)
        assert response.url == reverse("brukerplan:mapping", args=[mapping.code])
        assert mapping.status == BrukerPlanMapping.Status.IN_SCOPE and mapping.scope_reason == "substance"

    def test_it_refuses_a_person_outside_the_cohort_and_saves_nothing(self, client, bp, round_):
        outsider = person(bp, datetime.date(1980, 1, 1), service=bp.nav, given="Per")  # NAV's, not rus's
        client.force_login(bp.rus_worker)
        for code in (outsider.code, uuid.uuid4(), "not-a-code"):
            response = client.post(reverse("brukerplan:scope_mark", args=[round_.code, bp.rus.code]),
                                   {"person": str(code), "version": "0", "assessment": "both"})
            assert response.status_code == 422
            assert bokmal("This person is not on your service's list for this round.") in response.content.decode()
        assert not BrukerPlanMapping.objects.filter(service=bp.rus).exclude(pk=round_.mapping.pk).exists()

    def test_it_refuses_an_assessment_not_in_the_list_with_its_own_error_and_saves_nothing(self, client, bp, round_):
        client.force_login(bp.rus_worker)
        response = client.post(reverse("brukerplan:scope_mark", args=[round_.code, bp.rus.code]),
                               {"person": str(round_.kari.code), "version": "0", "assessment": "alcohol"})
        assert response.status_code == 422
        assert response.context["error"].code == "invalid_assessment"
        html = response.content.decode()  # bokmål once the catalogue has it (/tmp/translations), the msgid until then
        assert "Velg en av vurderingene i listen." in html or "Choose one of the assessments in the list." in html
        assert bokmal("This person is not on your service's list for this round.") not in response.content.decode()
        assert not BrukerPlanMapping.objects.filter(person=round_.kari).exists()

    def test_a_row_shown_before_a_colleagues_mapping_cannot_wipe_it(self, client, bp, round_):
        import re

        from tests.factories import member

        client.force_login(bp.rus_worker)
        page = client.get(worklist_url(round_, bp.rus)).content.decode()
        kari_row = page.split(f'value="{round_.kari.code}"', 1)[1]
        shown = re.search(r'name="version" value="(\d+)"', kari_row).group(1)
        assert shown == "0"  # Kari has no mapping yet
        # Meanwhile a colleague in the same service marks Kari in scope and maps her.
        mapping = map_person(bp, round_, bp.rus, round_.kari, user=member(bp.rus))
        response = client.post(reverse("brukerplan:scope_mark", args=[round_.code, bp.rus.code]),
                               {"person": str(round_.kari.code), "version": shown, "assessment": "out"})
        assert response.status_code == 422
        assert bokmal("Someone else changed this mapping while you had it open. Reload the page and try again.") in response.content.decode()
        stored = BrukerPlanMapping.objects.get(pk=mapping.pk)
        assert stored.status == BrukerPlanMapping.Status.MAPPED and stored.version == mapping.version and stored.sex == "female"

    def test_it_shows_the_refusal_to_mark_the_mapping_done_while_someone_in_scope_is_unmapped(self, client, bp, round_):
        svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=round_.kari.code, in_scope=True, reason="both")
        client.force_login(bp.rus_worker)
        response = client.post(reverse("brukerplan:service_complete", args=[round_.code, bp.rus.code]))
        assert response.status_code == 422
        assert bokmal("%(n)s persons marked in scope are not mapped yet.", n=1) in response.content.decode()
        assert round_.participations.get(service=bp.rus).completed_at is None

    def test_it_asks_the_same_number_of_queries_with_3_and_with_30_persons(self, client, bp, round_):
        person(bp, datetime.date(1970, 1, 1), given="Ada")
        small = page_queries(client, bp.rus_worker, worklist_url(round_, bp.rus))
        for n in range(27):
            person(bp, datetime.date(1970, 1, 2) + datetime.timedelta(days=n), given=f"P{n}")
        large = page_queries(client, bp.rus_worker, worklist_url(round_, bp.rus))
        assert len(small) == len(large) <= MAX_QUERIES, (len(small), len(large))

    def test_it_pages_by_25_with_a_signed_cursor(self, client, bp, round_):
        for n in range(25):
            person(bp, datetime.date(1970, 1, 2) + datetime.timedelta(days=n), given=f"P{n}")
        client.force_login(bp.rus_worker)
        first = client.get(worklist_url(round_, bp.rus))
        assert len(first.context["rows"]) == 25 and first.context["next"]
        second = client.get(worklist_url(round_, bp.rus) + first.context["next"])
        assert len(second.context["rows"]) == 2
        assert {r.pk for r in first.context["rows"]}.isdisjoint({r.pk for r in second.context["rows"]})
        assert len(client.get(worklist_url(round_, bp.rus) + "?side=forged").context["rows"]) == 25


class MappingPageTests:
    def test_it_saves_the_mapping_and_offers_the_way_to_help(self, client, bp, round_):
        client.force_login(bp.rus_worker)
        response = post_mapping(client, round_.mapping, has_children="yes")
        assert response.status_code == 302
        round_.mapping.refresh_from_db()
        assert round_.mapping.has_children is True and round_.mapping.sex == "male"
        page = client.get(response.url).content.decode()
        assert reverse("individual_plans:offer_register") in page and 'data-testid="children"' in page

    def test_it_refuses_a_level_off_the_scale_and_saves_nothing(self, client, bp, round_):
        client.force_login(bp.rus_worker)
        before = round_.mapping.version
        response = post_mapping(client, round_.mapping, **{level_field("housing"): "9"})
        assert response.status_code == 422
        assert bokmal("%(level)s is not a level of the round's scale for %(area)s.", level="9",
                      area=bokmal_label(LifeArea.HOUSING.label)) in response.content.decode()
        round_.mapping.refresh_from_db()
        assert round_.mapping.version == before and round_.mapping.sex == "female"

    def test_it_refuses_a_stale_form(self, client, bp, round_):
        client.force_login(bp.rus_worker)
        response = post_mapping(client, round_.mapping, version=round_.mapping.version - 1)
        assert response.status_code == 422
        round_.mapping.refresh_from_db()
        assert round_.mapping.sex == "female"

    def test_it_labels_every_life_area_in_a_fieldset_with_a_legend(self, client, bp, round_):
        client.force_login(bp.rus_worker)
        page = client.get(reverse("brukerplan:mapping", args=[round_.mapping.code])).content.decode()
        assert page.count("<legend") >= len(LifeArea.values) + 6  # the areas, sex, children, LAR, TSB, group, plan


def bokmal_label(label) -> str:
    with translation.override("nb"):
        return str(label)


class PrivacyTests:
    def test_the_coordinator_gets_404_on_every_mapping_url(self, client, bp, round_):
        client.force_login(bp.coordinator)
        assert client.get(mapping_urls(round_.mapping)[0]).status_code == 404
        for url in mapping_urls(round_.mapping):
            assert client.post(url).status_code == 404, url
        assert client.get(worklist_url(round_, bp.rus)).status_code == 404

    def test_an_outsider_gets_404_on_every_round_url_and_worklist(self, client, bp, org, round_):
        client.force_login(org.reporter)
        for url in [*round_urls(round_), worklist_url(round_, bp.rus), worklist_url(round_, bp.nav)]:
            assert client.get(url).status_code == 404, url
        for name in ("round_open", "round_close"):
            assert client.post(reverse(f"brukerplan:{name}", args=[round_.code]), {"confirm": "yes"}).status_code == 404
        for name in ("scope_mark", "service_complete"):
            assert client.post(reverse(f"brukerplan:{name}", args=[round_.code, bp.rus.code])).status_code == 404
        round_.refresh_from_db()
        assert round_.status == BrukerPlanRound.Status.OPEN

    def test_a_worker_of_one_service_gets_404_on_the_others_worklist_and_mappings(self, client, bp, round_):
        client.force_login(bp.nav_worker)
        assert client.get(worklist_url(round_, bp.nav)).status_code == 200
        assert client.get(worklist_url(round_, bp.rus)).status_code == 404
        assert client.post(reverse("brukerplan:scope_mark", args=[round_.code, bp.rus.code]),
                           {"person": str(round_.kari.code), "assessment": "both"}).status_code == 404
        assert client.get(mapping_urls(round_.mapping)[0]).status_code == 404
        assert client.post(mapping_urls(round_.mapping)[1]).status_code == 404
        assert post_mapping(client, round_.mapping).status_code == 404

    def test_a_participant_cannot_open_or_close_the_round(self, client, bp, round_):
        client.force_login(bp.rus_worker)
        assert client.post(reverse("brukerplan:round_close", args=[round_.code]), {"confirm": "yes"}).status_code == 404

    def test_forged_codes_get_404(self, client, bp, round_):
        client.force_login(bp.rus_worker)
        forged = uuid.uuid4()
        for url in [reverse("brukerplan:round", args=[forged]), reverse("brukerplan:mapping", args=[forged]),
                    reverse("brukerplan:worklist", args=[forged, bp.rus.code]), reverse("brukerplan:worklist", args=[round_.code, forged])]:
            assert client.get(url).status_code == 404, url


class MenuAndLandingTests:
    def test_the_coordinator_lands_on_the_rounds_list(self, client, bp, round_):
        client.force_login(bp.coordinator)
        assert client.get(reverse("home")).url == reverse("brukerplan:index")

    def test_a_participating_service_starts_its_day_elsewhere(self, client, bp, round_):
        client.force_login(bp.rus_worker)
        assert client.get(reverse("home")).url != reverse("brukerplan:index")

    def test_a_service_in_an_open_round_sees_the_section_and_others_do_not(self, client, bp, org, round_):
        client.force_login(bp.nav_worker)
        assert 'data-testid="menu-brukerplan"' in client.get(reverse("brukerplan:index")).content.decode()
        client.force_login(org.reporter)
        assert 'data-testid="menu-brukerplan"' not in client.get(reverse("brukerplan:index")).content.decode()
