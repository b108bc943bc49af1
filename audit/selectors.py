"""Reads of the access log: an object's log, and the privacy function's review of unusual access."""
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Count, F, Func, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat

from audit.labels import labels_of
from audit.models import AccessLog, ReadRecord, ReadRollup, ReadWindow, ReadWithoutRole
from audit.rollup import STATE_ID, bucket_sql, no_role_watermark, reads_without_role, rollup_supported
from org.paging import cursor_encode, keyset_page

REVIEW_PAGE_SIZE = 25


LOG_PAGE_SIZE = 50


def access_log_for_object(obj, *, services=None, cursor=None, size=LOG_PAGE_SIZE):
    """One page of ``obj``'s log rows, newest first, after ``cursor``: (rows, next cursor or None).
    With ``services``, only what those services did. A case read every day has thousands of rows:
    the page is paged by keyset on the (object, at) index, never the whole log at once."""
    qs = AccessLog.objects.filter(object_type__in=labels_of(obj._meta.label_lower), object_id=obj.pk)
    if services is not None:
        qs = qs.filter(service__in=services)
    return keyset_page(qs.select_related("user", "service"), "at", cursor, descending=True, page_size=size)


# What the review shows of a row: not its changes or hashes, nor the whole user and service.
_REVIEW_FIELDS = ("at", "action", "object_type", "object_id", "purpose", "via", "user__username", "service__name")


def review_break_glass(*, since, until, cursor=None, size=REVIEW_PAGE_SIZE):
    """Rows written through an emergency access in [since, until), newest first: (rows, next cursor or None)."""
    qs = (
        AccessLog.objects.filter(via=AccessLog.Via.BREAK_GLASS, at__gte=since, at__lt=until)
        .select_related("user", "service").only(*_REVIEW_FIELDS)
    )
    return keyset_page(qs, "at", cursor, descending=True, page_size=size)


def review_reads_without_case(*, since, until, cursor=None, size=REVIEW_PAGE_SIZE):
    """Reads of a person by a service that held no role with the person at the time (or by no
    service at all: an administrator), in [since, until), newest first. Break-the-glass reads are
    listed apart; the privacy function's reads on a registered request are its role. (rows, next cursor).

    On PostgreSQL the reads up to the no-role roll-up's watermark come from ReadWithoutRole (judged
    once, audit/rollup.py) and only the reads after it are judged here; the two pages are merged by
    (at, id). Without the roll-up (SQLite, or too far behind) every read of the period is judged."""
    judged_live = reads_without_role(AccessLog.objects.filter(at__gte=since, at__lt=until))
    mark = no_role_watermark(tail_max=ROLLUP_TAIL_MAX)
    if mark is None:
        return keyset_page(judged_live.select_related("user", "service").only(*_REVIEW_FIELDS), "at", cursor, descending=True,
                           page_size=size)
    rolled, rolled_more = keyset_page(ReadWithoutRole.objects.filter(at__gte=since, at__lt=until, id__lte=mark), "at", cursor,
                                      descending=True, page_size=size)
    # The tail by its ids (after the watermark: at most ROLLUP_TAIL_MAX when the mark was read; twice
    # that leaves room for rows written since), not by the period's time index: PostgreSQL, weighing
    # the judgement's subqueries per row, otherwise read a month of the log's times to narrow a few
    # hundred rows (8 ms at 10,000,000 rows).
    tail_ids = AccessLog.objects.filter(pk__gt=mark).order_by("pk").values("pk")[: 2 * ROLLUP_TAIL_MAX]
    tail, tail_more = keyset_page(judged_live.filter(pk__in=tail_ids).only("id", "at"), "at", cursor, descending=True, page_size=size)
    merged = sorted([(r.at, r.pk) for r in rolled + tail], reverse=True)
    more = bool(rolled_more or tail_more or len(merged) > size)
    shown = [pk for _at, pk in merged[:size]]
    rows = AccessLog.objects.filter(pk__in=shown).select_related("user", "service").only(*_REVIEW_FIELDS).in_bulk()
    page = [rows[pk] for pk in shown]
    return page, (cursor_encode(page[-1].at, page[-1].pk) if more and page else None)


class _EpochBucket(Func):
    """floor(seconds since the epoch of ``at`` / bucket seconds), on PostgreSQL and SQLite."""

    output_field = IntegerField()

    def __init__(self, expression, seconds: int):
        self.seconds = int(seconds)
        super().__init__(expression)

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.source_expressions[0])
        return bucket_sql(sql, str(self.seconds)), params

    def as_sqlite(self, compiler, connection):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(CAST(strftime('%%s', {sql}) AS INTEGER) / {self.seconds})", params


# One record of the log: its object type and id (reading it again is the same record).
_RECORD = Concat("object_type", Value(":"), Cast("object_id", CharField()), output_field=CharField())


@dataclass(frozen=True)
class Burst:
    user_id: int
    username: str
    start: datetime.datetime
    end: datetime.datetime
    reads: int

    @property
    def cursor(self) -> str:
        return f"{int(self.start.timestamp())}-{self.user_id}"


def review_bursts(*, since, until, after: str | None = None, size=REVIEW_PAGE_SIZE, reads=None, minutes=None):
    """Users who read more than ``reads`` different records (settings.AUDIT_BURST_READS) within one
    window of ``minutes`` (settings.AUDIT_BURST_MINUTES), counted per user per fixed window in the
    database. A record is an object of the log (its type and id): opening the same case or list again
    is not a burst, reading many people's cases is. A list that names 25 children logs 25 reads, so
    counting rows would flag a caseworker who opens their intake list three times in ten minutes.
    Newest window first; ``after`` is the cursor of the last burst of the previous page.
    Returns (bursts, next cursor or None).

    On PostgreSQL the windows come from the roll-up (audit/rollup.py) plus the reads after its
    watermark, and the windows the period cuts at either end are counted from the log: one query,
    exact and current. A second query counts live from the log when the roll-up does not fit (none
    yet, another window length, or more than ROLLUP_TAIL_MAX ids behind the log)."""
    reads = reads if reads is not None else settings.AUDIT_BURST_READS
    minutes = minutes if minutes is not None else settings.AUDIT_BURST_MINUTES
    seconds = minutes * 60
    start, _, user_id = (after or "").partition("-")
    # A forged cursor is the first page, never an error (nor a number too big for the database).
    forged = not (start.isdigit() and user_id.isdigit() and len(start) <= 12 and len(user_id) <= 18)
    cursor = None if forged else (int(start) // seconds, int(user_id))
    groups = None
    if rollup_supported():
        groups = _bursts_rolled_up(since=since, until=until, cursor=cursor, size=size, reads=reads, seconds=seconds)
    if groups is None:
        groups = _bursts_live(since=since, until=until, cursor=cursor, size=size, reads=reads, seconds=seconds)
    bursts = [
        Burst(
            user_id=user_id, username=username or "",
            start=datetime.datetime.fromtimestamp(bucket * seconds, tz=datetime.timezone.utc),
            end=datetime.datetime.fromtimestamp((bucket + 1) * seconds, tz=datetime.timezone.utc),
            reads=n,
        )
        for user_id, bucket, n, username in groups[:size]
    ]
    return bursts, (bursts[-1].cursor if len(groups) > size else None)


def _bursts_live(*, since, until, cursor, size, reads, seconds) -> list[tuple]:
    """(user id, window, records, username) of the bursts, counted from the log's reads in the period."""
    from django.contrib.auth import get_user_model

    qs = (
        AccessLog.objects.filter(action=AccessLog.Action.VIEW, user__isnull=False, at__gte=since, at__lt=until)
        .annotate(bucket=_EpochBucket(F("at"), seconds))
    )
    if cursor is not None:
        bucket, user_id = cursor
        qs = qs.filter(Q(bucket__lt=bucket) | Q(bucket=bucket, user_id__gt=user_id))
    # The username as a subquery of each burst found, not a join: joined, every read of the period
    # would carry it through the count (470 ms instead of 270 at 270,000 reads).
    username = get_user_model().objects.filter(pk=OuterRef("user_id")).values("username")[:1]
    return list(
        qs.values("user_id", "bucket").annotate(n=Count(_RECORD, distinct=True)).filter(n__gt=reads)
        .annotate(username=Subquery(username)).order_by("-bucket", "user_id")
        .values_list("user_id", "bucket", "n", "username")[: size + 1]
    )


# How many access-log ids the roll-up may be behind for the review to use it (the reads after its
# watermark are counted from the log on every request): more, and the review counts live.
ROLLUP_TAIL_MAX = 50_000

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _bursts_rolled_up(*, since, until, cursor, size, reads, seconds) -> list[tuple] | None:
    """The bursts from the roll-up, or None when it does not fit (see review_bursts). The windows
    wholly inside [since, until) are ReadWindow's counts plus the records read after the watermark
    that ReadRecord does not hold yet for their user and window; a window the period cuts (at most one
    at each end) is counted from the log's reads inside the period, as the live count does. All in
    one statement, so the watermark, the rolled-up rows and the log are read in one snapshot."""
    from django.contrib.auth import get_user_model

    step = datetime.timedelta(seconds=seconds)
    first = -((_EPOCH - since) // step)  # the first window that starts at or after since
    last = (until - _EPOCH) // step  # the window that holds until (the first one not wholly inside)
    if first >= last:
        return None  # no whole window in the period: counting it live reads at most two windows
    user = get_user_model()
    q = connection.ops.quote_name
    log, state = q(AccessLog._meta.db_table), q(ReadRollup._meta.db_table)
    record, window = q(ReadRecord._meta.db_table), q(ReadWindow._meta.db_table)
    users, user_pk = q(user._meta.db_table), q(user._meta.pk.column)
    reads_of = "l.action = %(view)s AND l.user_id IS NOT NULL"
    keyset = "AND (c.bucket < %(c_bucket)s OR (c.bucket = %(c_bucket)s AND c.user_id > %(c_user)s))" if cursor else ""
    sql = f"""
        WITH mark AS (
            SELECT s.last_id FROM {state} s
            WHERE s.id = %(state_id)s AND s.seconds = %(seconds)s
              AND COALESCE((SELECT max(id) FROM {log}), 0) - s.last_id <= %(tail_max)s
        ), tail AS (
            -- The rows after the watermark, by id (at most tail_max of them: mark says so, in this
            -- statement's snapshot); the limit keeps the planner on the id's index, whose range it
            -- cannot estimate before the watermark is read.
            SELECT DISTINCT l.user_id, {bucket_sql('l.at')} AS bucket, l.object_type, l.object_id
            FROM (
                SELECT a.at, a.user_id, a.action, a.object_type, a.object_id FROM {log} a
                WHERE a.id > (SELECT last_id FROM mark) ORDER BY a.id LIMIT %(tail_max)s
            ) l
            WHERE {reads_of} AND l.at >= %(whole_from)s AND l.at < %(whole_to)s
        ), fresh AS (
            SELECT t.user_id, t.bucket, count(*) AS n FROM tail t
            WHERE NOT EXISTS (
                SELECT 1 FROM {record} r WHERE r.seconds = %(seconds)s AND r.user_id = t.user_id AND r.bucket = t.bucket
                  AND r.object_type = t.object_type AND r.object_id = t.object_id
            )
            GROUP BY t.user_id, t.bucket
        ), counts AS (
            SELECT f.user_id, f.bucket, f.n + COALESCE(w.records, 0) AS n
            FROM fresh f LEFT JOIN {window} w ON w.seconds = %(seconds)s AND w.user_id = f.user_id AND w.bucket = f.bucket
            UNION ALL
            SELECT w.user_id, w.bucket, w.records FROM {window} w
            WHERE EXISTS (SELECT 1 FROM mark) AND w.seconds = %(seconds)s AND w.records > %(reads)s
              AND w.bucket >= %(first)s AND w.bucket < %(last)s
              AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.user_id = w.user_id AND f.bucket = w.bucket)
            UNION ALL
            SELECT l.user_id, {bucket_sql('l.at')} AS bucket, count(DISTINCT (l.object_type, l.object_id))
            FROM {log} l
            WHERE EXISTS (SELECT 1 FROM mark) AND {reads_of}
              AND ((l.at >= %(since)s AND l.at < %(whole_from)s) OR (l.at >= %(whole_to)s AND l.at < %(until)s))
            GROUP BY 1, 2
        ), page AS (
            SELECT c.user_id, c.bucket, c.n, (SELECT u.username FROM {users} u WHERE u.{user_pk} = c.user_id) AS username
            FROM counts c
            WHERE c.n > %(reads)s {keyset}
            ORDER BY c.bucket DESC, c.user_id
            LIMIT %(limit)s
        )
        SELECT (SELECT last_id FROM mark), p.user_id, p.bucket, p.n, p.username
        FROM (SELECT 1) AS one LEFT JOIN page p ON true
        ORDER BY p.bucket DESC, p.user_id
    """
    params = dict(
        state_id=STATE_ID, seconds=seconds, tail_max=ROLLUP_TAIL_MAX, view=AccessLog.Action.VIEW, reads=reads,
        since=since, until=until, first=first, last=last, whole_from=_EPOCH + first * step, whole_to=_EPOCH + last * step,
        limit=size + 1,
    )
    if cursor:
        params.update(c_bucket=cursor[0], c_user=cursor[1])
    with connection.cursor() as db:
        db.execute(sql, params)
        rows = db.fetchall()
    if not rows or rows[0][0] is None:
        return None
    return [(user_id, bucket, n, username) for _mark, user_id, bucket, n, username in rows if user_id is not None]
