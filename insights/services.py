"""The insights rollup: recompute the aggregate rows (insights.models.rollup) from the case records.

Refreshed by beat (insights.tasks.rollup_refresh, every ten minutes), not kept by each process's
services in the transaction of every state change: recomputed from the records, the counts cannot
drift from them (no service can forget to bump a counter, a data fix needs no second fix); "at risk"
and "breached" change with the clock, not only with a state change, so they need a periodic pass
anyway; and no process's write path pays for, or locks, shared counter rows. The price is figures up
to one interval old, which the pages date by the last RollupRun.
"""
import bisect
import datetime
import time
from collections import Counter

from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from insights.models import (
    AGE_BANDS, DURATION_BUCKETS, CaseCount, ClosedCount, DeadlineCount, OpenCount, OpenedCount, RollupRun, StepDuration,
)
from insights.models.rollup import AGE_UNKNOWN
from workflows.models import Deadline
from workflows.processes import processes

# Rows streamed from the database per round trip, and written per INSERT.
CHUNK = 5000
# "At risk" this many hours before the due time when the deadline's policy names no reminder time.
AT_RISK_HOURS = 48
# pg_advisory_xact_lock key of the refresh ("INSIGHTS" in ASCII).
ROLLUP_LOCK_KEY = int.from_bytes(b"INSIGHTS", "big")

_BAND_FLOORS = [floor for _, floor in AGE_BANDS]


def rollup_refresh(*, now=None) -> RollupRun:
    """Recompute every CaseCount (and the narrow OpenedCount, ClosedCount and OpenCount derived from
    the same counts, narrow_from_casecounts), DeadlineCount and StepDuration row and return the run's record.

    Reads each registered process's cases (``Process.insight_cases``) and every deadline not
    cancelled, counts them in memory, then deletes the three tables' rows and writes the new ones in
    one transaction with the RollupRun: a reader sees the previous refresh's rows until this one
    commits, never a mix (DELETE, not TRUNCATE, so readers are never blocked). ``now`` (default: the
    current time) decides which open deadlines are at risk or breached and dates the run.

    Locking: on PostgreSQL the whole refresh holds a transaction-scoped advisory lock, so a second
    refresh waits for the first to commit and then reads the records afresh; two never interleave,
    and the later one never writes older figures. SQLite runs one writer at a time anyway.
    """
    now = now or timezone.now()
    clock = time.monotonic()
    with transaction.atomic():
        _lock()
        cases, read = _case_counts()
        deadlines, durations = _deadline_counts(now)
        narrow = narrow_from_casecounts(cases.items(), this_year=timezone.localtime(now).year)
        for model in (CaseCount, OpenedCount, ClosedCount, OpenCount, DeadlineCount, StepDuration):
            model.objects.all().delete()
        CaseCount.objects.bulk_create(
            (CaseCount(municipality_id=muni, process=process, service_id=service, service_kind=kind, from_service_id=from_service,
                       area_id=area, age_band=band, opened_month=opened, closed_month=closed, n=n)
             for (muni, process, service, kind, from_service, area, band, opened, closed), n in cases.items()),
            batch_size=CHUNK,
        )
        write_narrow(narrow)
        DeadlineCount.objects.bulk_create(
            (DeadlineCount(municipality_id=muni, process=process, step=step, service_id=service, due_month=month, state=state, n=n)
             for (muni, process, step, service, month, state), n in deadlines.items()),
            batch_size=CHUNK,
        )
        StepDuration.objects.bulk_create(
            (StepDuration(municipality_id=muni, process=process, step=step, service_id=service, month=month, bucket_days=bucket, n=n)
             for (muni, process, step, service, month, bucket), n in durations.items()),
            batch_size=CHUNK,
        )
        return RollupRun.objects.create(started_at=now, finished_at=timezone.now(), cases=read, seconds=round(time.monotonic() - clock, 3))


def narrow_from_casecounts(counts, *, this_year: int) -> tuple[Counter, Counter, Counter]:
    """The narrow rollups' counts derived from CaseCount's: ``counts`` yields ((municipality, process,
    service, kind, from service, area, age band, opened month, closed month), n), as the refresh's
    Counter does (or casecount_key gives for a row). Returns
    ({(municipality, process, from service, service, opened month): n} for OpenedCount,
     {(municipality, process, service, closed month): n} for ClosedCount,
     {(municipality, process, service, kind, area, age band, year): n} for OpenCount).

    Open at the end of a year: opened on or before it (opened month ≤ December), not closed by then
    (closed month after December, or never). So a case counts in each year from its opening year to
    the year before it closed; while still open, to ``this_year`` (the refresh's: no later year is
    asked for, the overview's year stops at the current one)."""
    opened, closed, still_open = Counter(), Counter(), Counter()
    for (muni, process, service, kind, from_service, area, band, opened_month, closed_month), n in counts:
        opened[(muni, process, from_service, service, opened_month)] += n
        if closed_month is not None:
            closed[(muni, process, service, closed_month)] += n
            last = closed_month.year - 1
        else:
            last = max(this_year, opened_month.year)
        for year in range(opened_month.year, last + 1):
            still_open[(muni, process, service, kind, area, band, year)] += n
    return opened, closed, still_open


def casecount_key(row: CaseCount) -> tuple:
    """A CaseCount row's dimensions in the order narrow_from_casecounts reads them."""
    return (row.municipality_id, row.process, row.service_id, row.service_kind, row.from_service_id, row.area_id,
            row.age_band, row.opened_month, row.closed_month)


def write_narrow(narrow: tuple[Counter, Counter, Counter]) -> None:
    """Insert the rows of narrow_from_casecounts's counts (adding to any already there)."""
    opened, closed, still_open = narrow
    OpenedCount.objects.bulk_create(
        (OpenedCount(municipality_id=muni, process=process, from_service_id=from_service, service_id=service, opened_month=month, n=n)
         for (muni, process, from_service, service, month), n in opened.items()),
        batch_size=CHUNK,
    )
    ClosedCount.objects.bulk_create(
        (ClosedCount(municipality_id=muni, process=process, service_id=service, closed_month=month, n=n)
         for (muni, process, service, month), n in closed.items()),
        batch_size=CHUNK,
    )
    OpenCount.objects.bulk_create(
        (OpenCount(municipality_id=muni, process=process, service_id=service, service_kind=kind, area_id=area, age_band=band, year=year, n=n)
         for (muni, process, service, kind, area, band, year), n in still_open.items()),
        batch_size=CHUNK,
    )


def latest_run() -> RollupRun | None:
    """The newest finished refresh (what the pages' "updated at" shows), or None before the first."""
    return RollupRun.objects.filter(finished_at__isnull=False).first()


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK_KEY])


def _case_counts() -> tuple[Counter, int]:
    """{(municipality, process, service, kind, from service, area, age band, opened month, closed
    month): cases} over every registered process, and how many cases were read."""
    counts = Counter()
    read = 0
    for process in processes():
        rows = import_string(process.insight_cases)().iterator(chunk_size=CHUNK)
        for muni, service, kind, from_service, area, opened_at, closed_at, birth_date, age_hint in rows:
            opened = timezone.localtime(opened_at)
            band = age_band(age_at(birth_date, opened.date(), age_hint))
            closed = month_of(closed_at) if closed_at is not None else None
            counts[(muni, process.name, service, kind or "", from_service, area, band, opened.date().replace(day=1), closed)] += 1
            read += 1
    return counts, read


def _deadline_counts(now) -> tuple[Counter, Counter]:
    """({(municipality, process, step, service, due month, state): deadlines},
    {(municipality, process, step, service, met month, bucket): steps}) over every deadline not cancelled."""
    states = Counter()
    durations = Counter()
    rows = (
        Deadline.objects.filter(cancelled_at__isnull=True).order_by()
        .values_list("policy__process", "policy__step", "policy__remind_before_hours", "responsible_service_id",
                     "responsible_service__municipality_id", "starts_at", "due_at", "met_at")
        .iterator(chunk_size=CHUNK)
    )
    for process, step, remind_hours, service, muni, starts_at, due_at, met_at in rows:
        states[(muni, process, step, service, month_of(due_at), deadline_state(due_at=due_at, met_at=met_at, now=now,
                                                                               remind_before_hours=remind_hours))] += 1
        if met_at is not None:
            durations[(muni, process, step, service, month_of(met_at), duration_bucket((met_at - starts_at).days))] += 1
    return states, durations


def month_of(moment: datetime.datetime) -> datetime.date:
    """The first day of ``moment``'s month in the local time zone (settings.TIME_ZONE, Europe/Oslo)."""
    return timezone.localtime(moment).date().replace(day=1)


def age_at(birth_date: datetime.date | None, day: datetime.date, age_hint: int | None = None) -> int | None:
    """Age in whole years on ``day`` (one more on the birthday itself); ``age_hint`` without a birth
    date; None when neither is known."""
    if birth_date is None:
        return age_hint
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def age_band(age: int | None) -> str:
    """The AGE_BANDS code of an age, or "unknown". A child not yet born when the case opened (a
    concern during pregnancy) counts with the youngest."""
    if age is None:
        return AGE_UNKNOWN
    return AGE_BANDS[max(bisect.bisect_right(_BAND_FLOORS, age) - 1, 0)][0]


def deadline_state(*, due_at, met_at, now, remind_before_hours: int | None) -> str:
    """A deadline's DeadlineCount.State at ``now``: met in time or late by when it was met; if open,
    breached once past due, at risk from the policy's reminder time (AT_RISK_HOURS without one)."""
    S = DeadlineCount.State
    if met_at is not None:
        return S.MET if met_at <= due_at else S.MET_LATE
    if due_at < now:
        return S.BREACHED
    hours = AT_RISK_HOURS if remind_before_hours is None else remind_before_hours
    return S.AT_RISK if now >= due_at - datetime.timedelta(hours=hours) else S.OPEN


def duration_bucket(days: int) -> int:
    """The smallest DURATION_BUCKETS bound of at least ``days``, or -1 when longer than the last."""
    i = bisect.bisect_left(DURATION_BUCKETS, max(days, 0))
    return DURATION_BUCKETS[i] if i < len(DURATION_BUCKETS) else -1
