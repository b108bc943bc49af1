"""The youth contract's and the individual plan's rows at national scale, for bench_national.py (issue 14).

Sizes (``--youth-contracts``, ``--plans``; defaults for the full database):

* 20,000 youth contracts. Norway's police decide some 1,500–2,500 ungdomskontrakter a year
  (påtaleunnlatelse med vilkår, straffeprosessloven § 69) and the municipalities run voluntary ones
  besides; with the closed ones kept for the case history (several years), 20,000 rows is the
  national table. The measured follow-up service (the city's skolehelsetjeneste: HFU) follows 300
  of them, initiated by the city's police (the measured police contact) and by itself: an Oslo-sized
  city's load.
* 100,000 individual plans. Some 100,000–150,000 people have an individuell plan (helse- og
  omsorgstjenesteloven § 7-1, NAV, barnevern, specialist services), fewer in the municipal records
  than the right would give; 100,000 with their offers, consents, three participating services,
  two measures, the holder's history and the versions. The measured holder (the city's psykisk
  helse og rus) holds 500, a third of them with an open hand-over to the city's tildelingskontor,
  whose task pages and queue are measured.

How the rows are made, so they are exactly the services' rows:

1. The measured services' rows go through the real services (workflows.youth_contract.services,
   workflows.individual_plan.services, consent_record, person_get_or_create), with their history
   made in the past by workflows.demo.days_ago: processes and tasks, deadlines and reminders,
   guardian object permissions, consents and disclosures, versions, the access log.
2. The national volume is cloned from prototypes: a few contracts and plans in every state are made
   through the same services in the second municipality, then copied in bulk SQL (one INSERT …
   SELECT per table, all copies at once) to the other nine municipalities' services. Which rows to
   copy is what the prototypes added (every table's new ids); each foreign key is re-pointed (a
   copied row to its copy, a service/user/group/municipality to its counterpart in the copy's
   municipality), and so are the generic references (object permissions' ``object_pk``, a deadline's
   or disclosure's subject, a task's owner service) by their content type. Codes stay unique (a
   copy's ``code`` UUIDs, and the UUIDs in its URLs and JSON, get the copy's number in their first
   eight hex digits); reminders' keys and obligations get the copy's suffix; a copied person has no
   identity number (the number is unique). The access log is not copied (its hash chain):
   bench_national seeds its own. What a copy keeps of its prototype: texts that name a service or a
   reference (a version's "what changed", a reminder's message) name the prototype's.

Rates on the 2-core machine (5,000 of each): the services make some 3 contracts (with their
schedule of 26 appointments and 50 reminders) and 6 plans a second; a copy costs nothing by
comparison (about 100 contracts or 150 plans with all their rows a second). At the national sizes:
the measured services' 300 contracts and 500 plans take about 3 minutes, the copies 2–3 minutes.

The seed is recorded in ``bench_national_process_seed`` (the sizes and the personas/ids), apart
from bench_national's marker, so ``--reuse`` adds it to a database seeded before it existed.
"""
import datetime
import json
import time

MARKER = "bench_national_process_seed"
PROTO_MUNICIPALITY = 1  # the prototypes' municipality (the city, 0, holds the measured services)
# The processes' own services in each municipality (label, kind): the police, the school health
# service that follows contracts up (HFU), the psykisk helse og rus service that holds the plans, and
# the tildelingskontor the plans are handed to. NAV (the World's) takes part in the plans too.
KINDS = (("politi", "politi"), ("skolehelsetjeneste", "skolehelsetjeneste"), ("psykisk helse og rus", "rustjeneste"),
         ("tildelingskontor", "other"))
# Shares of the contracts' states (initiator, state): as a follow-up service's list holds them.
CONTRACT_MIX = (("police", "awaiting"), ("police", "active"), ("voluntary", "active"), ("police", "active"), ("police", "breach"),
                ("police", "completed"), ("voluntary", "completed"), ("police", "broken"), ("voluntary", "awaiting"), ("police", "active"))
# The plans' hand-overs: None (none), "open" (waiting in the receiver's queue), "declined", "accepted".
PLAN_MIX = ("open", None, None, "declined", None, "open", None, None, "accepted", "open")


def _slug(label):
    return label.replace(" ", "-")


class ProcessWorld:
    """The processes' services in the 10 municipalities of bench_national.World, made if missing
    (a database seeded before this module has the World but not these) and looked up by name."""

    def __init__(self, password_hash: str):
        from django.contrib.auth import get_user_model

        from org.models import Membership, Municipality, Service
        from org.permissions import service_group
        from org.services import membership_set

        User = get_user_model()
        self.municipalities = list(Municipality.objects.filter(name__startswith="Nasjonal kommune ").order_by("number"))
        assert len(self.municipalities) == 10, "bench_national's World first"
        self.services, self.staff = {}, {}  # (label, m) -> Service; service pk -> user
        for m, muni in enumerate(self.municipalities):
            for label, kind in KINDS:
                service = Service.objects.filter(municipality=muni, name=f"{label} {m}").first()
                if service is None:
                    service = Service.objects.create(municipality=muni, name=f"{label} {m}", kind=kind)
                    service_group(service)
                    service.refresh_from_db()
                user = User.objects.filter(username=f"nat-{_slug(label)}-{m}").first()
                if user is None:
                    user = User.objects.create_user(username=f"nat-{_slug(label)}-{m}", email="")
                    User.objects.filter(pk=user.pk).update(password=password_hash)
                    membership_set(user=user, service=service, role=Membership.Role.STAFF)
                self.services[label, m] = service
                self.staff[service.pk] = user
            for label, name in (("nav", f"nav {m}-14"), ("barnevern", f"barnevern {m}-10")):
                service = Service.objects.get(municipality=muni, name=name)
                self.services[label, m] = service
                self.staff[service.pk] = User.objects.get(username=f"nat-{name.replace(' ', '-')}")

    def service(self, label, m):
        return self.services[label, m]

    def user(self, label, m):
        return self.staff[self.services[label, m].pk]

    def counterparts(self):
        """(kind, m, old id, new id): every service, user, group and municipality of the prototypes'
        municipality mapped to its counterpart in municipality m (the World's names differ only by m)."""
        from django.contrib.auth import get_user_model

        from org.models import Service

        rows = []
        proto = PROTO_MUNICIPALITY
        by_name = {}
        for s in Service.objects.filter(municipality__in=self.municipalities).select_related("municipality"):
            by_name[s.name] = s
        User = get_user_model()
        users = {u.username: u.pk for u in User.objects.filter(username__startswith="nat-")}
        for m, muni in enumerate(self.municipalities):
            rows.append(("municipality", m, self.municipalities[proto].pk, muni.pk))
            for name, s in by_name.items():
                if s.municipality_id != self.municipalities[proto].pk:
                    continue
                twin = by_name.get(_twin(name, proto, m))
                if twin is None:
                    continue
                rows.append(("service", m, s.pk, twin.pk))
                rows.append(("group", m, s.group_id, twin.group_id))
            for username, pk in users.items():
                twin = users.get(_twin(username, proto, m))
                if twin is not None and _twin(username, proto, m) != username:
                    rows.append(("user", m, pk, twin))
        return rows


def _twin(name, proto, m):
    """The name of a World or ProcessWorld service (or staff username) of municipality ``proto`` in
    municipality ``m``: "nav 1-14" → "nav 3-14", "politi 1" → "politi 3", "nat-nav-1-14" → "nat-nav-3-14"."""
    import re

    return re.sub(rf"(?<=[ -]){proto}(?=-\d\d$|$)", str(m), name)


# --- through the services ---------------------------------------------------------------------------

class NationalIds:
    """Unique synthetic identity numbers: per birth date, the next individual number after the last
    one given (people.validators.synthetic_national_id skips those without valid check digits)."""

    def __init__(self):
        self.used = {}

    def __call__(self, birth):
        from people.validators import synthetic_national_id

        from people.models import Person

        start = self.used.get(birth, 0 if birth.year < 2000 else 500)
        while True:  # a number a person of an earlier seed has is skipped: each row its own person
            number = synthetic_national_id(birth, start)
            start = int(number[6:9]) + 1
            if not Person.objects.filter(national_id=number).exists():
                self.used[birth] = start
                return number


IDS = NationalIds()


class Counter:
    def __init__(self, start):
        self.n = start

    def next(self):
        self.n += 1
        return self.n


def contract_make(pw, m, variant, state, n, *, ago):
    """One youth contract of municipality ``m`` through the services, in ``state`` (awaiting,
    active, breach, completed, broken), initiated ``ago`` days back: the police variant by the
    police, the voluntary one by the follow-up service itself."""
    from django.utils import timezone

    from referrals.models import ContractTemplate
    from workflows.demo import days_ago
    from workflows.youth_contract import services as svc

    followup, hfu = pw.service("skolehelsetjeneste", m), pw.user("skolehelsetjeneste", m)
    police = variant == "police"
    by_label = "politi" if police else "skolehelsetjeneste"
    template = ContractTemplate.objects.get(code="politi-ungdomskontrakt" if police else "frivillig-ungdomskontrakt")
    today = timezone.localdate()
    age_days = 15 * 365 + 120 + (n * 7) % 800  # 15.3–17.5 years on the start day: inside both templates' ages
    birth = today - datetime.timedelta(days=age_days + ago)
    with days_ago(ago):
        start = timezone.localdate()
        contract = svc.contract_register(
            user=pw.user(by_label, m), initiating_service=pw.service(by_label, m), template=template, followup_service=followup,
            national_id=IDS(birth), given_name="Ung", family_name=f"Bench{n}",
            guardians=[{"national_id": IDS(birth - datetime.timedelta(days=30 * 365)),
                        "given_name": "Forelder", "family_name": f"Bench{n}"}],
            consent_method="signed", starts_on=start, police_decision_on=start - datetime.timedelta(days=2) if police else None,
            police_see_results=police and n % 2 == 0,
        )
        if state == "awaiting":
            return contract
        for party in contract.parties.all():
            svc.contract_sign(contract=contract, user=hfu, party_code=party.code, method="signed", signed_on=timezone.localdate())
        svc.contract_activate(contract=contract, user=hfu)
    tests = list(contract.appointments.filter(kind="test", on__lt=today).order_by("on")[:4])
    for i, appointment in enumerate(tests):
        last = i == len(tests) - 1
        outcome = "positive" if last and state == "breach" else "missed" if last and state == "broken" else "negative"
        with days_ago(max((today - appointment.on).days, 0)):
            svc.result_record(contract=contract, user=hfu, kind="test", outcome=outcome, appointment_code=appointment.code)
        if outcome == "missed":
            with days_ago(max((today - appointment.on).days - 1, 0)):
                svc.breach_decide(contract=contract, user=hfu, decision="broken", note="Har ikke møtt til prøver.")
    if state == "completed":
        svc.contract_complete(contract=contract, user=hfu, outcome="Alle vilkår er oppfylt.")
        if police:
            svc.outcome_report(contract=contract, user=hfu)
    return contract


def plan_make(pw, m, handover, n, *, ago):
    """One individual plan of municipality ``m`` through the services: held by psykisk helse og rus,
    NAV and the tildelingskontor taking part, two measures, and ``handover`` (None, "open",
    "declined", "accepted") to the tildelingskontor."""
    from django.utils import timezone

    from consent.services import consent_record
    from people.services import person_get_or_create
    from referrals.models import PlanOffer
    from workflows.demo import days_ago
    from workflows.individual_plan import services as svc

    holder, user = pw.service("psykisk helse og rus", m), pw.user("psykisk helse og rus", m)
    nav, tildeling = pw.service("nav", m), pw.service("tildelingskontor", m)
    today = timezone.localdate()
    birth = today - datetime.timedelta(days=20 * 365 + (n * 11) % (45 * 365))
    with days_ago(ago):
        day = timezone.localdate()
        person = person_get_or_create(user=user, given_name="Voksen", family_name=f"Bench{n}",
                                      national_id=IDS(birth),
                                      municipality=pw.municipalities[m], service=holder)
        consent = consent_record(user=user, service=holder, person=person, purpose="individual_plan", grantees=[holder, nav, tildeling],
                                 information="Den individuelle planen: mål, tiltak og deltakere.", valid_from=day, method="signed",
                                 given_by_person=True)
        offer = svc.offer_register(user=user, service=holder, person=person, reason="Trenger langvarige og koordinerte tjenester.")
        svc.offer_answer(user=user, offer=offer, answer=PlanOffer.Answer.ACCEPTED, by_person=True)
        plan = svc.plan_create(user=user, service=holder, offer=offer, consent=consent, period_start=day,
                               period_end=day + datetime.timedelta(days=365), revision_due_on=day + datetime.timedelta(days=60 + n % 120),
                               koordinator=user, goals="Jeg vil bo for meg selv og ha noe å gå til om dagen.", participation="wrote")
        for service in (nav, tildeling):
            svc.participant_add(user=user, plan=plan, role="service", service=service)
        svc.measure_add(user=user, plan=plan, description="Arbeidstrening tre dager i uka.", responsible_service=nav,
                        starts_on=day, evaluate_on=day + datetime.timedelta(days=30 + n % 60))
        svc.measure_add(user=user, plan=plan, description="Hjemmebesøk hver uke.", responsible_service=tildeling,
                        starts_on=day, evaluate_on=day + datetime.timedelta(days=45 + n % 90))
        if handover:
            proposed = svc.handover_propose(user=user, plan=plan, to_service=tildeling, note="Tildelingskontoret følger nå tettest.")
    if handover == "declined":
        svc.handover_decline(user=pw.user("tildelingskontor", m), handover=proposed, reason="Vi har ikke vedtak om tjenester ennå.")
    elif handover == "accepted":
        svc.handover_accept(user=pw.user("tildelingskontor", m), handover=proposed, koordinator=pw.user("tildelingskontor", m))
    return plan


# --- the clone ---------------------------------------------------------------------------------------

# Tables never copied: the hash-chained access log and its roll-ups, sessions, the organisation.
NOT_COPIED = ("audit_", "django_", "auth_", "org_", "bench_", "axes_", "otp_", "accounts_")


def _pk_tables(cursor):
    """{table: its single-column integer primary key} of the public schema."""
    cursor.execute("""
        SELECT c.relname, a.attname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
        WHERE k.contype = 'p' AND array_length(k.conkey, 1) = 1 AND a.atttypid IN ('int4'::regtype, 'int8'::regtype)
    """)
    return {t: col for t, col in cursor.fetchall() if not t.startswith(NOT_COPIED)}


def snapshot():
    """{table: max primary key} now, for ``prototype_rows``."""
    from django.db import connection

    with connection.cursor() as cursor:
        out = {}
        for table, pk in _pk_tables(cursor).items():
            cursor.execute(f'SELECT coalesce(max("{pk}"), 0) FROM "{table}"')
            out[table] = (pk, cursor.fetchone()[0])
        return out


def prototype_rows(before):
    """{table: (pk column, lowest, highest new id)} of the rows added since ``before``."""
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for table, (pk, top) in before.items():
            cursor.execute(f'SELECT min("{pk}"), max("{pk}") FROM "{table}" WHERE "{pk}" > %s', [top])
            lo, hi = cursor.fetchone()
            if lo is not None:
                out[table] = (pk, lo, hi)
    return out


def _columns(cursor, table):
    cursor.execute("""
        SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
    """, [table])
    return cursor.fetchall()


def _foreign_keys(cursor, table):
    cursor.execute("""
        SELECT a.attname, r.relname FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid
        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
        WHERE k.contype = 'f' AND k.conrelid = %s::regclass AND array_length(k.conkey, 1) = 1
    """, [table])
    return dict(cursor.fetchall())


# Generic references without a foreign key: (id column, content-type column).
GENERIC = {"object_pk": "content_type_id", "object_id": "content_type_id", "subject_id": "subject_type_id",
           "owner_permission_obj_pk": "owner_permission_content_type_id"}
MAPPED = {"org_service": "service", "auth_user": "user", "auth_group": "group", "org_municipality": "municipality"}
SUFFIXED = {("notifications_reminder", "key"), ("notifications_reminder", "obligation")}
UUID_RE = r"[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"


def clone(protos, copies: int, pw):
    """Copy the prototype rows ``copies`` times (copy c to municipality 1 + c % 9 … see the module
    docstring), all copies of a table in one INSERT … SELECT. Returns {table: rows added}."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    if copies <= 0 or not protos:
        return {}
    added = {}
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS bench_twin (kind text, m int, old bigint, new bigint)")
        cursor.execute("TRUNCATE bench_twin")
        cursor.executemany("INSERT INTO bench_twin VALUES (%s, %s, %s, %s)", pw.counterparts())
        cursor.execute("CREATE INDEX IF NOT EXISTS bench_twin_idx ON bench_twin (kind, m, old)")
        cursor.execute("ANALYZE bench_twin")
        # Each table's new ids: a block of its sequence per copy (base + (c-1)·span + (id − lo)).
        base = {}
        for table, (pk, lo, hi) in protos.items():
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk])
            seq = cursor.fetchone()[0]
            if seq is None:
                continue  # a key that is a foreign key (a process subclass): mapped with its parent
            span = hi - lo + 1
            cursor.execute("SELECT nextval(%s)", [seq])
            start = max(cursor.fetchone()[0], hi + 1)
            cursor.execute("SELECT setval(%s, %s)", [seq, start + copies * span])
            base[table] = (start, lo, hi, span)
        tables_of_ct = {}
        for ct in ContentType.objects.all():
            model = apps.get_model(ct.app_label, ct.model) if ct.model_class() else None
            if model is not None:
                tables_of_ct[ct.pk] = model._meta.db_table
        service_ct = ContentType.objects.get(app_label="org", model="service").pk

        def mapped(expr, table):
            if table in base:
                start, lo, hi, span = base[table]
                return f"(CASE WHEN {expr} BETWEEN {lo} AND {hi} THEN {start} + (c - 1) * {span} + ({expr} - {lo}) ELSE {expr} END)"
            if table in MAPPED:
                return (f"coalesce((SELECT tw.new FROM bench_twin tw WHERE tw.kind = '{MAPPED[table]}' AND tw.m = 1 + mod(c, 9)"
                        f" AND tw.old = {expr}), {expr})")
            return expr

        for table, (pk, lo, hi) in protos.items():
            columns = _columns(cursor, table)
            fks = _foreign_keys(cursor, table)
            names = [c for c, _t in columns]
            select = []
            for col, typ in columns:
                q = f't."{col}"'
                if col == pk and table in base:
                    select.append(mapped(q, table))
                elif col in fks:
                    select.append(mapped(q, fks[col]))
                elif col in GENERIC and GENERIC[col] in names:
                    numeric = typ in ("integer", "bigint")
                    v = q if numeric else f"(CASE WHEN {q} ~ '^[0-9]+$' THEN {q}::bigint END)"
                    cases = " ".join(
                        f"WHEN {ct} THEN {mapped(v, target)}" for ct, target in tables_of_ct.items()
                        if target in base or (ct == service_ct)
                    )
                    expr = f"(CASE t.\"{GENERIC[col]}\" {cases} ELSE {v} END)" if cases else v
                    select.append(expr if numeric else f"coalesce(({expr})::text, {q})")
                elif typ == "uuid":
                    select.append(f"(lpad(to_hex(c), 8, '0') || substr({q}::text, 9))::uuid")
                elif (table, col) in SUFFIXED:
                    select.append(f"{q} || '#' || c")
                elif table == "people_person" and col == "national_id":
                    select.append("NULL")
                elif col == "url" or typ in ("jsonb", "json"):
                    cast = f"::{typ}" if typ in ("jsonb", "json") else ""
                    select.append(f"regexp_replace({q}::text, '{UUID_RE}', lpad(to_hex(c), 8, '0') || '\\1', 'g'){cast}")
                else:
                    select.append(q)
            cols = ", ".join(f'"{c}"' for c in names)
            t = time.perf_counter()
            cursor.execute(
                f'INSERT INTO "{table}" ({cols}) SELECT {", ".join(select)} FROM "{table}" t, generate_series(1, %s) AS c'
                f' WHERE t."{pk}" BETWEEN %s AND %s ORDER BY c, t."{pk}"',
                [copies, lo, hi],
            )
            added[table] = cursor.rowcount
            if time.perf_counter() - t > 5:
                print(f"    {table}: {cursor.rowcount} rows in {time.perf_counter() - t:.0f}s", flush=True)
    return added


# --- the seed --------------------------------------------------------------------------------------

def seed_processes(*, contracts: int, plans: int, measured_contracts: int, measured_plans: int, password_hash: str) -> dict:
    """Seed both processes (see the module docstring); returns the personas and ids the pages need."""
    from django.db import connection, transaction

    from referrals.models import IndividualPlan, PlanHandOver, YouthContract
    from workflows.youth_contract import calendar

    t0 = time.perf_counter()
    pw = ProcessWorld(password_hash)
    touched = {"audit_accesslog", "org_service", "auth_user", "org_membership", "auth_user_groups", "referrals_calendarfeed"}
    # The national volume: each process's prototypes (municipality 1) through the services, then
    # their copies in bulk, one process after the other (each its own prototype rows).
    for name, mix, total, measured, make in (
        ("youth contracts", CONTRACT_MIX, contracts, measured_contracts,
         lambda i, x: contract_make(pw, PROTO_MUNICIPALITY, x[0], x[1], 900_000 + i, ago=10 + 17 * i)),
        ("individual plans", PLAN_MIX, plans, measured_plans,
         lambda i, x: plan_make(pw, PROTO_MUNICIPALITY, x, 900_000 + i, ago=5 + 11 * i)),
    ):
        bulk = max(total - measured, 0)
        if not bulk:
            continue
        t = time.perf_counter()
        before = snapshot()
        with transaction.atomic():
            for i, x in enumerate(mix):
                make(i, x)
        protos = prototype_rows(before)
        touched |= set(protos)
        print(f"  {name}: {len(mix)} prototypes ({sum(hi - lo + 1 for _pk, lo, hi in protos.values())} rows in {len(protos)} tables)"
              f" through the services in {time.perf_counter() - t:.0f}s", flush=True)
        t = time.perf_counter()
        copies = -(-bulk // len(mix)) - 1
        with transaction.atomic():
            added = clone(protos, copies, pw)
        print(f"  {name}: {copies} copies, {sum(added.values())} rows in {time.perf_counter() - t:.0f}s: "
              + ", ".join(f"{k} {v}" for k, v in sorted(added.items(), key=lambda x: -x[1])[:10]), flush=True)
    counter = Counter(0)
    # The copies grew the tables a hundredfold since their statistics were taken: without fresh ones
    # the planner scans (a reminder's cancellation by obligation took seconds, not a millisecond).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # The measured services' rows (the city): through the services, newest.
    t = time.perf_counter()
    for i in range(measured_contracts):
        variant, state = CONTRACT_MIX[i % len(CONTRACT_MIX)]
        with transaction.atomic():
            contract_make(pw, 0, variant, state, counter.next(), ago=(i * 3) % 170)
    print(f"  youth contracts of the measured services: {measured_contracts} in {time.perf_counter() - t:.0f}s"
          f" ({measured_contracts / max(time.perf_counter() - t, 1e-3):.1f}/s)", flush=True)
    t = time.perf_counter()
    for i in range(measured_plans):
        with transaction.atomic():
            plan_make(pw, 0, PLAN_MIX[i % len(PLAN_MIX)], 500_000 + counter.next(), ago=(i * 2) % 200)
    print(f"  individual plans of the measured services: {measured_plans} in {time.perf_counter() - t:.0f}s"
          f" ({measured_plans / max(time.perf_counter() - t, 1e-3):.1f}/s)", flush=True)
    followup, police = pw.user("skolehelsetjeneste", 0), pw.user("politi", 0)
    holder, receiver = pw.user("psykisk helse og rus", 0), pw.user("tildelingskontor", 0)
    token = calendar.calendar_feed_renew(user=followup)
    city = pw.service("skolehelsetjeneste", 0)
    contract = (YouthContract.objects.filter(followup_service=city, police_service=pw.service("politi", 0), status="active")
                .order_by("-id").first())
    awaiting = YouthContract.objects.filter(followup_service=city, status="awaiting_signatures").order_by("-id").first()
    handover = (PlanHandOver.objects.filter(to_service=pw.service("tildelingskontor", 0), status="proposed")
                .select_related("plan").order_by("-id").first())
    # The measured task pages are the execute pages of a task the persona has taken (viewflow's
    # assign, as its "assign" button does); the rest wait in the queue.
    for process_pk, user in ((contract.process.pk if contract else None, followup),
                             (handover.process.pk if handover else None, receiver)):
        if process_pk is not None:
            task_assign(process_pk, user)
    t = time.perf_counter()
    with connection.cursor() as cursor:
        for table in sorted(touched):  # not the whole database: a reused one holds 10,000,000 log rows
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')
    print(f"  VACUUM ANALYZE of the {len(touched)} tables the processes wrote in {time.perf_counter() - t:.0f}s", flush=True)
    return dict(
        personas=dict(youth_followup=followup.username, youth_police=police.username, plan_holder=holder.username,
                      plan_receiver=receiver.username),
        youth_contract_id=contract.pk if contract else None, youth_awaiting_id=awaiting.pk if awaiting else None,
        plan_id=handover.plan_id if handover else None, handover_id=handover.pk if handover else None, feed_token=token,
        seconds=round(time.perf_counter() - t0),
    )


def task_assign(process_pk, user):
    """Assign the process's open human task to ``user`` as viewflow's assign page does (under the flow's lock)."""
    from django.db import transaction
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    task = Task.objects.filter(process_id=process_pk, status=STATUS.NEW, flow_task_type="HUMAN").order_by("-id").first()
    if task is None:
        return
    with transaction.atomic(), task.activation() as activation:
        assert task.flow_task.can_assign(user, activation.task), "the persona may take the task"
        activation.assign(user)


def marker_read(server_url):
    """(youth contracts, plans) and info the database was process-seeded with, or None."""
    import psycopg

    try:
        with psycopg.connect(server_url) as conn:
            row = conn.execute(f"SELECT youth_contracts, plans, info FROM {MARKER}").fetchone()
            return row
    except psycopg.Error:
        return None


def marker_write(*, contracts, plans, info):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (youth_contracts bigint, plans bigint, info jsonb,"
                       " finished_at timestamptz DEFAULT now())")
        cursor.execute(f"DELETE FROM {MARKER}")
        cursor.execute(f"INSERT INTO {MARKER} VALUES (%s, %s, %s)", [contracts, plans, json.dumps(info)])
