"""De-identification on the insights pages: a small count is hidden wherever it is published (the
tables, the charts, the CSV), every line holding a hidden entry holds at least two (so no total
gives it away), and tables that share a total publish the same one."""
import csv
import io
import re

import pytest
from django.urls import reverse

from insights.published import hidden_marker
from tests.insights.rollup_rows import cases, finished_run
from tests.insights.test_overview import table
from tests.queries import response_body


def marker():
    from django.utils import translation

    with translation.override("nb"):
        return hidden_marker()


def lines(rows, two_way):
    """Every line of a rendered table (its rows with their totals, its columns with theirs), counts only."""
    grid = [r[1:] for r in rows] if two_way else [r[1:2] for r in rows]
    out = [list(col) for col in zip(*grid)]
    if two_way:
        out += grid
    return out


def assert_protected(rows, two_way):
    hidden = marker()
    for line in lines(rows, two_way):
        assert line.count(hidden) != 1, line


def shapes(html):
    return {key: shape for shape, key in re.findall(r'data-shape="(\w+)" data-key="(\w+)"', html)}


@pytest.fixture
def small(org):
    m = org.municipality
    cases(m, 3, service=org.barnevern, age_band="0-5", from_service=org.barnehage)
    cases(m, 20, service=org.skole, age_band="13-15", from_service=org.barnehage)
    cases(m, 30, service=org.nav, age_band="18-24", from_service=org.skole)
    cases(m, 12, service=org.barnehage, age_band="6-12", from_service=org.skole)
    finished_run()
    return org


def page(client, user):
    client.force_login(user)
    response = client.get(reverse("insights:index"))
    assert response.status_code == 200
    return response.content.decode()


class SuppressionPageTests:
    def test_it_hides_a_cell_of_3_in_its_row(self, client, small):
        html = page(client, small.slt_staff)
        row = next(r for r in table(html, "open_service") if r[0] == "Barneverntjenesten")
        assert "3" not in row[1:] and row.count(marker()) == 2  # its kind's cell and its total
        age = next(r for r in table(html, "open_age") if r[0].startswith("0–5"))
        assert age[1] == marker()

    def test_it_hides_a_second_entry_in_every_line_that_holds_a_hidden_one(self, client, small):
        html = page(client, small.slt_staff)
        found = 0
        for key, shape in shapes(html).items():
            rows = table(html, key)
            assert_protected(rows, shape == "table")
            found += any(marker() in r for r in rows)
        assert found >= 3

    def test_it_publishes_the_same_total_in_every_table_of_the_open_cases(self, client, small):
        html = page(client, small.slt_staff)
        totals = {key: table(html, key)[-1][-1] for key in ("open_process", "open_service", "open_area", "open_age")}
        assert len(set(totals.values())) == 1, totals

    def test_it_draws_no_bar_and_no_number_for_a_hidden_count(self, client, small):
        html = page(client, small.slt_staff)
        svg = re.search(r'<svg[^>]*aria-labelledby="ins-open-service-title.*?</svg>', html, re.S).group(0)
        label = svg.index(">Barneverntjenesten<")
        following = re.findall(r"<(rect|text)[^>]*>([^<]*)", svg[label:])[:2]
        assert following[0][0] == "text" and following[0][1] == marker()  # no bar between the label and the mark

    def test_it_hides_the_3_in_the_csv_as_on_the_page(self, client, small):
        client.force_login(small.slt_staff)
        text = response_body(client.get(reverse("insights:export_csv"))).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        barnevern = [r for r in rows if len(r) == 4 and r[1] == "Barneverntjenesten"]
        assert barnevern and all(r[3] in (marker(), "0") for r in barnevern)
        assert any(r[3] == marker() for r in barnevern)
        # The lines of the CSV's by-service table hold two hidden entries or none, as on the page.
        html = page(client, small.slt_staff)
        assert_protected(table(html, "open_service"), True)


class FlowGroupingTests:
    """A municipality of hundreds of services gets a flow matrix a leader can read (and a PDF page can
    hold): the largest senders and holders by name, the rest pooled, no case lost or counted twice."""

    def test_it_pools_all_but_the_largest_senders_and_holders_and_keeps_every_case(self):
        from insights.published import FLOW_SERVICES, OTHER_SERVICES, _flow_grouped

        flow = {(sender, holder): sender + holder for sender in range(1, 31) for holder in range(100, 120)}
        cells, senders, holders = _flow_grouped(flow, lambda pk, none: f"S{pk}")
        assert len(senders) == FLOW_SERVICES + 1 and senders[-1] == OTHER_SERVICES
        assert len(holders) == FLOW_SERVICES + 1 and holders[-1] == OTHER_SERVICES
        assert set(senders[:-1]) == set(range(19, 31))  # the twelve that send the most
        assert sum(cells.values()) == sum(flow.values())
        assert cells[(30, 119)] == flow[(30, 119)]

    def test_it_pools_nothing_when_one_more_service_would_be_pooled_alone(self):
        from insights.published import FLOW_SERVICES, _flow_grouped

        flow = {(sender, 1): 10 for sender in range(2, FLOW_SERVICES + 3)}
        cells, senders, _holders = _flow_grouped(flow, lambda pk, none: f"S{pk}")
        assert len(senders) == FLOW_SERVICES + 1 and cells == flow
