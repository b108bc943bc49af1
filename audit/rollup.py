"""The access review's roll-up of reads: which different records each user read in each window of
settings.AUDIT_BURST_MINUTES, counted once, after the fact (audit.selectors.review_bursts reads it).

The access log is append-only with increasing ids, so the roll-up keeps a watermark (ReadRollup.last_id)
and adds the reads with a higher id: their distinct (user, window, record) go into ReadRecord, whose
key refuses a record already there, and the records that were new are added to ReadWindow's count of
their user and window. One transaction per batch: the rows, the counts and the watermark move together.

Why a plain watermark is exact (no time lag): every append to the log (audit.chain.lock_and_reserve_many)
takes the chain head's transaction-scoped advisory lock *before* it takes its ids from the sequence,
and holds it until its transaction ends. So ids are handed out in the order their transactions commit:
when a transaction can see id N committed, every transaction that took a lower id has already
committed or rolled back. The roll-up reads the highest committed id in one statement and rolls up to
it; a lower id that is not there then never will be (a rolled-back append). Should appends ever stop
holding that lock until commit, this stops being exact: tests/audit/test_read_rollup.py checks that a
roll-up during an uncommitted append stops below it.

The reads without a role (ReadWithoutRole) are rolled up the same way after a watermark of their own
(ReadRollup row NO_ROLE_STATE_ID): each read is judged once, within a minute of its commit, by
people.holders.role_held_at, and the verdict is kept. This is a choice, not only a speed-up: a
holding that declares no start time (a concern, a contact, a consent) counts in role_held_at
however late its row was written, so judging the log again later would let a case registered after
a read clear that read. Kept, the verdict answers what the review asks: did the service hold a role
when it read? (tests/audit/test_reads_without_role.py shows both: the rolled-up page equals the
live one, and a contact registered afterwards does not clear a judged read.)

PostgreSQL only (the embedded SQLite quick start counts live: its logs are small)."""
import time

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Q
from django.utils import timezone

from audit.models import AccessLog, ReadRecord, ReadRollup, ReadWindow, ReadWithoutRole
from people.holders import role_held_at

# Access-log ids rolled up in one transaction.
ROLLUP_BATCH = 200_000
# A roll-up task stops starting batches after this long (the beat starts the next in a minute).
ROLLUP_BUDGET_SECONDS = 30
# The id of the roll-up's row for the bursts, and of its row for the reads without a role.
STATE_ID = 1
NO_ROLE_STATE_ID = 2


def bucket_sql(column: str, seconds_param: str = "%(seconds)s") -> str:
    """The window of a timestamp on PostgreSQL: whole windows since the epoch (also audit.selectors._EpochBucket's)."""
    return f"FLOOR(EXTRACT(EPOCH FROM {column}) / {seconds_param})::bigint"


def window_seconds() -> int:
    return int(settings.AUDIT_BURST_MINUTES) * 60


def rollup_supported() -> bool:
    return connection.vendor == "postgresql"


def _tables() -> dict:
    q = connection.ops.quote_name
    return dict(
        log=q(AccessLog._meta.db_table), record=q(ReadRecord._meta.db_table), window=q(ReadWindow._meta.db_table),
        state=q(ReadRollup._meta.db_table),
    )


def _rollup_sql() -> str:
    t = _tables()
    return f"""
        WITH fresh AS (
            INSERT INTO {t['record']} (seconds, user_id, bucket, object_type, object_id)
            SELECT DISTINCT %(seconds)s, l.user_id, {bucket_sql('l.at')}, l.object_type, l.object_id
            FROM {t['log']} l
            WHERE l.id > %(last)s AND l.id <= %(bound)s AND l.action = %(view)s AND l.user_id IS NOT NULL
            ON CONFLICT DO NOTHING
            RETURNING user_id, bucket
        ), counted AS (
            INSERT INTO {t['window']} AS w (seconds, user_id, bucket, records)
            SELECT %(seconds)s, user_id, bucket, count(*) FROM fresh GROUP BY user_id, bucket
            ON CONFLICT (seconds, user_id, bucket) DO UPDATE SET records = w.records + EXCLUDED.records
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM fresh), (SELECT count(*) FROM counted)
    """


def reads_rollup_batch(*, batch: int = ROLLUP_BATCH, wait: bool = False) -> int | None:
    """Roll up the reads after the watermark, at most ``batch`` ids, in one transaction. Returns how
    many ids the watermark moved (0: up to date), or None when another roll-up holds the row (with
    ``wait``, wait for it instead) or the database is not PostgreSQL.

    A window length that differs from the one rolled up (settings.AUDIT_BURST_MINUTES changed) empties
    the roll-up and starts again from the first id; until it has caught up the review counts live."""
    if not rollup_supported():
        return None
    seconds = window_seconds()
    t = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {t['state']} (id, seconds, last_id, rolled_at) VALUES (%s, %s, 0, now()) ON CONFLICT (id) DO NOTHING",
            [STATE_ID, seconds],
        )
        state = ReadRollup.objects.select_for_update(skip_locked=not wait).filter(pk=STATE_ID).first()
        if state is None:
            return None
        if state.seconds != seconds:
            cursor.execute(f"TRUNCATE {t['record']}, {t['window']}")
            state.seconds, state.last_id = seconds, 0
        # The highest committed id: every lower one is committed or never will be (module docstring).
        cursor.execute(f"SELECT max(id) FROM {t['log']}")
        top = cursor.fetchone()[0] or 0
        bound = min(top, state.last_id + batch)
        moved = max(bound - state.last_id, 0)
        if moved:
            cursor.execute(_rollup_sql(), dict(seconds=seconds, last=state.last_id, bound=bound, view=AccessLog.Action.VIEW))
            state.last_id = bound
        state.rolled_at = timezone.now()
        state.save(update_fields=["seconds", "last_id", "rolled_at"])
    return moved


def reads_without_role(qs=None):
    """The reads of ``qs`` (default: the whole log) that the access review lists as reads without a
    role: views of a person through a role or as an administrator, by no service or by a service
    that held no role with the person at the time (people.holders.role_held_at)."""
    qs = AccessLog.objects.all() if qs is None else qs
    return (
        qs.filter(action=AccessLog.Action.VIEW, person__isnull=False, via__in=[AccessLog.Via.ROLE, AccessLog.Via.ADMIN])
        .exclude(Q(service__isnull=False) & role_held_at(person=OuterRef("person_id"), service=OuterRef("service_id"), at=OuterRef("at")))
    )


def no_role_rollup_batch(*, batch: int = ROLLUP_BATCH, wait: bool = False) -> int | None:
    """Judge the reads after the no-role watermark, at most ``batch`` ids, in one transaction: those
    without a role go into ReadWithoutRole. Returns how many ids the watermark moved, or None (as
    reads_rollup_batch)."""
    if not rollup_supported():
        return None
    t = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {t['state']} (id, seconds, last_id, rolled_at) VALUES (%s, 0, 0, now()) ON CONFLICT (id) DO NOTHING",
            [NO_ROLE_STATE_ID],
        )
        state = ReadRollup.objects.select_for_update(skip_locked=not wait).filter(pk=NO_ROLE_STATE_ID).first()
        if state is None:
            return None
        cursor.execute(f"SELECT max(id) FROM {t['log']}")
        top = cursor.fetchone()[0] or 0
        bound = min(top, state.last_id + batch)
        moved = max(bound - state.last_id, 0)
        if moved:
            judged = reads_without_role(AccessLog.objects.filter(pk__gt=state.last_id, pk__lte=bound)).values_list("pk", "at")
            sql, params = judged.query.sql_with_params()
            cursor.execute(f"INSERT INTO {connection.ops.quote_name(ReadWithoutRole._meta.db_table)} (id, at) {sql} ON CONFLICT DO NOTHING",
                           params)
            state.last_id = bound
        state.rolled_at = timezone.now()
        state.save(update_fields=["last_id", "rolled_at"])
    return moved


def no_role_watermark(*, tail_max: int) -> int | None:
    """The no-role roll-up's watermark, when it is at most ``tail_max`` ids behind the log's last id
    (the review judges the reads after it live); else None (the review judges the whole period live)."""
    if not rollup_supported():
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.last_id FROM {_tables()['state']} s WHERE s.id = %s AND COALESCE((SELECT max(id) FROM {_tables()['log']}), 0)"
            " - s.last_id <= %s",
            [NO_ROLE_STATE_ID, tail_max],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def reads_rollup(*, batch: int = ROLLUP_BATCH, budget_seconds: float | None = ROLLUP_BUDGET_SECONDS, wait: bool = False,
                 progress=None) -> int:
    """Roll up batches until the watermark reaches the log's last id, another roll-up holds the row,
    or ``budget_seconds`` have passed (None: no limit). Returns the ids the watermark moved."""
    started, total = time.monotonic(), 0
    while True:
        moved = reads_rollup_batch(batch=batch, wait=wait)
        judged = no_role_rollup_batch(batch=batch, wait=wait)
        moved = max(moved or 0, judged or 0)
        if not moved:
            return total
        total += moved
        if progress is not None:
            progress(total)
        if budget_seconds is not None and time.monotonic() - started >= budget_seconds:
            return total
