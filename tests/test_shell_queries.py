"""The shell around every page asks the database little and the same every time (issue 14).

The menu's flags, the inbox permission of each flow, the consent leader check and the person access
helper read the user's memberships once per request (org.access.member_facts); the unread count
and the task badges are bounded; a settled request writes no session (the idle clock is written
once it has moved a minute). Every main page, as the persona who works on it, asks at most 15
queries, and the concern lists the same number with 2 and with 20 concerns.

Personas: tests/conftest.py (a reporter in a barnehage, a barnevern caseworker and its leader) and
tests/referral_factories.py (a sender in Rådgivning, a coordinator, a caseworker in Tildelingskontoret).
"""
import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification, Reminder
from org.models import Service, ServiceKindSetting
from referrals.models import Referral
from tests.consent.ui_factories import guardians_for, person_aged, record
from tests.factories import advance, make_melding
from tests.queries import MAX_QUERIES, page_queries
from tests.referral_factories import make_referral, make_referral_org

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.timezone.utc)


def top_level(sql: str) -> str:
    """``sql`` without what its parentheses hold (subqueries, function arguments)."""
    while (shorter := re.sub(r"\([^()]*\)", "", sql)) != sql:
        sql = shorter
    return sql


def session_writes(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")]


class ShellQueriesTests:
    def test_it_reads_the_users_memberships_once_per_page(self, client, org):
        make_melding(org)
        for user, url in [(org.caseworker, reverse("notifications:index")), (org.caseworker, reverse("concerns:intake")),
                          (org.bv_leader, reverse("workflow:queue")), (org.reporter, reverse("concerns:index"))]:
            # Statements that read the membership table itself (the task badges' query has it as a subquery).
            membership_reads = [sql for sql in page_queries(client, user, url) if top_level(sql).split(" FROM ", 1)[-1].startswith('"org_membership"')]
            assert len(membership_reads) == 1, (url, membership_reads)

    def test_it_shows_the_same_menu_as_before(self, client, org):
        client.force_login(org.bv_leader)
        html = client.get(reverse("notifications:index")).content.decode()
        assert reverse("concerns:intake") in html and 'data-testid="menu-approvals"' in html
        client.force_login(org.reporter)
        html = client.get(reverse("notifications:index")).content.decode()
        assert reverse("concerns:create") in html and reverse("concerns:intake") not in html
        assert 'data-testid="menu-approvals"' not in html

    def test_it_reads_the_kinds_settings_with_the_memberships_and_follows_a_change_on_the_next_page(self, client, org):
        # org.ServiceKindSetting is read inside the membership query, never on its own: an
        # administrator's change shows on the next request, in every worker.
        url = reverse("notifications:index")
        assert not [sql for sql in page_queries(client, org.slt_staff, url) if top_level(sql).split(" FROM ", 1)[-1].startswith('"org_servicekindsetting"')]
        assert reverse("concerns:create") not in client.get(url).content.decode()
        ServiceKindSetting.objects.filter(kind=Service.Kind.SLT).update(may_report_concerns=True)
        assert reverse("concerns:create") in client.get(url).content.decode()
        ServiceKindSetting.objects.filter(kind=Service.Kind.SLT).delete()
        assert reverse("concerns:create") not in client.get(url).content.decode()

    @pytest.mark.parametrize("persona, page", [("caseworker", "concerns:intake"), ("reporter", "concerns:index")])
    def test_it_asks_the_same_queries_with_2_and_with_20_concerns(self, client, org, persona, page):
        for _ in range(2):
            make_melding(org)
        small = page_queries(client, getattr(org, persona), reverse(page))
        for _ in range(18):
            make_melding(org)
        large = page_queries(client, getattr(org, persona), reverse(page))
        assert len(large) == len(small), large
        assert len(large) <= MAX_QUERIES, large


class SessionWriteTests:
    def test_it_writes_no_session_while_the_idle_clock_has_moved_less_than_a_minute(self, client, org):
        url = reverse("notifications:index")
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(org.caseworker)
            client.get(url)
            clock.shift(datetime.timedelta(seconds=59))
            assert session_writes(client, url) == []
            clock.shift(datetime.timedelta(seconds=2))
            assert len(session_writes(client, url)) == 1
            assert session_writes(client, url) == []

    def test_it_logs_out_after_the_timeout_counted_from_the_recorded_activity(self, client, org):
        # The activity 30 s after the recorded one is not written: the login ends 20 minutes after
        # the recorded one (at most a minute sooner than after the last request, never later).
        url = reverse("notifications:index")
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(org.caseworker)
            client.get(url)
            clock.shift(datetime.timedelta(seconds=30))
            client.get(url)
            clock.shift(datetime.timedelta(minutes=19, seconds=31))
            response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    def test_it_tells_the_page_the_seconds_left_by_the_recorded_activity(self, client, org):
        url = reverse("notifications:index")
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(org.caseworker)
            assert 'data-timeout="1200"' in client.get(url).content.decode()
            clock.shift(datetime.timedelta(seconds=30))
            page = client.get(url).content.decode()
        assert 'data-timeout="1170"' in page and 'data-warning="120"' in page

    def test_it_records_a_keep_alive_whenever_it_comes(self, client, org):
        url = reverse("notifications:index")
        with time_machine.travel(START, tick=False) as clock:
            client.force_login(org.caseworker)
            client.get(url)
            clock.shift(datetime.timedelta(seconds=30))
            assert client.post(reverse("session_keep_alive")).status_code == 204
            clock.shift(datetime.timedelta(minutes=19, seconds=59))
            assert client.get(url).status_code == 200


def _main_pages(org):
    """(persona, url, expected status) of every main page, with a little of everything on them."""
    melding = make_melding(org)
    advance(make_melding(org), org, "received")  # the caseworker has a finished task (the archive)
    child = person_aged(org, 10, given="Emma")
    record(org, child, guardians=guardians_for(org, child))
    for n in range(3):
        Notification.objects.create(user=org.caseworker, kind=Reminder.Kind.INFO, message=f"Melding {n}")
    ro = make_referral_org("9996")
    make_referral(ro)
    make_referral(ro, via_coordinator=True)
    referral = Referral.objects.filter(target_service=ro.tildeling).first()
    return {
        "home": (org.caseworker, reverse("home"), 302),
        "intake": (org.caseworker, reverse("concerns:intake"), 200),
        "concern list": (org.reporter, reverse("concerns:index"), 200),
        "concern detail (handler)": (org.caseworker, reverse("concerns:detail", args=[melding.code]), 200),
        "concern detail (reporter)": (org.reporter, reverse("concerns:detail", args=[melding.code]), 200),
        "task inbox": (org.caseworker, reverse("workflow:inbox"), 200),
        "task queue": (org.caseworker, reverse("workflow:queue"), 200),
        "task archive": (org.caseworker, reverse("workflow:archive"), 200),
        "sent referrals": (ro.sender, reverse("referrals:index"), 200),
        "incoming referrals": (ro.tildeling_staff, reverse("referrals:incoming"), 200),
        "routing queue": (ro.coordinator, reverse("referrals:coordinator"), 200),
        "referral detail": (ro.tildeling_staff, reverse("referrals:detail", args=[referral.code]), 200),
        "notifications": (org.caseworker, reverse("notifications:index"), 200),
        "consents of a person": (org.reporter, reverse("consent:person", args=[child.code]), 200),
        "consents of a person (leader)": (org.reporter_leader, reverse("consent:person", args=[child.code]), 200),
    }


# Pages of other packages over the budget today (reported, not changed here): strict, so the test
# says when one comes within it and its mark must go.
OVER_BUDGET: dict[str, str] = {}

PAGES = [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=OVER_BUDGET[name])) if name in OVER_BUDGET else name
    for name in [
        "home", "intake", "concern list", "concern detail (handler)", "concern detail (reporter)", "task inbox", "task queue",
        "task archive", "sent referrals", "incoming referrals", "routing queue", "referral detail", "notifications",
        "consents of a person", "consents of a person (leader)",
    ]
]


class MainPagesTests:
    @pytest.mark.parametrize("name", PAGES)
    def test_it_asks_at_most_15_queries_on_each_main_page(self, client, org, name):
        user, url, status = _main_pages(org)[name]
        queries = page_queries(client, user, url, status=status)
        assert len(queries) <= MAX_QUERIES, (name, len(queries), [re.sub(r"\s+", " ", q)[:160] for q in queries])
