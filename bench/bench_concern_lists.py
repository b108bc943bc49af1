#!/usr/bin/env python
"""Benchmark the concern lists: queries per page stay constant, and pages stay fast, as data grows.

Run by hand (pytest does not collect it):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_concern_lists.py

DATABASE_URL names the PostgreSQL server; the benchmark drops and recreates its own database there
(``samhandling_bench``, or ``--database``), migrates it, and seeds it in two steps:

1. 100 concerns from one barnehage to one barnevern service (enough for a second page);
2. up to 100,000 concerns across 200 services in 10 municipalities (barnehager and skoler reporting,
   two barnevern services per municipality receiving; the first municipality is a large city).

Rows are bulk-inserted, but with what the services write for each concern: the guardian group
permissions (``view_concern_status`` for the reporting service's group, ``handle_concern`` for the
receiving service's once sent), the deadline rows from the real policies (met, open or overdue,
according to the concern's status) and the denormalised ``next_deadline_at``. Services, users,
memberships and groups are created through the real services.

After each step it renders, through Django's test client and as a logged-in barnevern caseworker
and barnehage employee, the intake list (pending by deadline, and all newest first) and "Mine
bekymringer", page 1 and page 2 (through the keyset cursor in the page's own link): the SQL queries
per page (which must not differ between the steps) and p50/p95 of the time Django takes to answer.
"""
import argparse
import os
import random
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

TARGET_P95_MS = 150
PAGE_SIZE = 25


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="samhandling_bench", help="database to (re)create on the DATABASE_URL server")
    parser.add_argument("--small", type=int, default=100, help="concerns in the first measurement")
    parser.add_argument("--concerns", type=int, default=100_000, help="concerns in the second measurement")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the list queries at full size")
    return parser.parse_args()


def recreate_database(server_url: str, name: str) -> str:
    """Drop and create ``name`` on the server of ``server_url``; returns the URL of the new database."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(server_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit("DATABASE_URL must point at PostgreSQL (postgres://user@host:port/db)")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(parts._replace(path=f"/{name}"))


def setup_django(database_url: str):
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_EMBEDDED", "1")
    # The pages are measured, not the login: demo mode lets force_login'd users past the second
    # factor (production requires it; see accounts.middleware.SecondFactorMiddleware).
    os.environ.setdefault("DJANGO_DEMO", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:
        # A throw-away database: do not wait for the disk on every seeding commit.
        cursor.execute("SET synchronous_commit TO off")


# --- seeding ------------------------------------------------------------------------------------

class World:
    """The organisation: 10 municipalities × (12 barnehager, 6 skoler, 2 barnevern) = 200 services."""

    def __init__(self):
        from django.contrib.auth import get_user_model

        from org.models import Membership, Municipality, Service
        from org.permissions import service_group
        from org.services import membership_set

        self.municipalities = []
        self.reporters = []  # (service, weight, barnevern services of its municipality)
        self.receivers = []
        self.staff = {}
        for m in range(10):
            muni = Municipality.objects.create(name=f"Benchkommune {m}", number=f"{9000 + m}")
            services = []
            for kind, count in ((Service.Kind.BARNEHAGE, 12), (Service.Kind.SKOLE, 6), (Service.Kind.BARNEVERN, 2)):
                for i in range(count):
                    services.append(Service.objects.create(municipality=muni, name=f"{kind} {m}-{i}", kind=kind))
            bv = [s for s in services if s.kind == Service.Kind.BARNEVERN]
            self.receivers += bv
            for service in services:
                service_group(service)
                user = get_user_model().objects.create_user(username=f"bench-{service.kind}-{m}-{service.pk}", email="")
                membership_set(user=user, service=service, role=Membership.Role.STAFF)
                self.staff[service.pk] = user
                if service.can_report_concerns:
                    # The first municipality is a city: its services report five times as much.
                    self.reporters.append((service, 5 if m == 0 else 1, bv))
            self.municipalities.append(muni)
        self.barnehage = self.reporters[0][0]
        self.barnevern = self.reporters[0][2][0]
        self.barnehage_user = self.staff[self.barnehage.pk]
        self.barnevern_user = self.staff[self.barnevern.pk]


class Seeder:
    MELDING_STATUSES = [("draft", 3), ("submitted", 7), ("received", 8), ("investigating", 20), ("closed", 27), ("investigated", 35)]
    CONSULTATION_STATUSES = [("draft", 5), ("submitted", 15), ("answered", 70), ("upgraded", 10)]

    def __init__(self, world: World, seed=42):
        from django.contrib.auth.models import Permission
        from django.contrib.contenttypes.models import ContentType
        from django.utils import timezone

        from referrals.models import Concern
        from workflows.models import DeadlinePolicy

        self.world = world
        self.rng = random.Random(seed)
        self.now = timezone.now()
        self.ct = ContentType.objects.get_for_model(Concern)
        self.perm = {p.codename: p for p in Permission.objects.filter(content_type=self.ct)}
        self.policies = {p.step: p for p in DeadlinePolicy.objects.filter(process="concern")}
        self.groups = {s.pk: s.group_id for s, _w, _bv in world.reporters}
        self.groups.update({s.pk: s.group_id for s in world.receivers})
        self.persons = []

    def _persons(self, count):
        from people.models import Person

        first = ["Emma", "Noah", "Nora", "Jakob", "Sofie", "Lucas", "Olivia", "Filip", "Ella", "William"]
        made = Person.objects.bulk_create(
            [Person(given_name=self.rng.choice(first), family_name=f"Bench{len(self.persons) + i}", municipality=self.world.municipalities[0])
             for i in range(count)],
            batch_size=5000,
        )
        self.persons += made

    def seed(self, count, *, only_pair=False, recent=False, chunk=5000):
        """Insert ``count`` concerns (with permissions and deadlines), in chunks."""
        self._persons(max(count // 3, 10))
        reporters = self.world.reporters
        weights = [w for _s, w, _bv in reporters]
        done = 0
        while done < count:
            n = min(chunk, count - done)
            if only_pair:
                picks = [(self.world.barnehage, self.world.barnevern)] * n
            else:
                chosen = self.rng.choices(reporters, weights=weights, k=n)
                picks = [(s, bv[0] if self.rng.random() < 0.7 else bv[1]) for s, _w, bv in chosen]
            self._insert(picks, recent=recent)
            done += n

    def _insert(self, picks, *, recent):
        from django.db import transaction
        from guardian.models import GroupObjectPermission

        from notifications.models import Notification
        from people.models import PersonRecord
        from referrals.models import Concern
        from workflows.models import Deadline

        rng = self.rng
        concerns, plans = [], []
        for reporting, receiving in picks:
            age_days = rng.uniform(0, 30) if recent else rng.uniform(0, 3 * 365)
            created = self.now - timedelta(days=age_days)
            melding = rng.random() < 0.85
            statuses = self.MELDING_STATUSES if melding else self.CONSULTATION_STATUSES
            status = rng.choices([s for s, _ in statuses], weights=[w for _, w in statuses])[0]
            if age_days > 120 and status in ("draft", "submitted", "received", "investigating"):
                # Old concerns are mostly finished; a few stay open (and overdue) as in real life.
                if rng.random() < 0.9:
                    status = rng.choice(["closed", "investigated"]) if melding else "answered"
            fields, deadlines = self._lifecycle(created, melding, status)
            concerns.append(Concern(
                kind=Concern.Kind.MELDING if melding else Concern.Kind.CONSULTATION,
                status=status, reporting_service=reporting, receiving_service=receiving,
                created_by=self.world.staff[reporting.pk],
                person=rng.choice(self.persons) if melding else None,
                child_age=None if melding else rng.randint(1, 17),
                observations="Observasjon i benchmark.", categories=[rng.choice(list(Concern.Category.values))],
                urgency=rng.choices(list(Concern.Urgency.values), weights=[90, 8, 2])[0],
                parents_informed=True if melding else None, child_informed=True if melding else None,
                legal_basis="barnevernsloven § 13-2" if melding and status != "draft" else "",
                created_at=created, updated_at=created,
                next_deadline_at=min((d["due_at"] for d in deadlines if d["met_at"] is None and d["cancelled_at"] is None), default=None),
                **fields,
            ))
            plans.append(deadlines)

        created_at = Concern._meta.get_field("created_at")
        updated_at = Concern._meta.get_field("updated_at")
        with transaction.atomic():
            # Keep the generated history instead of "now" (auto_now* would overwrite it).
            created_at.auto_now_add, updated_at.auto_now = False, False
            try:
                Concern.objects.bulk_create(concerns, batch_size=2000)
            finally:
                created_at.auto_now_add, updated_at.auto_now = True, True
            perms, rows = [], []
            for concern, deadlines in zip(concerns, plans):
                # What concern_draft_create and concern_submit grant (org.permissions.grant_to_service).
                perms.append(GroupObjectPermission(
                    content_type=self.ct, object_pk=str(concern.pk), group_id=self.groups[concern.reporting_service_id],
                    permission=self.perm["view_concern_status"]))
                if concern.status != "draft":
                    perms.append(GroupObjectPermission(
                        content_type=self.ct, object_pk=str(concern.pk), group_id=self.groups[concern.receiving_service_id],
                        permission=self.perm["handle_concern"]))
                for d in deadlines:
                    rows.append(Deadline(subject_type=self.ct, subject_id=concern.pk, responsible_service_id=concern.receiving_service_id, **d))
            GroupObjectPermission.objects.bulk_create(perms, batch_size=5000)
            Deadline.objects.bulk_create(rows, batch_size=5000)
            # The reporting service's own record of the child (person_get_or_create writes it): the
            # lists name each melding's child through it, and log the names shown.
            PersonRecord.objects.bulk_create(
                [PersonRecord(person_id=p, service_id=s, given_name="Bench", family_name=f"Child{p}")
                 for p, s in {(c.person_id, c.reporting_service_id) for c in concerns if c.person_id}],
                batch_size=5000, ignore_conflicts=True,
            )
            Notification.objects.bulk_create(self._notifications(concerns), batch_size=5000)

    def _notifications(self, concerns):
        """The in-app notifications the sweep writes: "arrived" to barnevern, "received" to the sender
        (most of them read long ago). The unread badge on every page counts them."""
        from notifications.models import Notification, Reminder

        out = []
        for concern in concerns:
            if concern.submitted_at:
                out.append(Notification(user=self.world.staff[concern.receiving_service_id], kind=Reminder.Kind.INFO,
                                        message="Ny bekymring", read_at=None if self.rng.random() < 0.05 else concern.submitted_at))
            if concern.received_at:
                out.append(Notification(user=self.world.staff[concern.reporting_service_id], kind=Reminder.Kind.INFO,
                                        message="Mottatt", read_at=None if self.rng.random() < 0.05 else concern.received_at))
        return out

    def _deadline(self, step, start, met_at=None, cancelled_at=None):
        policy = self.policies[step]
        return dict(policy=policy, starts_at=start, due_at=policy.due_from(start), met_at=met_at, cancelled_at=cancelled_at)

    def _lifecycle(self, created, melding, status):
        """The concern's timestamps and its deadline rows, as the services would have left them."""
        rng, now = self.rng, self.now
        fields, deadlines = {}, []
        if status == "draft":
            return fields, deadlines
        submitted = created + timedelta(minutes=rng.uniform(5, 120))
        submitted = min(submitted, now)
        fields["submitted_at"] = submitted

        def done_after(start, hours):
            at = start + timedelta(hours=rng.uniform(1, hours))
            return at if at < now else None

        if not melding:
            answered = done_after(submitted, 96) if status == "answered" else None
            if status == "answered":
                answered = answered or now
                fields["answered_at"], fields["advice"] = answered, "Råd i benchmark."
            cancelled = submitted + timedelta(days=1) if status == "upgraded" else None
            deadlines.append(self._deadline("consultation_answer", submitted, met_at=answered, cancelled_at=cancelled))
            return fields, deadlines

        received = None
        if status != "submitted":
            received = done_after(submitted, 20) or now
            fields["received_at"] = received
        deadlines.append(self._deadline("receipt", submitted, met_at=received))
        review_met = None
        if status in ("investigating", "closed", "investigated"):
            review_met = done_after(received, 24 * 6) or now
            fields["reviewed_at"] = review_met
            fields["review_decision"] = "close" if status == "closed" else "investigate"
        review = self._deadline("review", submitted, met_at=review_met)
        deadlines.append(review)
        # Feedback after receipt: sent by most services; the rest stays open (and goes overdue).
        feedback = (done_after(received, 24 * 18) if received and rng.random() < 0.93 else None)
        deadlines.append(self._deadline("feedback_initial", submitted, met_at=feedback))
        if status in ("investigating", "investigated"):
            ended = None
            if status == "investigated":
                ended = done_after(review["due_at"], 24 * 80) or now
                fields["investigation_ended_at"], fields["investigation_outcome"] = ended, rng.choice(["closed", "measures"])
            deadlines.append(self._deadline("investigation", review["due_at"], met_at=ended))
            if ended:
                final = done_after(ended, 24 * 18) if rng.random() < 0.93 else None
                deadlines.append(self._deadline("feedback_final", ended, met_at=final))
        return fields, deadlines


# --- measuring ----------------------------------------------------------------------------------

class Page:
    def __init__(self, label, user, path):
        self.label, self.user, self.path = label, user, path


def pages(world):
    from django.urls import reverse

    intake, index = reverse("concerns:intake"), reverse("concerns:index")
    bv, bh = world.barnevern_user, world.barnehage_user
    return [
        Page("intake, pending by deadline", bv, intake),
        Page("intake, all newest first", bv, intake + "?vis=alle"),
        Page("Mine bekymringer", bh, index),
    ]


CURSOR = re.compile(r'href="(\?[^"]*etter=[^"]+)"')


def _client(user):
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def fmt(a, b, f="{:.1f}"):
    """``a → b``, each formatted, or ``–`` when missing."""
    return f"{'–' if a is None else f.format(a)} → {'–' if b is None else f.format(b)}"


def _p95(values):
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def measure(page: Page, requests: int):
    """For page 1 and page 2 (the cursor link of page 1): rows, queries, and p50/p95 in ms of the
    whole request and of its SQL alone (the part that could grow with the data)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sql_ms = []

    def timed(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_ms[-1] += (time.perf_counter() - start) * 1000

    client = _client(page.user)
    results = []
    url = page.path
    for number in (1, 2):
        if url is None:
            results.append(dict(page=number, rows=0, queries=None, sql=[], p50=None, p95=None, sql_p50=None, sql_p95=None))
            continue
        for _ in range(10):  # warm up caches (templates, connection, PostgreSQL buffers)
            client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        captured = [q["sql"] for q in ctx.captured_queries]  # read now: the next request resets the log
        html = response.content.decode()
        rows = html.count("<tr") - 1 - len(re.findall(r'<td colspan="\d+"', html))
        times, sql_ms[:] = [], []
        with connection.execute_wrapper(timed):
            for _ in range(requests):
                sql_ms.append(0.0)
                start = time.perf_counter()
                r = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200
        results.append(dict(page=number, rows=rows, queries=len(captured), sql=captured,
                            p50=statistics.median(times), p95=_p95(times),
                            sql_p50=statistics.median(sql_ms), sql_p95=_p95(sql_ms)))
        link = CURSOR.search(html)
        url = page.path.split("?")[0] + link.group(1).replace("&amp;", "&") if link else None
    return results


def explain(world):
    """EXPLAIN ANALYZE of the list selectors' main query, for the measured users."""
    from django.db import connection

    from workflows.concern import selectors

    for label, fn in (
        ("intake pending", lambda: selectors.concern_intake_list(world.barnevern_user)),
        ("intake all", lambda: selectors.concern_intake_list(world.barnevern_user, pending_only=False)),
        ("Mine bekymringer", lambda: selectors.concern_sent_list(world.barnehage_user)),
    ):
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            fn()
        main = max(ctx.captured_queries, key=lambda q: len(q["sql"]))["sql"]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + main)
            print(f"\n--- EXPLAIN ANALYZE: {label}\n" + "\n".join(r[0] for r in cursor.fetchall()))


def analyze():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def counts():
    from django.db import connection

    with connection.cursor() as cursor:
        out = {}
        for table in ("referrals_concern", "guardian_groupobjectpermission", "workflows_deadline", "org_service"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            out[table] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM referrals_concern WHERE next_deadline_at IS NOT NULL")
        out["concerns with an open deadline"] = cursor.fetchone()[0]
        return out


def main():
    args = parse_args()
    server = os.environ.get("DATABASE_URL")
    if not server:
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/test")
    url = recreate_database(server, args.database)
    print(f"database: {args.database} (recreated); migrating …", flush=True)
    setup_django(url)

    world = World()
    seeder = Seeder(world)
    the_pages = pages(world)

    t = time.perf_counter()
    seeder.seed(args.small, only_pair=True, recent=True)
    analyze()
    print(f"seeded {args.small} concerns in {time.perf_counter() - t:.1f}s: {counts()}", flush=True)
    small = {p.label: measure(p, args.requests) for p in the_pages}

    t = time.perf_counter()
    seeder.seed(args.concerns - args.small)
    analyze()
    print(f"seeded {args.concerns - args.small} more in {time.perf_counter() - t:.1f}s: {counts()}", flush=True)
    print(f"measured: barnevern '{world.barnevern.name}' receives "
          f"{world.barnevern.concerns_received.count()} concerns; barnehage '{world.barnehage.name}' sent "
          f"{world.barnehage.concerns_sent.count()}", flush=True)
    large = {p.label: measure(p, args.requests) for p in the_pages}
    if args.explain:
        explain(world)

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    ok = True
    header = (f"{'page':<38} {'rows':>4} {'queries':>9} {'p50 ms':>15} {'p95 ms':>15} {'SQL p50 ms':>13} {'SQL p95 ms':>13}"
              "  verdict")
    print(f"\nConcern lists, {args.requests} requests per page; columns are '{args.small} → {args.concerns} concerns'"
          f" (PostgreSQL {version}, {os.cpu_count()} CPUs, load average {load})")
    print(header)
    print("-" * len(header))
    for p in the_pages:
        for s, l in zip(small[p.label], large[p.label]):  # noqa: E741
            label = f"{p.label}, page {s['page']}"
            same = s["queries"] == l["queries"]
            fast = l["p95"] is not None and l["p95"] <= TARGET_P95_MS
            verdict = ("ok" if same and fast else
                       ("QUERY COUNT DIFFERS" if not same else "") + ("" if fast else " SLOW")).strip()
            ok &= same and fast

            print(f"{label:<38} {l['rows']:>4} {fmt(s['queries'], l['queries'], '{}'):>9} {fmt(s['p50'], l['p50']):>15} "
                  f"{fmt(s['p95'], l['p95']):>15} {fmt(s['sql_p50'], l['sql_p50']):>13} {fmt(s['sql_p95'], l['sql_p95']):>13}"
                  f"  {verdict}")
            if not same:
                for sql in l["sql"]:
                    print("    ", sql[:300])
    print(f"\ntarget: same query count at both sizes, p95 ≤ {TARGET_P95_MS} ms at {args.concerns} → {'MET' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
