"""The notifications page at any number of notifications (issue 14): the same queries with 5 and with
200 notifications, at most 15; newest first a page at a time by keyset (a cursor, never a count of
them all or an OFFSET); the menu's unread count stops at 100 and shows "99+".

Persona: a barnevern caseworker (tests/conftest.py) with notifications of their own, and the
reporter's, which the caseworker must never see.
"""
import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification, Reminder
from notifications.selectors import PAGE_SIZE, unread_count
from tests.queries import MAX_QUERIES, page_queries

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.timezone.utc)


def notify(user, count, *, start=0, read=False):
    """``count`` notifications for ``user``, one a minute from START (+ ``start`` minutes)."""
    made = []
    for n in range(start, start + count):
        with time_machine.travel(START + datetime.timedelta(minutes=n), tick=False):
            made.append(Notification.objects.create(
                user=user, kind=Reminder.Kind.INFO, message=f"Melding {n}", read_at=timezone.now() if read else None,
            ))
    return made


def messages_on(html) -> list[str]:
    return re.findall(r'<p class="sh-muted">(Melding \d+)</p>', html)


class NotificationPageQueriesTests:
    def test_it_asks_the_same_queries_with_5_and_with_200_notifications(self, client, org):
        notify(org.caseworker, 5)
        small = page_queries(client, org.caseworker, reverse("notifications:index"))
        notify(org.caseworker, 195, start=5)
        large = page_queries(client, org.caseworker, reverse("notifications:index"))
        assert len(large) == len(small), large
        assert len(large) <= MAX_QUERIES, large
        assert not [sql for sql in large if "COUNT(*)" in sql and "LIMIT" not in sql], large
        assert not [sql for sql in large if "OFFSET" in sql], large

    def test_it_asks_the_same_queries_on_an_older_page(self, client, org):
        notify(org.caseworker, 2 * PAGE_SIZE + 5)
        first = page_queries(client, org.caseworker, reverse("notifications:index"))
        html = client.get(reverse("notifications:index")).content.decode()
        older = re.search(r'href="(\?etter=[^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
        assert len(page_queries(client, org.caseworker, reverse("notifications:index") + older)) == len(first)


class NotificationPagingTests:
    def test_it_walks_from_the_newest_to_the_oldest_by_cursor_without_repeating_one(self, client, org):
        made = notify(org.caseworker, 2 * PAGE_SIZE + 3)
        notify(org.reporter, 3, start=500)
        client.force_login(org.caseworker)
        seen, url = [], reverse("notifications:index")
        while url:
            html = client.get(url).content.decode()
            seen += messages_on(html)
            older = re.search(r'href="(\?etter=[^"]+)" rel="next"', html)
            url = reverse("notifications:index") + older.group(1).replace("&amp;", "&") if older else None
        assert seen == [n.message for n in reversed(made)]

    def test_it_shows_the_first_page_for_a_forged_cursor(self, client, org):
        notify(org.caseworker, 3)
        client.force_login(org.caseworker)
        for forged in ["garbage", "1_tx", "99999999_t1", "%00"]:
            response = client.get(reverse("notifications:index"), {"etter": forged})
            assert response.status_code == 200
            if forged != "99999999_t1":
                assert messages_on(response.content.decode()) == ["Melding 2", "Melding 1", "Melding 0"], forged

    def test_it_reads_the_page_on_the_users_newest_first_index(self, org, postgresql_only):
        # A few rows only: the planner may sort them whatever the indexes; with sorting made dear it
        # must still find an index that gives the page's order (at 250,000 rows it chooses it anyway:
        # bench figures in the commit).
        notify(org.caseworker, 3)
        page = Notification.objects.filter(user=org.caseworker, created_at__isnull=False).order_by("-created_at", "-id")
        sql, params = page[:PAGE_SIZE].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "notification_user_new_idx" in plan and "Sort" not in plan, plan


class UnreadBadgeTests:
    def test_it_counts_the_unread_without_an_order_so_the_unread_index_serves_it(self, org):
        # In the model's order (newest first) PostgreSQL walked the user's newest-first index past
        # every read notification to find 100 unread ones (bench/bench_shell_pages.py).
        notify(org.caseworker, 1)
        notify(org.caseworker, 3, start=5, read=True)
        with CaptureQueriesContext(connection) as ctx:
            assert unread_count(org.caseworker) == 1
        [sql] = [q["sql"] for q in ctx.captured_queries]
        assert "ORDER BY" not in sql and "LIMIT 100" in sql and "IS NULL" in sql

    def test_it_counts_unread_up_to_100_and_the_menu_shows_99_plus(self, client, org):
        notify(org.caseworker, 150)
        notify(org.caseworker, 5, start=200, read=True)
        assert unread_count(org.caseworker) == 100
        client.force_login(org.caseworker)
        html = client.get(reverse("notifications:index")).content.decode()
        assert re.search(r'data-testid="unread-count"[^>]*>99\+<', html)

    def test_it_shows_the_exact_count_below_100(self, client, org):
        notify(org.caseworker, 7)
        notify(org.caseworker, 3, start=10, read=True)
        client.force_login(org.caseworker)
        html = client.get(reverse("notifications:index")).content.decode()
        assert re.search(r'data-testid="unread-count"[^>]*>7<', html)
