"""Rollup rows for the insights pages' tests, written directly: the pages' contract is the rollup
tables (insights.models.rollup), whatever fills them. A CaseCount row comes with the narrow rows
the refresh derives from it (insights.services.narrow_from_casecounts), so the two always agree."""
import datetime

from django.utils import timezone

from insights.models import CaseCount, DeadlineCount, RollupRun, StepDuration
from insights.services import casecount_key, narrow_from_casecounts, write_narrow


def month(year, m):
    return datetime.date(year, m, 1)


def cases(municipality, n, *, service=None, process="concern", opened=None, closed=None, from_service=None, area=None,
          age_band="6-12", kind=None):
    """One CaseCount row of ``n`` cases (opened this January by default, still open)."""
    row = CaseCount.objects.create(
        municipality=municipality, process=process, service=service,
        service_kind=kind if kind is not None else (service.kind if service else ""),
        from_service=from_service, area=area, age_band=age_band,
        opened_month=opened or month(timezone.localdate().year, 1), closed_month=closed, n=n,
    )
    with_narrow([row])
    return row


def with_narrow(rows):
    """Write the narrow rollup rows of these CaseCount rows (as of today's year)."""
    write_narrow(narrow_from_casecounts(((casecount_key(row), row.n) for row in rows), this_year=timezone.localdate().year))


def deadlines(municipality, n, *, service=None, process="concern", step="review", state=DeadlineCount.State.BREACHED, due=None):
    return DeadlineCount.objects.create(municipality=municipality, process=process, step=step, service=service,
                                        due_month=due or month(timezone.localdate().year, 1), state=state, n=n)


def durations(municipality, histogram: dict, *, service=None, process="concern", step="review", when=None):
    for bucket, n in histogram.items():
        StepDuration.objects.create(municipality=municipality, process=process, step=step, service=service,
                                    month=when or month(timezone.localdate().year, 1), bucket_days=bucket, n=n)


def finished_run(at=None):
    at = at or timezone.now()
    return RollupRun.objects.create(started_at=at - datetime.timedelta(seconds=5), finished_at=at, cases=1, seconds=5)
