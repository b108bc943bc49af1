#!/usr/bin/env python
"""Benchmark a closed BrukerPlan round's report end to end: read the mappings from PostgreSQL,
compute the report (dedupe, counts, suppression, comparison) and store it (issue 10: ≤ 30 s for
60,000 mapped persons, with progress shown).

Run by hand (pytest does not collect it), under the shared lock:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_bp_bench flock /tmp/heavy.lock \\
        .venv/bin/python bench/bench_brukerplan_round.py --persons 60000

It drops and recreates its own database (``--database``, default h_bp_bench) from the migrations,
makes a municipality with a coordinating service and five participating services (psykisk helse og
rus, NAV, fastlege, barnevern, hjemmetjeneste), sets a round up and opens it through the real
services, then inserts ``--persons`` persons and their mappings by SQL (generate_series, seeded
random values): each person mapped by one service, ``--twice`` of them (default 10 %) by a second
one too, some at the same moment (the tie rule). The round is closed through round_close (its
task is not enqueued: the bench runs the build itself) and services.report_build is timed while a
second connection polls the report row as the report page does, printing the progress it sees.

Then the stored figures are checked against an independent SQL count over the same rows (a window
function picks each person's mapping, the rule written apart from the selector's DISTINCT ON; the
index is a CASE over the levels): every published count must equal it. Prints OK or MISMATCH and
exits non-zero on a mismatch or when the build takes longer than ``--limit`` seconds.
"""
import argparse
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

import bench_concern_lists as concern_bench  # noqa: E402  (recreate_database, setup_django)

SERVICES = (("Psykisk helse og rus", "rustjeneste"), ("NAV", "nav"), ("Fastlegene", "fastlege"), ("Barneverntjenesten", "barnevern"),
            ("Hjemmetjenesten", "other"))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="h_bp_bench", help="database to (re)create on the DATABASE_URL server")
    parser.add_argument("--persons", type=int, default=60_000)
    parser.add_argument("--twice", type=float, default=0.10, help="share of persons mapped by a second service")
    parser.add_argument("--limit", type=float, default=30.0, help="seconds the build may take")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    return parser.parse_args()


def world():
    import datetime

    from django.utils import timezone

    from org.models import Membership, Municipality, Service
    from tests.factories import make_service, member
    from workflows.brukerplan import services as svc

    muni = Municipality.objects.create(name="Benchkommune", number="9990")
    coordination = make_service(muni, "BrukerPlan-koordinering", Service.Kind.OTHER)
    coordinator = member(coordination, username="bench-coordinator", role=Membership.Role.LEADER)
    services = [make_service(muni, name, kind) for name, kind in SERVICES]
    workers = [member(s, username=f"bench-worker-{k}") for k, s in enumerate(services)]
    today = timezone.localdate()
    round_ = svc.round_create(user=coordinator, coordinator_service=coordination, title="BrukerPlan bench",
                              period_start=today - datetime.timedelta(days=30), period_end=today + datetime.timedelta(days=30),
                              reference_date=today, deadline=today + datetime.timedelta(days=14), services=services)
    round_ = svc.round_open(user=coordinator, round=round_)
    return muni, coordinator, services, workers, round_


def seed(muni, services, workers, round_, persons: int, twice: float):
    """Persons and their mappings by SQL; returns the number of mapping rows."""
    from django.db import connection

    from people.models import Person
    from referrals.models import BrukerPlanMapping, LifeArea, level_field

    person_t, mapping_t = Person._meta.db_table, BrukerPlanMapping._meta.db_table
    service_ids = "ARRAY[" + ",".join(str(s.pk) for s in services) + "]"
    levels = ", ".join(level_field(a) for a in LifeArea.values)
    # Levels 1 (half), 2, 3; a mapping saved through the services always has every level.
    level_values = ", ".join("(1 + (random() < 0.5)::int * (1 + (random() < 0.4)::int))" for _a in LifeArea.values)
    n = len(services)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(f"""
            INSERT INTO {person_t} (code, given_name, family_name, national_id, id_kind, birth_date, merged_into_id, municipality_id, created_at)
            SELECT gen_random_uuid(), 'Bench', 'Person ' || k, NULL, 'none', DATE '1960-01-01' + (k %% 15000), NULL, %s, now()
            FROM generate_series(1, %s) AS k""", [muni.pk, persons])
        cursor.execute(f"SELECT min(id) FROM {person_t} WHERE municipality_id = %s", [muni.pk])
        first = cursor.fetchone()[0]
        # Each person: one mapping by service k % n; a share also by service (k + 1) % n.
        cursor.execute(f"""
            WITH targets AS (
                SELECT p.id AS person_id, ({service_ids})[1 + (p.id %% {n})] AS service_id, 0 AS second FROM {person_t} p
                 WHERE p.municipality_id = %(muni)s
                UNION ALL
                SELECT p.id, ({service_ids})[1 + ((p.id + 1) %% {n})], 1 FROM {person_t} p
                 WHERE p.municipality_id = %(muni)s AND (p.id - %(first)s) < %(twice)s * %(persons)s
            )
            INSERT INTO {mapping_t} (code, round_id, service_id, person_id, status, scope_reason, sex, age, has_children, {levels},
                                     services_used, expected_need, lar, tsb, ansvarsgruppe, individual_plan, plan_from_record, version,
                                     marked_at, marked_by_id, mapped_at, mapped_by_id)
            SELECT gen_random_uuid(), %(round)s, t.service_id, t.person_id, 'mapped', 'both',
                   (ARRAY['female', 'male', 'male', 'other'])[1 + floor(random() * 4)::int], 16 + floor(random() * 70)::int,
                   random() < 0.15, {level_values},
                   floor(random() * 16384)::int, floor(random() * 1024)::int, random() < 0.2, random() < 0.3,
                   (ARRAY['yes', 'yes', 'no', 'unknown'])[1 + floor(random() * 4)::int],
                   (ARRAY['yes', 'no', 'no', 'unknown'])[1 + floor(random() * 4)::int], false, 1,
                   now(), %(worker)s,
                   now() - make_interval(hours => floor(random() * 100)::int), %(worker)s
            FROM targets t""", {"muni": muni.pk, "first": first, "twice": twice, "persons": persons, "round": round_.pk,
                                "worker": workers[0].pk})
        # The tie: for half of the persons mapped twice, both mappings at the same moment.
        cursor.execute(f"""
            UPDATE {mapping_t} m SET mapped_at = f.mapped_at
            FROM (SELECT person_id, min(mapped_at) AS mapped_at FROM {mapping_t} WHERE round_id = %s GROUP BY person_id HAVING count(*) > 1) f
            WHERE m.round_id = %s AND m.person_id = f.person_id AND f.person_id %% 2 = 0""", [round_.pk, round_.pk])
        cursor.execute(f"SELECT count(*) FROM {mapping_t} WHERE round_id = %s", [round_.pk])
        rows = cursor.fetchone()[0]
        cursor.execute(f"ANALYZE {person_t}")
        cursor.execute(f"ANALYZE {mapping_t}")
    return rows


def sql_counts(round_):
    """Independent counts over the same rows: {(distribution, category): n} and the persons."""
    from django.db import connection

    from org.models import Service
    from referrals.models import BrukerPlanMapping, LifeArea, level_field

    mapping_t, service_t = BrukerPlanMapping._meta.db_table, Service._meta.db_table
    cols = [level_field(a) for a in LifeArea.values]
    red = " + ".join(f"({c} = 3)::int" for c in cols)
    yellow = " + ".join(f"({c} = 2)::int" for c in cols)
    assessed = " + ".join(f"({c} IS NOT NULL)::int" for c in cols)
    index = (f"CASE WHEN {assessed} < 5 THEN 'not_assessed' WHEN {red} >= 3 THEN 'deficient' "
             f"WHEN {red} = 0 AND {yellow} <= 2 THEN 'satisfactory' ELSE 'challenges' END")
    winners = f"""
        SELECT w.* FROM (
            SELECT m.*, s.kind, row_number() OVER (PARTITION BY m.person_id ORDER BY m.mapped_at DESC, m.service_id) AS rank
            FROM {mapping_t} m JOIN {service_t} s ON s.id = m.service_id WHERE m.round_id = %s AND m.status = 'mapped') w
        WHERE w.rank = 1"""
    queries = {
        "sex": "CASE WHEN sex IN ('female', 'male') THEN sex ELSE 'other' END",
        "service_kind": "kind",
        "age_band": ("CASE WHEN age IS NULL THEN 'unknown' WHEN age <= 17 THEN '16-17' WHEN age <= 22 THEN '18-22' WHEN age <= 29 "
                     "THEN '23-29' WHEN age <= 39 THEN '30-39' WHEN age <= 49 THEN '40-49' WHEN age <= 66 THEN '50-66' ELSE '67+' END"),
        "index": index,
        "lar": "CASE WHEN lar THEN 'yes' ELSE 'no' END",
        "tsb": "CASE WHEN tsb THEN 'yes' ELSE 'no' END",
        "has_children": "CASE WHEN has_children THEN 'yes' ELSE 'no' END",
        "ansvarsgruppe": "CASE WHEN ansvarsgruppe = 'yes' THEN 'yes' ELSE 'no' END",
        "individual_plan": "CASE WHEN individual_plan = 'yes' THEN 'yes' ELSE 'no' END",
    }
    area_key = {"activity": "meaningful_activity"}
    for area in LifeArea.values:
        col = level_field(area)
        queries[f"area:{area_key.get(area, area)}"] = (f"CASE {col} WHEN 1 THEN 'green' WHEN 2 THEN 'yellow' WHEN 3 THEN 'red' "
                                                       f"ELSE 'not_assessed' END")
    counts = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({winners}) x", [round_.pk])
        persons = cursor.fetchone()[0]
        for name, expr in queries.items():
            cursor.execute(f"SELECT {expr} AS k, count(*) FROM ({winners}) x GROUP BY 1", [round_.pk])
            for key, n in cursor.fetchall():
                counts[(name, key)] = n
    return persons, counts


def compare(data, persons, counts):
    published = checked = 0
    problems = []
    if data["mapped"] != persons:
        problems.append(("mapped", data["mapped"], persons))
    for name, dist in data["distributions"].items():
        for key, n in zip(dist["categories"], dist["counts"]):
            published += 1
            if n is not None:
                checked += 1
                if n != counts.get((name, key), 0):
                    problems.append((name, key, n, counts.get((name, key), 0)))
    for row in data["life_areas"]["rows"]:
        for key, n in zip(row["categories"], row["counts"]):
            published += 1
            if n is not None:
                checked += 1
                if n != counts.get((f"area:{row['key']}", key), 0):
                    problems.append((row["key"], key, n, counts.get((f"area:{row['key']}", key), 0)))
    return checked, published, problems


def poll(report_filter, stop, seen):
    """The report page's view of the computation: another connection reading the row."""
    from django.db import connection

    from referrals.models import BrukerPlanReport

    started = time.perf_counter()
    try:
        while not stop.is_set():
            row = BrukerPlanReport.objects.filter(**report_filter).values_list("status", "done", "total").first()
            if row is not None and (not seen or seen[-1][1:] != row):
                seen.append((time.perf_counter() - started, *row))
                print(f"  {seen[-1][0]:5.1f} s  {row[0]:8} {row[1]:>6} / {row[2]}", flush=True)
            stop.wait(0.25)
    finally:
        connection.close()


def main():
    args = parse_args()
    server = os.environ.get("DATABASE_URL")
    if not server:
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/h_bp_bench")
    url = concern_bench.recreate_database(server, args.database)
    print(f"database: {args.database} (recreated); migrating …", flush=True)
    concern_bench.setup_django(url)

    from referrals.models import BrukerPlanReport
    from workflows.brukerplan import services as svc

    muni, coordinator, services, workers, round_ = world()
    started = time.perf_counter()
    rows = seed(muni, services, workers, round_, args.persons, args.twice)
    print(f"seeded {args.persons} persons, {rows} mappings by {len(services)} services in {time.perf_counter() - started:.1f} s", flush=True)
    svc._report_enqueue = lambda round_id: None  # the bench builds the report itself, timed
    round_ = svc.round_close(user=coordinator, round=round_)

    stop, seen = threading.Event(), []
    watcher = threading.Thread(target=poll, args=({"round": round_.pk}, stop, seen))
    watcher.start()
    print("report_build (progress as the report page's other connection sees it):", flush=True)
    started = time.perf_counter()
    report = svc.report_build(round_)
    elapsed = time.perf_counter() - started
    stop.set()
    watcher.join()
    report = BrukerPlanReport.objects.get(round=round_)
    print(f"report_build: {elapsed:.2f} s end to end (read, compute, store); status {report.status}; "
          f"{len([s for s in seen if s[1] == 'running'])} progress states seen", flush=True)
    if report.status != "done":
        print(f"FAILED: {report.error}")
        return 1

    data = report.data
    started = time.perf_counter()
    persons, counts = sql_counts(round_)
    checked, published, problems = compare(data, persons, counts)
    print(f"independent SQL count in {time.perf_counter() - started:.1f} s: {checked} of {published} categories published and "
          f"compared → {'OK' if not problems else 'MISMATCH'}")
    for problem in problems[:20]:
        print("  mismatch:", problem)

    def shares(name):
        dist = data["distributions"][name]
        return ", ".join(f"{k} {n} ({s} %)" for k, n, s in zip(dist["categories"], dist["counts"], dist["shares"]))

    print(f"persons mapped: {data['mapped']} (of {rows} mappings)")
    for name in ("index", "sex", "age_band", "service_kind", "lar", "tsb", "ansvarsgruppe", "individual_plan", "has_children"):
        print(f"  {name}: {shares(name)}")
    housing = data["life_areas"]["rows"][0]
    print(f"  life area {housing['key']}: " + ", ".join(f"{k} {n} ({s} %)" for k, n, s in
                                                        zip(housing["categories"], housing["counts"], housing["shares"])))
    ok = not problems and elapsed <= args.limit
    print(f"{'OK' if ok else 'FAIL'}: {elapsed:.2f} s for {data['mapped']} persons (limit {args.limit:.0f} s)")
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
