"""The transparency report's CSV: every single access-log entry of the report's scope, newest first,
streamed through a server-side cursor (the PDF sums them up by day).

Personas: the barnehage's leader (a leader's report: only the barnehage's own handling of the child),
its reporter (no leader: 404), ``personvern`` in the municipality's privacy function (the full
report, on a registered access request), the school's teacher and the barnevern caseworker, who
read the child, and a service of another municipality. Time is frozen at Friday 4 December 2026,
12:00 in Oslo.
"""
import csv
import datetime
import io
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AccessLog
from consent import reports
from consent.access_requests import access_request_register
from consent.reports import transparency_report
from org.models import Service
from people.validators import synthetic_national_id
from tests.consent.ui_factories import guardians_for, log_reads, person_aged, record
from tests.factories import make_org, make_service, member
from tests.queries import chunked_reads, page_queries, response_body

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
EXPORT = "transparency report (GDPR art. 15)"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 12, 4, 12, 0, tzinfo=OSLO), tick=False):
        yield


@pytest.fixture
def child(org):
    """Given a consent recorded by the barnehage (its role with the child), read by the barnehage, the school,
    barnevern and the system over the last days."""
    child = person_aged(org, 10, given="Emma")
    record(org, child, guardians=guardians_for(org, child))
    grow(org, child, 6)
    return child


@pytest.fixture
def personvern(org):
    return member(make_service(org.municipality, "Personvernombudet", Service.Kind.PERSONVERN))


def grow(org, child, count):
    """``count`` reads, a few hours apart, by the barnehage, the school, barnevern and the system in turn."""
    readers = [(org.reporter, org.barnehage), (org.teacher, org.skole), (org.caseworker, org.barnevern), (None, None)]
    start = timezone.now() - datetime.timedelta(days=30)
    log_reads(child, [
        (*readers[i % 4], "view", "consent page" if i % 2 else "consents of the person", start + datetime.timedelta(hours=3 * i))
        for i in range(count)
    ])


def read_csv(response) -> list[list[str]]:
    text = response_body(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def expected(report) -> list[list[str]]:
    """The per-entry report's rows (newest first) as the CSV writes them."""
    return [
        [timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"), e.user_label, e.service.name if e.service else "",
         e.get_action_display(), e.purpose_label]
        for e in report.access_entries
    ]


def access_request(personvern, child):
    return access_request_register(user=personvern, national_id=child.national_id, reference="2026/12", received_on=timezone.localdate())


class LeaderCsvTests:
    def test_it_streams_every_entry_of_the_services_own_handling_newest_first(self, client, org, child):
        client.force_login(org.reporter_leader)
        response = client.get(reverse("consent:report_csv", args=[child.code]))
        assert response.status_code == 200 and response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="innsyn-{str(child.code)[:8]}.csv"'
        assert response["Cache-Control"] == "no-store"
        rows = read_csv(response)
        assert rows[0] == ["Tidspunkt", "Bruker", "Tjeneste", "Handling", "Formål"]
        with translation.override("nb"):
            assert rows[1:] == expected(transparency_report(child, service=org.barnehage))
        assert {row[2] for row in rows[1:]} == {"Solsiden barnehage"}
        # The registration, the consent, the reads and this export, each a line of its own.
        assert len(rows) - 1 == AccessLog.objects.filter(person=child, service=org.barnehage).count() >= 4

    def test_it_logs_the_export_as_the_pdf_does(self, client, org, child):
        client.force_login(org.reporter_leader)
        response_body(client.get(reverse("consent:report_csv", args=[child.code])))
        assert AccessLog.objects.filter(
            person=child, user=org.reporter_leader, service=org.barnehage, action="export", purpose=EXPORT,
        ).count() == 1

    def test_it_answers_404_to_staff_who_do_not_lead_and_to_outsiders(self, client, org, child):
        url = reverse("consent:report_csv", args=[child.code])
        for user in [org.reporter, *org.outsiders.values()]:
            client.force_login(user)
            assert client.get(url).status_code == 404, user
        assert not AccessLog.objects.filter(person=child, purpose=EXPORT).exists()

    def test_it_answers_404_to_a_forged_code(self, client, org, child):
        client.force_login(org.reporter_leader)
        assert client.get(reverse("consent:report_csv", args=[uuid.uuid4()])).status_code == 404

    def test_the_report_page_links_to_it(self, client, org, child):
        client.force_login(org.reporter_leader)
        page = client.get(reverse("consent:report", args=[child.code]))
        assert reverse("consent:report_csv", args=[child.code]).encode() in page.content


class PrivacyFunctionCsvTests:
    def test_it_streams_every_entry_of_the_municipality_newest_first(self, client, org, child, personvern):
        elsewhere = make_service(make_org("9002").municipality, "Annen kommunes tjeneste", Service.Kind.OTHER)
        log_reads(child, [(member(elsewhere), elsewhere, "view", "consent page", timezone.now() - datetime.timedelta(hours=1))])
        request = access_request(personvern, child)
        client.force_login(personvern)
        response = client.get(reverse("consent:access_request_csv", args=[request.code]))
        assert response.status_code == 200 and response.streaming
        assert response["Content-Disposition"] == f'attachment; filename="innsyn-{str(request.code)[:8]}.csv"'
        rows = read_csv(response)[1:]
        with translation.override("nb"):
            assert rows == expected(transparency_report(child, municipality=org.municipality.pk))
        services = {row[2] for row in rows}
        assert {"Solsiden barnehage", "Fjordvik skole", "Barneverntjenesten", "Personvernombudet", ""} <= services
        assert "Annen kommunes tjeneste" not in services

    def test_it_logs_the_export_as_the_pdf_does(self, client, org, child, personvern):
        request = access_request(personvern, child)
        client.force_login(personvern)
        response_body(client.get(reverse("consent:access_request_csv", args=[request.code])))
        assert AccessLog.objects.filter(person=child, user=personvern, action="export", via="privacy", purpose=EXPORT).count() == 1

    def test_it_answers_404_to_a_leader_and_to_a_forged_code(self, client, org, child, personvern):
        request = access_request(personvern, child)
        client.force_login(org.reporter_leader)
        assert client.get(reverse("consent:access_request_csv", args=[request.code])).status_code == 404
        client.force_login(personvern)
        assert client.get(reverse("consent:access_request_csv", args=[uuid.uuid4()])).status_code == 404
        assert not AccessLog.objects.filter(person=child, purpose=EXPORT).exists()

    def test_it_answers_404_when_no_one_with_the_number_is_registered(self, client, personvern):
        unknown = access_request_register(
            user=personvern, national_id=synthetic_national_id(datetime.date(1990, 7, 13), start=400), reference="2026/13",
            received_on=timezone.localdate(),
        )
        client.force_login(personvern)
        assert client.get(reverse("consent:access_request_csv", args=[unknown.code])).status_code == 404

    def test_the_request_page_links_to_it(self, client, org, child, personvern):
        request = access_request(personvern, child)
        client.force_login(personvern)
        page = client.get(reverse("consent:access_request", args=[request.code]))
        assert reverse("consent:access_request_csv", args=[request.code]).encode() in page.content


class CsvStreamingTests:
    @pytest.mark.parametrize("page", ["leader", "privacy"])
    def test_it_asks_the_same_queries_with_10_and_with_300_entries(self, client, org, child, personvern, page):
        if page == "leader":
            user, url = org.reporter_leader, reverse("consent:report_csv", args=[child.code])
        else:
            user, url = personvern, reverse("consent:access_request_csv", args=[access_request(personvern, child).code])
        small = page_queries(client, user, url)
        grow(org, child, 290)
        large = page_queries(client, user, url)
        assert len(large) == len(small), "\n".join(large)

    def test_it_reads_the_entries_a_chunk_at_a_time_through_one_server_side_cursor(self, client, org, child, monkeypatch):
        monkeypatch.setattr(reports, "CSV_CHUNK_ROWS", 50)
        grow(org, child, 290)
        client.force_login(org.reporter_leader)
        with chunked_reads() as sqls:
            rows = read_csv(client.get(reverse("consent:report_csv", args=[child.code])))
        assert len(sqls) == 1 and "audit_accesslog" in sqls[0], sqls
        assert len(rows) - 1 == AccessLog.objects.filter(person=child, service=org.barnehage).count() > 50

    def test_it_reads_nothing_before_the_response_streams(self, client, org, child):
        client.force_login(org.reporter_leader)
        with chunked_reads() as sqls:
            response = client.get(reverse("consent:report_csv", args=[child.code]))
            assert sqls == []
            response_body(response)
        assert len(sqls) == 1
