"""The insights overview: who reads what (SLT over its municipalities, a leader over the services
they lead, nobody else), the figures from the rollup rows, the filter, and a constant number of
queries whatever the rollup's size."""
import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from insights.models import DeadlineCount
from insights.selectors import histogram_quantile
from org.models import Area
from tests.factories import make_org
from tests.insights.rollup_rows import cases, deadlines, durations, finished_run, month, with_narrow
from tests.queries import MAX_QUERIES, page_queries

INSIGHT_URLS = ("insights:index", "insights:export_csv", "insights:export_pdf")


def page(client, user, **params):
    client.force_login(user)
    return client.get(reverse("insights:index"), params)


def table(html, key) -> list[list[str]]:
    """The text of the rendered table ``key``: one list per row (header cells included)."""
    body = re.search(rf'<table[^>]*data-key="{key}"[^>]*>.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows]


def row_of(rows, label):
    return next(r for r in rows if r[0] == label)


@pytest.fixture
def world(org, year):
    m = org.municipality
    cases(m, 12, service=org.barnevern, from_service=org.barnehage)
    cases(m, 9, service=org.skole, process="referral", from_service=org.barnehage)
    cases(m, 6, service=org.barnevern, closed=month(year, 3))
    finished_run()
    return org


class OverviewTests:
    def test_it_shows_the_slt_coordinator_the_open_cases_of_every_service(self, client, world):
        response = page(client, world.slt_staff)
        assert response.status_code == 200
        html = response.content.decode()
        rows = table(html, "open_service")
        assert row_of(rows, "Barneverntjenesten")[-1] == "12"
        assert row_of(rows, "Fjordvik skole")[-1] == "9"
        assert row_of(rows, "Totalt")[-1] == "21"
        assert 'role="img"' in html and "<title" in html

    def test_it_counts_open_cases_by_process_from_the_registry(self, client, world):
        rows = table(page(client, world.slt_staff).content.decode(), "open_process")
        assert row_of(rows, "Bekymring for et barn")[1] == "12"
        assert row_of(rows, "Henvisning")[1] == "9"
        assert row_of(rows, "Ungdomskontrakt")[1] == "0"

    def test_it_shows_a_leader_only_the_rows_of_the_services_they_lead(self, client, world):
        html = page(client, world.bv_leader).content.decode()
        rows = table(html, "open_service")
        assert [r[0] for r in rows] == ["Barneverntjenesten", "Totalt"]
        assert "Fjordvik skole" not in html

    def test_it_filters_by_process(self, client, world):
        rows = table(page(client, world.slt_staff, process="referral").content.decode(), "open_service")
        assert [r[0] for r in rows] == ["Fjordvik skole", "Totalt"]

    def test_it_dates_the_page_by_the_newest_finished_refresh(self, client, world):
        html = page(client, world.slt_staff).content.decode()
        updated = re.search(r'data-testid="insights-updated">(.*?)</span>', html, re.S).group(1)
        assert "15.06.2025" in updated

    def test_it_shows_the_deadlines_by_state_and_the_time_per_step(self, client, org, year):
        deadlines(org.municipality, 7, service=org.barnevern, state=DeadlineCount.State.BREACHED)
        deadlines(org.municipality, 8, service=org.barnevern, state=DeadlineCount.State.AT_RISK)
        durations(org.municipality, {3: 10, 7: 20, 14: 5})
        html = page(client, org.slt_staff).content.decode()
        steps = table(html, "deadlines_step")
        assert steps[0][1:3] == ["8", "7"]  # at risk, breached
        measured = table(html, "durations")[0]
        assert measured[0].startswith("Bekymring for et barn: ")  # the process's label and the policy's title
        with translation.override("nb"):
            assert measured[1:] == ["35", gettext("up to %(days)s days") % {"days": 7}, gettext("up to %(days)s days") % {"days": 14}]

    def test_it_reads_the_median_off_the_histogram_to_a_bucket(self):
        assert histogram_quantile({1: 1, 3: 1, 7: 2}, 0.5) == 3
        assert histogram_quantile({1: 9, -1: 1}, 0.95) == -1
        assert histogram_quantile({}, 0.5) is None

    def test_it_shows_the_flow_from_service_to_service(self, client, world):
        rows = table(page(client, world.slt_staff).content.decode(), "flow")
        assert row_of(rows, "Solsiden barnehage")[-1] == "21"

    def test_it_counts_by_area(self, client, org):
        area = Area.objects.create(municipality=org.municipality, name="Nordre skolekrets")
        cases(org.municipality, 8, service=org.barnevern, area=area)
        rows = table(page(client, org.slt_staff).content.decode(), "open_area")
        assert row_of(rows, "Nordre skolekrets")[1] == "8"

    def test_it_links_the_processes_own_lists_and_never_a_case(self, client, world):
        html = page(client, world.bv_leader).content.decode()
        assert reverse("concerns:index") in html
        assert not re.search(r'href="[^"]*[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-', html)


class OverviewAccessTests:
    @pytest.mark.parametrize("name", INSIGHT_URLS)
    def test_it_answers_404_to_a_caseworker_who_leads_nothing(self, client, world, name):
        client.force_login(world.caseworker)
        assert client.get(reverse(name)).status_code == 404

    @pytest.mark.parametrize("name", INSIGHT_URLS)
    def test_it_sends_an_anonymous_visitor_to_log_in(self, client, world, name):
        assert client.get(reverse(name)).status_code == 302

    def test_it_shows_a_leader_in_another_municipality_nothing_of_this_one(self, client, world):
        other = make_org("9997")
        cases(other.municipality, 5, service=other.barnevern)
        html = page(client, other.bv_leader).content.decode()
        assert "Barneverntjenesten" in html  # their own
        assert row_of(table(html, "open_service"), "Totalt")[-1] == "5"
        assert "Fjordvik skole" not in html and world.municipality.name not in html

    def test_it_refuses_a_forged_municipality_outside_the_scope(self, client, world):
        other = make_org("9997")
        cases(other.municipality, 41, service=other.barnevern)
        response = page(client, world.slt_staff, municipality=other.municipality.pk)
        assert response.status_code == 400
        html = response.content.decode()
        assert "Velg et gyldig valg" in html
        # None of its figures: no 41 in the page's text (the refused value, its id, is echoed in the error).
        text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S))
        text = text.replace(f"{other.municipality.pk} er ikke", "").replace("9997", "")
        assert not re.search(r"\b41\b", text)
        client.force_login(world.slt_staff)
        for name in ("insights:export_csv", "insights:export_pdf"):
            assert client.get(reverse(name), {"municipality": other.municipality.pk}).status_code == 400


class OverviewFilterTests:
    @pytest.mark.parametrize("params, message", [
        ({"year": "abc"}, "Oppgi et heltall"),
        ({"year": "3000"}, "Verdien må være mindre enn eller lik 2025"),
        ({"year": "1999"}, "Verdien må være større enn eller lik 2000"),
        ({"process": "nope"}, "Velg et gyldig valg"),
        ({"municipality": "x"}, "Velg et gyldig valg"),
    ])
    def test_it_answers_bad_input_with_a_translated_error(self, client, world, params, message):
        response = page(client, world.slt_staff, **params)
        assert response.status_code == 400
        assert message in response.content.decode()

    def test_it_shows_a_past_year(self, client, world, year):
        cases(world.municipality, 30, service=world.barnevern, opened=month(year - 1, 5), closed=month(year - 1, 9))
        rows = table(page(client, world.slt_staff, year=year - 1).content.decode(), "closed")
        assert rows[-1][9] == "30"  # September


class OverviewQueryTests:
    def count(self, client, org):
        return len(page_queries(client, org.slt_staff, reverse("insights:index")))

    def test_it_asks_the_same_number_of_queries_for_10_and_1000_rollup_rows(self, client, org, year):
        services = [org.barnevern, org.skole, org.nav, org.barnehage]
        finished_run()
        for i in range(10):
            cases(org.municipality, 5 + i, service=services[i % 4], from_service=services[(i + 1) % 4], opened=month(year, 1 + i % 12))
        small = self.count(client, org)
        from insights.models import CaseCount, DeadlineCount as DC, StepDuration

        with_narrow(CaseCount.objects.bulk_create([
            CaseCount(municipality=org.municipality, process=["concern", "referral"][i % 2], service=services[i % 4],
                      service_kind=services[i % 4].kind, from_service=services[(i + 1) % 4], age_band="13-15",
                      opened_month=month(year, 1 + i % 12), closed_month=month(year, 12) if i % 3 else None, n=1 + i % 7)
            for i in range(1000)]))
        DC.objects.bulk_create([DC(municipality=org.municipality, process="concern", step="review", service=services[i % 4],
                                   due_month=month(year, 1 + i % 12), state=DC.State.values[i % 5], n=1) for i in range(300)])
        StepDuration.objects.bulk_create([StepDuration(municipality=org.municipality, process="concern", step="review",
                                                       service=services[i % 4], month=month(year, 1 + i % 12), bucket_days=i % 10, n=1)
                                          for i in range(300)])
        large = self.count(client, org)
        assert small == large <= MAX_QUERIES
