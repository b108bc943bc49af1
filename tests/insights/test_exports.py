"""The årsrapport's exports (CSV and PDF) of the overview's published tables, and the promise of the
whole insights section: no name, number or free text about a person in any response."""
import base64
import csv
import io
import re
import zlib

import pytest
from django.urls import reverse

from tests.consent.test_transparency_report import pdf_lines
from tests.factories import make_child, make_melding
from tests.insights.rollup_rows import cases, deadlines, durations, finished_run
from tests.queries import response_body


def pdf_text(content: bytes) -> str:
    """The text lines of a PDF set in a standard font, its compressed page streams inflated
    (reportlab writes them ASCII85-encoded, then deflated)."""
    streams = []
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", content, re.S):
        data = raw.strip()
        try:
            if data.endswith(b"~>"):
                data = base64.a85decode(data[:-2])
            streams.append(zlib.decompress(data))
        except (ValueError, zlib.error):
            streams.append(raw)
    return "\n".join(pdf_lines(b"\n".join(streams)))


@pytest.fixture
def standard_font(monkeypatch):
    from consent import pdf as layout

    monkeypatch.setattr(layout, "FONT_DIR", "/nonexistent")  # the standard font: readable text


@pytest.fixture
def figures(org):
    m = org.municipality
    cases(m, 17, service=org.barnevern, from_service=org.barnehage)
    cases(m, 3, service=org.skole, from_service=org.barnehage)
    cases(m, 11, service=org.nav, process="referral", from_service=org.skole)
    deadlines(m, 6, service=org.barnevern)
    durations(m, {7: 9})
    finished_run()
    return org


class ExportTests:
    def test_it_exports_the_published_tables_as_csv(self, client, figures):
        client.force_login(figures.slt_staff)
        response = client.get(reverse("insights:export_csv"), {"process": "concern"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"] == 'attachment; filename="innsikt-2025-concern.csv"'
        rows = list(csv.reader(io.StringIO(response_body(response).decode("utf-8-sig")), delimiter=";"))
        by_service = [r for r in rows if len(r) == 4 and r[1] == "Barneverntjenesten" and r[2] == "Totalt"]
        assert by_service and by_service[0][3] != "17"  # hidden with the skole's 3: two hidden in its column
        assert not any(r[1] == "NAV" for r in rows if len(r) == 4 and "Henvisning" not in r[0])

    def test_it_exports_a_pdf_of_the_same_tables(self, client, figures, standard_font):
        client.force_login(figures.slt_staff)
        response = client.get(reverse("insights:export_pdf"), {"year": 2025})
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
        assert response["Content-Disposition"] == 'attachment; filename="innsikt-2025-alle.pdf"'
        text = pdf_text(response.content)
        assert "Barneverntjenesten" in text and "NAV" in text

    def test_it_refuses_a_bad_filter_in_an_export_with_the_form_error(self, client, figures):
        client.force_login(figures.slt_staff)
        response = client.get(reverse("insights:export_csv"), {"year": "tjue"})
        assert response.status_code == 400 and "Oppgi et heltall" in response.content.decode()


class NoPersonInAnyResponseTests:
    def test_no_name_number_or_free_text_appears_in_any_insights_response(self, client, figures, standard_font):
        org = figures
        child = make_child(org, given="Zyxwena", family="Qorvaldsen", start=620)
        make_melding(org, child=child, observations="Blåbærtoget kom forsinket 4471-hemmelig.")
        secrets = ["Zyxwena", "Qorvaldsen", child.national_id, "Blåbærtoget", "4471-hemmelig"]
        client.force_login(org.slt_staff)
        urls = [reverse("insights:index")] + [
            reverse("insights:index") + query for query in
            ("?process=concern", f"?municipality={org.municipality.pk}", "?year=2024", "?year=bad")
        ]
        bodies = [client.get(url).content.decode() for url in urls]
        bodies.append(response_body(client.get(reverse("insights:export_csv"))).decode("utf-8-sig"))
        pdf = client.get(reverse("insights:export_pdf")).content
        bodies.append(pdf_text(pdf))
        assert "Barneverntjenesten" in bodies[-1]  # the PDF's text was read
        client.force_login(org.bv_leader)
        bodies.append(client.get(reverse("insights:index")).content.decode())
        for body in bodies:
            for secret in secrets:
                assert secret not in body
