"""The person's FHIR export, access report and its PDF, the privacy function's full report of an access
request and its PDF, and the access-log review at any number of rows (issue 14): each asks the same
queries with a few and with many consents, disclosures and access-log rows, at most 15 (they asked
270–670 at national scale: the age rule, the guardians and the name again for every consent).

Personas: a reporter in the barnehage (records the consents and melds the child; tests/conftest.py),
its leader (the access report), ``personvern`` in the municipality's privacy function (the access
request and the review), and the school's teacher, who reads the child without a role (the review).
"""
import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog
from audit.services import access_log_write
from consent.access_requests import access_request_register
from consent.models import AgeRule
from org.models import Service
from tests.consent.ui_factories import guardians_for, log_reads, person_aged, record
from tests.factories import make_melding, make_service, member
from tests.queries import MAX_QUERIES, page_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def personvern(org):
    return member(make_service(org.municipality, "Personvernombudet", Service.Kind.PERSONVERN))


@pytest.fixture
def child(org):
    return person_aged(org, 10, given="Emma")


def grow(org, child, guardians, count):
    """``count`` of each kind of row the pages show: consents of three shapes (given by the guardians
    for health, the same from next month, for child welfare), meldinger (a disclosure to barnevern on
    the duty to report, and their log rows), reads by the caseworker, the teacher (no role), and
    an emergency read."""
    for i in range(count):
        shape = i % 3
        if shape == 0:
            record(org, child, guardians=guardians, grantees=[org.skole, org.nav])
        elif shape == 1:
            record(org, child, guardians=guardians, valid_from=timezone.localdate() + datetime.timedelta(days=30))
        else:
            record(org, child, guardians=guardians, domain=AgeRule.Domain.BARNEVERN)
        concern = make_melding(org, child=child)
        access_log_write(user=org.caseworker, action="view", obj=concern, person=child, service=org.barnevern, purpose="concern page")
        access_log_write(user=org.teacher, action="view", obj=concern, person=child, service=org.skole, purpose="concern page")
        access_log_write(user=org.teacher, action="view", obj=concern, person=child, via="break_glass", purpose="emergency access")


def same_queries(client, user, url, grow_more, *, limit=MAX_QUERIES):
    small = page_queries(client, user, url)
    grow_more()
    large = page_queries(client, user, url)
    assert len(large) == len(small), f"{len(small)} → {len(large)} queries:\n" + "\n".join(large)
    assert len(large) <= limit, f"{len(large)} queries:\n" + "\n".join(large)
    return large


# The leader's report page: besides the report's own five queries, the access helper (4), the audit
# row (3) and a leader's page shell (5: the session, the service kinds that may report, and the
# approval, task and unread badges) ask 17 in all. The bound is the house's plus those two.
LEADER_REPORT_PAGE_QUERIES = MAX_QUERIES + 2


class PersonReportQueriesTests:
    def test_the_fhir_export_asks_the_same_queries_with_3_and_with_24_rows(self, client, org, child):
        guardians = guardians_for(org, child)
        grow(org, child, guardians, 3)
        same_queries(client, org.reporter, reverse("consent:fhir", args=[child.code]), lambda: grow(org, child, guardians, 21))

    def test_the_access_report_pdf_asks_the_same_queries_with_3_and_with_24_rows(self, client, org, child):
        guardians = guardians_for(org, child)
        grow(org, child, guardians, 3)
        same_queries(client, org.reporter_leader, reverse("consent:report_pdf", args=[child.code]), lambda: grow(org, child, guardians, 21))

    def test_the_access_report_asks_the_same_queries_with_3_and_with_24_rows(self, client, org, child):
        guardians = guardians_for(org, child)
        grow(org, child, guardians, 3)
        same_queries(
            client, org.reporter_leader, reverse("consent:report", args=[child.code]), lambda: grow(org, child, guardians, 21),
            limit=LEADER_REPORT_PAGE_QUERIES,
        )


class AccessRequestQueriesTests:
    @pytest.mark.parametrize("page", ["consent:access_request", "consent:access_request_pdf"])
    def test_the_full_report_asks_the_same_queries_with_3_and_with_24_rows(self, client, org, child, personvern, page):
        guardians = guardians_for(org, child)
        grow(org, child, guardians, 3)
        request = access_request_register(
            user=personvern, national_id=child.national_id, reference="2026/1", received_on=timezone.localdate(),
        )
        same_queries(client, personvern, reverse(page, args=[request.code]), lambda: grow(org, child, guardians, 21))


def log_days(org, child, count):
    """``count`` access-log rows over as many days as rows (one a day at most: the PDF's summary
    then has a row for each), by the barnehage and the school, for two purposes."""
    start = timezone.now() - datetime.timedelta(days=count + 1)
    readers = [(org.reporter, org.barnehage), (org.teacher, org.skole)]
    log_reads(child, [
        (*readers[i % 2], "view", "consent page" if i % 3 else "consents of the person", start + datetime.timedelta(hours=20 * i))
        for i in range(count)
    ])


class ReportPdfByDayQueriesTests:
    # The PDF sums the access log up by day in one query: as many queries with 3 rows as with 300.
    def test_the_leaders_pdf_asks_the_same_queries_with_3_and_with_300_log_rows(self, client, org, child):
        record(org, child, guardians=guardians_for(org, child))
        log_days(org, child, 3)
        same_queries(client, org.reporter_leader, reverse("consent:report_pdf", args=[child.code]), lambda: log_days(org, child, 297))

    def test_the_full_report_pdf_asks_the_same_queries_with_3_and_with_300_log_rows(self, client, org, child, personvern):
        log_days(org, child, 3)
        request = access_request_register(
            user=personvern, national_id=child.national_id, reference="2026/2", received_on=timezone.localdate(),
        )
        same_queries(client, personvern, reverse("consent:access_request_pdf", args=[request.code]), lambda: log_days(org, child, 297))


class AccessReviewQueriesTests:
    def test_it_asks_the_same_queries_with_3_and_with_60_rows_of_each_kind(self, client, org, child, personvern):
        guardians = guardians_for(org, child)
        grow(org, child, guardians, 3)
        same_queries(client, personvern, reverse("consent:access_review"), lambda: grow(org, child, guardians, 57))


class ConsentsJudgedTests:
    # Each person the day before, on and after an age limit (16: health; 18: every domain), with 29
    # February as the birthday of one and as the day judged for another.
    @pytest.mark.parametrize("born, on", [
        (datetime.date(2010, 2, 28), datetime.date(2026, 2, 27)), (datetime.date(2010, 2, 28), datetime.date(2026, 2, 28)),
        (datetime.date(2008, 2, 29), datetime.date(2026, 2, 28)), (datetime.date(2008, 2, 29), datetime.date(2026, 3, 1)),
        (datetime.date(2006, 3, 1), datetime.date(2024, 2, 29)), (datetime.date(2006, 3, 1), datetime.date(2024, 3, 1)),
        (datetime.date(2010, 6, 15), datetime.date(2026, 6, 14)), (datetime.date(2010, 6, 15), datetime.date(2026, 6, 15)),
        (datetime.date(2008, 6, 15), datetime.date(2026, 6, 16)),
    ])
    def test_it_judges_each_consent_as_the_single_definition_does(self, org, born, on):
        # The age is reckoned in SQL (consents_judged): around birthdays and 29 February it must be
        # the age Person.age_on gives, or a consent at an age limit would be judged at the wrong age.
        from consent.models import Consent
        from consent.selectors import consent_status, consents_judged
        from people.services import person_get_or_create
        from people.validators import synthetic_national_id

        given_on = born + datetime.timedelta(days=400)
        with time_machine.travel(datetime.datetime.combine(given_on, datetime.time(12), datetime.timezone.utc), tick=False):
            person = person_get_or_create(
                user=org.reporter, given_name="Ada", family_name="Lie", national_id=synthetic_national_id(born, start=600),
                municipality=org.municipality, service=org.barnehage,
            )
            guardians = guardians_for(org, person)
            for domain in (AgeRule.Domain.HEALTH, AgeRule.Domain.BARNEVERN):
                record(org, person, guardians=guardians, domain=domain, valid_from=given_on)
        judged = consents_judged(Consent.objects.filter(person=person).select_related("person"), on=on)
        assert len(judged) == 2
        assert {c.pk: c.status for c in judged} == {c.pk: consent_status(Consent.objects.get(pk=c.pk), on=on) for c in judged}
