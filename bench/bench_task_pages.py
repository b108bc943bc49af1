#!/usr/bin/env python
"""Benchmark viewflow's task pages ("Oppgaver": inbox, queue, archive) and the menu's task badges.

Run by hand (pytest does not collect it):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_task_bench .venv/bin/python bench/bench_task_pages.py \\
        --concerns 1000000 --explain

DATABASE_URL names the PostgreSQL server and the database to (re)create there (``--database``
overrides the name); ``--drop`` removes it afterwards. It seeds through bench/bench_concern_lists.py's
World and Seeder (200 services in 10 municipalities; concerns with their guardian grants, deadlines,
person records and notifications), and adds to every sent concern what the concern flow leaves behind:
its viewflow process (``viewflow_process`` + ``workflows_concernprocess``) and tasks — the start, each
human step done (owned by the receiving service's caseworker, finished when the concern says) or open
in the service's queue (every tenth of them assigned to the caseworker: the inbox), the end once closed —
with the task permission the flow sets (HANDLE_TASKS_PERM on the receiving service).

Two measurements, as in the concern benchmark: ``--small`` concerns between one barnehage and one
barnevern service, then ``--concerns`` in all. Each time, through Django's test client, as the city's
first barnevern caseworker: the inbox, the queue and the archive, page 1 and page 2 (the keyset link of
page 1), and the intake list as a page that shows the menu's task badges; and a bare Django list of 25
concerns (no permissions, no menu) as the baseline. It prints one table with the queries per page at
both sizes (they must be equal, and ≤ 15), p50/p95 of the whole request and of its SQL, a verdict per
page, the load average, and with ``--explain`` the EXPLAIN ANALYZE of each list's main query and of the
badge query at full size.
"""
import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

import bench_concern_lists as base  # noqa: E402  (World, Seeder, measure, database set-up)

TARGET_P95_MS = 150
MAX_QUERIES = 15
CONCERN_FLOW = "workflows/flows.concern.ConcernFlow"
HANDLE_TASKS_PERM = "org.handle_concerns"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=None, help="database to (re)create (default: the one DATABASE_URL names)")
    parser.add_argument("--small", type=int, default=100, help="concerns in the first measurement")
    parser.add_argument("--concerns", type=int, default=100_000, help="concerns in the second measurement")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the main queries at full size")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    return parser.parse_args()


# --- seeding the processes and tasks --------------------------------------------------------------

class TaskSeeder(base.Seeder):
    """The concern Seeder, plus each new concern's viewflow process and tasks (COPY, per chunk)."""

    ASSIGNED_EVERY = 10  # every tenth open human task is assigned to the caseworker (the inbox)

    def __init__(self, world, seed=42):
        from django.contrib.contenttypes.models import ContentType

        from org.models import Service

        super().__init__(world, seed=seed)
        self.service_ct = ContentType.objects.get_for_model(Service).pk
        self.last_concern = 0
        self.tasks = 0
        self.open_tasks = 0

    def _insert(self, picks, *, recent):
        super()._insert(picks, recent=recent)
        self._processes()

    def _processes(self):
        from django.db import connection, transaction

        from referrals.models import Concern

        concerns = list(
            Concern.objects.filter(pk__gt=self.last_concern).exclude(status="draft").order_by("pk").values_list(
                "pk", "kind", "status", "receiving_service_id", "submitted_at", "received_at", "reviewed_at",
                "review_decision", "investigation_ended_at", "answered_at",
            )
        )
        if not concerns:
            return
        self.last_concern = concerns[-1][0]
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval(pg_get_serial_sequence('viewflow_process', 'id')) FROM generate_series(1, %s)", [len(concerns)])
                ids = [r[0] for r in cursor.fetchall()]
            raw = connection.connection
            processes, links, tasks = [], [], []
            for pid, c in zip(ids, concerns):
                finished, rows = self._tasks(pid, *c)
                processes.append((pid, CONCERN_FLOW, "DONE" if finished else "NEW", c[4], finished))
                links.append((pid, c[0]))
                tasks += rows
            with raw.cursor() as cur:
                with cur.copy("COPY viewflow_process (id, flow_class, status, created, finished, data) FROM STDIN") as copy:
                    for row in processes:
                        copy.write_row((*row, "{}"))
                with cur.copy("COPY workflows_concernprocess (process_ptr_id, concern_id) FROM STDIN") as copy:
                    for row in links:
                        copy.write_row(row)
                with cur.copy(
                    "COPY viewflow_task (flow_task, flow_task_type, status, created, assigned, started, finished, token, owner_id,"
                    " owner_permission, owner_permission_content_type_id, owner_permission_obj_pk, process_id, data) FROM STDIN"
                ) as copy:
                    for row in tasks:
                        copy.write_row((*row, "{}"))
        self.tasks += len(tasks)

    def _next_open(self) -> int:
        self.open_tasks += 1
        return self.open_tasks

    def _tasks(self, pid, _pk, kind, status, service, submitted, received, reviewed, decision, ended, answered):
        """The tasks the concern flow would have left for a concern in this state; returns
        (when the process finished or None, task rows)."""
        staff = self.world.staff[service].pk
        rows = [(f"{CONCERN_FLOW}.start", "START", "DONE", submitted, None, submitted, submitted, "start", None, None, None, None, pid)]

        def human(step, created, done_at, cancelled=False):
            perm = (HANDLE_TASKS_PERM, self.service_ct, str(service))
            if done_at is not None:
                rows.append((f"{CONCERN_FLOW}.{step}", "HUMAN", "DONE", created, done_at, done_at, done_at, "start", staff, *perm, pid))
            elif cancelled:
                rows.append((f"{CONCERN_FLOW}.{step}", "HUMAN", "CANCELED", created, None, None, created, "start", None, *perm, pid))
            elif self._next_open() % self.ASSIGNED_EVERY == 0:
                rows.append((f"{CONCERN_FLOW}.{step}", "HUMAN", "ASSIGNED", created, created, None, None, "start", staff, *perm, pid))
            else:
                rows.append((f"{CONCERN_FLOW}.{step}", "HUMAN", "NEW", created, None, None, None, "start", None, *perm, pid))

        def end(at):
            rows.append((f"{CONCERN_FLOW}.end", "END", "DONE", at, None, at, at, "start", None, None, None, None, pid))
            return at

        if kind == "consultation":
            human("answer", submitted, answered, cancelled=status == "upgraded")
            return (end(answered) if answered else (submitted + timedelta(days=1) if status == "upgraded" else None)), rows
        human("receipt", submitted, received)
        if received is None:
            return None, rows
        human("review", received, reviewed)
        if reviewed is None:
            return None, rows
        if decision != "investigate":
            return end(reviewed), rows
        human("conclude", reviewed, ended)
        return (end(ended) if ended else None), rows


# --- measuring ------------------------------------------------------------------------------------

def bare_list(request):
    """The baseline: 25 concerns from a plain table, newest first; no permissions, no menu."""
    from django.http import HttpResponse
    from django.template import engines

    from referrals.models import Concern

    rows = Concern.objects.order_by("-pk").only("code", "status", "created_at")[:25]
    template = engines["django"].from_string(
        "<table>{% for c in rows %}<tr><td>{{ c.code }}</td><td>{{ c.status }}</td><td>{{ c.created_at }}</td></tr>{% endfor %}</table>"
    )
    return HttpResponse(template.render({"rows": rows}))


def install_bare_page():
    from django.urls import clear_url_caches, path

    import config.urls

    config.urls.urlpatterns.insert(0, path("bench-bare/", bare_list, name="bench_bare"))
    clear_url_caches()


def pages(world):
    from django.urls import reverse

    bv = world.barnevern_user
    return [
        base.Page("bare Django list (baseline)", bv, "/bench-bare/"),
        base.Page("inbox", bv, reverse("workflow:inbox")),
        base.Page("queue", bv, reverse("workflow:queue")),
        base.Page("archive", bv, reverse("workflow:archive")),
        base.Page("intake list with task badges", bv, reverse("concerns:intake")),
    ]


def statements(sql_list):
    """The statements a request sends, without transaction markers (none outside a test)."""
    return [s for s in sql_list if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def explain(world):
    """EXPLAIN ANALYZE of each task list's page query and of the badge query, as the caseworker."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = base._client(world.barnevern_user)
    for label, name in (("inbox", "workflow:inbox"), ("queue", "workflow:queue"), ("archive", "workflow:archive")):
        client.get(reverse(name))
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse(name))
        found = [q["sql"] for q in ctx.captured_queries if 'FROM "viewflow_task"' in q["sql"] and "LIMIT 26" in q["sql"]]
        badge = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT (SELECT COUNT(*)")]
        for title, sql in ((label, found[0] if found else None), ("menu badges", badge[0] if badge and label == "inbox" else None)):
            if sql is None:
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                print(f"\n--- EXPLAIN ANALYZE: {title}\n" + "\n".join(r[0] for r in cursor.fetchall()))


def slowest_queries(world, top=6, requests=10):
    """Per page at full size: the statements taking the most time per request (ms), to show where a
    page's SQL time goes."""
    import time as _time

    from django.db import connection
    from django.urls import reverse

    client = base._client(world.barnevern_user)
    for label, name in (("inbox", "workflow:inbox"), ("queue", "workflow:queue"), ("archive", "workflow:archive"),
                        ("intake list with task badges", "concerns:intake")):
        url = reverse(name)
        client.get(url)
        spent = {}

        def timed(execute, sql, params, many, context):
            start = _time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent.setdefault(sql[:140], []).append((_time.perf_counter() - start) * 1000)

        with connection.execute_wrapper(timed):
            for _ in range(requests):
                client.get(url)
        print(f"\n--- where the SQL time goes: {label} (ms per request, {requests} requests)")
        for sql, times in sorted(spent.items(), key=lambda kv: -sum(kv[1]))[:top]:
            print(f"  {sum(times) / requests:6.2f}  ×{len(times) // requests}  {sql}")


def counts():
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for table in ("referrals_concern", "viewflow_process", "viewflow_task", "guardian_groupobjectpermission"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            out[table] = cursor.fetchone()[0]
    return out


def user_tasks(world):
    from viewflow.workflow.models import Task

    user, service = world.barnevern_user, str(world.barnevern.pk)
    return {
        "inbox": Task.objects.filter(owner=user, status="ASSIGNED").count(),
        "queue": Task.objects.filter(status="NEW", flow_task_type="HUMAN", owner_permission_obj_pk=service).count(),
        "archive": Task.objects.filter(owner=user, finished__isnull=False).count(),
    }


def drop_database(server_url: str, name: str):
    import psycopg
    from psycopg import sql

    admin_url = urlunsplit(urlsplit(server_url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main():
    args = parse_args()
    server = os.environ.get("DATABASE_URL")
    if not server:
        sys.exit("Set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/h_task_bench")
    name = args.database or urlsplit(server).path.lstrip("/") or "samhandling_task_bench"
    url = base.recreate_database(server, name)
    print(f"database: {name} (recreated); migrating …", flush=True)
    base.setup_django(url)
    install_bare_page()

    world = base.World()
    seeder = TaskSeeder(world)
    the_pages = pages(world)

    t = time.perf_counter()
    seeder.seed(args.small, only_pair=True, recent=True)
    base.analyze()
    print(f"seeded {args.small} concerns in {time.perf_counter() - t:.1f}s: {counts()}; the caseworker's tasks: {user_tasks(world)}", flush=True)
    small = {p.label: base.measure(p, args.requests) for p in the_pages}

    t = time.perf_counter()
    seeder.seed(args.concerns - args.small)
    seeded = time.perf_counter() - t
    base.analyze()
    print(f"seeded {args.concerns - args.small} more in {seeded:.1f}s: {counts()}; the caseworker's tasks: {user_tasks(world)}", flush=True)
    large = {p.label: base.measure(p, args.requests) for p in the_pages}
    if args.explain:
        explain(world)
        slowest_queries(world)

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    ok = True
    header = (f"{'page':<40} {'rows':>4} {'queries':>9} {'p50 ms':>15} {'p95 ms':>15} {'SQL p50 ms':>13} {'SQL p95 ms':>13}  verdict")
    print(f"\nTask pages, {args.requests} requests per page; columns are '{args.small} → {args.concerns} concerns'"
          f" (PostgreSQL {version}, {os.cpu_count()} CPUs, load average {load})")
    print(header)
    print("-" * len(header))
    for p in the_pages:
        for s, l in zip(small[p.label], large[p.label]):  # noqa: E741
            label = f"{p.label}, page {s['page']}"
            if l["queries"] is None:
                print(f"{label:<40} {'(no second page)':>20}")
                continue
            # A list with one page at the small size is compared with its first page (the same code).
            same = (s["queries"] if s["queries"] is not None else small[p.label][0]["queries"]) == l["queries"]
            few = len(statements(l["sql"])) <= MAX_QUERIES
            fast = l["p95"] is not None and l["p95"] <= TARGET_P95_MS
            verdict = "ok" if same and few and fast else " ".join(
                w for w, bad in (("QUERY COUNT DIFFERS", not same), (f"> {MAX_QUERIES} QUERIES", not few), ("SLOW", not fast)) if bad)
            ok &= same and few and fast
            print(f"{label:<40} {l['rows']:>4} {base.fmt(s['queries'], l['queries'], '{}'):>9} {base.fmt(s['p50'], l['p50']):>15} "
                  f"{base.fmt(s['p95'], l['p95']):>15} {base.fmt(s['sql_p50'], l['sql_p50']):>13} {base.fmt(s['sql_p95'], l['sql_p95']):>13}"
                  f"  {verdict}")
            if not same or not few:
                for sql in l["sql"]:
                    print("    ", sql[:200])
    print(f"\ntarget: same query count at both sizes, ≤ {MAX_QUERIES} queries, p95 ≤ {TARGET_P95_MS} ms at {args.concerns} concerns"
          f" → {'MET' if ok else 'MISSED'}")
    if args.drop:
        connection.close()
        drop_database(server, name)
        print(f"dropped {name}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
