"""The export of the plan's measures for the annual report: every measure, its status and its latest
evaluation, as CSV and as PDF; for the plan's readers only."""
import csv
import io

import pytest
from django.urls import reverse
from django.utils import translation

from consent import pdf as layout
from insights import measure_document
from insights import measure_selectors as sel
from insights import measures as svc
from insights.models import PolicyMeasure
from tests.consent.test_transparency_report import pdf_lines
from tests.insights.measure_scenario import add_measure, at, frozen, plans  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
S = PolicyMeasure.Status


@pytest.fixture
def full_plan(plans, frozen):
    """Measures in every status, two evaluated (measure 2 twice: only its latest is exported)."""
    add_measure(plans, "10", status=S.IN_PROGRESS, text="Videreutvikle rusfrie møteplasser for ungdom.")
    add_measure(plans, "2a", status=S.ONGOING, partners="KoRus-Vest")
    add_measure(plans, "12", status=S.DROPPED)
    done = add_measure(plans, "16", text="Gjennomføre ny Ungdata-undersøkelse.")
    frozen.move_to(at(2026, 12, 10, 9, 0))
    svc.measure_evaluate(user=plans.caseworker, measure=plans.measure, version=1, year=2025, status=S.IN_PROGRESS, text="Første møte holdt.")
    svc.measure_evaluate(user=plans.caseworker, measure=plans.measure, version=2, year=2026, status=S.ONGOING, text="Fast årlig møte.")
    svc.measure_evaluate(user=plans.coordinator, measure=done, version=1, year=2026, status=S.DONE, text="Gjennomført våren 2026.")
    return plans


def csv_table(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))


class MeasureCsvTests:
    def test_it_holds_every_measure_in_the_plans_order_with_its_status_and_latest_evaluation(self, full_plan, client):
        client.force_login(full_plan.coordinator)
        with translation.override("en"):
            response = client.get(reverse("insights:policy_plan_csv", args=[full_plan.plan.code]), HTTP_ACCEPT_LANGUAGE="en")
        rows = csv_table(response)
        assert response["Content-Disposition"].startswith('attachment; filename="tiltak-2025-2030-')
        header, body = rows[0], rows[1:]
        by_number = {row[0]: dict(zip(header, row)) for row in body}
        assert [row[0] for row in body] == ["2", "2a", "10", "12", "16"]
        expected = {"2": S.ONGOING, "2a": S.ONGOING, "10": S.IN_PROGRESS, "12": S.DROPPED, "16": S.DONE}
        for number, status in expected.items():
            assert by_number[number][header[6]] == str(S(status).label)
        assert (by_number["2"][header[8]], by_number["2"][header[10]]) == ("2026", "Fast årlig møte.")
        assert by_number["2"][header[4]] == "Solsiden barnehage" and by_number["2a"][header[5]] == "KoRus-Vest"
        assert by_number["10"][header[8]] == "" and "Første møte holdt." not in str(body)

    def test_every_measure_of_the_database_count_is_in_it(self, full_plan, client):
        client.force_login(full_plan.school_leader)
        rows = csv_table(client.get(reverse("insights:policy_plan_csv", args=[full_plan.plan.code])))
        assert len(rows) - 1 == PolicyMeasure.objects.filter(plan=full_plan.plan).count() == 5

    def test_it_answers_404_to_an_outsider(self, full_plan, client):
        client.force_login(full_plan.outsider)
        assert client.get(reverse("insights:policy_plan_csv", args=[full_plan.plan.code])).status_code == 404


class MeasurePdfTests:
    def test_it_is_a_pdf_download_for_a_reader(self, full_plan, client):
        client.force_login(full_plan.kindergarten)
        response = client.get(reverse("insights:policy_plan_pdf", args=[full_plan.plan.code]))
        assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
        assert response["Cache-Control"] == "no-store"

    def test_it_holds_every_measure_its_status_and_the_count_per_status(self, full_plan, monkeypatch):
        monkeypatch.setattr(layout, "FONT_DIR", "/nonexistent")  # the standard font: readable text
        with translation.override("en"):
            text = "\n".join(pdf_lines(measure_document.measures_pdf(full_plan.plan, sel.plan_measures(full_plan.plan), compress=False)))
        for number in ("2", "2a", "10", "12", "16"):
            assert f"\n{number}\n" in f"\n{text}\n"
        for label in ("Continuous", "In progress", "Dropped", "Done", "Not evaluated yet"):
            assert label in text
        flowing = " ".join(text.split())  # a cell's lines joined again
        assert "2026 (Continuous): Fast årlig møte." in flowing and "Total" in text

    def test_it_answers_404_to_a_leader_of_another_municipality(self, full_plan, client):
        client.force_login(full_plan.far_leader)
        assert client.get(reverse("insights:policy_plan_pdf", args=[full_plan.plan.code])).status_code == 404
