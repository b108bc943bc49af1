#!/usr/bin/env python
"""Benchmark the referral pages: queries per page stay constant, and pages stay fast, as data grows.

Run by hand (pytest does not collect it):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_ref_bench .venv/bin/python bench/bench_referral_lists.py --referrals 300000

The benchmark drops and recreates its own database on the DATABASE_URL server (``--database``,
default ``referral_bench``), migrates it, and seeds it in two steps:

1. ``--small`` referrals (default 200) between one sending service, one receiving service and one
   coordinator (enough for a second page of each list);
2. up to ``--referrals`` across 200 services in 10 municipalities (per municipality: 2 substance
   service coordinators, 10 sending services, 8 catalogue services receiving; the first
   municipality is a city sending five times as much).

Rows are bulk-inserted with what the services write for each referral: the contact it was sent
from (most referrals) and its contact permission, the guardian group permissions (the sender's
``view_referral_status``, the coordinator's ``route_referral``, the receiver's ``handle_referral``
once delivered), the disclosure rows of the ledger, the viewflow process of a delivered referral,
its events, the open deadline of the real policy (routing or answer) and the denormalised
``next_deadline_at``, and the sender's record of the person. Services, users, memberships and
groups are created through the real services. Old referrals are mostly finished; some stay open.

After each step it renders every referral page through Django's test client as a logged-in user
of the measured services (the sent list, incoming open and all, the coordinator view, the
coordinator list unfiltered and filtered, contacts, the catalogue, a referral, a contact, the
statistics and both CSV exports), page 1 and page 2 of each list (through the page's own "next"
link): SQL queries per page (which must not differ between the steps) and p50/p95 of the time
Django takes to answer; and a bare Django page listing 25 of the same referrals (no permissions,
a plain table) as the baseline. At full size it prints the EXPLAIN ANALYZE of each list's main
query, and the peak memory of streaming each CSV export.

``--reuse`` measures an already seeded database again (after a code change) without reseeding;
``--drop`` drops the database at the end.
"""
import argparse
import os
import random
import re
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

import bench_concern_lists as concern_bench  # noqa: E402  (recreate_database, setup_django, analyze, fmt, _p95)

LIST_P95_MS = 150
STATS_P95_MS = 300
# The referral and contact pages run the person's name and consent template tags (people/, consent/).
DETAIL_QUERIES = 30


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="referral_bench", help="database to (re)create on the DATABASE_URL server")
    parser.add_argument("--small", type=int, default=200, help="referrals in the first measurement")
    parser.add_argument("--referrals", type=int, default=300_000, help="referrals in the second measurement")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument("--reuse", action="store_true", help="measure an already seeded database at full size only")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    return parser.parse_args()


# --- seeding ------------------------------------------------------------------------------------

class World:
    """10 municipalities × (2 coordinators, 10 senders, 8 catalogue services) = 200 services."""

    SENDER_KINDS = ["nav", "nav", "helsestasjon", "helsestasjon", "fastlege", "fastlege", "skolehelsetjeneste",
                    "skolehelsetjeneste", "barnevern", "slt"]
    TARGET_KINDS = ["other", "other", "other", "ppt", "other", "other", "ppt", "other"]

    def __init__(self):
        from django.contrib.auth import get_user_model

        from org.models import Membership, Municipality, Service
        from org.permissions import service_group
        from org.services import membership_set
        from referrals.models import CatalogueEntry, ReferralKind

        self.municipalities, self.coordinators, self.senders, self.targets = [], [], [], []
        self.staff = {}
        for m in range(10):
            muni = Municipality.objects.create(name=f"Benchkommune {m}", number=f"{9100 + m}")
            made = {"coord": [], "send": [], "target": []}
            for i in range(2):
                made["coord"].append(Service.objects.create(municipality=muni, name=f"Rustjeneste {m}-{i}", kind=Service.Kind.RUSTJENESTE))
            for i, kind in enumerate(self.SENDER_KINDS):
                made["send"].append(Service.objects.create(municipality=muni, name=f"{kind} {m}-{i}", kind=kind))
            for i, kind in enumerate(self.TARGET_KINDS):
                target = Service.objects.create(municipality=muni, name=f"Tilbud {m}-{i}", kind=kind)
                entry = CatalogueEntry.objects.create(service=target, description=f"Tilbud {i} i benchmark.",
                                                      accepts=list(ReferralKind.values), min_age=None, max_age=None)
                entry.areas.add(muni)
                made["target"].append(target)
            for service in made["coord"] + made["send"] + made["target"]:
                service_group(service)
                service.refresh_from_db()
                user = get_user_model().objects.create_user(username=f"bench-{service.pk}", email="")
                membership_set(user=user, service=service, role=Membership.Role.STAFF)
                self.staff[service.pk] = user
            weight = 5 if m == 0 else 1
            self.coordinators += made["coord"]
            self.senders += [(s, weight, made["coord"], made["target"]) for s in made["send"] + made["coord"]]
            self.targets += made["target"]
            self.municipalities.append(muni)
        self.sender = self.senders[0][0]
        self.coordinator = self.coordinators[0]
        self.target = self.targets[0]
        self.sender_user = self.staff[self.sender.pk]
        self.coordinator_user = self.staff[self.coordinator.pk]
        self.target_user = self.staff[self.target.pk]


class Seeder:
    # (status, weight) of a referral older than four months; newer ones are more often open.
    STATUSES = [("completed", 45), ("rejected", 12), ("cancelled", 6), ("failed", 3), ("in-progress", 12),
                ("on-hold", 3), ("accepted", 7), ("received", 6), ("requested", 6)]
    OPEN = {"requested", "received", "accepted", "in-progress", "on-hold"}

    def __init__(self, world: World, seed=7):
        from django.contrib.auth.models import Permission
        from django.contrib.contenttypes.models import ContentType
        from django.utils import timezone

        from referrals.models import Contact, Referral
        from workflows.models import DeadlinePolicy

        self.world = world
        self.rng = random.Random(seed)
        self.now = timezone.now()
        self.ct = ContentType.objects.get_for_model(Referral)
        self.contact_ct = ContentType.objects.get_for_model(Contact)
        self.perm = {p.codename: p for p in Permission.objects.filter(content_type__in=[self.ct, self.contact_ct])}
        self.policies = {p.step: p for p in DeadlinePolicy.objects.filter(process="referral")}
        from org.models import Service

        self.groups = dict(Service.objects.values_list("pk", "group_id"))

    def _persons(self, count):
        from people.models import Person

        first = ["Emma", "Noah", "Nora", "Jakob", "Sofie", "Lucas", "Olivia", "Filip", "Ella", "William"]
        today = self.now.date()
        return Person.objects.bulk_create(
            [Person(given_name=self.rng.choice(first), family_name=f"Bench{i}", municipality=self.world.municipalities[0],
                    birth_date=today - timedelta(days=self.rng.randint(14 * 365, 70 * 365)) if self.rng.random() < 0.8 else None,
                    approx_age=None)
             for i in range(count)],
            batch_size=5000,
        )

    def seed(self, count, *, only_pair=False, recent=False, chunk=5000):
        done = 0
        while done < count:
            n = min(chunk, count - done)
            persons = self._persons(max(n // 2, 10))
            if only_pair:
                picks = [(self.world.sender, self.world.coordinator, self.world.target)] * n
            else:
                senders = self.world.senders
                chosen = self.rng.choices(senders, weights=[w for _s, w, _c, _t in senders], k=n)
                picks = [(s, self.rng.choice(coords), self.rng.choice(targets)) for s, _w, coords, targets in chosen]
            self._insert(picks, persons, recent=recent)
            done += n
        # The contact statistics' counters, as the services keep them when they write one by one.
        from referrals import contact_stats
        from referrals.models import Contact, ContactStat, Referral

        contact_stats.rebuild(Contact, Referral, ContactStat)

    def _insert(self, picks, persons, *, recent):
        from django.db import connection, transaction
        from guardian.models import GroupObjectPermission
        from viewflow.workflow.models import Process
        from viewflow.workflow.status import PROCESS

        from consent.models import Disclosure
        from people.models import PersonRecord
        from referrals.models import Contact, Referral, ReferralEvent, ReferralKind
        from workflows.flows.referral import ReferralFlow
        from workflows.models import Deadline, ReferralProcess

        rng, now = self.rng, self.now
        contacts, referrals, plans = [], [], []
        for sender, coordinator, target in picks:
            age_days = rng.uniform(0, 20) if recent else rng.uniform(0, 3 * 365)
            created = now - timedelta(days=age_days)
            status = rng.choices([s for s, _ in self.STATUSES], weights=[w for _, w in self.STATUSES])[0]
            if age_days < 30 and rng.random() < 0.6:
                status = rng.choice(["requested", "received", "accepted", "in-progress"])
            routed = rng.random() < 0.3
            queued = routed and status == "requested" and rng.random() < 0.5
            person = rng.choice(persons)
            contact = None
            if rng.random() < 0.7:
                contact = Contact(service=sender, person=person, summary="Kontakt i benchmark.", created_by=self.world.staff[sender.pk],
                                  created_at=created - timedelta(minutes=30))
                contacts.append(contact)
            if rng.random() < 0.2:  # a contact that was never referred on
                contacts.append(Contact(service=sender, person=person, summary="Kontakt i benchmark.",
                                        created_by=self.world.staff[sender.pk], created_at=created - timedelta(days=1)))
            closed = created + timedelta(days=rng.uniform(2, 60)) if status not in self.OPEN else None
            if closed and closed > now:
                closed = now
            deadline = None
            if status == "requested":
                step = "routing" if queued else "answer"
                deadline = (step, created, self.policies[step].due_from(created))
            elif status == "received":
                deadline = ("answer", created, self.policies["answer"].due_from(created))
            referrals.append(Referral(
                person=person, sender_service=sender, created_by=self.world.staff[sender.pk],
                kind=rng.choice(list(ReferralKind.values)), reason="Henvisning i benchmark.",
                routing_service=coordinator if routed else None, target_service=None if queued else target,
                status=status, contact=contact, created_at=created, updated_at=closed or created, sent_at=created,
                closed_at=closed, next_deadline_at=deadline[2] if deadline else None,
            ))
            plans.append(deadline)

        fields = [Contact._meta.get_field("created_at"), Referral._meta.get_field("created_at"), Referral._meta.get_field("updated_at")]
        with transaction.atomic():
            # Keep the generated history instead of "now" (auto_now* would overwrite it).
            for f in fields:
                f.auto_now_add = f.auto_now = False
            try:
                Contact.objects.bulk_create(contacts, batch_size=2000)
                for r in referrals:
                    r.contact_id = r.contact.pk if r.contact else None
                Referral.objects.bulk_create(referrals, batch_size=2000)
            finally:
                fields[0].auto_now_add = fields[1].auto_now_add = True
                fields[2].auto_now = True
            perms, disclosures, processes, events, deadlines = [], [], [], [], []
            for c in contacts:
                perms.append(GroupObjectPermission(content_type=self.contact_ct, object_pk=str(c.pk), group_id=self.groups[c.service_id],
                                                   permission=self.perm["handle_contact"]))
            for r, deadline in zip(referrals, plans):
                grant = [(r.sender_service_id, "view_referral_status")]
                if r.routing_service_id:
                    grant.append((r.routing_service_id, "route_referral"))
                if r.target_service_id:
                    grant.append((r.target_service_id, "handle_referral"))
                for service_id, codename in grant:
                    perms.append(GroupObjectPermission(content_type=self.ct, object_pk=str(r.pk), group_id=self.groups[service_id],
                                                       permission=self.perm[codename]))
                    if codename != "view_referral_status":
                        disclosures.append(Disclosure(
                            person_id=r.person_id, subject_type=self.ct, subject_id=r.pk, from_service_id=r.sender_service_id,
                            to_service_id=service_id, basis="statutory", legal_reference="Benchmark § 1", purpose="henvisning",
                            permission=f"referrals.{codename}", disclosed_by_id=r.created_by_id))
                processes.append(Process(flow_class=ReferralFlow, created=r.sent_at,
                                         status=PROCESS.DONE if r.closed_at else PROCESS.NEW, finished=r.closed_at))
                events.append(ReferralEvent(referral=r, status="requested", service_id=r.sender_service_id))
                if r.status != "requested":
                    events.append(ReferralEvent(referral=r, status=r.status, service_id=r.target_service_id or r.sender_service_id))
                if deadline:
                    step, start, due = deadline
                    deadlines.append(Deadline(subject_type=self.ct, subject_id=r.pk, policy=self.policies[step], starts_at=start, due_at=due,
                                              responsible_service_id=r.target_service_id or r.routing_service_id))
            GroupObjectPermission.objects.bulk_create(perms, batch_size=5000)
            Disclosure.objects.bulk_create(disclosures, batch_size=5000)
            # A multi-table child: viewflow's process rows first, then the referral's link to each.
            Process.objects.bulk_create(processes, batch_size=5000)
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {ReferralProcess._meta.db_table} (process_ptr_id, referral_id) VALUES (%s, %s)",
                    [(p.pk, r.pk) for p, r in zip(processes, referrals)],
                )
            ReferralEvent.objects.bulk_create(events, batch_size=5000)
            Deadline.objects.bulk_create(deadlines, batch_size=5000)
            # The sending service's record of the person: the lists name each row's person through it.
            PersonRecord.objects.bulk_create(
                [PersonRecord(person_id=p, service_id=s, given_name="Bench", family_name=f"Person{p}")
                 for p, s in {(r.person_id, r.sender_service_id) for r in referrals} | {(c.person_id, c.service_id) for c in contacts}],
                batch_size=5000, ignore_conflicts=True,
            )


# --- the bare baseline page -----------------------------------------------------------------------

def bare_list(request):
    """A bare Django list: 25 referrals, newest first, no permissions, a plain table."""
    from django.http import HttpResponse
    from django.template import engines

    from referrals.models import Referral

    rows = Referral.objects.select_related("sender_service").order_by("-id")[:25]
    template = engines["django"].from_string(
        "<table>{% for r in rows %}<tr><td>{{ r.reference }}</td><td>{{ r.sender_service.name }}</td>"
        "<td>{{ r.get_status_display }}</td><td>{{ r.sent_at }}</td></tr>{% endfor %}</table>")
    return HttpResponse(template.render({"rows": rows}))


def bench_urls():
    """The site's URLs plus the bare page (this module is the URLconf while measuring)."""
    from django.urls import include, path

    global urlpatterns
    urlpatterns = [path("bench/bare/", bare_list), path("", include("config.urls"))]


# --- measuring ----------------------------------------------------------------------------------

class Page:
    def __init__(self, label, user, path, *, kind="list", pages=2):
        self.label, self.user, self.path, self.kind, self.pages = label, user, path, kind, pages


def pages(world):
    from django.urls import reverse

    from referrals.models import Contact, Referral

    referral = Referral.objects.filter(sender_service=world.sender, target_service=world.target).order_by("-id").first()
    contact = Contact.objects.filter(service=world.sender).order_by("-id").first()
    s, t, c = world.sender_user, world.target_user, world.coordinator_user
    return [
        Page("bare Django list (baseline)", s, "/bench/bare/", pages=1),
        Page("sent referrals", s, reverse("referrals:index")),
        Page("incoming, open", t, reverse("referrals:incoming")),
        Page("incoming, all", t, reverse("referrals:incoming") + "?vis=alle"),
        Page("coordinator view", c, reverse("referrals:coordinator")),
        Page("coordinator list, all", c, reverse("referrals:coordinator_list")),
        Page("coordinator list, completed 18-25", c, reverse("referrals:coordinator_list") + "?status=completed&alder=18-25"),
        Page("contacts", s, reverse("referrals:contacts")),
        Page("catalogue", s, reverse("referrals:catalogue")),
        Page("a referral (sender)", s, reverse("referrals:detail", args=[referral.code]), kind="detail", pages=1),
        Page("a referral (receiver)", t, reverse("referrals:detail", args=[referral.code]), kind="detail", pages=1),
        Page("a contact", s, reverse("referrals:contact_detail", args=[contact.code]), kind="detail", pages=1),
        Page("statistics (sender)", s, reverse("referrals:stats"), kind="stats", pages=1),
        Page("statistics (coordinator)", c, reverse("referrals:stats"), kind="stats", pages=1),
        Page("CSV referrals (sender)", s, reverse("referrals:stats_csv", args=["henvisninger"]), kind="csv", pages=1),
        Page("CSV contacts (sender)", s, reverse("referrals:stats_csv", args=["kontakter"]), kind="csv", pages=1),
    ]


NEXT = re.compile(r'href="(\?[^"]+)" rel="next"')


def _client(user):
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def _body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


# What a page asks, as opposed to the site's shell around it (the same rule as
# tests/workflows/referral/test_list_queries.py): statements made while the referral view runs,
# except for the menu and its badges and the transaction brackets.
VIEWS = str(BASE_DIR / "workflows" / "referral" / "views.py")
SHELL_CODE = ("/config/context_processors.py", "/notifications/context_processors.py", "/workflows/templatetags/task_tags.py")
BRACKETS = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


def _own_queries():
    """An execute wrapper and the list it fills with the page's own statements."""
    import traceback

    own = []

    def note(execute, sql, params, many, context):
        files = [f.filename for f in traceback.extract_stack()]
        if VIEWS in files and not any(f.endswith(SHELL_CODE) for f in files) and not sql.startswith(BRACKETS):
            own.append(sql)
        return execute(sql, params, many, context)

    return note, own


def measure(page: Page, requests: int):
    """Page 1 and page 2 (through page 1's "next" link): rows, queries, p50/p95 ms of the request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client(page.user)
    results, url = [], page.path
    for number in range(1, page.pages + 1):
        if url is None:
            results.append(dict(page=number, rows=0, queries=None, own=None, sql=[], p50=None, p95=None))
            continue
        for _ in range(5):
            _body(client.get(url))
        note, own = _own_queries()
        with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(note):
            response = client.get(url)
            html = _body(response).decode("utf-8-sig")
        assert response.status_code == 200, (url, response.status_code)
        captured = [q["sql"] for q in ctx.captured_queries]
        rows = html.count("<tr") - html.count("<thead") - len(re.findall(r'<td colspan="\d+"', html))
        if page.kind == "csv":
            rows = html.count("\n") - 1
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            r = client.get(url)
            _body(r)
            times.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200
        results.append(dict(page=number, rows=rows, queries=len(captured), own=len(own), sql=captured,
                            p50=statistics.median(times), p95=concern_bench._p95(times)))
        link = NEXT.search(html)
        url = page.path.split("?")[0] + link.group(1).replace("&amp;", "&") if link else None
    return results


def csv_memory(page: Page):
    """Peak Python memory (KiB) while streaming a CSV export, and its size."""
    client = _client(page.user)
    tracemalloc.start()
    response = client.get(page.path)
    size = sum(len(chunk) for chunk in response.streaming_content)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024, size


def explain(world):
    """EXPLAIN ANALYZE of each list selector's main query, for the measured users."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflows.referral import selectors

    for label, fn in (
        ("sent", lambda: selectors.referral_sent_list(world.sender_user)),
        ("incoming open", lambda: selectors.referral_incoming_list(world.target_user)),
        ("incoming all", lambda: selectors.referral_incoming_list(world.target_user, open_only=False)),
        ("routing queue", lambda: selectors.routing_queue(world.coordinator_user)),
        ("at risk", lambda: selectors.referral_at_risk_list(world.coordinator_user)),
        ("coordinator list", lambda: selectors.coordinator_list(world.coordinator_user)),
        ("coordinator counts", lambda: selectors.coordinator_counts(world.coordinator_user)),
        ("contacts", lambda: selectors.contact_list(world.sender_user)),
        ("statistics by destination", lambda: selectors.stats_referrals_by_destination(world.sender_user)),
        ("statistics of contacts", lambda: selectors.stats_contacts_referred(world.sender_user)),
    ):
        with CaptureQueriesContext(connection) as ctx:
            fn()
        main = max(ctx.captured_queries, key=lambda q: len(q["sql"]))["sql"]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + main)
            print(f"\n--- EXPLAIN ANALYZE: {label}\n" + "\n".join(r[0] for r in cursor.fetchall()), flush=True)


def vacuum():
    """VACUUM ANALYZE, as autovacuum leaves a production table: statistics for the planner, and a
    visibility map, without which no index-only scan stays index-only."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def counts(world):
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for table in ("referrals_referral", "referrals_contact", "guardian_groupobjectpermission", "consent_disclosure",
                      "workflows_referralprocess", "workflows_deadline"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            out[table] = cursor.fetchone()[0]
    from referrals.models import Referral

    out["sent by the measured sender"] = Referral.objects.filter(sender_service=world.sender).count()
    out["to the measured receiver"] = Referral.objects.filter(target_service=world.target).count()
    out["routed by the measured coordinator"] = Referral.objects.filter(routing_service=world.coordinator).count()
    return out


def target_of(page: Page):
    return STATS_P95_MS if page.kind in ("stats", "csv") else LIST_P95_MS


def report(args, the_pages, small, large, bare_p50):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    ok = True
    header = f"{'page':<42} {'rows':>5} {'queries':>9} {'own':>9} {'p50 ms':>16} {'p95 ms':>16} {'target':>7}  verdict"
    sizes = f"{args.small} → {args.referrals}" if small else f"{args.referrals}"
    print(f"\nReferral pages, {args.requests} requests per page; columns are '{sizes} referrals'"
          f" (PostgreSQL {version}, {os.cpu_count()} CPUs, load average {load})")
    print(header)
    print("-" * len(header))
    for p in the_pages:
        for i, l in enumerate(large[p.label]):  # noqa: E741
            s = small[p.label][i] if small else l
            if s["queries"] is None and small:
                s = dict(small[p.label][0], p50=None, p95=None)  # no page 2 in the small data: its page 1 asks the same
            label = f"{p.label}" + (f", page {l['page']}" if p.pages > 1 else "")
            same = l["queries"] is None or (s["queries"] == l["queries"] and s["own"] == l["own"])
            target = target_of(p)
            fast = l["p95"] is None or l["p95"] <= target  # None: no such page (fewer rows than a page)
            few = l["own"] is None or l["own"] <= (DETAIL_QUERIES if p.kind == "detail" else 15)
            near = p.kind != "list" or l["p50"] is None or l["p50"] <= 10 * bare_p50
            verdict = "ok" if same and fast and few and near else " ".join(
                x for x, bad in (("QUERIES DIFFER", not same), ("SLOW", not fast), ("TOO MANY OWN QUERIES", not few),
                                 ("p50 > 10× bare", not near)) if bad)
            ok &= same and fast and few and near
            print(f"{label:<42} {l['rows']:>5} {concern_bench.fmt(s['queries'], l['queries'], '{}'):>9} "
                  f"{concern_bench.fmt(s['own'], l['own'], '{}'):>9} "
                  f"{concern_bench.fmt(s['p50'], l['p50']):>16} {concern_bench.fmt(s['p95'], l['p95']):>16} {target:>7}  {verdict}")
            if not same:
                for sql in l["sql"]:
                    print("    ", sql[:300])
    print("\nqueries: all statements of the request (session, sign-in and menu included); own: those the referral view"
          " asks itself (not the menu, badges or transaction brackets)")
    print(f"targets: same query counts at both sizes, own ≤ 15 (≤ {DETAIL_QUERIES} on a referral's or contact's page); lists and pages p95 ≤ {LIST_P95_MS} ms and p50 ≤ 10× the bare "
          f"page; statistics and CSV p95 ≤ {STATS_P95_MS} ms → {'MET' if ok else 'MISSED'}")
    return ok


def main():
    args = parse_args()
    server = os.environ.get("DATABASE_URL")
    if not server:
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/h_ref_bench")
    parts = urlsplit(server)
    if args.reuse:
        url = urlunsplit(parts._replace(path=f"/{args.database}"))
    else:
        url = concern_bench.recreate_database(server, args.database)
        print(f"database: {args.database} (recreated); migrating …", flush=True)
    concern_bench.setup_django(url)
    bench_urls()
    from django.conf import settings
    from django.urls import clear_url_caches

    settings.ROOT_URLCONF = __name__
    clear_url_caches()

    if args.reuse:
        world = World.__new__(World)
        from org.models import Service

        from org.models import Membership

        users = {m.service_id: m.user for m in Membership.objects.select_related("user")}
        world.sender = Service.objects.get(name=f"{World.SENDER_KINDS[0]} 0-0")
        world.coordinator = Service.objects.get(name="Rustjeneste 0-0")
        world.target = Service.objects.get(name="Tilbud 0-0")
        world.sender_user, world.coordinator_user, world.target_user = (users[s.pk] for s in (world.sender, world.coordinator, world.target))
        small = None
    else:
        world = World()
        seeder = Seeder(world)
        t = time.perf_counter()
        seeder.seed(args.small, only_pair=True, recent=True)
        vacuum()
        print(f"seeded {args.small} referrals in {time.perf_counter() - t:.1f}s: {counts(world)}", flush=True)
        the_pages = pages(world)
        small = {p.label: measure(p, args.requests) for p in the_pages}
        t = time.perf_counter()
        seeder.seed(args.referrals - args.small)
        vacuum()
        print(f"seeded {args.referrals - args.small} more in {time.perf_counter() - t:.1f}s", flush=True)
    print(f"rows: {counts(world)}", flush=True)
    the_pages = pages(world) if small is None else the_pages
    large = {p.label: measure(p, args.requests) for p in the_pages}
    explain(world)
    print("\nCSV exports streamed (peak Python memory while streaming the whole export):")
    for p in the_pages:
        if p.kind == "csv":
            peak, size = csv_memory(p)
            print(f"  {p.label}: {size} bytes, peak {peak:.0f} KiB")
    bare_p50 = large["bare Django list (baseline)"][0]["p50"]
    ok = report(args, the_pages, small, large, bare_p50)
    if args.drop:
        from django.db import connections

        connections.close_all()
        import psycopg
        from psycopg import sql

        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(args.database)))
        print(f"dropped {args.database}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
