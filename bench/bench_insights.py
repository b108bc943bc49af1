#!/usr/bin/env python
"""Benchmark the SLT insights over 1,000,000 cases (issue 11: p95 ≤ 300 ms with a constant number of
queries), and the rollup refresh that feeds them.

Run by hand (pytest does not collect it), under the shared lock:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_insights_bench flock /tmp/heavy.lock \\
        .venv/bin/python bench/bench_insights.py --concerns 600000 --referrals 400000

It drops and recreates its own database (``--database``, default h_insights_bench) from the
migrations and seeds it with the concern and referral benches' seeders (bench_concern_lists,
bench_referral_lists: 20 municipalities, 400 services, each case with its permissions, deadlines
and history as the services leave them), in two steps:

1. ``--small`` concerns and as many referrals (default 1,000 each);
2. up to ``--concerns`` concerns and ``--referrals`` referrals.

An SLT service in the first municipality covers all twenty (``insights.Coverage``): its coordinator
reads the largest scope there is. After each step the rollup is refreshed (timed: the beat job's
cost at that size) and each insights page is requested through Django's test client as that
coordinator: the overview unfiltered, for one municipality, for one process, for last year, and
both exports; SQL queries per page (which must be the same after both steps) and p50/p95 of the
whole request. Prints a table and PASS/FAIL against the 300 ms p95 target; exits non-zero on a
failure. ``--seed-only`` seeds and stops, ``--reuse`` measures an already seeded database (one step); ``--drop`` drops it at the end.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

import bench_concern_lists as concern_bench  # noqa: E402  (recreate_database, setup_django, World, Seeder)
import bench_referral_lists as referral_bench  # noqa: E402  (World, Seeder)

TARGET_P95_MS = 300.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="h_insights_bench", help="database to (re)create on the DATABASE_URL server")
    parser.add_argument("--concerns", type=int, default=600_000)
    parser.add_argument("--referrals", type=int, default=400_000)
    parser.add_argument("--small", type=int, default=1_000, help="concerns and referrals of the first step")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per page")
    parser.add_argument("--reuse", action="store_true", help="measure an already seeded database")
    parser.add_argument("--seed-only", action="store_true", help="seed both steps and stop (measure later with --reuse)")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    return parser.parse_args()


def slt_coordinator():
    """The SLT coordinator of the first municipality, covering every municipality of the bench."""
    from django.contrib.auth import get_user_model

    from insights.models import Coverage
    from org.models import Membership, Municipality, Service
    from org.permissions import service_group
    from org.services import membership_set

    user = get_user_model().objects.filter(username="bench-slt").first()
    if user:
        return user
    municipalities = list(Municipality.objects.order_by("number"))
    slt = Service.objects.create(municipality=municipalities[0], name="SLT bench", kind=Service.Kind.SLT)
    service_group(slt)
    Coverage.objects.bulk_create([Coverage(service=slt, municipality=m) for m in municipalities[1:]])
    user = get_user_model().objects.create_user(username="bench-slt", email="")
    membership_set(user=user, service=slt, role=Membership.Role.STAFF)
    return user


def pages():
    """(label, path) of every insights page measured."""
    from django.urls import reverse
    from django.utils import timezone

    from org.models import Municipality

    index = reverse("insights:index")
    first = Municipality.objects.order_by("number").first()
    year = timezone.localdate().year
    return [
        ("overview, all municipalities", index),
        ("overview, one municipality", f"{index}?municipality={first.pk}"),
        ("overview, referrals only", f"{index}?process=referral"),
        ("overview, last year", f"{index}?year={year - 1}"),
        ("export CSV", reverse("insights:export_csv")),
        ("export PDF", reverse("insights:export_pdf")),
    ]


def refresh():
    from insights.models import CaseCount, DeadlineCount, StepDuration
    from insights.services import rollup_refresh

    start = time.perf_counter()
    run = rollup_refresh()
    seconds = time.perf_counter() - start
    rows = CaseCount.objects.count(), DeadlineCount.objects.count(), StepDuration.objects.count()
    print(f"rollup refresh: {run.cases} cases in {seconds:.1f} s; rows: {rows[0]} case counts, {rows[1]} deadline counts, "
          f"{rows[2]} step durations", flush=True)


def measure(user, path, requests):
    """(queries, p50 ms, p95 ms) of the page for ``user``."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    def get():
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200, (path, response.status_code, body[:300])
        return body

    for _ in range(5):
        get()
    with CaptureQueriesContext(connection) as ctx:
        get()
    queries = len(ctx.captured_queries)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        get()
        times.append((time.perf_counter() - start) * 1000)
    return queries, statistics.median(times), statistics.quantiles(times, n=100, method="inclusive")[94]


def cases():
    from referrals.models import Concern, Referral

    return Concern.objects.count() + Referral.objects.count()


def main():
    args = parse_args()
    server = os.environ.get("DATABASE_URL")
    if not server:
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/h_insights_bench")
    if args.reuse:
        url = urlunsplit(urlsplit(server)._replace(path=f"/{args.database}"))
    else:
        url = concern_bench.recreate_database(server, args.database)
        print(f"database: {args.database} (recreated); migrating …", flush=True)
    concern_bench.setup_django(url)

    results = {}
    steps = [None] if args.reuse else [args.small, None]
    if not args.reuse:
        concern_world, referral_world = concern_bench.World(), referral_bench.World()
        concern_seeder, referral_seeder = concern_bench.Seeder(concern_world), referral_bench.Seeder(referral_world)
    user = None
    for step, size in enumerate(steps):
        if size is not None:
            t = time.perf_counter()
            concern_seeder.seed(size)
            referral_seeder.seed(size)
            print(f"seeded {size} concerns and {size} referrals in {time.perf_counter() - t:.0f} s", flush=True)
        elif not args.reuse:
            t = time.perf_counter()
            concern_seeder.seed(max(args.concerns - args.small, 0))
            referral_seeder.seed(max(args.referrals - args.small, 0))
            print(f"seeded up to {args.concerns} concerns and {args.referrals} referrals in {time.perf_counter() - t:.0f} s", flush=True)
        referral_bench.vacuum()
        if args.seed_only:
            continue
        user = user or slt_coordinator()
        total = cases()
        print(f"step {step + 1}: {total} cases", flush=True)
        refresh()
        for label, path in pages():
            results.setdefault(label, []).append((total, *measure(user, path, args.requests)))

    if args.seed_only:
        print(f"seeded: {cases()} cases; measure with --reuse")
        return
    failed = False
    print()
    print(f"{'page':34} {'cases':>9} {'queries':>8} {'p50 ms':>8} {'p95 ms':>8}  target p95 ≤ {TARGET_P95_MS:.0f} ms")
    for label, rows in results.items():
        constant = len({r[1] for r in rows}) == 1
        for total, queries, p50, p95 in rows:
            verdict = "PASS" if p95 <= TARGET_P95_MS else "FAIL"
            failed |= p95 > TARGET_P95_MS
            print(f"{label:34} {total:>9} {queries:>8} {p50:>8.1f} {p95:>8.1f}  {verdict}")
        if not constant:
            failed = True
            print(f"{label:34} queries differ between the steps: FAIL")
    if args.drop:
        from django.db import connections

        import bench_task_pages

        connections.close_all()
        bench_task_pages.drop_database(server, args.database)
    print("\nRESULT:", "FAIL" if failed else "PASS")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
