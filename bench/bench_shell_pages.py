#!/usr/bin/env python
"""Benchmark the site's shell and the person and notification pages (issue 14): queries per page and
p50/p95 server time for a caseworker with 250,000 notifications and a child with 100 consents.

Run by hand (pytest does not collect it), under the shared lock:

    flock /tmp/heavy.lock env DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_shell_pages.py --database h_sh_bench --notifications 250000 --consents 100

It recreates its database, migrates it, builds the test personas through the real services
(tests/factories.py: a barnevern caseworker, a barnehage reporter and its leader), 20 submitted
meldinger, ``--consents`` consents of one child recorded by the barnehage, and ``--notifications``
notifications of the caseworker (one in ten unread, one a minute back in time, bulk-inserted by
SQL as the sweep would have written them over the years). Each page is asked once for its queries
(transaction brackets left out) and ``--requests`` times for its time; the notifications page also
on its second page (its "older" link). Prints the EXPLAIN ANALYZE of the notification page's and
the unread count's queries. ``--reuse`` measures an already seeded database; ``--drop`` drops it.
"""
import argparse
import re
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

import bench_concern_lists as concern_bench  # noqa: E402  (recreate_database, setup_django, _p95)

BRACKETS = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
NEXT = re.compile(r'href="(\?etter=[^"]+)" rel="next"')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="h_sh_bench")
    parser.add_argument("--notifications", type=int, default=250_000)
    parser.add_argument("--consents", type=int, default=100)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--drop", action="store_true")
    return parser.parse_args()


def seed(args):
    import datetime

    from django.db import connection
    from django.utils import timezone

    from tests.consent.ui_factories import guardians_for, person_aged, record
    from tests.factories import make_melding, make_org

    org = make_org("9990")
    for _ in range(20):
        make_melding(org)
    child = person_aged(org, 10, given="Benkebarn")
    guardians = guardians_for(org, child)
    for i in range(args.consents):
        start = timezone.localdate() + datetime.timedelta(days=30 if i % 3 == 1 else 0)
        record(org, child, guardians=guardians, valid_from=start)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO notifications_notification (user_id, kind, message, url, reference, topic, created_at, read_at)
            SELECT %s, 'info', 'Melding ' || n, '', '', '', now() - make_interval(mins => n),
                   CASE WHEN n %% 10 = 0 THEN NULL ELSE now() - make_interval(mins => n) END
            FROM generate_series(1, %s) AS n
            """,
            [org.caseworker.pk, args.notifications],
        )
        cursor.execute("VACUUM ANALYZE notifications_notification")
    return org, child


def personas():
    from django.contrib.auth import get_user_model

    from org.models import Membership, Service
    from people.models import Person

    User = get_user_model()
    caseworker = User.objects.get(memberships__service__kind=Service.Kind.BARNEVERN, memberships__role=Membership.Role.STAFF)
    reporter = User.objects.filter(memberships__service__name="Solsiden barnehage", memberships__role=Membership.Role.STAFF).first()
    leader = User.objects.get(memberships__service__name="Solsiden barnehage", memberships__role=Membership.Role.LEADER)
    child = Person.objects.get(given_name="Benkebarn")
    return caseworker, reporter, leader, child


def measure(label, user, url, requests):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    for _ in range(10):
        client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    queries = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(BRACKETS)]
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    print(f"{label:<38} {len(queries):>7} {statistics.median(times):>8.1f} {concern_bench._p95(times):>8.1f}")
    return response.content.decode()


def explain(caseworker):
    from django.db import connection

    from notifications.models import Notification
    from notifications.selectors import UNREAD_CAP, notifications_for_user

    page = Notification.objects.filter(user=caseworker, created_at__isnull=False).order_by("-created_at", "-id")[:51]
    unread = Notification.objects.filter(user=caseworker, read_at__isnull=True).order_by().values("id")[: UNREAD_CAP + 1]
    notifications_for_user(caseworker)
    for label, qs in [("notifications page 1", page), ("unread count (capped)", unread)]:
        sql, params = qs.query.sql_with_params()
        if label.startswith("unread"):
            sql = f"SELECT COUNT(*) FROM ({sql}) q"
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print(f"\n-- {label}\n" + "\n".join(row[0] for row in cursor.fetchall()))


def main():
    import os

    args = parse_args()
    url = os.environ["DATABASE_URL"]
    if not args.reuse:
        url = concern_bench.recreate_database(url, args.database)
    else:
        from urllib.parse import urlsplit, urlunsplit

        url = urlunsplit(urlsplit(url)._replace(path=f"/{args.database}"))
    concern_bench.setup_django(url)
    if not args.reuse:
        start = time.perf_counter()
        seed(args)
        print(f"seeded in {time.perf_counter() - start:.0f} s")
    from django.urls import reverse

    from notifications.models import Notification

    caseworker, reporter, leader, child = personas()
    print(f"notifications of the caseworker: {Notification.objects.filter(user=caseworker).count()}, "
          f"consents of the child: {child.consents.count()}; load {os.getloadavg()}")
    print(f"{'page':<38} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}")
    html = measure("notifications (caseworker)", caseworker, reverse("notifications:index"), args.requests)
    link = NEXT.search(html)
    if link:
        measure("notifications, page 2", caseworker, reverse("notifications:index") + link.group(1).replace("&amp;", "&"), args.requests)
    measure("consents of a person (reporter)", reporter, reverse("consent:person", args=[child.code]), args.requests)
    measure("consents of a person (leader)", leader, reverse("consent:person", args=[child.code]), args.requests)
    measure("intake (caseworker)", caseworker, reverse("concerns:intake"), args.requests)
    measure("Mine bekymringer (reporter)", reporter, reverse("concerns:index"), args.requests)
    measure("task queue (caseworker)", caseworker, reverse("workflow:queue"), args.requests)
    explain(caseworker)
    if args.drop:
        from urllib.parse import urlsplit, urlunsplit

        import psycopg
        from django.db import connections

        connections.close_all()
        with psycopg.connect(urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
