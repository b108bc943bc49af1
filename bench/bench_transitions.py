#!/usr/bin/env python
"""Benchmark workflow transitions per second through the real services, beside raw SQL writes.

Run by hand (pytest does not collect it):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_writes_bench .venv/bin/python bench/bench_transitions.py

DATABASE_URL names the PostgreSQL server and the benchmark's database (dropped and recreated,
migrated, and dropped again at the end unless ``--keep``). Celery's broker is a Redis database
nobody consumes (``--broker``, default redis://127.0.0.1:6379/5), flushed at the end: the services
enqueue on commit, so no worker is needed and nothing is delivered.

Seeding, through the real factories and services (tests/factories.py): per worker its own
municipality with a barnehage, a barnevern service, a health service and a substance service with
their staff (``make_org``, ``make_referral_services``), a pool of children for meldinger and of
17-year-olds with a consent to be referred (``make_consent``), and the melding drafts the timed
phase will send (``concern_draft_create``; drafting is not a transition here).

Then, untimed, each municipality's history (``--history`` meldinger and as many referrals through
the same three steps each): a municipality in use does not start from empty tables, and plans made
on a handful of rows scan (see ``main``).

Timed phases (``--duration`` seconds each, all workers start together at a barrier):

- concern process: ``concern_submit`` → ``concern_confirm_receipt`` → ``concern_review``
  (investigate and close alternately), melding after melding;
- referral process: ``referral_send`` (straight to the substance service, on the consent) →
  ``referral_receive`` → ``referral_accept``;

each with one process and with two processes in parallel (multiprocessing, spawn: each its own
database connection, its own municipality, services, users and cases, so they share no case row).
Before its clock starts, each worker ANALYZEs the database, as autovacuum keeps a live database's
statistics (a freshly seeded one has none, and its plans are not production's). A transition is one
service call (one transaction, commit included): its latency is measured around
the call. Then, as the ceiling, pgbench runs for the same duration with 1 and 2 clients a script
of single-statement transactions on the same tables, shaped like the same transitions (INSERT a
sent melding / referral row, UPDATE it to received, UPDATE it to reviewed / accepted).

Between the two, the floor of one process: the statements a transition sends (counted over one
cycle, BEGIN and COMMIT included), sent through Django's connection as single-row writes on a
logged table in a transaction of the same size, for half the phase's duration. No transition can go
faster from one process than that; what it spends above it is its own Python and its statements'
real work.

Any transition whose single-process rate (1000 / mean ms) is below the target is profiled in this
process: SQL queries per transition (and their time) grouped by table, and cProfile's top functions.
"""
import argparse
import cProfile
import io
import multiprocessing as mp
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

TARGET_PER_SECOND = 100
CONCERN_STEPS = ("submit", "receipt", "review")
REFERRAL_STEPS = ("send", "receive", "accept")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per timed phase (services and pgbench alike)")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/5", help="Celery broker nobody consumes (flushed at the end)")
    parser.add_argument("--children", type=int, default=40, help="children (and consenting 17-year-olds) per worker")
    parser.add_argument("--history", type=int, default=200,
                        help="untimed cycles of each process per municipality written before the phases (its history)")
    parser.add_argument("--profile-cycles", type=int, default=15, help="cycles per process profiled when a step is below target")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    return parser.parse_args()


def database_urls(server_url: str):
    parts = urlsplit(server_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit("DATABASE_URL must point at PostgreSQL (postgres://user@host:port/db)")
    name = parts.path.lstrip("/")
    if not name or name in ("postgres", "template0", "template1", "test"):
        sys.exit("DATABASE_URL must name the benchmark's own database (it is dropped and recreated)")
    return name, urlunsplit(parts._replace(path="/postgres"))


def recreate_database(server_url: str) -> None:
    import psycopg
    from psycopg import sql

    name, admin_url = database_urls(server_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(server_url: str) -> None:
    import psycopg
    from psycopg import sql

    name, admin_url = database_urls(server_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def environment(database_url: str, broker: str) -> None:
    """The settings the other bench scripts use (config.settings, embedded, demo), our database and broker."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("DJANGO_EMBEDDED", "1")
    os.environ.setdefault("DJANGO_DEMO", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def setup_django(migrate=False):
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


# --- seeding (parent process) -------------------------------------------------------------------

def seed_world(index: int, children: int) -> dict:
    """One worker's municipality, services, staff, children and consents; returns their primary keys."""
    from tests.factories import make_child, make_consent, make_org, make_referral_services

    org = make_org(number=f"97{index:02d}")
    rs = make_referral_services(org)
    kids = [make_child(org, birth=date(2016, 1, 1) + timedelta(days=100 * index + i), start=500, given="Emma", family=f"Bench{index}")
            for i in range(children)]
    youths, consents = [], []
    for i in range(children):
        # 17 on any day in 2026–2027 (the consent is the person's own), a birth date per worker and person.
        person = make_child(org, birth=date(2009, 1, 10) + timedelta(days=100 * index + i), start=600, given="Sara", family=f"Bench{index}")
        consents.append(make_consent(user=rs.nurse, service=rs.helse, person=person, grantees=[rs.rus]).pk)
        youths.append(person.pk)
    return {
        "index": index, "barnehage": org.barnehage.pk, "barnevern": org.barnevern.pk, "reporter": org.reporter.pk,
        "caseworker": org.caseworker.pk, "helse": rs.helse.pk, "rus": rs.rus.pk, "nurse": rs.nurse.pk,
        "coordinator": rs.coordinator.pk, "children": [k.pk for k in kids], "youths": youths, "consents": consents,
    }


# --- the transitions (any process) ---------------------------------------------------------------

class Actors:
    """A worker's objects, loaded by primary key in the process that uses them."""

    def __init__(self, world: dict):
        from django.contrib.auth import get_user_model

        from consent.models import Consent
        from org.models import Service
        from people.models import Person

        User = get_user_model()
        self.world = world
        services = Service.objects.in_bulk([world[k] for k in ("barnehage", "barnevern", "helse", "rus")])
        users = User.objects.in_bulk([world[k] for k in ("reporter", "caseworker", "nurse", "coordinator")])
        self.barnehage, self.barnevern = services[world["barnehage"]], services[world["barnevern"]]
        self.helse, self.rus = services[world["helse"]], services[world["rus"]]
        self.reporter, self.caseworker = users[world["reporter"]], users[world["caseworker"]]
        self.nurse, self.coordinator = users[world["nurse"]], users[world["coordinator"]]
        persons = Person.objects.in_bulk(world["children"] + world["youths"])
        self.children = [persons[pk] for pk in world["children"]]
        consents = Consent.objects.in_bulk(world["consents"])
        self.youths = [(persons[p], consents[c]) for p, c in zip(world["youths"], world["consents"])]
        self.drafts = []
        self.cycle = 0

    def draft(self, i: int):
        from referrals.models import Concern
        from workflows.concern import services as svc

        return svc.concern_draft_create(
            user=self.reporter, kind=Concern.Kind.MELDING, reporting_service=self.barnehage, receiving_service=self.barnevern,
            observations="Far virket beruset ved henting.", categories=[Concern.Category.PARENT_INTOXICATED],
            person=self.children[i % len(self.children)], parents_informed=True, child_informed=True,
        )

    def concern_steps(self):
        """The three transitions of the next drafted melding, as (step, callable) in order."""
        from workflows.concern import services as svc

        concern = self.drafts.pop()
        self.cycle += 1
        close = self.cycle % 2 == 0
        state = {"c": concern}

        def submit():
            state["c"] = svc.concern_submit(concern=state["c"], user=self.reporter)

        def receipt():
            state["c"] = svc.concern_confirm_receipt(concern=state["c"], user=self.caseworker)

        def review():
            if close:
                state["c"] = svc.concern_review(concern=state["c"], user=self.caseworker, decision="close", justification="Ingen grunn til undersøkelse.")
            else:
                state["c"] = svc.concern_review(concern=state["c"], user=self.caseworker, decision="investigate")

        return (("submit", submit), ("receipt", receipt), ("review", review))

    def referral_steps(self):
        from workflows.referral import services as svc

        person, consent = self.youths[self.cycle % len(self.youths)]
        self.cycle += 1
        state = {}

        def send():
            state["r"] = svc.referral_send(user=self.nurse, sender_service=self.helse, person=person, kind="substance",
                                           reason="Bruker hasj daglig, vil ha hjelp.", target_service=self.rus, consent=consent)

        def receive():
            state["r"] = svc.referral_receive(referral=state["r"], user=self.coordinator)

        def accept():
            state["r"] = svc.referral_accept(referral=state["r"], user=self.coordinator)

        return (("send", send), ("receive", receive), ("accept", accept))


def worker(world: dict, process: str, duration: float, drafts: int, barrier, started, results):
    """A timed phase in its own process (own connection): run cycles until ``duration`` has passed."""
    setup_django()
    from django.db import connection

    try:
        actors = Actors(world)
        if process == "concern":
            actors.drafts = [actors.draft(i) for i in range(drafts)]
            actors.drafts.reverse()
        steps_of = actors.concern_steps if process == "concern" else actors.referral_steps
        # One untimed cycle first: imports, caches and the connection are warm when the clock starts.
        if process == "concern":
            actors.drafts.append(actors.draft(drafts))
        for _name, call in steps_of():
            call()
        # Statistics, as autovacuum keeps them on a live database: without any, the planner takes
        # the freshly seeded tables for empty and cancels a step's reminders by scanning every
        # pending one (10 ms per step and growing through the run) instead of by its index.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        barrier.wait(timeout=600)
        started.set()
        latencies = defaultdict(list)
        errors = Counter()
        start = time.perf_counter()
        stop = start + duration
        ran_out = False
        while time.perf_counter() < stop:
            if process == "concern" and not actors.drafts:
                ran_out = True
                break
            for name, call in steps_of():
                t0 = time.perf_counter()
                try:
                    call()
                except Exception as e:  # noqa: BLE001 - counted and reported, the cycle is abandoned
                    errors[f"{name}: {type(e).__name__}: {e}"[:160]] += 1
                    break
                latencies[name].append((time.perf_counter() - t0) * 1000)
        end = time.perf_counter()
        results.put({"index": world["index"], "start": start, "end": end, "latencies": dict(latencies),
                     "errors": dict(errors), "ran_out": ran_out, "left": len(actors.drafts)})
    except Exception as e:  # noqa: BLE001 - the parent reports it
        results.put({"index": world["index"], "failed": f"{type(e).__name__}: {e}"})
        try:
            barrier.abort()
        except Exception:  # noqa: BLE001
            pass
    finally:
        connection.close()


def run_phase(worlds, process, duration, drafts_per_worker):
    """Run the phase in ``len(worlds)`` processes; meanwhile sample what their backends wait on."""
    import queue

    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(worlds))
    started = ctx.Event()
    results = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(w, process, duration, drafts_per_worker, barrier, started, results)) for w in worlds]
    for p in procs:
        p.start()
    out, samples = [], Counter()
    deadline = time.monotonic() + 600 + duration
    while len(out) < len(procs):
        try:
            out.append(results.get(timeout=0.1))
            continue
        except queue.Empty:
            if time.monotonic() > deadline:
                sys.exit(f"{process} phase: no result in time")
        if started.is_set() and not out:
            for state in backend_states():
                samples[state] += 1
    for p in procs:
        p.join()
    failed = [r["failed"] for r in out if "failed" in r]
    if failed:
        sys.exit(f"{process} phase failed: {failed}")
    # perf_counter is system-wide monotonic on Linux, so the workers' clocks compare.
    wall = max(r["end"] for r in out) - min(r["start"] for r in out)
    merged = defaultdict(list)
    errors = Counter()
    for r in out:
        for name, lat in r["latencies"].items():
            merged[name] += lat
        errors.update(r["errors"])
    return {"wall": wall, "latencies": merged, "errors": errors, "ran_out": any(r["ran_out"] for r in out),
            "left": [r["left"] for r in out], "samples": samples}


def backend_states():
    """What each other client backend of this database is doing now: "active (CPU)", "idle", "idle in
    transaction" (the worker's Python between queries), or what it waits on (a Lock wait names the
    statement, so a lock two workers queue for shows which row or table)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        rows = cursor.fetchall()
    for state, wait_type, wait_event, query in rows:
        if state != "active":
            yield state or "?"
        elif wait_type is None:
            yield "active (CPU)"
        elif wait_type == "Lock":
            yield f"waiting for a {wait_event} lock: {query_key(query)}"
        else:
            yield f"waiting {wait_type}:{wait_event}"


# --- the floor of one process: its statements and nothing else --------------------------------------

def statements_per_transition(world: dict, process: str) -> float:
    """Statements a transition of ``process`` sends, BEGIN and COMMIT included (one untimed cycle)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    actors = Actors(world)
    if process == "concern":
        actors.drafts = [actors.draft(0)]
    counts = []
    for _name, call in (actors.concern_steps if process == "concern" else actors.referral_steps)():
        with CaptureQueriesContext(connection) as ctx:
            call()
        # The query log holds BEGIN and COMMIT; writes carried in the next statement's text
        # (org.batch) are one entry with it, as they are one round trip.
        counts.append(len(ctx.captured_queries))
    return statistics.mean(counts)


def django_floor(statements: int, duration: float) -> tuple[float, float]:
    """One process, through Django's connection as the services use it: transactions of ``statements``
    statements (BEGIN and COMMIT among them), each a single-row write on a logged table, committed as
    a transition commits. (transactions/s, mean ms). A transition that did nothing but send its
    statements could not go faster from one process; its Python, and each statement's real work,
    come on top."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, n integer NOT NULL, at timestamptz NOT NULL)")
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < duration:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_floor (n, at) VALUES (%s, now()) RETURNING id", [done])
            pk = cursor.fetchone()[0]
            for i in range(statements - 3):
                cursor.execute("UPDATE bench_floor SET n = n + %s, at = now() WHERE id = %s", [i, pk])
        done += 1
    wall = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor")
    return done / wall, wall / done * 1000


# --- pgbench: the ceiling -------------------------------------------------------------------------

def pgbench_scripts(tmp: Path, ids: dict) -> dict:
    """Script files per process: three single-statement transactions shaped like its transitions."""
    from referrals.models import Concern, Referral

    C, R = Concern, Referral
    concern = {
        "insert": (
            "INSERT INTO referrals_concern (code, kind, status, observations, categories, parents_informed, child_informed,"
            " not_informed_reason, urgency, legal_basis, created_at, updated_at, submitted_at, advice, review_decision,"
            " review_justification, investigation_extension_reason, investigation_outcome, investigation_summary,"
            " created_by_id, person_id, receiving_service_id, reporting_service_id)"
            f" VALUES (gen_random_uuid(), '{C.Kind.MELDING}', '{C.Status.SUBMITTED}', 'Far virket beruset ved henting.',"
            f" '[\"{C.Category.PARENT_INTOXICATED}\"]', true, true, '', '{C.Urgency.NORMAL}', 'barnevernsloven § 13-2',"
            " now(), now(), now(), '', '', '', '', '', '',"
            f" {ids['reporter']}, {ids['child']}, {ids['barnevern']}, {ids['barnehage']});\n"
        ),
        "update_received": (
            f"\\set id random({ids['concern_lo']}, {ids['concern_hi']})\n"
            f"UPDATE referrals_concern SET status = '{C.Status.RECEIVED}', received_at = now(), received_by_id = {ids['caseworker']},"
            " updated_at = now() WHERE id = :id;\n"
        ),
        "update_reviewed": (
            f"\\set id random({ids['concern_lo']}, {ids['concern_hi']})\n"
            f"UPDATE referrals_concern SET review_decision = '{C.ReviewDecision.INVESTIGATE}', review_justification = '',"
            f" reviewed_at = now(), status = '{C.Status.INVESTIGATING}', updated_at = now() WHERE id = :id;\n"
        ),
    }
    referral = {
        "insert": (
            "INSERT INTO referrals_referral (code, kind, reason, status, status_reason, outcome, receiver_notes, created_at,"
            " updated_at, sent_at, consent_id, created_by_id, person_id, sender_service_id, target_service_id)"
            f" VALUES (gen_random_uuid(), 'substance', 'Bruker hasj daglig, vil ha hjelp.', '{R.Status.REQUESTED}', '', '', '',"
            f" now(), now(), now(), {ids['consent']}, {ids['nurse']}, {ids['youth']}, {ids['helse']}, {ids['rus']});\n"
        ),
        "update_received": (
            f"\\set id random({ids['referral_lo']}, {ids['referral_hi']})\n"
            f"UPDATE referrals_referral SET status = '{R.Status.RECEIVED}', status_reason = '', updated_at = now() WHERE id = :id;\n"
        ),
        "update_accepted": (
            f"\\set id random({ids['referral_lo']}, {ids['referral_hi']})\n"
            f"UPDATE referrals_referral SET status = '{R.Status.ACCEPTED}', status_reason = '', updated_at = now() WHERE id = :id;\n"
        ),
    }
    files = {}
    for process, scripts in (("concern", concern), ("referral", referral)):
        files[process] = []
        for name, text in scripts.items():
            path = tmp / f"{process}_{name}.sql"
            path.write_text(text)
            files[process].append((name, path))
    return files


def pgbench_run(database_url, files, clients, duration, tmp: Path):
    """Run pgbench; returns (transactions, tps, {script name: latencies ms}, failed)."""
    exe = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    parts = urlsplit(database_url)
    prefix = tmp / f"log_{files[0][1].stem.split('_')[0]}_{clients}"
    cmd = [exe, "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients), "-T", str(int(round(duration))),
           "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres",
           "-l", f"--log-prefix={prefix}"]
    for _name, path in files:
        cmd += ["-f", f"{path}@1"]
    cmd.append(parts.path.lstrip("/"))
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
    if done.returncode != 0:
        sys.exit(f"pgbench failed: {done.stderr}")
    tps = float(re.search(r"tps = ([\d.]+)", done.stdout).group(1))
    processed = int(re.search(r"number of transactions actually processed: (\d+)", done.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    by_script = defaultdict(list)
    for log in tmp.glob(f"{prefix.name}*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            # client_id transaction_no time script_no time_epoch time_us
            by_script[files[int(fields[3])][0]].append(int(fields[2]) / 1000)
        log.unlink()
    return processed, tps, by_script, int(failed.group(1)) if failed else 0


# --- profiling (parent process) --------------------------------------------------------------------

TABLE = re.compile(r'(?:FROM|INTO|UPDATE|JOIN)\s+"?(\w+)"?', re.I)


def query_key(sql: str) -> str:
    verb = sql.lstrip().split(None, 1)[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return "SAVEPOINT/RELEASE"
    m = TABLE.search(sql) or re.match(r"\s*SELECT\s+(\w+)\(", sql, re.I)
    lock = " FOR UPDATE" if "FOR UPDATE" in sql.upper() else ""
    return f"{verb} {m.group(1) if m else '?'}{lock}"


def profile(world: dict, process: str, cycles: int, slow_steps: set):
    """Queries and Python time per transition of ``process``, in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    actors = Actors(world)
    if process == "concern":
        actors.drafts = [actors.draft(i) for i in range(2 * cycles + 1)]
    steps_of = actors.concern_steps if process == "concern" else actors.referral_steps
    for _name, call in steps_of():  # warm
        call()
    per_step = {}
    # First the queries and the times without a profiler (cProfile's own cost would swell the Python share) …
    for _ in range(cycles):
        for name, call in steps_of():
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                call()
                ms = (time.perf_counter() - t0) * 1000
            entry = per_step.setdefault(name, {"ms": [], "queries": [], "sql_ms": [], "kinds": Counter(), "kind_ms": Counter()})
            entry["ms"].append(ms)
            entry["queries"].append(len(ctx.captured_queries))
            entry["sql_ms"].append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
            for q in ctx.captured_queries:
                key = query_key(q["sql"])
                entry["kinds"][key] += 1
                entry["kind_ms"][key] += float(q["time"]) * 1000
    # … then where the time goes, under cProfile.
    prof = cProfile.Profile()
    for _ in range(cycles):
        for _name, call in steps_of():
            prof.enable()
            call()
            prof.disable()
    lines = [f"\n--- profile: {process} process, {cycles} cycles in one process with CaptureQueriesContext, then {cycles} under cProfile ---"]
    for name, e in per_step.items():
        mark = "  (below target)" if name in slow_steps else ""
        lines.append(
            f"{name}: {statistics.mean(e['ms']):.1f} ms/transition, {statistics.mean(e['queries']):.0f} queries"
            f" ({min(e['queries'])}–{max(e['queries'])}), in SQL calls {statistics.mean(e['sql_ms']):.1f} ms (round trips included),"
            f" in Python outside them {statistics.mean(e['ms']) - statistics.mean(e['sql_ms']):.1f} ms{mark}"
        )
        top = e["kinds"].most_common(14)
        lines.append("    " + "; ".join(f"{k} ×{n / cycles:.1f} ({e['kind_ms'][k] / cycles:.1f} ms)" for k, n in top))
    stream = io.StringIO()
    stats = pstats.Stats(prof, stream=stream)
    stats.sort_stats("cumulative").print_stats(re.escape(str(BASE_DIR)) + r"/(?!\.venv)", 25)
    lines.append("cProfile (its overhead inflates Python calls), project code by cumulative time, all steps together:")
    lines += [ln for ln in stream.getvalue().splitlines() if re.match(r"\s+\d", ln)][:25]
    stream = io.StringIO()
    stats = pstats.Stats(prof, stream=stream)
    stats.sort_stats("tottime").print_stats(12)
    lines.append("cProfile, top functions by own time:")
    lines += [ln for ln in stream.getvalue().splitlines() if re.match(r"\s+\d", ln)][:12]
    return "\n".join(lines)


# --- report ---------------------------------------------------------------------------------------

def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main():
    args = parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url:
        sys.exit("set DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_writes_bench")
    environment(server_url, args.broker)
    t_all = time.perf_counter()
    print(f"load average at start: {tuple(round(x, 2) for x in os.getloadavg())}, cores: {os.cpu_count()}", flush=True)
    recreate_database(server_url)
    t0 = time.perf_counter()
    setup_django(migrate=True)
    print(f"migrated in {time.perf_counter() - t0:.0f} s", flush=True)
    from django.db import connection

    from referrals.models import Concern, Referral

    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), current_setting('synchronous_commit'), current_setting('fsync')")
        version, sync, fsync = cursor.fetchone()
    print(f"{version.split(',')[0]}; synchronous_commit={sync}, fsync={fsync}", flush=True)

    t0 = time.perf_counter()
    worlds = [seed_world(i, args.children) for i in range(2)]
    print(f"seeded 2 municipalities (services, staff, {args.children} children and {args.children} consents each)"
          f" in {time.perf_counter() - t0:.0f} s", flush=True)

    # A few cycles here, untimed by the table: how many drafts a concern phase needs (with margin).
    calibration = Actors(worlds[0])
    calibration.drafts = [calibration.draft(i) for i in range(4)]
    t0 = time.perf_counter()
    for i in range(4):
        if i == 1:
            t0 = time.perf_counter()
        for _name, call in calibration.concern_steps():
            call()
    cycle_s = (time.perf_counter() - t0) / 3
    print(f"calibration: one melding's three transitions take {cycle_s * 1000:.0f} ms here", flush=True)

    # A municipality in use has a history. Its tables are not the few rows of a fresh database, whose
    # statistics (ANALYZEd before each phase) would make PostgreSQL keep plans that scan them — the
    # generic plans of prepared statements and of the foreign-key checks at COMMIT, chosen after
    # five runs and kept by the connection — while the phase grows them a hundredfold in seconds,
    # far faster than autovacuum re-analyses a table in use.
    t0 = time.perf_counter()
    for world in worlds:
        history = Actors(world)
        history.drafts = [history.draft(i) for i in range(args.history)]
        for _ in range(args.history):
            for steps_of in (history.concern_steps, history.referral_steps):
                for _name, call in steps_of():
                    call()
    print(f"history: {args.history} meldinger and {args.history} referrals per municipality, through the same"
          f" services, untimed, in {time.perf_counter() - t0:.0f} s", flush=True)

    rows, phases = [], {}
    drafts = None
    for process, steps in (("concern", CONCERN_STEPS), ("referral", REFERRAL_STEPS)):
        for n in (1, 2):
            if process == "concern":
                # Enough drafts for the phase: from the one-process rate once known (with margin; the
                # calibration's few cycles, before the history, run slower than the phase).
                per = phases.get(("concern", 1))
                if per is None:
                    drafts = int(args.duration / cycle_s * 3) + 50
                else:
                    cycles = len(per["latencies"]["review"])
                    drafts = int(cycles / per["wall"] * args.duration * 1.6) + 30
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            phase = run_phase(worlds[:n], process, args.duration, drafts if process == "concern" else 0)
            phases[(process, n)] = phase
            total = sum(len(phase["latencies"].get(s, [])) for s in steps)
            note = ""
            if phase["ran_out"]:
                note = " (ran out of drafts before the end)"
            if phase["errors"]:
                note += f" errors: {dict(phase['errors'])}"
            print(f"{process} × {n} process(es): {total} transitions in {phase['wall']:.1f} s"
                  f" (phase {time.perf_counter() - t0:.0f} s with seeding, load {load:.2f}){note}", flush=True)
            seen = sum(phase["samples"].values())
            print("    the workers' backends, sampled every 0.1 s: " + "; ".join(
                f"{state} {count / seen * 100:.0f}%" for state, count in phase["samples"].most_common(6)), flush=True)
            for s in steps:
                lat = phase["latencies"].get(s, [])
                rows.append((f"services: {process}", n, s, len(lat), len(lat) / phase["wall"], pct(lat, 50), pct(lat, 95),
                             1000 / statistics.mean(lat) if lat else 0))
            all_lat = [x for s in steps for x in phase["latencies"].get(s, [])]
            rows.append((f"services: {process}", n, "all three", total, total / phase["wall"], pct(all_lat, 50), pct(all_lat, 95), None))

    # The floor of one process: as many statements as a transition sends, and nothing else.
    floors = {}
    for process in ("concern", "referral"):
        per = statements_per_transition(worlds[0], process)
        rate, ms = django_floor(round(per), args.duration / 2)
        floors[process] = (per, rate)
        print(f"floor {process}: {per:.1f} statements per transition; transactions of {round(per)} single-row writes"
              f" through Django from one process: {rate:.0f}/s ({ms:.2f} ms each)", flush=True)

    # The ceiling, on the rows the phases wrote.
    w = worlds[0]
    c_ids = Concern.objects.filter(reporting_service_id=w["barnehage"]).values_list("pk", flat=True)
    r_ids = Referral.objects.filter(sender_service_id=w["helse"]).values_list("pk", flat=True)
    ids = {k: w[k] for k in ("barnehage", "barnevern", "reporter", "caseworker", "helse", "rus", "nurse")}
    ids.update(child=w["children"][0], youth=w["youths"][0], consent=w["consents"][0],
               concern_lo=min(c_ids), concern_hi=max(c_ids), referral_lo=min(r_ids), referral_hi=max(r_ids))
    tmp = Path(tempfile.mkdtemp(prefix="bench_transitions_"))
    try:
        files = pgbench_scripts(tmp, ids)
        for process in ("concern", "referral"):
            for n in (1, 2):
                load = os.getloadavg()[0]
                processed, tps, by_script, failed = pgbench_run(server_url, files[process], n, args.duration, tmp)
                print(f"pgbench {process} -c {n}: {processed} transactions, tps {tps:.0f}, failed {failed}, load {load:.2f}", flush=True)
                for name, _p in files[process]:
                    lat = by_script.get(name, [])
                    rows.append((f"pgbench: {process} rows", n, name, len(lat), len(lat) / args.duration, pct(lat, 50), pct(lat, 95), None))
                all_lat = [x for v in by_script.values() for x in v]
                rows.append((f"pgbench: {process} rows", n, "all three", processed, tps, pct(all_lat, 50), pct(all_lat, 95), None))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # The table.
    print(f"\nWorkflow transitions per second, {args.duration:.0f} s per phase; load average now "
          f"{tuple(round(x, 2) for x in os.getloadavg())} on {os.cpu_count()} cores")
    header = ("workload", "procs", "transition", "n", "per s", "p50 ms", "p95 ms", "alone/s")
    fmt = "| {:<22} | {:>5} | {:<16} | {:>6} | {:>7} | {:>7} | {:>7} | {:>7} |"
    print(fmt.format(*header))
    print(re.sub(r"[^|]", "-", fmt.format(*header)))
    for workload, n, step, count, rate, p50, p95, alone in rows:
        print(fmt.format(workload, n, step, count, f"{rate:.1f}", f"{p50:.1f}", f"{p95:.1f}", "" if alone is None else f"{alone:.0f}"))
    print("per s: transitions of that kind per wall-clock second of the phase (the three steps run in turn, so each is a "
          "third of the cycle); alone/s: 1000 / mean latency, the rate of that transition if it ran on its own.")

    # The verdict.
    print("\nVerdict (target: at least %d transitions/s):" % TARGET_PER_SECOND)
    slow = defaultdict(set)
    for process, steps in (("concern", CONCERN_STEPS), ("referral", REFERRAL_STEPS)):
        for n in (1, 2):
            phase = phases[(process, n)]
            total = sum(len(phase["latencies"].get(s, [])) for s in steps)
            rate = total / phase["wall"]
            ok = rate >= TARGET_PER_SECOND
            print(f"  {process:<8} {n} process(es): {rate:6.1f} transitions/s  {'MEETS' if ok else 'BELOW'} the target"
                  + ("" if not phase["errors"] else f"  ({sum(phase['errors'].values())} errors)"))
            for s in steps:
                lat = phase["latencies"].get(s, [])
                if n == 1 and lat and 1000 / statistics.mean(lat) < TARGET_PER_SECOND:
                    slow[process].add(s)
    for process in ("concern", "referral"):
        one, two = phases[(process, 1)], phases[(process, 2)]
        steps = CONCERN_STEPS if process == "concern" else REFERRAL_STEPS
        r1 = sum(len(one["latencies"].get(s, [])) for s in steps) / one["wall"]
        r2 = sum(len(two["latencies"].get(s, [])) for s in steps) / two["wall"]
        ceiling = [r for r in rows if r[0] == f"pgbench: {process} rows" and r[2] == "all three"]
        print(f"  {process}: two processes give {r2 / r1:.2f}× one; the raw-SQL ceiling on the same tables is "
              f"{ceiling[0][4]:.0f}/s with 1 client, {ceiling[1][4]:.0f}/s with 2 (services at {r1 / ceiling[0][4] * 100:.1f}% of it).")
        per, floor_rate = floors[process]
        print(f"  {process}: one process sending a transition's {per:.1f} statements and doing nothing else manages"
              f" {floor_rate:.0f}/s; at {TARGET_PER_SECOND}/s a transition may spend {1000 / TARGET_PER_SECOND - 1000 / floor_rate:.1f} ms"
              f" on its own Python and its statements' work; it spends {1000 / r1 - 1000 / floor_rate:.1f} ms now.")

    for process in ("concern", "referral"):
        if slow[process]:
            print(profile(worlds[0], process, args.profile_cycles, slow[process]), flush=True)

    connection.close()
    if not args.keep:
        drop_database(server_url)
        print(f"\ndropped the database {database_urls(server_url)[0]}")
    import redis

    flushed = redis.Redis.from_url(args.broker)
    queued = flushed.dbsize()
    flushed.flushdb()
    print(f"flushed the broker {args.broker} ({queued} keys); whole run {time.perf_counter() - t_all:.0f} s;"
          f" load average at end {tuple(round(x, 2) for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
