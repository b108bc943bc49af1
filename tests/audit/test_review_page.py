"""The privacy function's review of unusual access: emergency reads, reads without a role, bursts.

Personas: ``personvern``, a member of the municipality's privacy function; the barnevern leader
``bv_leader`` (an ordinary leader, who must get 404); ``nav_staff`` reads a child NAV has no case
with; the ``reporter`` reads the child of her own melding (a role: not listed); ``teacher`` reads
in a burst.
"""
import datetime

import pytest
import time_machine
from django.urls import reverse

from audit.models import AccessLog
from audit.services import access_log_list_read, access_log_write
from org.models import Service
from tests.factories import make_melding, make_service, member

pytestmark = pytest.mark.django_db

URL = "consent:access_review"
WHEN = datetime.datetime(2026, 11, 20, 10, 3, tzinfo=datetime.timezone.utc)
PERIOD = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


@pytest.fixture
def personvern(org):
    return member(make_service(org.municipality, "Personvernombudet", Service.Kind.PERSONVERN))


def read(user, service, concern, **extra):
    return access_log_write(user=user, action="view", obj=concern, person=concern.person, service=service, purpose="concern page", **extra)


def shown(response, key) -> set[int]:
    return {row.pk for row in response.context[key]}


class AccessReviewPageTests:
    def test_it_lists_an_emergency_read(self, client, org, personvern):
        concern = make_melding(org)
        with time_machine.travel(WHEN, tick=False):
            row = access_log_write(user=org.teacher, action="view", obj=concern, person=concern.person, via="break_glass", purpose="emergency access")
        client.force_login(personvern)
        response = client.get(reverse(URL), PERIOD)
        assert response.status_code == 200
        assert row.pk in shown(response, "break_glass")

    def test_it_lists_a_read_by_a_service_without_a_role_and_not_one_with_a_role(self, client, org, personvern):
        # Sent before it was read: barnevern's role comes from the disclosure, live from then on.
        with time_machine.travel(WHEN - datetime.timedelta(days=1), tick=False):
            concern = make_melding(org)
        with time_machine.travel(WHEN, tick=False):
            outsider = read(org.nav_staff, org.nav, concern)
            own = read(org.reporter, org.barnehage, concern)
            handler = read(org.caseworker, org.barnevern, concern)
        client.force_login(personvern)
        response = client.get(reverse(URL), PERIOD)
        listed = shown(response, "no_case")
        assert outsider.pk in listed
        assert own.pk not in listed and handler.pk not in listed
        assert concern.person.given_name not in response.content.decode()  # type and number, never a name

    def test_it_lists_an_administrators_read_of_a_person(self, client, org, personvern):
        concern = make_melding(org)
        with time_machine.travel(WHEN, tick=False):
            row = access_log_write(user=org.slt_staff, action="view", obj=concern.person, person=concern.person, via="admin", purpose="admin")
        client.force_login(personvern)
        assert row.pk in shown(client.get(reverse(URL), PERIOD), "no_case")

    def test_it_lists_a_burst_of_reads(self, client, org, personvern, settings):
        settings.AUDIT_BURST_READS, settings.AUDIT_BURST_MINUTES = 3, 10
        concerns = [make_melding(org) for _ in range(4)]
        for minute, concern in enumerate(concerns):
            with time_machine.travel(WHEN + datetime.timedelta(minutes=minute), tick=False):
                read(org.teacher, org.skole, concern)
        with time_machine.travel(WHEN + datetime.timedelta(hours=1), tick=False):
            for concern in concerns[:3]:  # not more than the limit: no burst
                read(org.caseworker, org.barnevern, concern)
        client.force_login(personvern)
        bursts = client.get(reverse(URL), PERIOD).context["bursts"]
        assert [(b.user_id, b.reads) for b in bursts] == [(org.teacher.pk, 4)]
        assert bursts[0].start == datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.timezone.utc)

    def test_it_counts_a_record_read_again_once(self, client, org, personvern, settings):
        """A caseworker who opens the same case, or a list naming the same children, again and again
        within the window has read few records: no burst."""
        settings.AUDIT_BURST_READS, settings.AUDIT_BURST_MINUTES = 3, 10
        concerns = [make_melding(org) for _ in range(3)]
        with time_machine.travel(WHEN, tick=False):
            for _ in range(5):  # five loads of a list naming the same three children
                access_log_list_read(user=org.caseworker, purpose="concern list",
                                     shown=[(c, c.person_id, org.barnevern.pk) for c in concerns])
            for _ in range(4):
                read(org.caseworker, org.barnevern, concerns[0])
        client.force_login(personvern)
        assert client.get(reverse(URL), PERIOD).context["bursts"] == []
        with time_machine.travel(WHEN + datetime.timedelta(minutes=1), tick=False):
            read(org.caseworker, org.barnevern, make_melding(org))  # a fourth record: now a burst
        bursts = client.get(reverse(URL), PERIOD).context["bursts"]
        assert [(b.user_id, b.reads) for b in bursts] == [(org.caseworker.pk, 4)]

    def test_it_pages_by_keyset(self, client, org, personvern, monkeypatch):
        from audit import selectors

        concern = make_melding(org)
        with time_machine.travel(WHEN, tick=False):
            rows = [read(org.nav_staff, org.nav, concern) for _ in range(3)]
        monkeypatch.setattr(selectors, "REVIEW_PAGE_SIZE", 2)
        first, cursor = selectors.review_reads_without_case(
            since=WHEN - datetime.timedelta(days=1), until=WHEN + datetime.timedelta(days=1), size=2
        )
        second, end = selectors.review_reads_without_case(
            since=WHEN - datetime.timedelta(days=1), until=WHEN + datetime.timedelta(days=1), size=2, cursor=cursor
        )
        assert [r.pk for r in first + second] == [r.pk for r in reversed(rows)] and end is None

    def test_it_leaves_out_reads_outside_the_period(self, client, org, personvern):
        concern = make_melding(org)
        with time_machine.travel(WHEN, tick=False):
            row = read(org.nav_staff, org.nav, concern)
        client.force_login(personvern)
        response = client.get(reverse(URL), {"date_from": "2026-10-01", "date_to": "2026-10-31"})
        assert row.pk not in shown(response, "no_case")

    def test_it_logs_the_opening_of_the_page(self, client, org, personvern):
        client.force_login(personvern)
        client.get(reverse(URL))
        row = AccessLog.objects.filter(user=personvern, purpose="access review").get()
        assert (row.action, row.via, row.object_type, row.service.kind) == ("view", "privacy", "audit.accesslog", Service.Kind.PERSONVERN)

    @pytest.mark.parametrize("persona", ["bv_leader", "reporter_leader", "caseworker"])
    def test_it_answers_404_to_anyone_else(self, client, org, persona):
        client.force_login(getattr(org, persona))
        assert client.get(reverse(URL)).status_code == 404
        assert not AccessLog.objects.filter(purpose="access review").exists()

    def test_it_answers_404_to_a_superuser(self, client, org, settings):
        from tests.factories import make_user

        settings.REQUIRE_SECOND_FACTOR = False
        client.force_login(make_user("drift", is_staff=True, is_superuser=True))
        assert client.get(reverse(URL)).status_code == 404

    def test_it_shows_the_page_in_the_privacy_functions_menu_only(self, client, org, personvern):
        client.force_login(personvern)
        assert reverse(URL) in client.get(reverse("consent:index")).content.decode()
        client.force_login(org.bv_leader)
        assert reverse(URL) not in client.get(reverse("consent:index")).content.decode()


class LogReadLoggingTests:
    def test_it_logs_a_leaders_read_of_a_concerns_log(self, client, org):
        concern = make_melding(org)
        client.force_login(org.bv_leader)
        assert client.get(reverse("concerns:log", args=[concern.code])).status_code == 200
        row = AccessLog.objects.filter(user=org.bv_leader, purpose="access log read").get()
        assert (row.action, row.object_type, row.object_id, row.person, row.service) == (
            "view", "referrals.concern", concern.pk, concern.person, org.barnevern,
        )

    def test_it_logs_no_read_for_a_refused_request(self, client, org):
        concern = make_melding(org)
        client.force_login(org.caseworker)
        assert client.get(reverse("concerns:log", args=[concern.code])).status_code == 404
        assert not AccessLog.objects.filter(purpose="access log read").exists()
