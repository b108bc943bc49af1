"""The follow-up worker's week and the .ics feed Outlook subscribes to (issue 8, point 6): the feed
parses with the icalendar package, names no one, and its secret address can be revoked."""
import datetime
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from referrals.models import CalendarFeed
from tests.workflows.youth_contract.scenario import active_contract

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def make_address(client, user):
    client.force_login(user)
    html = client.post(reverse("youth_contracts:feed_renew")).content.decode()
    return re.search(r'data-testid="feed-url"|value="(http[^"]+\.ics)"', html) and re.search(r'value="(http[^"]+\.ics)"', html).group(1)


def feed(url):
    return Client().get(url.replace("http://testserver", ""))


class CalendarFeedTests:
    def test_it_parses_with_icalendar_and_names_no_one(self, client, org, yc):
        contract = active_contract(org, yc)
        response = feed(make_address(client, yc.nurse))
        assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(response.content)
        events = calendar.walk("VEVENT")
        # From 14 days back to 120 days ahead: the tests and conversations of 1 Sep to 29 Dec 2026.
        expected = contract.appointments.filter(on__lte=datetime.date(2026, 12, 29))
        assert {str(e["UID"]) for e in events} == {f"{a.code}@samhandling" for a in expected}
        assert all(contract.reference in str(e["SUMMARY"]) for e in events)
        text = response.content.decode()
        assert "Emil" not in text and "Strand" not in text and "Kari" not in text
        first = min(events, key=lambda e: e.decoded("DTSTART"))
        assert first.decoded("DTSTART") == datetime.date(2026, 9, 1)

    def test_a_revoked_or_replaced_address_answers_404(self, client, org, yc):
        active_contract(org, yc)
        first = make_address(client, yc.nurse)
        second = make_address(client, yc.nurse)
        assert feed(first).status_code == 404 and feed(second).status_code == 200
        client.post(reverse("youth_contracts:feed_revoke"))
        assert feed(second).status_code == 404
        assert CalendarFeed.objects.filter(user=yc.nurse, revoked_at__isnull=True).count() == 0

    def test_a_forged_address_answers_404(self, org, yc):
        assert Client().get("/kalender/not-a-token.ics").status_code == 404

    def test_someone_elses_feed_holds_none_of_the_contracts_appointments(self, client, org, yc):
        active_contract(org, yc)
        events = icalendar.Calendar.from_ical(feed(make_address(client, yc.officer)).content).walk("VEVENT")
        assert events == []


class WeekTests:
    def test_it_shows_the_overdue_test_and_the_coming_ones(self, client, org, yc):
        contract = active_contract(org, yc)
        with time_machine.travel(datetime.datetime(2026, 9, 2, 9, 0, tzinfo=ZoneInfo("Europe/Oslo")), tick=False):
            client.force_login(yc.nurse)
            html = client.get(reverse("youth_contracts:week")).content.decode()
        overdue = html.split('data-testid="overdue"')[1].split('data-testid="upcoming"')[0]
        assert overdue.count('data-testid="week-appointment"') == 2 and contract.reference in overdue
        assert "Emil" not in html

    def test_the_police_see_no_appointments(self, client, org, yc):
        active_contract(org, yc)
        client.force_login(yc.officer)
        assert 'data-testid="week-appointment"' not in client.get(reverse("youth_contracts:week")).content.decode()
