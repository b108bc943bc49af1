#!/usr/bin/env python
"""Benchmark the referral statistics' CSV exports: streamed in constant memory, whatever the rows.

Run by hand (pytest does not collect it), under the shared lock:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_ref_csv flock /tmp/heavy.lock \\
        .venv/bin/python bench/bench_csv_export.py --database h_ref_csv --sizes 30000 300000

It drops and recreates its own database (``--database``), creates the 200 services of the referral
benchmark (bench/bench_referral_lists.py: 10 municipalities, each with 2 coordinators, 10 sending
and 8 receiving services) through the real services, and a user who is a member of every sending
and coordinating service, so that each export reads every referral and every contact. Then, for
each size in ``--sizes``, it grows the data to that many referrals (and about as many contacts:
most referrals come from a contact, some contacts are never referred on), spread over three years,
and streams both exports (``henvisninger``: referrals per year, destination and status;
``kontakter``: contacts per year and registering service, and where they were referred) through
Django's test client as that user, printing per export: the lines and bytes written, the time
(median of ``--runs``), the peak of Python's allocations while streaming (tracemalloc) and the
growth of the process's resident memory (RSS) over the runs.

The rows are inserted by SQL (generate_series), as the exports read them: referrals with their
sender, routing and target service, status and sending time, the viewflow process of a delivered
referral (a receiving service counts only those), contacts with their service and time. Permissions,
disclosures and deadlines, which the exports do not read, are left out: the referral benchmark
seeds those, at the cost of half an hour for 300,000 referrals.

Constant memory means the peak and the RSS growth are about the same at every size; the time grows
with the rows read (the aggregates read them all), the memory does not.
"""
import argparse
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

import bench_concern_lists as concern_bench  # noqa: E402  (recreate_database, setup_django)
import bench_referral_lists as referral_bench  # noqa: E402  (World)

EXPORTS = ("henvisninger", "kontakter")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="csv_export_bench", help="database to (re)create on the DATABASE_URL server")
    parser.add_argument("--sizes", type=int, nargs="+", default=[30_000, 300_000], help="referrals at each measurement, ascending")
    parser.add_argument("--runs", type=int, default=5, help="timed exports per table and size")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    return parser.parse_args()


def bench_user(world):
    """A user of every sending and coordinating service: the exports read all their rows."""
    from django.contrib.auth import get_user_model

    from org.models import Membership
    from org.services import membership_set

    user = get_user_model().objects.create_user(username="bench-csv", email="")
    for service, _weight, _coordinators, _targets in world.senders:
        membership_set(user=user, service=service, role=Membership.Role.STAFF)
    return user


def grow(world, start: int, stop: int):
    """Referrals ``start`` … ``stop`` - 1 (by number), each with a person; 70 % from a contact, and
    a contact never referred on for every fifth referral; a delivered referral has its process."""
    from django.db import connection, transaction

    from viewflow.workflow.fields import get_flow_ref

    from workflows.flows.referral import ReferralFlow

    senders = [s.pk for s, _w, _c, _t in world.senders]
    coordinators = {s.pk: [c.pk for c in coords] for s, _w, coords, _t in world.senders}
    targets = {s.pk: [t.pk for t in targets] for s, _w, _c, targets in world.senders}
    creator = world.sender_user.pk
    # Per referral: its sender (any of the sending services), one of the sender's coordinators and
    # targets, its time in the last three years and its status (mostly finished).
    pick_sql = """
        CREATE TEMP TABLE bench_pick ON COMMIT DROP AS
        SELECT n,
               (%(senders)s::bigint[])[1 + floor(random() * cardinality(%(senders)s::bigint[]))::int] AS sender,
               floor(random() * 8)::int AS route,
               now() - random() * interval '1095 days' AS at,
               (ARRAY['completed','completed','completed','rejected','in-progress','accepted','received','requested',
                      'cancelled','completed'])[1 + floor(random() * 10)::int] AS status,
               random() < 0.3 AS routed, random() < 0.7 AS from_contact, random() < 0.2 AS lone_contact
        FROM generate_series(%(start)s, %(stop)s - 1) AS n
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [start / (stop + 1)])  # the same rows on every run
        cursor.execute(pick_sql, {"senders": senders, "start": start, "stop": stop})
        cursor.execute("CREATE TEMP TABLE bench_routes (sender bigint, i int, coordinator bigint, target bigint) ON COMMIT DROP")
        cursor.executemany("INSERT INTO bench_routes VALUES (%s, %s, %s, %s)", [
            (s, i, coordinators[s][i % len(coordinators[s])], targets[s][i % len(targets[s])]) for s in senders for i in range(8)
        ])
        cursor.execute("""
            ALTER TABLE bench_pick ADD COLUMN person bigint, ADD COLUMN contact bigint, ADD COLUMN referral bigint;
            UPDATE bench_pick SET person = nextval(pg_get_serial_sequence('people_person', 'id'));
            INSERT INTO people_person (id, code, given_name, family_name, id_kind, birth_date, created_at)
            SELECT person, gen_random_uuid(), 'Bench', 'Person' || n, 'none', date '1960-01-01' + (n %% 20000), at FROM bench_pick;
            UPDATE bench_pick SET contact = nextval(pg_get_serial_sequence('referrals_contact', 'id')) WHERE from_contact;
            INSERT INTO referrals_contact (id, code, summary, created_at, created_by_id, person_id, service_id)
            SELECT contact, gen_random_uuid(), 'Kontakt i benchmark.', at - interval '30 minutes', %(creator)s, person, sender
            FROM bench_pick WHERE from_contact;
            INSERT INTO referrals_contact (code, summary, created_at, created_by_id, person_id, service_id)
            SELECT gen_random_uuid(), 'Kontakt i benchmark.', at - interval '1 day', %(creator)s, person, sender
            FROM bench_pick WHERE lone_contact;
            UPDATE bench_pick SET referral = nextval(pg_get_serial_sequence('referrals_referral', 'id'));
            INSERT INTO referrals_referral (id, code, kind, reason, status, status_reason, outcome, receiver_notes, created_at,
                                            updated_at, sent_at, closed_at, contact_id, created_by_id, person_id,
                                            routing_service_id, sender_service_id, target_service_id)
            SELECT p.referral, gen_random_uuid(), 'substance', 'Henvisning i benchmark.', p.status, '', '', '', p.at, p.at, p.at,
                   CASE WHEN p.status IN ('completed', 'rejected', 'cancelled') THEN p.at + interval '20 days' END,
                   p.contact, %(creator)s, p.person, CASE WHEN p.routed THEN r.coordinator END, p.sender,
                   CASE WHEN NOT (p.routed AND p.status = 'requested') THEN r.target END
            FROM bench_pick p JOIN bench_routes r ON r.sender = p.sender AND r.i = p.route;
        """, {"creator": creator})
        # A delivered referral (one with a target) has its viewflow process: a receiver counts only those.
        cursor.execute("""
            WITH delivered AS (
                SELECT r.id AS referral, nextval(pg_get_serial_sequence('viewflow_process', 'id')) AS process, r.sent_at, r.closed_at
                FROM referrals_referral r JOIN bench_pick p ON p.referral = r.id WHERE r.target_service_id IS NOT NULL
            ), made AS (
                INSERT INTO viewflow_process (id, flow_class, status, created, finished, data)
                SELECT process, %s, CASE WHEN closed_at IS NULL THEN 'NEW' ELSE 'DONE' END, sent_at, closed_at, '{}'::jsonb
                FROM delivered RETURNING id
            )
            INSERT INTO workflows_referralprocess (process_ptr_id, referral_id) SELECT process, referral FROM delivered
        """, [get_flow_ref(ReferralFlow)])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def export(client, table: str):
    """Stream one export: ``(lines, bytes, seconds, tracemalloc peak KiB)``. The body is consumed
    chunk by chunk and dropped, as a server writes it to the socket."""
    from django.urls import reverse

    url = reverse("referrals:stats_csv", args=[table])
    tracemalloc.start()
    start = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200 and response.streaming, (url, response.status_code)
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
    seconds = time.perf_counter() - start
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    response.close()
    return lines, size, seconds, peak / 1024


def measure(user, runs: int) -> dict:
    from django.db import connection
    from django.test import Client

    from referrals.models import Contact, Referral

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    out = {"referrals": Referral.objects.count(), "contacts": Contact.objects.count()}
    for table in EXPORTS:
        for _ in range(2):  # warm caches (templates, content types, the database's buffers)
            export(client, table)
        before = rss_kib()
        results = [export(client, table) for _ in range(runs)]
        connection.close()
        out[table] = dict(lines=results[0][0], bytes=results[0][1], seconds=statistics.median(r[2] for r in results),
                          peak=max(r[3] for r in results), rss=rss_kib() - before)
    return out


def report(args, measured):
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nCSV exports of the referral statistics, streamed; median of {args.runs} exports, peak of their allocations"
          f" ({os.cpu_count()} CPUs, load average {load})")
    header = f"{'export':<14} {'referrals':>10} {'contacts':>9} {'lines':>7} {'bytes':>9} {'time ms':>8} {'peak KiB':>9} {'RSS growth KiB':>15}"
    print(header)
    print("-" * len(header))
    for m in measured:
        for table in EXPORTS:
            r = m[table]
            print(f"{table:<14} {m['referrals']:>10} {m['contacts']:>9} {r['lines']:>7} {r['bytes']:>9} {r['seconds'] * 1000:>8.0f} "
                  f"{r['peak']:>9.0f} {r['rss']:>15}")
    ok = True
    for table in EXPORTS:
        first, last = measured[0][table]["peak"], measured[-1][table]["peak"]
        # Constant: the peak may wobble by what a few more output lines and chunk buffers take.
        same = last <= max(first * 1.5, first + 256)
        ok &= same
        print(f"{table}: peak {first:.0f} KiB at {measured[0]['referrals']} referrals, {last:.0f} KiB at "
              f"{measured[-1]['referrals']} → {'constant' if same else 'GROWS'}")
    return ok


def main():
    args = parse_args()
    server = os.environ.get("DATABASE_URL")
    if not server:
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/h_ref_csv")
    url = concern_bench.recreate_database(server, args.database)
    print(f"database: {args.database} (recreated); migrating …", flush=True)
    concern_bench.setup_django(url)
    world = referral_bench.World()
    user = bench_user(world)
    measured, done = [], 0
    for size in sorted(args.sizes):
        start = time.perf_counter()
        grow(world, done, size)
        print(f"seeded {size - done} referrals in {time.perf_counter() - start:.1f}s", flush=True)
        done = size
        measured.append(measure(user, args.runs))
    ok = report(args, measured)
    if args.drop:
        from django.db import connections

        connections.close_all()
        import psycopg
        from psycopg import sql

        with psycopg.connect(urlunsplit(urlsplit(server)._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(args.database)))
        print(f"dropped {args.database}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
