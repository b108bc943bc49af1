#!/usr/bin/env python
"""Load test: gunicorn with production settings on loopback, driven open-loop at a fixed rate.

Run by hand, under the shared lock (pytest does not collect it):

    flock /tmp/heavy.lock .venv/bin/python bench/load_test.py \\
        --database-url postgres://postgres@127.0.0.1:5432/h_national --rate 30 --duration 300
    flock /tmp/heavy.lock .venv/bin/python bench/load_test.py \\
        --database-url postgres://postgres@127.0.0.1:5432/h_national --find-max

The server is the production one: ``gunicorn -c bench/gunicorn_load.conf.py``, which is
config/gunicorn.conf.py unchanged (sync workers, the image's default) plus the request's own time
(``%(D)s``) and the load test's request id in the access log; ``--workers`` workers (default 4),
bound to 127.0.0.1 only. Settings are ``config.settings`` with what production must set (README,
"Production"; ``make check-deploy``): a fresh random DJANGO_SECRET_KEY, DATABASE_URL,
CELERY_BROKER_URL, DJANGO_ALLOWED_HOSTS, SITE_URL; DEBUG, demo mode and the embedded defaults off,
so HTTPS redirect, HSTS, ``__Host-`` cookies and the second factor are on. The load test stands in
for the TLS-terminating proxy the README describes (DJANGO_TRUST_X_FORWARDED_PROTO=1, and each request
carries ``X-Forwarded-Proto: https``). Before starting it runs ``manage.py check --deploy
--fail-level WARNING`` with the same environment, collects the static files into a directory of its
own (/tmp/h_load/static) and refuses a database with unapplied migrations.

Personas log in for real as far as a script can: each is a bench user of the database's busiest
services (a barnevern caseworker, a barnehage/skole employee, a receiving service's employee), given
a confirmed TOTP device of its own, logged in with Django's ``login()`` on a fresh session and then
verified through the project's own second-factor service (``accounts.services.totp_verify``) with the
code an authenticator app would show now; the session cookie goes to the client. At the end the
sessions and the bench devices are deleted.

The mix (``--mix``; weights in per cent): the intake list, Mine bekymringer, a concern (one of
``--objects`` per caseworker, at random), the task queue (viewflow), incoming referrals, a referral,
the notifications page; each as a persona allowed to see it. ``--mix healthz=100`` loads only the
health check (no session, no template): the floor of this client and gunicorn together.

Open loop: request i is due at start + i / rate and is sent then whether or not earlier ones have
answered; its latency is counted from that scheduled time, so queueing anywhere (the client, the
listen backlog, the workers) shows in it and cannot be hidden by a slow sender (coordinated
omission). Bounded: ``--duration``, at most ``--max-in-flight`` requests open (a request due while
that many are open is not sent and counts as an error), ``--timeout`` seconds per request (an error).
Errors are every non-2xx answer (a redirect to the login page included), timeouts, refused
connections and requests not sent.

Server's own time: gunicorn's access log gives each request's time from the parsed request to the
last byte (``%(D)s``), found by the request id; the report sets client and server percentiles side
by side, with the gap per request (time in the listen backlog, on loopback and in the client) and how
late the client sent (send lag), so a client-side artefact shows as a gap with idle workers. Before
the load it times single requests, one at a time, per page: client and server time with nothing else
running.

``--find-max`` raises the rate in steps (``--start-rate``, ``--step``, each ``--step-duration``
seconds) until a step misses p99 ≤ ``--target-p99`` ms or has an error, and reports the highest rate
that met both (if the start rate misses, it steps down instead).

``--seed`` (re)creates ``--database-url``'s database and seeds it through the other benchmarks'
seeders (bench_concern_lists.World + bench_task_pages.TaskSeeder: concerns with their viewflow
processes, tasks, grants, deadlines and notifications; bench_referral_lists.World + Seeder:
referrals), ``--concerns`` and ``--referrals`` of them, then exits.
"""
import argparse
import asyncio
import gc
import json
import math
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

HOST = "samhandling.bench.invalid"  # the name the proxy would forward; DJANGO_ALLOWED_HOSTS lists it
DEVICE_NAME = "load-test authenticator"
RUN_ROOT = Path("/tmp/h_load")

# (key, label, weight in per cent, persona role)
PAGES = [
    ("intake", "intake list", 20, "barnevern"),
    ("mine", "Mine bekymringer", 15, "reporter"),
    ("concern", "a concern", 20, "barnevern"),
    ("queue", "task queue", 10, "barnevern"),
    ("incoming", "incoming referrals", 15, "receiver"),
    ("referral", "a referral", 10, "receiver"),
    ("notifications", "notifications", 10, "barnevern"),
    # The floor of the server and this client: the health check (one SELECT 1, no session, no
    # template). Not in the default mix; --mix healthz=100 calibrates.
    ("healthz", "/healthz/ (floor)", 0, None),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="the seeded PostgreSQL database (default: $DATABASE_URL)")
    run = parser.add_argument_group("load")
    run.add_argument("--rate", type=float, default=30.0, help="requests per second (fixed; default 30)")
    run.add_argument("--duration", type=float, default=300.0, help="seconds of measured load (default 300)")
    run.add_argument("--warmup", type=float, default=15.0, help="seconds at the first rate before measuring, not counted (default 15)")
    run.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    run.add_argument("--max-in-flight", type=int, default=256, help="most requests open at once (default 256)")
    run.add_argument("--timeout", type=float, default=10.0, help="seconds a request may take before it counts as an error (default 10)")
    run.add_argument("--target-p99", type=float, default=300.0, help="p99 target in ms (default 300)")
    run.add_argument("--mix", default=None, help="page weights, e.g. intake=20,mine=15,concern=20,queue=10,incoming=15,referral=10,notifications=10")
    run.add_argument("--users-per-role", type=int, default=3, help="personas per role, from the busiest services (default 3)")
    run.add_argument("--objects", type=int, default=200, help="concerns / referrals per persona for the detail pages (default 200)")
    run.add_argument("--single", type=int, default=10, help="single requests per page before the load (default 10)")
    run.add_argument("--random-seed", type=int, default=1)
    run.add_argument("--migrate", action="store_true", help="apply unapplied migrations instead of refusing the database")
    run.add_argument("--commit", default=None,
                     help="run the code of this commit (exported with git archive to /tmp/h_load/src-<hash>) instead of the "
                          "working tree, which others may be editing")
    steps = parser.add_argument_group("--find-max")
    steps.add_argument("--find-max", action="store_true", help="raise the rate in steps and report the highest that meets the target")
    steps.add_argument("--start-rate", type=float, default=30.0)
    steps.add_argument("--step", type=float, default=10.0)
    steps.add_argument("--step-duration", type=float, default=60.0)
    steps.add_argument("--max-rate", type=float, default=300.0)
    seed = parser.add_argument_group("--seed")
    seed.add_argument("--seed", action="store_true", help="(re)create and seed the database, then exit")
    seed.add_argument("--concerns", type=int, default=20_000)
    seed.add_argument("--referrals", type=int, default=5_000)
    seed.add_argument("--seed-minutes", type=float, default=None, help="seed as many as fit in this time (after migrating)")
    args = parser.parse_args()
    if not args.database_url or urlsplit(args.database_url).scheme not in ("postgres", "postgresql"):
        parser.error("--database-url (or DATABASE_URL) must name a PostgreSQL database")
    return args


# --- seeding (development data) -------------------------------------------------------------------

def seed(args):
    """Recreate the database and seed it with the concern, task and referral benchmarks' seeders."""
    import bench_concern_lists as concern_bench
    import bench_referral_lists as referral_bench
    import bench_task_pages as task_bench

    parts = urlsplit(args.database_url)
    name = parts.path.lstrip("/")
    url = concern_bench.recreate_database(args.database_url, name)
    print(f"database {name} recreated; migrating …", flush=True)
    concern_bench.setup_django(url)  # the seeders' own (embedded) settings; the load runs on production settings
    # With --seed-minutes: as many as fit, in chunks, concerns for 70 % of the time and referrals for
    # the rest (at most --concerns and --referrals).
    budget = args.seed_minutes * 60 if args.seed_minutes else math.inf
    t0 = t = time.perf_counter()
    world = concern_bench.World()
    seeder, done = task_bench.TaskSeeder(world), 0
    while done < args.concerns and (done == 0 or time.perf_counter() - t0 < 0.7 * budget):
        n = min(10_000, args.concerns - done)
        seeder.seed(n, chunk=5000)
        done += n
        print(f"  {done} concerns, {time.perf_counter() - t0:.0f}s", flush=True)
    concerns = done
    print(f"seeded {concerns} concerns with their processes and tasks in {time.perf_counter() - t:.0f}s", flush=True)
    t = time.perf_counter()
    referral_world = referral_bench.World()
    seeder, done = referral_bench.Seeder(referral_world), 0
    while done < args.referrals and (done == 0 or time.perf_counter() - t0 < budget):
        n = min(5_000, args.referrals - done)
        seeder.seed(n)
        done += n
        print(f"  {done} referrals, {time.perf_counter() - t0:.0f}s", flush=True)
    print(f"seeded {done} referrals in {time.perf_counter() - t:.0f}s", flush=True)
    t = time.perf_counter()
    referral_bench.vacuum()
    print(f"VACUUM (ANALYZE) in {time.perf_counter() - t:.0f}s", flush=True)


# --- production settings, the server --------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(args, port: int, run_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_DEMO", "DJANGO_EMBEDDED", "DJANGO_DEBUG", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=args.database_url,
        # Nothing here sends a task; the broker is named because production must name one.
        CELERY_BROKER_URL="redis://127.0.0.1:6379/14",
        DJANGO_ALLOWED_HOSTS=HOST,
        SITE_URL=f"https://{HOST}",
        # The load test is the TLS-terminating proxy (README, "Production"): it sets X-Forwarded-Proto.
        DJANGO_TRUST_X_FORWARDED_PROTO="1",
        DJANGO_STATIC_ROOT=str(RUN_ROOT / "static"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(args.workers),
        GUNICORN_ACCESS_LOG=str(run_dir / "access.log"),
        GUNICORN_ERROR_LOG=str(run_dir / "error.log"),
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env, *command):
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *command], env=env, cwd=BASE_DIR, check=True)


def prepare(args, env):
    """check --deploy, collectstatic, migrations: the steps a deployment takes before gunicorn."""
    manage(env, "check", "--deploy", "--fail-level", "WARNING")
    print("manage.py check --deploy --fail-level WARNING: passed", flush=True)
    manage(env, "collectstatic", "--noinput", "-v0")
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan)
        if not args.migrate:
            sys.exit(f"the database has unapplied migrations ({names}); run with --migrate to apply them first")
        print(f"applying migrations: {names}", flush=True)
        manage(env, "migrate", "--noinput", "-v0")


def worker_class() -> str:
    namespace = {}
    path = BASE_DIR / "config" / "gunicorn.conf.py"
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102  (our own config file)
    return namespace.get("worker_class", "sync (gunicorn's default; config/gunicorn.conf.py sets none)")


class Server:
    def __init__(self, env, port, run_dir):
        self.env, self.port, self.run_dir = env, port, run_dir
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "-c", str(BASE_DIR / "bench" / "gunicorn_load.conf.py")],
            env=self.env, cwd=BASE_DIR, stdout=open(self.run_dir / "gunicorn.out", "w"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"gunicorn exited with {self.proc.returncode}; see {self.run_dir / 'error.log'}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz/", timeout=2) as r:
                    if r.status == 200 and len(self.workers()) >= int(self.env["GUNICORN_WORKERS"]):
                        return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        sys.exit("gunicorn did not answer /healthz/ within 60 s")

    def workers(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(c) for c in children]

    def drain(self, limit=120.0):
        """Wait until the workers have worked off what a saturated step left in the listen backlog
        (requests the client gave up on are still served): /healthz/ answers within 50 ms twice."""
        deadline, quick = time.monotonic() + limit, 0
        while quick < 2 and time.monotonic() < deadline:
            t = time.monotonic()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz/", timeout=limit) as r:
                    r.read()
                quick = quick + 1 if time.monotonic() - t < 0.05 else 0
            except OSError:
                quick = 0
            time.sleep(0.2)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def cpu_by_pid(pids) -> dict:
    """utime + stime in seconds of each of these processes that still runs."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


class CpuMeter:
    """CPU seconds used by the gunicorn workers, by PostgreSQL (every process; a backend started
    meanwhile counts whole, one that ended is lost) and by this process, between start() and stop()."""

    def __init__(self, server):
        self.server = server

    def sample(self):
        return dict(gunicorn=cpu_by_pid(self.server.workers()), postgres=cpu_by_pid(postgres_pids()), client=sum(os.times()[:2]))

    def start(self):
        self.before = self.sample()

    def stop(self) -> dict:
        after, before = self.sample(), self.before
        out = {k: sum(v - before[k].get(pid, 0) for pid, v in after[k].items()) for k in ("gunicorn", "postgres")}
        out["client"] = after["client"] - before["client"]
        return out


def postgres_pids() -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    out.append(int(entry.name))
            except OSError:
                pass
    return out


# --- personas and their sessions ------------------------------------------------------------------

class Persona:
    def __init__(self, role, user, service):
        self.role, self.user, self.service = role, user, service
        self.cookie = None
        self.objects = []

    def __str__(self):
        return f"{self.role} {self.user.username} ({self.service.name})"


def busiest(model, field, k, **filters):
    from django.db.models import Count

    rows = model.objects.filter(**filters).values(field).annotate(n=Count("pk")).order_by("-n", field)[:k]
    return [(r[field], r["n"]) for r in rows]


def find_personas(k: int, objects: int, rng: random.Random) -> dict:
    """Per role, the staff user of each of the k busiest services of that role, with objects for
    the detail pages that the user's service may see."""
    from org.models import Membership, Service
    from referrals.models import Concern, Referral

    def user_of(service_id):
        m = (Membership.objects.filter(service_id=service_id, active=True, role=Membership.Role.STAFF)
             .select_related("user", "service").order_by("pk").first())
        if m is None:
            sys.exit(f"service {service_id} has no active staff member")
        return m.user, m.service

    out = {"barnevern": [], "reporter": [], "receiver": []}
    for service_id, _n in busiest(Concern, "receiving_service", k, receiving_service__kind=Service.Kind.BARNEVERN):
        p = Persona("barnevern", *user_of(service_id))
        codes = list(Concern.objects.filter(receiving_service_id=service_id).exclude(status="draft").order_by("?")
                     .values_list("code", flat=True)[:objects])
        p.objects = codes
        out["barnevern"].append(p)
    for service_id, _n in busiest(Concern, "reporting_service", k):
        out["reporter"].append(Persona("reporter", *user_of(service_id)))
    for service_id, _n in busiest(Referral, "target_service", k, target_service__isnull=False):
        p = Persona("receiver", *user_of(service_id))
        p.objects = list(Referral.objects.filter(target_service_id=service_id).order_by("?").values_list("code", flat=True)[:objects])
        out["receiver"].append(p)
    for role, people in out.items():
        if not people:
            sys.exit(f"no {role} persona in this database: seed it first (--seed)")
    return out


def totp_code(device) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def log_in(user) -> str:
    """A verified session for the user, as the login form and the TOTP page leave it; returns its key."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import login
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.services import SecondFactorError, totp_verify

    device = TOTPDevice.objects.filter(user=user, name=DEVICE_NAME, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
    request = HttpRequest()
    request.method = "POST"
    request.META.update(REMOTE_ADDR="127.0.0.1", HTTP_HOST=HOST, SERVER_NAME=HOST, SERVER_PORT="443", HTTP_USER_AGENT="load-test")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    request.user = AnonymousUser()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    for attempt in range(3):
        try:
            totp_verify(request=request, token=totp_code(device))
            break
        except SecondFactorError:
            # A code is good once: this device already used the current one (a rerun within its step).
            if attempt == 2:
                raise
            time.sleep(device.step - (time.time() - device.t0) % device.step + 0.5)
    request.session.save()
    return request.session.session_key


def log_out_all(keys):
    from importlib import import_module

    from django.conf import settings
    from django_otp.plugins.otp_totp.models import TOTPDevice

    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store(session_key=key).delete()
    TOTPDevice.objects.filter(name=DEVICE_NAME).delete()


def page_targets(personas) -> dict:
    """Per page key: a list of (persona, list of paths) to choose from."""
    from django.urls import reverse

    bv, rep, rcv = personas["barnevern"], personas["reporter"], personas["receiver"]
    return {
        "intake": [(p, [reverse("concerns:intake")]) for p in bv],
        "mine": [(p, [reverse("concerns:index")]) for p in rep],
        "concern": [(p, [reverse("concerns:detail", args=[c]) for c in p.objects]) for p in bv if p.objects],
        "queue": [(p, [reverse("workflow:queue")]) for p in bv],
        "incoming": [(p, [reverse("referrals:incoming")]) for p in rcv],
        "referral": [(p, [reverse("referrals:detail", args=[c]) for c in p.objects]) for p in rcv if p.objects],
        "notifications": [(p, [reverse("notifications:index")]) for p in bv],
        "healthz": [(bv[0], ["/healthz/"])],
    }


# --- the client -----------------------------------------------------------------------------------

class Result:
    __slots__ = ("id", "page", "path", "scheduled", "sent", "done", "status", "error", "nbytes", "server_ms", "location")

    def __init__(self, id_, page, path, scheduled):
        self.id, self.page, self.path, self.scheduled = id_, page, path, scheduled
        self.sent = self.done = None
        self.status = self.error = self.server_ms = self.location = None
        self.nbytes = 0

    @property
    def ok(self):
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def latency_ms(self):
        return (self.done - self.scheduled) * 1000

    @property
    def service_ms(self):
        return (self.done - self.sent) * 1000


class Client:
    def __init__(self, port, cookie_name, timeout):
        self.port, self.cookie_name, self.timeout = port, cookie_name, timeout
        self.counter = 0

    def next_id(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    async def fetch(self, result: Result, cookie: str):
        loop = asyncio.get_running_loop()
        result.sent = loop.time()
        head = (f"GET {result.path} HTTP/1.1\r\nHost: {HOST}\r\nX-Forwarded-Proto: https\r\n"
                f"Cookie: {self.cookie_name}={cookie}\r\nX-Load-Id: {result.id}\r\nAccept: text/html\r\n"
                f"User-Agent: samhandling-load-test\r\nConnection: close\r\n\r\n").encode("ascii")
        writer = None
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(head)
                status_line = await reader.readline()
                parts = status_line.split(None, 2)
                result.status = int(parts[1]) if len(parts) >= 2 else None
                length = None
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                    elif name.lower() == "location":
                        result.location = value.strip().split("?")[0]
                body = await (reader.readexactly(length) if length is not None else reader.read())
                result.nbytes = len(body)
                if result.status is None:
                    result.error = "no status line"
        except TimeoutError:
            result.error = "timeout"
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            result.error = type(exc).__name__
        finally:
            result.done = loop.time()
            if writer is not None:
                writer.close()

    async def drive(self, plan, *, max_in_flight, prefix):
        """Send each planned request (offset seconds, page, path, cookie) at its time; returns the
        results and the most requests that were open at once."""
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.2
        results, tasks = [], set()
        peak = 0
        for offset, page, path, cookie in plan:
            scheduled = start + offset
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            result = Result(self.next_id(prefix), page, path, scheduled)
            results.append(result)
            if len(tasks) >= max_in_flight:
                result.sent = result.done = loop.time()
                result.error = "not sent (max in flight)"
                continue
            task = asyncio.create_task(self.fetch(result, cookie))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            peak = max(peak, len(tasks))
        if tasks:
            await asyncio.wait(set(tasks))
        return results, peak


def make_plan(targets, weights, rate, duration, rng):
    keys = [k for k in weights if weights[k] > 0 and targets.get(k)]
    w = [weights[k] for k in keys]
    n = int(round(rate * duration))
    plan = []
    for i in range(n):
        key = rng.choices(keys, weights=w)[0]
        persona, paths = rng.choice(targets[key])
        plan.append((i / rate, key, rng.choice(paths), persona.cookie))
    return plan


def server_times(access_log: Path, results):
    """Fill each result's server_ms from gunicorn's access log (by request id)."""
    line = re.compile(r'" (\d{3}) \S+ \S+ (\d+)us id=(\S+)$')
    wanted = {r.id: r for r in results}
    with open(access_log, encoding="utf-8", errors="replace") as f:
        for text in f:
            m = line.search(text.rstrip("\n"))
            if m and m.group(3) in wanted:
                wanted[m.group(3)].server_ms = int(m.group(2)) / 1000


# --- reporting ------------------------------------------------------------------------------------

def pct(values, q):
    """Nearest-rank percentile of a list (q in 0..100); None for an empty list."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


def f(v, spec="{:.0f}"):
    return "–" if v is None else spec.format(v)


LABELS = {k: label for k, label, _w, _r in PAGES}


def table(results, title):
    by_page = defaultdict(list)
    for r in results:
        by_page[r.page].append(r)
    head = (f"{'page':<20} {'requests':>8} {'errors':>6} | {'client ms: p50':>14} {'p95':>6} {'p99':>6} {'max':>6} "
            f"| {'server ms: p50':>14} {'p95':>6} {'p99':>6} {'max':>6} | {'gap p99':>7}")
    print(title + " Percentiles of the 2xx answers; errors counted apart.")
    print(head)
    print("-" * len(head))
    rows = [(LABELS[k], by_page[k]) for k, *_ in PAGES if by_page.get(k)] + [("overall", results)]
    for label, rs in rows:
        if label == "overall":
            print("-" * len(head))
        client = [r.latency_ms for r in rs if r.ok]
        server = [r.server_ms for r in rs if r.ok and r.server_ms is not None]
        gap = [r.service_ms - r.server_ms for r in rs if r.ok and r.server_ms is not None]
        errors = sum(1 for r in rs if not r.ok)
        print(f"{label:<20} {len(rs):>8} {errors:>6} | {f(pct(client, 50)):>14} {f(pct(client, 95)):>6} {f(pct(client, 99)):>6} "
              f"{f(max(client) if client else None):>6} | {f(pct(server, 50), '{:.1f}'):>14} {f(pct(server, 95), '{:.1f}'):>6} "
              f"{f(pct(server, 99), '{:.1f}'):>6} {f(max(server) if server else None, '{:.1f}'):>6} | {f(pct(gap, 99), '{:.1f}'):>7}")


def summary(results, *, rate, duration, peak, cpu, workers, target):
    ok = [r for r in results if r.ok]
    errors = [r for r in results if not r.ok]
    client = [r.latency_ms for r in ok]
    server = [r.server_ms for r in ok if r.server_ms is not None]
    lag = [(r.sent - r.scheduled) * 1000 for r in results if r.sent is not None]
    gap = [r.service_ms - r.server_ms for r in ok if r.server_ms is not None]
    missing = sum(1 for r in ok if r.server_ms is None)
    span = max(r.done for r in results) - min(r.scheduled for r in results)
    print(f"rate: {rate:g} requests/s scheduled for {duration:g} s from {cpu['started']} UTC (load average before "
          f"{cpu['load_before']}); {len(results)} requests, {len(results) / span:.1f}/s completed over {span:.1f} s; "
          f"most open at once {peak}")
    kinds = Counter(r.error or f"HTTP {r.status}" + (f" → {r.location}" if r.location else "") for r in errors)
    print(f"errors: {len(errors)}" + (" (" + ", ".join(f"{k}: {n}" for k, n in kinds.most_common()) + ")" if errors else ""))
    print(f"send lag (sent − scheduled) ms: p50 {f(pct(lag, 50), '{:.2f}')}, p99 {f(pct(lag, 99), '{:.2f}')}, max {f(max(lag) if lag else None, '{:.1f}')}")
    print(f"gap (client from send − server %(D)s) ms: p50 {f(pct(gap, 50), '{:.2f}')}, p99 {f(pct(gap, 99), '{:.1f}')}, "
          f"max {f(max(gap) if gap else None, '{:.1f}')}" + (f"; {missing} answers not found in the access log" if missing else ""))
    busy = sum(server) / 1000 / (span * workers) if server else 0
    print(f"worker utilisation (Σ server time / (span × {workers} workers)): {busy:.0%}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"CPU seconds over the run: gunicorn workers {cpu['gunicorn']:.1f}, PostgreSQL (all its processes, whoever's) {cpu['postgres']:.1f}, "
          f"this client {cpu['client']:.1f} ({cpu['client'] / span:.0%} of a core); {os.cpu_count()} CPUs, load average {load}")
    p99 = pct(client, 99)
    if p99 is not None:
        slow = Counter(LABELS[r.page] for r in ok if r.latency_ms >= p99)
        print("requests at or above the overall p99 (" + f"{p99:.0f} ms), by page: "
              + ", ".join(f"{k} {n}" for k, n in slow.most_common()))
    met = p99 is not None and p99 <= target and not errors
    print(f"target p99 ≤ {target:g} ms and 0 errors: p99 {f(p99)} ms, {len(errors)} errors → {'MET' if met else 'MISSED'}")
    return met, p99, len(errors)


def single_requests(client, targets, n, server=None):
    """n requests per page one at a time (persona and object at random), or with n = 0 one request
    per page and persona: the results, and per page the CPU ms per request of the gunicorn workers
    and of PostgreSQL (all its processes) while they ran."""
    rng = random.Random(7)
    results, cpu = [], {}
    meter = CpuMeter(server) if server else None

    async def go():
        for key, _label, weight, _role in PAGES:
            if not targets.get(key) or (not weight and not n):
                continue
            if meter:
                meter.start()
            count = n or len(targets[key])
            for i in range(count):
                persona, paths = rng.choice(targets[key]) if n else targets[key][i]
                r = Result(client.next_id("s"), key, rng.choice(paths), asyncio.get_running_loop().time())
                await client.fetch(r, persona.cookie)
                results.append(r)
            if meter:
                used = meter.stop()
                cpu[key] = (used["gunicorn"] * 1000 / count, used["postgres"] * 1000 / count)

    asyncio.run(go())
    return (results, cpu) if server else results


def run_phase(client, server, targets, weights, *, rate, duration, args, rng, prefix):
    plan = make_plan(targets, weights, rate, duration, rng)
    meter = CpuMeter(server)
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    started = time.strftime("%H:%M:%S", time.gmtime())
    meter.start()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        results, peak = asyncio.run(client.drive(plan, max_in_flight=args.max_in_flight, prefix=prefix))
    finally:
        gc.enable()
        gc.unfreeze()
    info = meter.stop()
    time.sleep(0.5)  # the access log line is written after the last byte
    server_times(server.run_dir / "access.log", results)
    info.update(started=started, load_before=load_before)
    return results, peak, info


def write_raw(path, results):
    with open(path, "w") as out:
        for r in results:
            out.write(json.dumps(dict(id=r.id, page=r.page, scheduled=r.scheduled, sent=r.sent, done=r.done, status=r.status,
                                      error=r.error, bytes=r.nbytes, server_ms=r.server_ms)) + "\n")


def parse_mix(text):
    weights = {k: w for k, _l, w, _r in PAGES}
    if text:
        weights = dict.fromkeys(weights, 0)
        for part in text.split(","):
            key, _, value = part.partition("=")
            if key.strip() not in weights:
                sys.exit(f"--mix: unknown page {key!r} (pages: {', '.join(weights)})")
            weights[key.strip()] = float(value)
    return weights


def run_commit(rev: str):
    """Export ``rev`` with git archive and run this script from there (same arguments, without --commit)."""
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=BASE_DIR, check=True,
                         capture_output=True, text=True).stdout.strip()
    tree = RUN_ROOT / f"src-{sha[:12]}"
    if not tree.exists():
        RUN_ROOT.mkdir(exist_ok=True)
        partial = tree.with_name(tree.name + ".partial")
        subprocess.run(["rm", "-rf", str(partial)], check=True)
        partial.mkdir()
        archive = subprocess.Popen(["git", "archive", "--format=tar", sha], cwd=BASE_DIR, stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(partial)], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            sys.exit(f"git archive {sha} failed")
        partial.rename(tree)
    argv, skip = [], False
    for a in sys.argv[1:]:
        if skip:
            skip = False
        elif a == "--commit":
            skip = True
        elif not a.startswith("--commit="):
            argv.append(a)
    os.environ["LOAD_TEST_CODE"] = f"commit {sha[:12]} (git archive into {tree})"
    os.execv(sys.executable, [sys.executable, str(tree / "bench" / "load_test.py"), *argv])


def code_description() -> str:
    if os.environ.get("LOAD_TEST_CODE"):
        return os.environ["LOAD_TEST_CODE"]
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=BASE_DIR, capture_output=True,
                           text=True).stdout.splitlines()
    return f"working tree {BASE_DIR} at HEAD {head}" + (f" with {len(dirty)} modified files" if dirty else "")


def main():
    args = parse_args()
    if args.commit:
        run_commit(args.commit)
    if args.seed:
        seed(args)
        return 0

    RUN_ROOT.mkdir(exist_ok=True)
    run_dir = RUN_ROOT / time.strftime("run-%Y%m%dT%H%M%SZ", time.gmtime())
    run_dir.mkdir()
    port = free_port()
    env = production_env(args, port, run_dir)
    for key in ("DJANGO_DEMO", "DJANGO_EMBEDDED", "DJANGO_DEBUG"):
        os.environ.pop(key, None)
    os.environ.update(env)
    import django

    django.setup()
    import logging

    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per persona's login
    from django.conf import settings
    from django.db import connection

    prepare(args, env)
    assert not settings.DEBUG and not settings.DEMO_MODE and not settings.EMBEDDED and settings.REQUIRE_SECOND_FACTOR
    rng = random.Random(args.random_seed)
    weights = parse_mix(args.mix)
    t = time.perf_counter()
    personas = find_personas(args.users_per_role, args.objects, rng)
    keys = []
    for people in personas.values():
        for p in people:
            p.cookie = log_in(p.user)
            keys.append(p.cookie)
    targets = page_targets(personas)
    connection.close()
    db = urlsplit(args.database_url).path.lstrip("/")
    print(f"database {db}; personas ({time.perf_counter() - t:.1f}s to find and log in):")
    for people in personas.values():
        for p in people:
            print(f"  {p}" + (f", {len(p.objects)} objects for its detail page" if p.objects else ""))
    total = sum(w for k, w in weights.items() if targets.get(k))
    print("mix: " + ", ".join(f"{LABELS[k]} {w / total:.0%}" for k, w in weights.items() if w and targets.get(k)))
    print(f"server: gunicorn -c bench/gunicorn_load.conf.py (config/gunicorn.conf.py + %(D)s), {args.workers} workers, "
          f"worker class {worker_class()}, bound to 127.0.0.1:{port}; settings config.settings (DEBUG {settings.DEBUG}, "
          f"second factor required {settings.REQUIRE_SECOND_FACTOR}, SECURE_SSL_REDIRECT {settings.SECURE_SSL_REDIRECT}, "
          f"session cookie {settings.SESSION_COOKIE_NAME})")
    print(f"code: {code_description()}")
    print(f"client: one asyncio process, a new connection per request (gunicorn's sync workers close each), "
          f"timeout {args.timeout:g} s, at most {args.max_in_flight} open; logs and raw results in {run_dir}", flush=True)

    server = Server(env, port, run_dir)
    server.start()
    client = Client(port, settings.SESSION_COOKIE_NAME, args.timeout)
    try:
        # Every page once as each of its personas: they must see it (a redirect to the login page is an error).
        bad = [r for r in single_requests(client, targets, 0) if not r.ok]
        for r in bad[:10]:
            print(f"  ERROR {r.page} {r.path}: {r.error or r.status} {r.location or ''}")
        if bad:
            sys.exit("the personas cannot see their pages; not loading")
        first = args.start_rate if args.find_max else args.rate
        if args.warmup > 0:
            run_phase(client, server, targets, weights, rate=first, duration=args.warmup, args=args, rng=rng, prefix="w")
            server.drain()
        singles, cpu = single_requests(client, targets, args.single, server)
        time.sleep(0.5)
        server_times(run_dir / "access.log", singles)
        print()
        table(singles, f"Single requests, one at a time after the warm-up ({args.single} per page at random; client time from send, "
              "nothing else sent):")
        print("CPU ms per request, one at a time: " + "; ".join(
            f"{LABELS[k]} {g:.0f} gunicorn + {p:.0f} PostgreSQL" for k, (g, p) in cpu.items()))
        print(f"errors: {sum(1 for r in singles if not r.ok)}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}; "
              f"{time.strftime('%H:%M:%S', time.gmtime())} UTC", flush=True)
        if not args.find_max:
            results, peak, cpu = run_phase(client, server, targets, weights, rate=args.rate, duration=args.duration,
                                           args=args, rng=rng, prefix="r")
            write_raw(run_dir / "results.jsonl", results)
            print()
            table(results, f"Open loop at {args.rate:g} requests/s for {args.duration:g} s, {args.workers} gunicorn workers "
                  "(client: from the scheduled send to the last byte; server: gunicorn's %(D)s):")
            met, *_ = summary(results, rate=args.rate, duration=args.duration, peak=peak, cpu=cpu, workers=args.workers,
                              target=args.target_p99)
            return 0 if met else 1
        return find_max(client, server, targets, weights, args, rng, run_dir)
    finally:
        server.stop()
        log_out_all(keys)
        connection.close()


def find_max(client, server, targets, weights, args, rng, run_dir):
    steps, best, rate, going_up = [], None, args.start_rate, True
    while 0 < rate <= args.max_rate:
        results, peak, cpu = run_phase(client, server, targets, weights, rate=rate, duration=args.step_duration,
                                       args=args, rng=rng, prefix=f"x{rate:g}-")
        write_raw(run_dir / f"results-{rate:g}.jsonl", results)
        print()
        table(results, f"Step: open loop at {rate:g} requests/s for {args.step_duration:g} s, {args.workers} gunicorn workers:")
        met, p99, errors = summary(results, rate=rate, duration=args.step_duration, peak=peak, cpu=cpu, workers=args.workers,
                                   target=args.target_p99)
        server_p99 = pct([r.server_ms for r in results if r.ok and r.server_ms is not None], 99)
        steps.append((rate, len(results), errors, pct([r.latency_ms for r in results if r.ok], 50), p99, server_p99, met))
        sys.stdout.flush()
        if met:
            best = rate if best is None else max(best, rate)
            if not going_up:
                break
            rate += args.step
        elif going_up and best is None:
            going_up = False  # the first step missed: look below it
            rate -= args.step
        elif going_up:
            break
        else:
            rate -= args.step
        server.drain()  # a missed step's backlog is served before the next step starts
    print(f"\nFind max: steps of {args.step_duration:g} s, target p99 ≤ {args.target_p99:g} ms and 0 errors")
    print(f"{'rate/s':>7} {'requests':>8} {'errors':>6} {'client p50':>10} {'client p99':>10} {'server p99':>10}  verdict")
    for rate, n, errors, p50, p99, sp99, met in steps:
        print(f"{rate:>7g} {n:>8} {errors:>6} {f(p50):>10} {f(p99):>10} {f(sp99, '{:.1f}'):>10}  {'met' if met else 'MISSED'}")
    print(f"highest rate meeting the target: {'none' if best is None else f'{best:g} requests/s'}")
    return 0 if best is not None else 1


if __name__ == "__main__":
    sys.exit(main())
