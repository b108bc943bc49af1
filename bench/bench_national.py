#!/usr/bin/env python
"""Benchmark every list, detail, statistics and export page at national scale (issue 14).

Run by hand (pytest does not collect it), under the shared lock:

    flock /tmp/heavy.lock env DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_national \\
        .venv/bin/python bench/bench_national.py --explain            # seed once (~20 min), then measure
    ... bench/bench_national.py --reuse --explain                     # measure the kept seed again

DATABASE_URL names the PostgreSQL server and the full-size database (default ``h_national``); the
small database is ``<name>_small`` (always reseeded: seconds). Both are seeded through the real
shapes by the existing seeders, imported: bench_concern_lists (Seeder: concerns, their guardian
grants, deadlines, person records, notifications), bench_task_pages (TaskSeeder: the concern flow's
viewflow processes and tasks) and bench_referral_lists (Seeder: referrals, contacts, grants,
disclosures, events, deadlines, processes), on one organisation of 200 services in 10
municipalities (``World`` below: per municipality 7 barnehager, 3 skoler, 2 barnevern, 2 substance
service coordinators, NAV, a health clinic, 3 catalogue services and the privacy function). On top,
in bulk SQL or COPY: the referral flow's viewflow tasks, reminders of the deadlines, consents (a
person with 3 and one with 100 among them), access requests, and the access log (hash-chained: each
row's prev_hash is the row before's row_hash, as ``manage.py audit_verify`` checks). Then the youth
contracts and individual plans of bench_process_pages (its docstring: 20,000 contracts and 100,000
plans, the measured services' through the services, the national volume copied in bulk from
prototypes made through the services), on four more services per municipality (police, school
health service, psykisk helse og rus, tildelingskontor).

Sizes: ``--small`` concerns (referrals 0.3×, access-log rows 10×) between the measured services only;
``--full`` concerns across all (default 1,000,000 concerns, 300,000 referrals, 10,000,000 access-log
rows; ``--referrals`` and ``--access-log`` override). ``--reuse`` skips seeding the full database when
it already holds that seed (a marker table records what was seeded), so one seed serves many runs;
the processes' rows have their own marker (``--youth-contracts``, ``--plans``): a reused database
seeded without them gets them added (minutes), one seeded with other sizes is refused.

Each size is measured in its own process (so no cache or connection crosses databases), through
Django's test client, as the persona who uses each page: queries per request (all statements but
transaction brackets), p50/p95 of the time Django takes to answer (page 1, and page 2 through the
page's own link for lists), and with ``--explain`` the EXPLAIN ANALYZE of each page's slowest
statement at full size and the statements a page repeats. It prints one table with a verdict per
page against the targets of issue 14 (lists and details: p95 ≤ 150 ms and p50 ≤ 10× the bare page;
statistics, exports and dashboards: p95 ≤ 300 ms; queries equal at both sizes and ≤ 15), a bare
Django list of 25 concerns as the baseline, and the load average. ``--drop`` drops both databases.
"""
import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

import bench_concern_lists as concern_bench  # noqa: E402  (Seeder, database set-up, fmt, _p95)
import bench_process_pages as process_bench  # noqa: E402  (the youth contracts and individual plans)
import bench_referral_lists as referral_bench  # noqa: E402  (Seeder of referrals)
import bench_task_pages as task_bench  # noqa: E402  (TaskSeeder: the concern flow's processes and tasks)

LIST_P95_MS = 150
STATS_P95_MS = 300
MAX_QUERIES = 15
BARE_FACTOR = 10
PAGE_BUDGET_MS = 6_000  # timed requests per page stop after this much (at least 5)
PASSWORD = "national-bench-2026"
BRACKETS = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=200, help="concerns in the small database (referrals 0.3×, log rows 10×)")
    parser.add_argument("--full", type=int, default=1_000_000, help="concerns in the full database")
    parser.add_argument("--referrals", type=int, default=None, help="referrals in the full database (default 0.3 × --full)")
    parser.add_argument("--access-log", type=int, default=None, help="access-log rows in the full database (default 10 × --full)")
    parser.add_argument("--youth-contracts", type=int, default=20_000, help="youth contracts in the full database (bench_process_pages)")
    parser.add_argument("--plans", type=int, default=100_000, help="individual plans in the full database (bench_process_pages)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page at full size")
    parser.add_argument("--small-requests", type=int, default=5, help="timed requests per page at the small size")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each page's slowest statement at full size")
    parser.add_argument("--reuse", action="store_true", help="do not reseed the full database when it holds this seed")
    parser.add_argument("--drop", action="store_true", help="drop both databases at the end")
    parser.add_argument("--only", default="", help="measure only pages whose label contains this text (or one of several, separated by |)")
    parser.add_argument("--info", default="", help="write the personas and ids of the full database to this JSON file")
    parser.add_argument("--ready", default="", help="touch this file once the full database is seeded")
    # Internal: one phase in a child process.
    parser.add_argument("--phase", choices=["seed", "seed-processes", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--pair", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def db_url(server: str, name: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def admin_connect(server: str):
    import psycopg

    return psycopg.connect(db_url(server, "postgres"), autocommit=True)


# --- the organisation -----------------------------------------------------------------------------

class World:
    """10 municipalities × 20 services, serving both seeders (their World attributes), with the personas.

    Per municipality: 7 barnehager and 3 skoler report concerns to 2 barnevern services; 2 substance
    service coordinators route referrals; NAV, a health clinic, the barnevern services and the
    coordinators send referrals to 3 catalogue services; 1 privacy function. The first municipality
    is a city: its services report and send five times as much. Each service has one staff member;
    the measured sender and barnevern service also have a leader.
    """

    KINDS = (["barnehage"] * 7 + ["skole"] * 3 + ["barnevern"] * 2 + ["rustjeneste"] * 2 + ["nav", "helsestasjon"]
             + ["other", "ppt", "other"] + ["personvern"])

    def __init__(self):
        from django.contrib.auth import get_user_model

        from org.models import Membership, Municipality, Service
        from org.permissions import service_group
        from org.services import membership_set
        from referrals.models import CatalogueEntry, ReferralKind

        from django.contrib.auth.hashers import make_password

        User = get_user_model()
        password = make_password(PASSWORD)  # hashed once: PBKDF2 per persona costs seconds
        self.municipalities, self.staff = [], {}
        self.reporters, self.receivers = [], []  # the concern Seeder's
        self.senders, self.coordinators, self.targets = [], [], []  # the referral Seeder's
        self.privacy = []
        for m in range(10):
            muni = Municipality.objects.create(name=f"Nasjonal kommune {m}", number=f"{9200 + m}")
            by_kind = {}
            for i, kind in enumerate(self.KINDS):
                service = Service.objects.create(municipality=muni, name=f"{kind} {m}-{i:02d}", kind=kind)
                service_group(service)
                service.refresh_from_db()
                user = User.objects.create_user(username=f"nat-{kind}-{m}-{i:02d}", email="")
                if m == 0:
                    User.objects.filter(pk=user.pk).update(password=password)
                membership_set(user=user, service=service, role=Membership.Role.STAFF)
                self.staff[service.pk] = user
                by_kind.setdefault(kind, []).append(service)
                if kind in ("other", "ppt"):
                    entry = CatalogueEntry.objects.create(service=service, description=f"Tilbud {i} i benchmark.",
                                                          accepts=list(ReferralKind.values), min_age=None, max_age=None)
                    entry.areas.add(muni)
            weight = 5 if m == 0 else 1
            bv = by_kind["barnevern"]
            self.reporters += [(s, weight, bv) for s in by_kind["barnehage"] + by_kind["skole"]]
            self.receivers += bv
            coords, targets = by_kind["rustjeneste"], by_kind["other"] + by_kind["ppt"]
            self.coordinators += coords
            self.targets += targets
            self.senders += [(s, weight, coords, targets) for s in by_kind["nav"] + by_kind["helsestasjon"] + bv + coords]
            self.privacy += by_kind["personvern"]
            self.municipalities.append(muni)
        # The measured services: the city's first of each (concern Seeder and referral Seeder names).
        self.barnehage = self.reporters[0][0]
        self.barnevern = self.reporters[0][2][0]
        self.sender = self.senders[0][0]
        self.coordinator = self.coordinators[0]
        self.target = self.targets[0]
        self.barnehage_user = self.staff[self.barnehage.pk]
        self.barnevern_user = self.staff[self.barnevern.pk]
        self.sender_user = self.staff[self.sender.pk]
        self.coordinator_user = self.staff[self.coordinator.pk]
        self.target_user = self.staff[self.target.pk]
        self.privacy_user = self.staff[self.privacy[0].pk]
        self.leaders = {}
        for label, service in (("sender", self.sender), ("barnevern", self.barnevern)):
            leader = User.objects.create_user(username=f"nat-leader-{label}", email="")
            User.objects.filter(pk=leader.pk).update(password=password)
            membership_set(user=leader, service=service, role=Membership.Role.LEADER)
            self.leaders[label] = leader


# --- seeding ----------------------------------------------------------------------------------------

def _reserve_ids(table: str, n: int) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
        return sorted(r[0] for r in cursor.fetchall())


def _copy(table: str, columns: str, rows):
    from django.db import connection

    with connection.connection.cursor() as cur:
        with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


class FastConcernSeeder(task_bench.TaskSeeder):
    """bench_task_pages.TaskSeeder (bench_concern_lists.Seeder's concerns, grants, deadlines, person
    records and notifications, plus the flow's processes and tasks) with the same rows written by
    COPY from tuples instead of model instances: at 1,000,000 concerns (about 10,000,000 rows) the
    ORM's per-object cost alone would take most of an hour on this machine. The statuses,
    timestamps and deadlines come from the Seeder's own _lifecycle."""

    def _persons(self, count):
        from django.utils import timezone

        first = ["Emma", "Noah", "Nora", "Jakob", "Sofie", "Lucas", "Olivia", "Filip", "Ella", "William"]
        ids = _reserve_ids("people_person", count)
        now, muni = timezone.now(), self.world.municipalities[0].pk
        _copy("people_person", "id, code, given_name, family_name, id_kind, created_at, municipality_id",
              ((pk, uuid.uuid4(), self.rng.choice(first), f"Bench{len(self.persons) + i}", "none", now, muni) for i, pk in enumerate(ids)))
        self.persons += ids

    def _insert(self, picks, *, recent):
        from django.db import transaction
        from psycopg.types.json import Jsonb

        from notifications.models import Reminder
        from referrals.models import Concern

        rng, now = self.rng, self.now
        if not hasattr(self, "records_seen"):
            self.records_seen = set()
        categories = list(Concern.Category.values)
        urgencies = list(Concern.Urgency.values)
        ids = _reserve_ids("referrals_concern", len(picks))
        concerns, perms, deadlines, records, notes = [], [], [], [], []
        ct = self.ct.pk
        view_status, handle = self.perm["view_concern_status"].pk, self.perm["handle_concern"].pk
        for (reporting, receiving), pk in zip(picks, ids):
            age_days = rng.uniform(0, 30) if recent else rng.uniform(0, 3 * 365)
            created = now - timedelta(days=age_days)
            melding = rng.random() < 0.85
            statuses = self.MELDING_STATUSES if melding else self.CONSULTATION_STATUSES
            status = rng.choices([s for s, _ in statuses], weights=[w for _, w in statuses])[0]
            if age_days > 120 and status in ("draft", "submitted", "received", "investigating"):
                if rng.random() < 0.9:
                    status = rng.choice(["closed", "investigated"]) if melding else "answered"
            fields, plan = self._lifecycle(created, melding, status)
            person = rng.choice(self.persons) if melding else None
            next_deadline = min((d["due_at"] for d in plan if d["met_at"] is None and d["cancelled_at"] is None), default=None)
            concerns.append((
                pk, uuid.uuid4(), "melding" if melding else "consultation", status, None if melding else rng.randint(1, 17),
                "Observasjon i benchmark.", Jsonb([rng.choice(categories)]), True if melding else None, True if melding else None, "",
                rng.choices(urgencies, weights=[90, 8, 2])[0], "barnevernsloven § 13-2" if melding and status != "draft" else "",
                created, created, fields.get("submitted_at"), fields.get("received_at"), fields.get("advice", ""),
                fields.get("answered_at"), fields.get("review_decision", ""), "", fields.get("reviewed_at"), "",
                fields.get("investigation_outcome", ""), "", fields.get("investigation_ended_at"), next_deadline,
                self.world.staff[reporting.pk].pk, person, receiving.pk, reporting.pk,
            ))
            perms.append((view_status, ct, str(pk), self.groups[reporting.pk]))
            if status != "draft":
                perms.append((handle, ct, str(pk), self.groups[receiving.pk]))
            for d in plan:
                deadlines.append((d["policy"].pk, ct, pk, receiving.pk, d["starts_at"], d["due_at"], d["met_at"], d["cancelled_at"], ""))
            if person is not None and (person, reporting.pk) not in self.records_seen:
                self.records_seen.add((person, reporting.pk))
                records.append((person, reporting.pk, "Bench", f"Child{person}", created, created))
            if fields.get("submitted_at"):
                notes.append((self.world.staff[receiving.pk].pk, Reminder.Kind.INFO.value, "Ny bekymring", "", "", "",
                              fields["submitted_at"], None if rng.random() < 0.05 else fields["submitted_at"]))
            if fields.get("received_at"):
                notes.append((self.world.staff[reporting.pk].pk, Reminder.Kind.INFO.value, "Mottatt", "", "", "",
                              fields["received_at"], None if rng.random() < 0.05 else fields["received_at"]))
        with transaction.atomic():
            _copy("referrals_concern", "id, code, kind, status, child_age, observations, categories, parents_informed, child_informed,"
                  " not_informed_reason, urgency, legal_basis, created_at, updated_at, submitted_at, received_at, advice, answered_at,"
                  " review_decision, review_justification, reviewed_at, investigation_extension_reason, investigation_outcome,"
                  " investigation_summary, investigation_ended_at, next_deadline_at, created_by_id, person_id, receiving_service_id,"
                  " reporting_service_id", concerns)
            _copy("guardian_groupobjectpermission", "permission_id, content_type_id, object_pk, group_id", perms)
            _copy("workflows_deadline", "policy_id, subject_type_id, subject_id, responsible_service_id, starts_at, due_at, met_at,"
                  " cancelled_at, extension_reason", deadlines)
            _copy("people_personrecord", "person_id, service_id, given_name, family_name, created_at, updated_at", records)
            _copy("notifications_notification", "user_id, kind, message, url, reference, topic, created_at, read_at", notes)
        self._processes()


class ReferralTaskSeeder(referral_bench.Seeder):
    """The referral Seeder, plus each new referral's viewflow tasks as the referral flow leaves them
    (COPY per chunk): the start, each human step done or open (in the queue of the service the flow
    names, every tenth assigned to its staff member), the end once closed."""

    ASSIGNED_EVERY = 10

    def __init__(self, world, seed=7):
        from django.contrib.contenttypes.models import ContentType
        from viewflow.workflow.models import Process

        from org.models import Service
        from workflows.flows.referral import ReferralFlow

        super().__init__(world, seed=seed)
        self.service_ct = ContentType.objects.get_for_model(Service).pk
        self.flow = Process._meta.get_field("flow_class").get_prep_value(ReferralFlow)
        self.last_process = 0
        self.open_tasks = 0
        self.tasks = 0

    def _insert(self, picks, persons, *, recent):
        super()._insert(picks, persons, recent=recent)
        self._tasks()

    def _tasks(self):
        from django.db import connection, transaction

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.process_ptr_id, r.status, r.routing_service_id, r.target_service_id, r.sent_at, r.closed_at"
                " FROM workflows_referralprocess p JOIN referrals_referral r ON r.id = p.referral_id"
                " WHERE p.process_ptr_id > %s ORDER BY p.process_ptr_id", [self.last_process])
            rows = cursor.fetchall()
        if not rows:
            return
        self.last_process = rows[-1][0]
        tasks = []
        for row in rows:
            tasks += self._flow_tasks(*row)
        with transaction.atomic():
            with connection.connection.cursor() as cur:
                with cur.copy(
                    "COPY viewflow_task (flow_task, flow_task_type, status, created, assigned, started, finished, token, owner_id,"
                    " owner_permission, owner_permission_content_type_id, owner_permission_obj_pk, process_id, data) FROM STDIN"
                ) as copy:
                    for row in tasks:
                        copy.write_row((*row, "{}"))
        self.tasks += len(tasks)

    def _flow_tasks(self, pid, status, routing, target, sent, closed):
        flow, staff = self.flow, self.world.staff
        rows = [(f"{flow}.start", "START", "DONE", sent, None, sent, sent, "start", None, None, None, None, pid)]
        at = [sent]

        def step(name, service, done):
            perm = ("org.handle_concerns", self.service_ct, str(service))
            created = at[0]
            if done:
                at[0] = min(created + timedelta(hours=2), closed or self.now)
                rows.append((f"{flow}.{name}", "HUMAN", "DONE", created, at[0], at[0], at[0], "start", staff[service].pk, *perm, pid))
            elif status == "cancelled":
                rows.append((f"{flow}.{name}", "HUMAN", "CANCELED", created, None, None, closed, "start", None, *perm, pid))
            else:
                self.open_tasks += 1
                if self.open_tasks % self.ASSIGNED_EVERY == 0:
                    rows.append((f"{flow}.{name}", "HUMAN", "ASSIGNED", created, created, None, None, "start", staff[service].pk, *perm, pid))
                else:
                    rows.append((f"{flow}.{name}", "HUMAN", "NEW", created, None, None, None, "start", None, *perm, pid))
            return done

        def end():
            rows.append((f"{flow}.end", "END", "DONE", closed, None, closed, closed, "start", None, None, None, None, pid))
            return rows

        if routing and not step("route", routing, target is not None and status != "cancelled"):
            return rows
        if not step("receive", target, status not in ("requested", "cancelled")):
            return rows
        if not step("decide", target, status not in ("received", "cancelled")):
            return rows
        if status == "rejected":
            return end()
        if not step("close", target, status in ("completed", "failed")):
            return rows
        return end()


class FastReferralSeeder(ReferralTaskSeeder):
    """ReferralTaskSeeder with bench_referral_lists.Seeder's rows written by COPY from tuples (as
    FastConcernSeeder): the same statuses, contacts, grants, disclosures, processes, events,
    deadlines and person records, drawn the same way."""

    forced_rows = False
    young_adults: list = []

    def _persons(self, count):
        from django.utils import timezone

        first = ["Emma", "Noah", "Nora", "Jakob", "Sofie", "Lucas", "Olivia", "Filip", "Ella", "William"]
        now = timezone.now()
        today = now.date()
        ids = _reserve_ids("people_person", count)
        rng, muni = self.rng, self.world.municipalities[0].pk
        births = {pk: today - timedelta(days=rng.randint(14 * 365, 70 * 365)) if rng.random() < 0.8 else None for pk in ids}
        self.young_adults = [pk for pk, born in births.items() if born and 18 * 365 + 5 <= (today - born).days <= 25 * 365]
        _copy("people_person", "id, code, given_name, family_name, id_kind, birth_date, created_at, municipality_id",
              ((pk, uuid.uuid4(), rng.choice(first), f"Bench{pk}", "none", births[pk], now, muni) for pk in ids))
        return ids

    # The small database's guaranteed rows: (status, queued at the coordinator, a person aged 18–25). With only
    # 60 referrals drawn at random the coordinator's inbox and its filtered list ("completed", 18–25) can be
    # empty, and an empty page skips the naming queries a full page makes; these rows make both pages list
    # rows at the small size too, so their query counts compare like with like.
    FORCED_FOR_PAIR = [("requested", True, False)] * 12 + [("completed", False, True)] * 12

    def _insert(self, picks, persons, *, recent):
        from django.db import transaction
        from viewflow.workflow.models import Process

        from referrals.models import ReferralKind
        from workflows.flows.referral import ReferralFlow

        rng, now = self.rng, self.now
        if not hasattr(self, "records_seen"):
            self.records_seen = set()
        flow = Process._meta.get_field("flow_class").get_prep_value(ReferralFlow)
        kinds = list(ReferralKind.values)
        ids = _reserve_ids("referrals_referral", len(picks))
        pids = _reserve_ids("viewflow_process", len(picks))
        n_contacts = 0
        contacts, referrals, perms, disclosures, processes, links, events, deadlines, records = ([] for _ in range(9))
        plan = []
        forced = list(self.FORCED_FOR_PAIR) if self.forced_rows else []
        self.forced_rows = False  # once, in the first chunk
        for (sender, coordinator, target), pk, pid in zip(picks, ids, pids):
            age_days = rng.uniform(0, 20) if recent else rng.uniform(0, 3 * 365)
            created = now - timedelta(days=age_days)
            status = rng.choices([s for s, _ in self.STATUSES], weights=[w for _, w in self.STATUSES])[0]
            if age_days < 30 and rng.random() < 0.6:
                status = rng.choice(["requested", "received", "accepted", "in-progress"])
            routed = rng.random() < 0.3
            queued = routed and status == "requested" and rng.random() < 0.5
            person = rng.choice(persons)
            if forced:
                status, queued, young = forced.pop()
                routed = True
                if young and self.young_adults:
                    person = rng.choice(self.young_adults)
            staff = self.world.staff[sender.pk].pk
            contact = None
            if rng.random() < 0.7:
                contact = len(contacts)
                contacts.append([None, uuid.uuid4(), "Kontakt i benchmark.", created - timedelta(minutes=30), staff, person, sender.pk])
            if rng.random() < 0.2:  # a contact that was never referred on
                contacts.append([None, uuid.uuid4(), "Kontakt i benchmark.", created - timedelta(days=1), staff, person, sender.pk])
            closed = created + timedelta(days=rng.uniform(2, 60)) if status not in self.OPEN else None
            if closed and closed > now:
                closed = now
            deadline = None
            if status == "requested":
                step = "routing" if queued else "answer"
                deadline = (step, created, self.policies[step].due_from(created))
            elif status == "received":
                deadline = ("answer", created, self.policies["answer"].due_from(created))
            routing = coordinator.pk if routed else None
            target_id = None if queued else target.pk
            plan.append((pk, pid, contact, person, sender.pk, staff, rng.choice(kinds), routing, target_id, status, created, closed, deadline))
        contact_ids = _reserve_ids("referrals_contact", len(contacts)) if contacts else []
        for row, cid in zip(contacts, contact_ids):
            row[0] = cid
            perms.append((self.perm["handle_contact"].pk, self.contact_ct.pk, str(cid), self.groups[row[6]]))
            records.append((row[5], row[6]))
        for pk, pid, contact, person, sender, staff, kind, routing, target, status, created, closed, deadline in plan:
            referrals.append((pk, uuid.uuid4(), kind, "Henvisning i benchmark.", status, "", "", "", created, closed or created, created,
                              closed, deadline[2] if deadline else None, contact_ids[contact] if contact is not None else None, staff,
                              person, routing, sender, target))
            grant = [(sender, "view_referral_status")]
            if routing:
                grant.append((routing, "route_referral"))
            if target:
                grant.append((target, "handle_referral"))
            for service_id, codename in grant:
                perms.append((self.perm[codename].pk, self.ct.pk, str(pk), self.groups[service_id]))
                if codename != "view_referral_status":
                    disclosures.append((pk, "statutory", "Benchmark § 1", "henvisning", f"referrals.{codename}", created, staff, sender,
                                        person, self.ct.pk, service_id, "", "in_force"))
            processes.append((pid, flow, "DONE" if closed else "NEW", created, closed, "{}"))
            links.append((pid, pk))
            events.append(("requested", "", created, pk, sender))
            if status != "requested":
                events.append((status, "", closed or created, pk, target or sender))
            if deadline:
                step, start, due = deadline
                deadlines.append((self.policies[step].pk, self.ct.pk, pk, target or routing, start, due, None, None, ""))
            records.append((person, sender))
        new_records = []
        for person, service in records:
            if (person, service) not in self.records_seen:
                self.records_seen.add((person, service))
                new_records.append((person, service, "Bench", f"Person{person}", now, now))
        with transaction.atomic():
            _copy("referrals_contact", "id, code, summary, created_at, created_by_id, person_id, service_id", contacts)
            _copy("referrals_referral", "id, code, kind, reason, status, status_reason, outcome, receiver_notes, created_at, updated_at,"
                  " sent_at, closed_at, next_deadline_at, contact_id, created_by_id, person_id, routing_service_id, sender_service_id,"
                  " target_service_id", referrals)
            _copy("guardian_groupobjectpermission", "permission_id, content_type_id, object_pk, group_id", perms)
            _copy("consent_disclosure", "subject_id, basis, legal_reference, purpose, permission, disclosed_at, disclosed_by_id,"
                  " from_service_id, person_id, subject_type_id, to_service_id, decision_note, status", disclosures)
            _copy("viewflow_process", "id, flow_class, status, created, finished, data", processes)
            _copy("workflows_referralprocess", "process_ptr_id, referral_id", links)
            _copy("referrals_referralevent", "status, reason, at, referral_id, service_id", events)
            _copy("workflows_deadline", "policy_id, subject_type_id, subject_id, responsible_service_id, starts_at, due_at, met_at,"
                  " cancelled_at, extension_reason", deadlines)
            _copy("people_personrecord", "person_id, service_id, given_name, family_name, created_at, updated_at", new_records)
        self._tasks()


def seed_extras(world, *, full: bool, log_rows: int):
    """Reminders, consents, access requests and the access log, in bulk; returns the ids the pages need."""
    from django.db import connection, transaction
    from django.utils import timezone

    from consent.models import AccessRequest, Consent
    from referrals.models import Concern, Referral

    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        # Reminders: one per open deadline (sent once due), and the cancelled ones of deadlines met in
        # the last 60 days, as the sweep and the services leave them.
        cursor.execute("""
            INSERT INTO notifications_reminder (key, obligation, kind, message, service_id, audience, subject_type_id, subject_id,
                required_perm, url, reference, topic, deadline_at, due_at, claimed_until, attempts, sent_at, cancelled_at, created_at)
            SELECT 'deadline:' || d.id || ':staff:app', 'deadline:' || d.id, 'reminder', 'Frist nærmer seg', d.responsible_service_id,
                'staff', d.subject_type_id, d.subject_id,
                CASE WHEN ct.model = 'concern' THEN 'referrals.handle_concern' ELSE 'referrals.handle_referral' END,
                '', '', '', d.due_at, d.due_at - interval '1 day', NULL, CASE WHEN d.due_at - interval '1 day' < now() THEN 1 ELSE 0 END,
                CASE WHEN d.met_at IS NULL AND d.due_at - interval '1 day' < now() THEN d.due_at - interval '1 day' END,
                CASE WHEN d.met_at IS NOT NULL THEN d.met_at END, d.starts_at
            FROM workflows_deadline d JOIN django_content_type ct ON ct.id = d.subject_type_id
            WHERE d.cancelled_at IS NULL AND (d.met_at IS NULL OR d.met_at > now() - interval '60 days')
        """)
        reminders = cursor.rowcount
        # Consents: one for every tenth referral with a receiving service (given to the sender, shared
        # with the receiver), ids taken ahead so the grantees can follow.
        cursor.execute("""
            CREATE TEMP TABLE bench_consent ON COMMIT DROP AS
            SELECT nextval(pg_get_serial_sequence('consent_consent', 'id')) AS cid, r.person_id, r.sender_service_id,
                   r.target_service_id, r.created_by_id, r.sent_at
            FROM referrals_referral r WHERE r.id % 10 = 0 AND r.target_service_id IS NOT NULL
        """)
        cursor.execute("""
            INSERT INTO consent_consent (id, code, person_id, domain, given_by_person, purpose, information, valid_from, valid_to,
                method, recorded_by_id, recorded_by_service_id, recorded_at, withdrawn_at, withdrawn_by_id, withdrawal_note)
            SELECT cid, gen_random_uuid(), person_id, 'health', true, 'referral', 'Samtykke i benchmark.', sent_at::date, NULL,
                'signed', created_by_id, sender_service_id, sent_at, NULL, NULL, ''
            FROM bench_consent
        """)
        consents = cursor.rowcount
        cursor.execute("INSERT INTO consent_consent_grantees (consent_id, service_id) SELECT cid, target_service_id FROM bench_consent")

    # The consents page's two persons: people the measured sender referred, with 3 and with 100 consents.
    referred = list(dict.fromkeys(Referral.objects.filter(sender_service=world.sender, target_service__isnull=False)
                                  .order_by("-id").values_list("person_id", flat=True)[:200]))
    few_person, many_person = referred[0], referred[1]
    Consent.objects.filter(person_id__in=[few_person, many_person]).update(person_id=referred[2])
    made = []
    for person_id, n in ((few_person, 3), (many_person, 100)):
        for i in range(n):
            made.append(Consent(person_id=person_id, domain="health", given_by_person=True, purpose="referral",
                                information=f"Samtykke {i + 1} i benchmark.", valid_from=(now - timedelta(days=i)).date(),
                                method="signed", recorded_by=world.sender_user, recorded_by_service=world.sender,
                                withdrawn_at=now - timedelta(days=1) if i % 7 == 6 else None,
                                withdrawn_by=world.sender_user if i % 7 == 6 else None))
    Consent.objects.bulk_create(made)
    Grantee = Consent.grantees.through
    Grantee.objects.bulk_create([Grantee(consent_id=c.pk, service_id=world.targets[i % len(world.targets)].pk)
                                 for i, c in enumerate(made)])
    requests = AccessRequest.objects.bulk_create([
        AccessRequest(reference=f"2026/{i}", person_id=many_person if i == 0 else few_person, received_on=now.date(),
                      due_on=(now + timedelta(days=30)).date(), registered_by=world.privacy_user,
                      registered_by_service=world.privacy[0]) for i in range(2)])
    with connection.cursor() as cursor:
        # What consent_record grants: the recording service's group manages the consent.
        cursor.execute("""
            INSERT INTO guardian_groupobjectpermission (permission_id, content_type_id, object_pk, group_id)
            SELECT p.id, ct.id, c.id::text, s.group_id
            FROM consent_consent c JOIN org_service s ON s.id = c.recorded_by_service_id
            JOIN django_content_type ct ON ct.app_label = 'consent' AND ct.model = 'consent'
            JOIN auth_permission p ON p.content_type_id = ct.id AND p.codename = 'manage_consent'
        """)
    concern = (Concern.objects.filter(reporting_service=world.barnehage, receiving_service=world.barnevern, status="investigating")
               .order_by("-id").first()
               or Concern.objects.filter(reporting_service=world.barnehage, receiving_service=world.barnevern).exclude(status="draft")
               .order_by("-id").first())
    referral = Referral.objects.filter(sender_service=world.sender, target_service=world.target).order_by("-id").first()
    access_log_seed(world, log_rows, persons=(few_person, many_person), concern=concern)
    return dict(
        reminders=reminders, consents=consents + 103, concern_id=concern.pk, referral_id=referral.pk,
        few_person=few_person, many_person=many_person, access_request=requests[0].pk,
    )


NULL = "\\N"  # COPY's NULL
ACCESS_PURPOSES = ["concern detail", "referral detail", "intake list", "referral list", "consents of the person",
                   "contact detail", "task list"]


def access_log_seed(world, rows: int, *, persons, concern, chunk=200_000):
    """``rows`` access-log rows appended to the chain by COPY: ids after the head, each row's
    prev_hash the row before's row_hash (audit.chain.row_hash, checked against the module for the
    first row of every chunk). The log's secondary indexes are dropped during the COPY and rebuilt
    after it, and foreign keys are not checked row by row (session_replication_role = replica: the
    values come from the tables themselves)."""
    import hashlib

    from django.db import connection
    from django.utils import timezone

    from audit import chain

    if rows <= 0:
        return
    rng = random.Random(99)
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM people_person")
        pmin, pmax = cursor.fetchone()
        cursor.execute("SELECT min(id), max(id) FROM referrals_concern")
        cmin, cmax = cursor.fetchone()
        cursor.execute("SELECT min(id), max(id) FROM referrals_referral")
        rmin, rmax = cursor.fetchone()
        cursor.execute("SELECT id, row_hash FROM audit_accesslog ORDER BY id DESC LIMIT 1")
        head = cursor.fetchone()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_accesslog' AND indexname NOT LIKE '%%pkey'")
        indexes = cursor.fetchall()
    last_id, prev = (head[0], head[1]) if head else (0, chain.GENESIS)
    staff = list(world.staff.items())  # (service id, user)
    now = timezone.now()
    start = now - timedelta(days=3 * 365)
    step = (now - timedelta(hours=1) - start) / rows
    special = set(persons)
    t = time.perf_counter()
    raw = connection.connection
    with raw.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET maintenance_work_mem = '512MB'")
        for name, _definition in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        done = 0
        while done < rows:
            n = min(chunk, rows - done)
            lines = []
            for k in range(n):
                i = done + k
                row_id = last_id + 1 + i
                at = (start + step * i).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
                service_id, user = staff[rng.randrange(len(staff))]
                r = rng.random()
                if r < 0.55:
                    object_type, object_id = "referrals.concern", rng.randint(cmin, cmax) if cmin else 1
                elif r < 0.85:
                    object_type, object_id = "referrals.referral", rng.randint(rmin, rmax) if rmin else 1
                else:
                    object_type, object_id = "people.person", 0
                person = rng.randint(pmin, pmax)
                if i % 20_000 < 2:  # the measured persons: a few hundred rows each at full size
                    person = persons[i % 2]
                elif i % 20_000 < 4:  # and the measured concern (its log page)
                    object_type, object_id, person = "referrals.concern", concern.pk, concern.person_id
                elif person in special:
                    person += 1
                if object_type == "people.person":
                    object_id = person
                action = "view" if r < 0.97 else ("update" if r < 0.99 else "export")
                purpose = ACCESS_PURPOSES[int(r * 1000) % len(ACCESS_PURPOSES)]
                via = "break_glass" if rng.random() < 0.001 else "role"
                pj, pc = ("null", NULL) if person is None else (person, person)
                content = (f'{{"action":"{action}","at":"{at}","changes":{{}},"id":{row_id},"object_id":{object_id},'
                           f'"object_type":"{object_type}","person_id":{pj},"purpose":"{purpose}",'
                           f'"service_id":{service_id},"user_id":{user.pk},"via":"{via}"}}')
                if k == 0:
                    from datetime import datetime

                    values = dict(id=row_id, at=datetime.fromisoformat(at), user_id=user.pk, service_id=service_id, action=action,
                                  object_type=object_type, object_id=object_id, person_id=person, purpose=purpose, via=via, changes={})
                    assert chain.canonical(values) == content, (chain.canonical(values), content)
                row_hash = hashlib.sha256((prev + content).encode()).hexdigest()
                lines.append(f"{row_id}\t{at}\t{user.pk}\t{service_id}\t{action}\t{object_type}\t{object_id}\t{pc}\t{purpose}\t{via}\t{{}}\t{prev}\t{row_hash}\n")
                prev = row_hash
            with cur.copy("COPY audit_accesslog (id, at, user_id, service_id, action, object_type, object_id, person_id, purpose,"
                          " via, changes, prev_hash, row_hash) FROM STDIN") as copy:
                copy.write("".join(lines))
            done += n
            if done % 2_000_000 < chunk:
                print(f"  access log: {done} rows in {time.perf_counter() - t:.0f}s", flush=True)
        cur.execute("SELECT setval(pg_get_serial_sequence('audit_accesslog', 'id'), %s)", [last_id + rows])
        for _name, definition in indexes:
            cur.execute(definition)
        cur.execute("SET session_replication_role = DEFAULT")
    raw.commit() if not raw.autocommit else None
    print(f"  access log: {rows} rows and their indexes in {time.perf_counter() - t:.0f}s", flush=True)


TEMPLATE = "h_nat_template"  # the template of h_national; any other full database ``<name>`` has ``<name>_template``


def template_name(name: str) -> str:
    """The migrated template a database (full or ``_small``) is copied from."""
    full = name.removesuffix("_small")
    return TEMPLATE if full == "h_national" else f"{full}_template"


def migrated_copy(server: str, name: str):
    """Set Django up on a new database ``name``, a copy of a migrated template (migrating a new
    database takes minutes on a busy 2-core machine; the template is migrated once, then only
    brought up to date)."""
    from psycopg import sql

    template = template_name(name)
    with admin_connect(server) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
    concern_bench.setup_django(db_url(server, template))  # migrates the template
    from django.conf import settings
    from django.db import connection, connections

    connections.close_all()
    with admin_connect(server) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name
    os.environ["DATABASE_URL"] = db_url(server, name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone()[0] == name
        cursor.execute("SET synchronous_commit TO off")


def bulk_mode():
    """Bulk inserts without a row-by-row foreign-key check (session_replication_role = replica): the
    seeders take every key from the rows they made. Only when no trigger but the access log's
    append-only guard exists (a trigger that maintained data would be skipped too)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname <> 'audit_accesslog_append_only'")
        others = [r[0] for r in cursor.fetchall()]
        if others:
            print(f"  triggers {others}: foreign keys checked row by row", flush=True)
            return
        cursor.execute("SET session_replication_role = replica")


def seed(args):
    """Phase: (re)create and seed ``args.db``; writes the marker and the personas/ids table."""
    server = os.environ["DATABASE_URL"]
    t0 = time.perf_counter()
    migrated_copy(server, args.db)
    from django.db import connection

    print(f"  {args.db} created from the migrated template in {time.perf_counter() - t0:.0f}s", flush=True)

    n_concerns, n_referrals, n_log = args.full, args.referrals, args.access_log
    world = World()
    bulk_mode()
    concerns = FastConcernSeeder(world)
    referrals = FastReferralSeeder(world)
    if args.pair:
        referrals.forced_rows = True
        referrals.ASSIGNED_EVERY = 2  # the coordinator's inbox lists the tasks assigned to the user
    t = time.perf_counter()
    concerns.seed(n_concerns, only_pair=args.pair, recent=args.pair, chunk=10_000)
    print(f"  concerns: {n_concerns} with processes and {concerns.tasks} tasks in {time.perf_counter() - t:.0f}s", flush=True)
    t = time.perf_counter()
    referrals.seed(n_referrals, only_pair=args.pair, recent=args.pair, chunk=10_000)
    print(f"  referrals: {n_referrals} with {referrals.tasks} tasks in {time.perf_counter() - t:.0f}s", flush=True)
    t = time.perf_counter()
    ids = seed_extras(world, full=not args.pair, log_rows=n_log)
    print(f"  reminders, consents, access log in {time.perf_counter() - t:.0f}s", flush=True)
    seed_process_rows(args)
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    print(f"  VACUUM ANALYZE in {time.perf_counter() - t:.0f}s", flush=True)
    personas = {
        "barnehage": world.barnehage_user.username, "barnevern": world.barnevern_user.username,
        "sender": world.sender_user.username, "coordinator": world.coordinator_user.username,
        "target": world.target_user.username, "privacy": world.privacy_user.username,
        "leader_sender": world.leaders["sender"].username, "leader_barnevern": world.leaders["barnevern"].username,
    }
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_national_seed (concerns bigint, referrals bigint, access_log bigint, info jsonb,"
                       " seconds real, finished_at timestamptz DEFAULT now())")
        cursor.execute("INSERT INTO bench_national_seed VALUES (%s, %s, %s, %s, %s)",
                       [n_concerns, n_referrals, n_log, json.dumps(dict(personas=personas, **ids)), time.perf_counter() - t0])
    print(f"seeded {args.db} in {time.perf_counter() - t0:.0f}s: {table_counts()}", flush=True)


# The processes' rows at the small size: the measured services' (more than a list page, so page 2
# exists at both sizes) and one copy of the prototypes beyond them.
SMALL_PROCESS = dict(contracts=60, plans=80, measured_contracts=40, measured_plans=60)


def process_sizes(args) -> dict:
    """bench_process_pages.seed_processes' sizes for this database."""
    if args.pair:
        return SMALL_PROCESS
    # At national size 300 contracts and 500 plans in the measured services (bench_process_pages'
    # docstring); smaller trial sizes keep a twentieth, never fewer than the small database's.
    return dict(contracts=args.youth_contracts, plans=args.plans,
                measured_contracts=min(300, max(SMALL_PROCESS["measured_contracts"], args.youth_contracts // 20)),
                measured_plans=min(500, max(SMALL_PROCESS["measured_plans"], args.plans // 20)))


def seed_process_rows(args):
    """The youth contracts and individual plans (bench_process_pages), with their own marker."""
    from django.contrib.auth.hashers import make_password

    t = time.perf_counter()
    sizes = process_sizes(args)
    info = process_bench.seed_processes(password_hash=make_password(PASSWORD), **sizes)
    process_bench.marker_write(contracts=sizes["contracts"], plans=sizes["plans"], info=info)
    print(f"  youth contracts and individual plans: {sizes} in {time.perf_counter() - t:.0f}s", flush=True)


def seed_processes_only(args):
    """Phase: add the processes' rows to ``args.db``, already seeded by ``seed`` (``--reuse``)."""
    server = os.environ["DATABASE_URL"]
    concern_bench.setup_django(db_url(server, args.db))
    bulk_mode()
    seed_process_rows(args)


def table_counts():
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for table in ("referrals_concern", "referrals_referral", "viewflow_process", "viewflow_task", "guardian_groupobjectpermission",
                      "workflows_deadline", "notifications_reminder", "notifications_notification", "consent_consent",
                      "consent_disclosure", "audit_accesslog", "people_person", "org_service", "referrals_youthcontract",
                      "referrals_contractappointment", "referrals_individualplan", "referrals_planparticipant", "referrals_planversion"):
            cursor.execute(f"SELECT reltuples::bigint FROM pg_class WHERE relname = '{table}'")
            row = cursor.fetchone()
            out[table] = row[0] if row else None
    return out


def seeded_marker(server: str, name: str):
    """(concerns, referrals, access_log) the database ``name`` was seeded with, or None."""
    import psycopg

    try:
        with psycopg.connect(db_url(server, name)) as conn:
            row = conn.execute("SELECT concerns, referrals, access_log FROM bench_national_seed").fetchone()
            return tuple(row) if row else None
    except psycopg.Error:
        return None


# --- measuring --------------------------------------------------------------------------------------

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


def bench_urls():
    from django.urls import include, path

    global urlpatterns
    urlpatterns = [path("bench/bare/", bare_list), path("", include("config.urls"))]


class Page:
    """A page as its persona opens it. ``kind``: list (page 1 and page 2), detail, stats, export, base."""

    def __init__(self, label, persona, path, kind="list"):
        self.label, self.persona, self.path, self.kind = label, persona, path, kind

    @property
    def target_ms(self):
        return STATS_P95_MS if self.kind in ("stats", "export") else LIST_P95_MS


def pages(info):
    from django.urls import reverse
    from viewflow.workflow.models import Task

    from consent.models import AccessRequest, Consent
    from people.models import Person
    from referrals.models import Concern, Contact, Referral

    concern = Concern.objects.get(pk=info["concern_id"])
    referral = Referral.objects.get(pk=info["referral_id"])
    contact = Contact.objects.filter(service=referral.sender_service).order_by("-id").first()
    process = concern.process if hasattr(concern, "process") else None
    from workflows.models import ConcernProcess

    process = ConcernProcess.objects.filter(concern=concern).first()
    task = Task.objects.filter(process_id=process.pk, flow_task__endswith=".receipt").first() if process else None
    few, many = (Person.objects.get(pk=info[k]) for k in ("few_person", "many_person"))
    consent = Consent.objects.filter(person=many).order_by("-id").first()
    request_code = AccessRequest.objects.get(pk=info["access_request"]).code
    c = concern.code
    out = [
        Page("bare Django list (baseline)", "barnevern", "/bench/bare/", "base"),
        Page("home (barnevern → intake)", "barnevern", reverse("home"), "detail"),
        # concerns
        Page("concerns: intake, pending by deadline", "barnevern", reverse("concerns:intake")),
        Page("concerns: intake, all newest first", "barnevern", reverse("concerns:intake") + "?vis=alle"),
        Page("concerns: Mine bekymringer", "barnehage", reverse("concerns:index")),
        Page("concerns: a concern (barnevern)", "barnevern", reverse("concerns:detail", args=[c]), "detail"),
        Page("concerns: a concern (reporter)", "barnehage", reverse("concerns:detail", args=[c]), "detail"),
        Page("concerns: its log (barnevern leader)", "leader_barnevern", reverse("concerns:log", args=[c]), "detail"),
        # viewflow's task pages
        Page("tasks: inbox (barnevern)", "barnevern", reverse("workflow:inbox")),
        Page("tasks: queue (barnevern)", "barnevern", reverse("workflow:queue")),
        Page("tasks: archive (barnevern)", "barnevern", reverse("workflow:archive")),
        Page("tasks: queue (referral receiver)", "target", reverse("workflow:queue")),
        Page("tasks: inbox (coordinator)", "coordinator", reverse("workflow:inbox")),
    ]
    if process:
        out.append(Page("tasks: concern process detail", "barnevern",
                        reverse("workflow:flows:concern:process_detail", args=[process.pk]), "detail"))
    if task:
        out.append(Page("tasks: concern task detail", "barnevern",
                        reverse("workflow:flows:concern:receipt:detail", args=[process.pk, task.pk]), "detail"))
    out += [
        # referrals
        Page("referrals: sent", "sender", reverse("referrals:index")),
        Page("referrals: incoming, open", "target", reverse("referrals:incoming")),
        Page("referrals: incoming, all", "target", reverse("referrals:incoming") + "?vis=alle"),
        Page("referrals: coordinator view", "coordinator", reverse("referrals:coordinator"), "stats"),
        Page("referrals: coordinator list, all", "coordinator", reverse("referrals:coordinator_list")),
        Page("referrals: coordinator list, filtered", "coordinator", reverse("referrals:coordinator_list") + "?status=completed&alder=18-25"),
        Page("referrals: contacts", "sender", reverse("referrals:contacts")),
        Page("referrals: catalogue", "sender", reverse("referrals:catalogue")),
        Page("referrals: a referral (sender)", "sender", reverse("referrals:detail", args=[referral.code]), "detail"),
        Page("referrals: a referral (receiver)", "target", reverse("referrals:detail", args=[referral.code]), "detail"),
        Page("referrals: a contact", "sender", reverse("referrals:contact_detail", args=[contact.code]), "detail"),
        Page("referrals: statistics (sender)", "sender", reverse("referrals:stats"), "stats"),
        Page("referrals: statistics (coordinator)", "coordinator", reverse("referrals:stats"), "stats"),
        Page("referrals: statistics (receiver)", "target", reverse("referrals:stats"), "stats"),
        Page("referrals: CSV of referrals (sender)", "sender", reverse("referrals:stats_csv", args=["henvisninger"]), "export"),
        Page("referrals: CSV of contacts (sender)", "sender", reverse("referrals:stats_csv", args=["kontakter"]), "export"),
        # consent and persons
        Page("consent: consents recorded (sender)", "sender", reverse("consent:index")),
        Page("consent: re-consent list (sender)", "sender", reverse("consent:reconsent")),
        Page("consent: age rules", "sender", reverse("consent:age_rules"), "detail"),
        Page("consent: approvals (leader)", "leader_sender", reverse("consent:approvals")),
        Page("consent: a consent", "sender", reverse("consent:detail", args=[consent.code]), "detail"),
        Page("person: consents, 3 consents", "sender", reverse("consent:person", args=[few.code]), "detail"),
        Page("person: consents, 100 consents", "sender", reverse("consent:person", args=[many.code]), "detail"),
        Page("person: FHIR export (100 consents)", "sender", reverse("consent:fhir", args=[many.code]), "export"),
        Page("person: access report (leader)", "leader_sender", reverse("consent:report", args=[many.code]), "stats"),
        Page("person: access report PDF (leader)", "leader_sender", reverse("consent:report_pdf", args=[many.code]), "export"),
        Page("privacy: access requests", "privacy", reverse("consent:access_requests")),
        Page("privacy: an access request (full report)", "privacy", reverse("consent:access_request", args=[request_code]), "stats"),
        Page("privacy: access request PDF", "privacy", reverse("consent:access_request_pdf", args=[request_code]), "export"),
        Page("privacy: access-log review", "privacy", reverse("consent:access_review")),
        # notifications and emergency access
        Page("notifications (barnevern, ~250k)", "barnevern", reverse("notifications:index")),
        Page("emergency access (barnevern)", "barnevern", reverse("break_glass:index"), "detail"),
    ]
    if "process" in info:
        out += process_pages(info["process"])
    return out


# The youth contract's and the individual plan's pages: (label, persona, URL name, arguments named
# in process_refs, kind). A new page of either process is one line here; an argument the refs lack
# yet (a meeting's code) is one line in process_refs. A URL name that does not exist (a page on
# another branch) is skipped with a note.
PROCESS_PAGES = [
    ("youth contracts: list (follow-up)", "youth_followup", "youth_contracts:index", (), "list"),
    ("youth contracts: list (police)", "youth_police", "youth_contracts:index", (), "list"),
    ("youth contracts: a contract (follow-up)", "youth_followup", "youth_contracts:detail", ("contract",), "detail"),
    ("youth contracts: a contract (police)", "youth_police", "youth_contracts:detail", ("contract",), "detail"),
    ("youth contracts: awaiting signatures (follow-up)", "youth_followup", "youth_contracts:detail", ("awaiting",), "detail"),
    ("youth contracts: week (follow-up)", "youth_followup", "youth_contracts:week", (), "detail"),
    ("youth contracts: calendar feed .ics", "youth_followup", "youth_contract_feed", ("feed_token",), "export"),
    ("youth contracts: initiate form (police)", "youth_police", "youth_contracts:initiate", (), "detail"),
    ("youth contracts: process detail", "youth_followup", "workflow:flows:youthcontract:process_detail", ("contract_process",), "detail"),
    ("youth contracts: task page, follow up", "youth_followup", "workflow:flows:youthcontract:{contract_node}:execute",
     ("contract_process", "contract_task"), "detail"),
    ("youth contracts: task detail, follow up", "youth_followup", "workflow:flows:youthcontract:{contract_node}:detail",
     ("contract_process", "contract_task"), "detail"),
    ("youth contracts: a task not taken (redirect to assign)", "youth_followup", "workflow:flows:youthcontract:{awaiting_node}:index",
     ("awaiting_process", "awaiting_task"), "detail"),
    ("tasks: queue (youth follow-up)", "youth_followup", "workflow:queue", (), "list"),
    ("individual plans: list (holder)", "plan_holder", "individual_plans:index", (), "list"),
    ("individual plans: list (receiver)", "plan_receiver", "individual_plans:index", (), "list"),
    ("individual plans: a plan (holder)", "plan_holder", "individual_plans:detail", ("plan",), "detail"),
    ("individual plans: a plan (receiver)", "plan_receiver", "individual_plans:detail", ("plan",), "detail"),
    ("individual plans: a hand-over's address (receiver)", "plan_receiver", "individual_plans:handover", ("handover",), "detail"),
    ("individual plans: hand-over task page (receiver)", "plan_receiver", "workflow:flows:individualplan:decide:execute",
     ("handover_process", "handover_task"), "detail"),
    ("individual plans: hand-over task detail (receiver)", "plan_receiver", "workflow:flows:individualplan:decide:detail",
     ("handover_process", "handover_task"), "detail"),
    ("tasks: queue (plan receiver)", "plan_receiver", "workflow:queue", (), "list"),
    ("individual plans: offers (holder)", "plan_holder", "individual_plans:offers", (), "list"),
    ("individual plans: an offer (holder)", "plan_holder", "individual_plans:offer", ("offer",), "detail"),
    ("individual plans: participants (holder)", "plan_holder", "individual_plans:participants", ("plan",), "detail"),
    ("individual plans: the plan's PDF (receiver)", "plan_receiver", "individual_plans:pdf", ("plan",), "export"),
]


def process_refs(ids) -> dict:
    """The codes and ids PROCESS_PAGES' arguments name, from bench_process_pages' seed info."""
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from referrals.models import IndividualPlan, PlanHandOver, YouthContract

    def open_task(process_pk):
        task = Task.objects.filter(process_id=process_pk, status__in=[STATUS.NEW, STATUS.ASSIGNED]).order_by("-id").first()
        return (task.pk, task.flow_task.name) if task else (None, None)

    refs = {"feed_token": ids.get("feed_token")}
    if ids.get("youth_contract_id"):
        contract = YouthContract.objects.select_related("process").get(pk=ids["youth_contract_id"])
        refs.update(contract=contract.code, contract_process=contract.process.pk)
        refs["contract_task"], refs["contract_node"] = open_task(contract.process.pk)
    if ids.get("youth_awaiting_id"):
        awaiting = YouthContract.objects.select_related("process").get(pk=ids["youth_awaiting_id"])
        refs.update(awaiting=awaiting.code, awaiting_process=awaiting.process.pk)
        refs["awaiting_task"], refs["awaiting_node"] = open_task(awaiting.process.pk)
    if ids.get("plan_id"):
        plan = IndividualPlan.objects.select_related("offer").get(pk=ids["plan_id"])
        refs.update(plan=plan.code, offer=plan.offer.code)
        measure = plan.measures.order_by("id").first()
        refs["measure"] = measure.code if measure else None
    if ids.get("handover_id"):
        handover = PlanHandOver.objects.select_related("process").get(pk=ids["handover_id"])
        refs.update(handover=handover.code, handover_process=handover.process.pk)
        refs["handover_task"], _node = open_task(handover.process.pk)
    return refs


def process_pages(ids) -> list:
    from django.urls import NoReverseMatch, reverse

    refs = process_refs(ids)
    out = []
    for label, persona, name, arg_names, kind in PROCESS_PAGES:
        args = [refs.get(a) for a in arg_names]
        try:
            name = name.format(**refs)
            if any(a is None for a in args):
                raise NoReverseMatch(f"no {arg_names} in the seed")
            out.append(Page(label, persona, reverse(name, args=args), kind))
        except (NoReverseMatch, KeyError) as e:
            print(f"  {label}: skipped ({e})", flush=True)
    return out


NEXT_LINKS = (re.compile(r'href="(\?[^"]+)"[^>]*rel="next"'), re.compile(r'rel="next"[^>]*href="(\?[^"]+)"'),
              re.compile(r'href="(\?[^"]*etter=[^"]+)"'))


def _body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def _next_url(page, html):
    for pattern in NEXT_LINKS:
        link = pattern.search(html)
        if link:
            return page.path.split("?")[0] + link.group(1).replace("&amp;", "&")
    return None


def _rows(html):
    return max(html.count("<tr") - html.count("<thead") - len(re.findall(r'<td colspan="\d+"', html)), 0)


def measure_one(client, page, url, requests, explain):
    """One URL: status, rows, statements (all but the transaction brackets), p50/p95 ms; with
    ``explain`` the slowest statement's EXPLAIN ANALYZE and the statements sent more than once."""
    from django.db import connection

    for _ in range(3):  # warm up templates, connection, buffers
        _body(client.get(url))
    captured = []

    def note(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if not sql.startswith(BRACKETS):
                captured.append((sql, params, (time.perf_counter() - start) * 1000))

    with connection.execute_wrapper(note):
        response = client.get(url)
        body = _body(response)
    html = body.decode("utf-8-sig", errors="replace")
    result = dict(url=url, status=response.status_code, queries=len(captured), rows=_rows(html) if page.kind == "list" else None,
                  bytes=len(body), sql=[s[:400] for s, _p, _ms in captured], next=None)
    if page.kind == "list":
        result["next"] = _next_url(page, html)
    if response.status_code not in (200, 302):
        return result
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        _body(client.get(url))
        times.append((time.perf_counter() - start) * 1000)
        if sum(times) > PAGE_BUDGET_MS and len(times) >= 5:
            break  # a page of seconds: a few requests tell its p50 and p95 as well
    result.update(p50=statistics.median(times), p95=concern_bench._p95(times) if len(times) > 1 else times[0], n=len(times))
    if explain:
        shapes = {}
        for sql, _p, _ms in captured:
            key = re.sub(r"\b\d+\b", "N", sql)[:160]
            shapes[key] = shapes.get(key, 0) + 1
        result["repeated"] = [f"×{n} {k}" for k, n in shapes.items() if n > 1]
        result["slowest"] = [f"{ms:.1f} ms  {sql[:220]}" for sql, _p, ms in sorted(captured, key=lambda x: -x[2])[:3]]
        # One statement each (the access log's chain sends a text of two: no EXPLAIN takes that).
        selects = [(sql, p, ms) for sql, p, ms in captured if sql.lstrip().upper().startswith(("SELECT", "WITH")) and ";" not in sql]
        if selects:
            # The main query: the statement the planner expects to cost most (one request's wall
            # times are too noisy on a busy machine to pick it).
            costs = []
            with connection.cursor() as cursor:
                for sql, params, _ms in {s[0]: s for s in selects}.values():
                    cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
                    plan = cursor.fetchone()[0]
                    plan = json.loads(plan) if isinstance(plan, str) else plan
                    costs.append((plan[0]["Plan"]["Total Cost"], sql, params))
                cost, sql, params = max(costs, key=lambda x: x[0])
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                result["explain"] = [f"(estimated cost {cost:.0f}) {sql[:600]}"] + [r[0] for r in cursor.fetchall()]
    return result


def rollup_reads(*, between_pages: bool = False):
    """The access review's roll-up of reads brought up to the log's last row before measuring, as the
    beat's task keeps it in production (a seed, or a database seeded before the roll-up existed, has
    none: the review would count live). Then VACUUM ANALYZE of its tables, as the seed's own."""
    from django.core.management import call_command
    from django.db import connection

    from audit.models import ReadRollup

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM audit_accesslog")
        top = cursor.fetchone()[0] or 0
    # Both roll-ups (the bursts' and the reads without a role) have their own watermark: the lower counts.
    last_id = min(ReadRollup.objects.values_list("last_id", flat=True), default=None)
    if ReadRollup.objects.count() == 2 and top - last_id < 1_000:
        return
    t = time.perf_counter()
    if between_pages:  # as the beat's task: the new reads only, no statistics job
        from audit.rollup import reads_rollup

        reads_rollup(budget_seconds=None)
        return
    call_command("audit_rollup_reads", batch_size=500_000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_readrollup, audit_readrecord, audit_readwindow")
    print(f"  access review's roll-up of reads: {top - (last_id or 0)} ids in {time.perf_counter() - t:.0f}s",
          flush=True)


def measure(args):
    """Phase: measure every page of ``args.db``; writes the results to ``args.out`` (JSON)."""
    server = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = db_url(server, args.db)
    concern_bench.setup_django(db_url(server, args.db))
    bench_urls()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import clear_url_caches

    settings.ROOT_URLCONF = __name__
    clear_url_caches()
    rollup_reads()
    with connection.cursor() as cursor:
        cursor.execute("SELECT info FROM bench_national_seed")
        info = cursor.fetchone()[0]
        if isinstance(info, str):
            info = json.loads(info)
        cursor.execute("SELECT to_regclass(%s)", [process_bench.MARKER])
        if cursor.fetchone()[0]:
            cursor.execute(f"SELECT info FROM {process_bench.MARKER}")
            process = cursor.fetchone()[0]
            process = json.loads(process) if isinstance(process, str) else process
            info["personas"].update(process.pop("personas"))
            info["process"] = process
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    users = {k: get_user_model().objects.get(username=v) for k, v in info["personas"].items()}
    clients = {}
    out = dict(version=version, results={}, counts=table_counts())
    for page in pages(info):
        if args.only and not any(o in page.label for o in args.only.split("|")) and page.kind != "base":
            continue
        # The beat rolls the reads up every minute in production: the review's live tail is the reads
        # since then, not every read the pages measured before it wrote (24,000 rows by the review).
        rollup_reads(between_pages=True)
        client = clients.get(page.persona)
        if client is None:
            client = clients[page.persona] = Client(HTTP_HOST="localhost")
            client.force_login(users[page.persona])
        results, url = [], page.path
        for number in (1, 2) if page.kind == "list" else (1,):
            if url is None:
                break
            r = measure_one(client, page, url, args.requests, args.explain)
            r["page"] = number
            results.append(r)
            url = r["next"]
        out["results"][page.label] = dict(kind=page.kind, target=page.target_ms, persona=info["personas"][page.persona],
                                         runs=results)
        first = results[0]
        print(f"  {page.label}: {first['status']} {first['queries']} queries p50 {first.get('p50', 0):.1f} ms", flush=True)
    with open(args.out, "w") as f:
        json.dump(out, f)


# --- the orchestrator ---------------------------------------------------------------------------------

def child(args, phase, db, **extra):
    cmd = [sys.executable, __file__, "--phase", phase, "--db", db]
    for k, v in extra.items():
        if v is True:
            cmd.append(f"--{k.replace('_', '-')}")
        elif v not in (None, False, ""):
            cmd += [f"--{k.replace('_', '-')}", str(v)]
    subprocess.run(cmd, check=True)


def report(args, small, full, sizes):
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    base = full["results"]["bare Django list (baseline)"]["runs"][0]
    bare_p50 = base["p50"]
    print(f"\nNational scale, every page; columns 'small → full' ({sizes}); {args.small_requests} → {args.requests} timed"
          f" requests per page; PostgreSQL {full['version']}, {os.cpu_count()} CPUs, load average {load}")
    header = f"{'page':<48} {'persona':<22} {'rows':>4} {'queries':>9} {'p50 ms':>16} {'p95 ms':>16} {'target':>6}  verdict"
    print(header)
    print("-" * len(header))
    missed = []
    for label, entry in full["results"].items():
        s_entry = small["results"].get(label)
        for l in entry["runs"]:  # noqa: E741
            s_runs = s_entry["runs"] if s_entry else []
            s = next((x for x in s_runs if x["page"] == l["page"]), s_runs[0] if s_runs else None)
            name = label + (f", page {l['page']}" if entry["kind"] == "list" else "")
            if l["status"] not in (200, 302) or "p50" not in l:
                print(f"{name:<48} {entry['persona']:<22} status {l['status']}")
                missed.append((name, f"status {l['status']}"))
                continue
            same = s is not None and s["queries"] == l["queries"]
            few = l["queries"] <= MAX_QUERIES
            fast = l["p95"] <= entry["target"]
            near = entry["kind"] not in ("list", "detail") or l["p50"] <= BARE_FACTOR * bare_p50
            problems = [w for w, bad in (("QUERIES DIFFER", not same), (f"> {MAX_QUERIES} QUERIES", not few), ("SLOW", not fast),
                                          (f"p50 > {BARE_FACTOR}× bare", not near)) if bad]
            if entry["kind"] == "base":
                problems = []
            verdict = "ok" if not problems else " ".join(problems)
            if problems:
                missed.append((name, verdict))
            rows = "" if l["rows"] is None else l["rows"]
            print(f"{name:<48} {entry['persona']:<22} {rows:>4} {concern_bench.fmt(s and s['queries'], l['queries'], '{}'):>9} "
                  f"{concern_bench.fmt(s and s.get('p50'), l['p50']):>16} {concern_bench.fmt(s and s.get('p95'), l['p95']):>16} "
                  f"{entry['target']:>6}  {verdict}" + (f" (n={l['n']})" if l.get("n", args.requests) < args.requests else ""))
    print(f"\ntargets: lists and details p95 ≤ {LIST_P95_MS} ms and p50 ≤ {BARE_FACTOR}× the bare page ({BARE_FACTOR * bare_p50:.1f} ms);"
          f" statistics, dashboards and exports p95 ≤ {STATS_P95_MS} ms; queries (every statement but transaction brackets)"
          f" equal at both sizes and ≤ {MAX_QUERIES}")
    print(f"{len(missed)} of {sum(len(e['runs']) for e in full['results'].values()) - 1} measured pages miss a target")
    return missed


def print_explain(full):
    for label, entry in full["results"].items():
        for run in entry["runs"]:
            if "explain" not in run:
                continue
            print(f"\n--- {label}, page {run['page']}: {run['queries']} statements; slowest:")
            for line in run.get("slowest", []):
                print("   ", line)
            if run.get("repeated"):
                print("  repeated in one request:")
                for line in run["repeated"]:
                    print("   ", line)
            print("  EXPLAIN ANALYZE of the main SELECT (highest estimated cost):")
            for line in run["explain"]:
                print("   ", line)


def write_info(server, name, path):
    import psycopg

    with psycopg.connect(db_url(server, name)) as conn:
        concerns, referrals, log, info, seconds = conn.execute(
            "SELECT concerns, referrals, access_log, info, seconds FROM bench_national_seed").fetchone()
        codes = {}
        codes["concern_code"] = str(conn.execute("SELECT code FROM referrals_concern WHERE id = %s", [info["concern_id"]]).fetchone()[0])
        codes["referral_code"] = str(conn.execute("SELECT code FROM referrals_referral WHERE id = %s", [info["referral_id"]]).fetchone()[0])
        for k in ("few_person", "many_person"):
            codes[f"{k}_code"] = str(conn.execute("SELECT code FROM people_person WHERE id = %s", [info[k]]).fetchone()[0])
    data = dict(
        database=db_url(server, name), seeded=dict(concerns=concerns, referrals=referrals, access_log=log, seconds=round(seconds)),
        password=PASSWORD,
        login_note=("Each persona has this password (POST /accounts/login/). Production settings require a second factor "
                    "(settings.REQUIRE_SECOND_FACTOR); DJANGO_DEMO=1 with force_login passes it, as this benchmark does."),
        personas=info["personas"],
        persona_roles={
            "barnehage": "reporter (Mine bekymringer /concerns/)", "barnevern": "caseworker (intake /concerns/mottak/, tasks, ~250k notifications)",
            "sender": "NAV: sent referrals /referrals/", "coordinator": "routing queue /referrals/koordinator/",
            "target": "receiver: /referrals/innkommende/", "privacy": "privacy function", "leader_sender": "leader of the sender",
            "leader_barnevern": "leader of the barnevern service",
        },
        ids=dict(concern_id=info["concern_id"], referral_id=info["referral_id"], **codes),
        urls=dict(concern=f"/concerns/{codes['concern_code']}/", referral=f"/referrals/{codes['referral_code']}/",
                  intake="/concerns/mottak/", mine="/concerns/", queue="/workflow/queue/", inbox="/workflow/inbox/",
                  incoming="/referrals/innkommende/", notifications="/notifications/"),
    )
    with open(path, "w") as f:
        json.dump(data, f, indent=2)


def main():
    args = parse_args()
    server = os.environ.get("DATABASE_URL")
    if not server:
        sys.exit("Set DATABASE_URL to the full-size database, e.g. postgres://postgres@127.0.0.1:5432/h_national")
    args.referrals = args.referrals if args.referrals is not None else int(args.full * 0.3)
    args.access_log = args.access_log if args.access_log is not None else args.full * 10
    if args.phase == "seed":
        return seed(args)
    if args.phase == "measure":
        return measure(args)
    if args.phase == "seed-processes":
        return seed_processes_only(args)

    full_db = urlsplit(server).path.lstrip("/") or "h_national"
    small_db = f"{full_db}_small"
    t = time.perf_counter()
    print(f"small: {small_db}, {args.small} concerns between the measured services; seeding …", flush=True)
    child(args, "seed", small_db, full=args.small, referrals=max(int(args.small * 0.3), 60), access_log=args.small * 10, pair=True)
    want = (args.full, args.referrals, args.access_log)
    if args.reuse and seeded_marker(server, full_db) == want:
        print(f"full: {full_db} already holds {want} (concerns, referrals, access-log rows): not reseeded", flush=True)
        process_want = (args.youth_contracts, args.plans)
        held = process_bench.marker_read(db_url(server, full_db))
        if held is None:
            print(f"full: adding {process_want} (youth contracts, individual plans) …", flush=True)
            child(args, "seed-processes", full_db, youth_contracts=args.youth_contracts, plans=args.plans)
        elif tuple(held[:2]) != process_want:
            sys.exit(f"{full_db} holds {tuple(held[:2])} youth contracts and plans, not {process_want}: reseed it without --reuse")
    else:
        print(f"full: {full_db}, {want} (concerns, referrals, access-log rows); seeding …", flush=True)
        child(args, "seed", full_db, full=args.full, referrals=args.referrals, access_log=args.access_log,
              youth_contracts=args.youth_contracts, plans=args.plans)
    if args.info:
        write_info(server, full_db, args.info)
        print(f"personas and ids: {args.info}", flush=True)
    if args.ready:
        Path(args.ready).touch()
    print(f"seeding done in {time.perf_counter() - t:.0f}s; measuring the small database …", flush=True)
    small_out, full_out = f"/tmp/{small_db}.json", f"/tmp/{full_db}.json.results"
    child(args, "measure", small_db, requests=args.small_requests, out=small_out, only=args.only)
    print("measuring the full database …", flush=True)
    child(args, "measure", full_db, requests=args.requests, out=full_out, explain=args.explain, only=args.only)
    with open(small_out) as f:
        small = json.load(f)
    with open(full_out) as f:
        full = json.load(f)
    print(f"\nrows in the full database (estimates): {full['counts']}")
    if args.explain:
        print_explain(full)
    missed = report(args, small, full, f"{args.small} → {args.full} concerns, {max(int(args.small * 0.3), 60)} → {args.referrals} referrals, "
                                       f"{args.small * 10} → {args.access_log} access-log rows")
    if args.drop:
        with admin_connect(server) as conn:
            for name in (small_db, full_db):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"dropped {small_db} and {full_db}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
