"""The narrow rollups (OpenedCount, ClosedCount, OpenCount) the overview reads: the refresh writes
exactly what insights.services.narrow_from_casecounts derives from its CaseCount rows (the pages'
tests build them the same way, tests.insights.rollup_rows), and they count as the case records do,
across a year boundary too."""
import datetime
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine

from insights.models import CaseCount, ClosedCount, OpenCount, OpenedCount
from insights.services import casecount_key, narrow_from_casecounts, rollup_refresh
from tests.factories import advance, make_melding
from tests.insights.test_rollup import T0, refresh, world  # noqa: F401  (the shared world fixture)

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")


def table(model, *dims) -> Counter:
    counts = Counter()
    for row in model.objects.values_list(*dims, "n"):
        counts[row[:-1]] += row[-1]
    return counts


def tables() -> tuple[Counter, Counter, Counter]:
    return (table(OpenedCount, "municipality", "process", "from_service", "service", "opened_month"),
            table(ClosedCount, "municipality", "process", "service", "closed_month"),
            table(OpenCount, "municipality", "process", "service", "service_kind", "area", "age_band", "year"))


def derived(this_year) -> tuple[Counter, Counter, Counter]:
    return narrow_from_casecounts(((casecount_key(row), row.n) for row in CaseCount.objects.all()), this_year=this_year)


def open_at_end_of(year) -> Counter:
    """Open at the end of ``year`` by (process, service), read off CaseCount as the overview once did."""
    last = datetime.date(year, 12, 1)
    counts = Counter()
    for process, service, opened, closed, n in CaseCount.objects.values_list("process", "service", "opened_month", "closed_month", "n"):
        if opened <= last and (closed is None or closed > last):
            counts[process, service] += n
    return counts


def open_in_table(year) -> Counter:
    counts = Counter()
    for process, service, n in OpenCount.objects.filter(year=year).values_list("process", "service", "n"):
        counts[process, service] += n
    return counts


class NarrowRollupTests:
    def test_it_writes_what_the_derivation_gives_from_the_case_counts(self, world):
        refresh()

        assert tables() == derived(T0.year)
        assert sum(table(OpenedCount, "process").values()) == sum(CaseCount.objects.values_list("n", flat=True)) == 13
        assert open_in_table(T0.year) == open_at_end_of(T0.year)

    def test_it_counts_cases_open_across_a_year_boundary(self, org):
        with time_machine.travel(datetime.datetime(2026, 11, 20, 10, 0, tzinfo=OSLO), tick=False):
            still_open = make_melding(org)
        with time_machine.travel(datetime.datetime(2026, 12, 31, 23, 30, tzinfo=OSLO), tick=False):
            closed_next_year = make_melding(org)
            closed_same_year = make_melding(org)
            advance(closed_same_year, org, "closed")
        with time_machine.travel(datetime.datetime(2027, 1, 10, 9, 0, tzinfo=OSLO), tick=False):
            advance(closed_next_year, org, "closed")
        now = datetime.datetime(2027, 2, 1, 8, 0, tzinfo=OSLO)
        with time_machine.travel(now, tick=False):
            rollup_refresh(now=now)

        muni, barnehage, barnevern = org.municipality.pk, org.barnehage.pk, org.barnevern.pk
        assert tables() == derived(2027)
        assert table(OpenedCount, "process", "from_service", "service", "opened_month") == Counter({
            ("concern", barnehage, barnevern, datetime.date(2026, 11, 1)): 1,
            ("concern", barnehage, barnevern, datetime.date(2026, 12, 1)): 2,
        })
        assert table(ClosedCount, "municipality", "process", "service", "closed_month") == Counter({
            (muni, "concern", barnevern, datetime.date(2026, 12, 1)): 1,
            (muni, "concern", barnevern, datetime.date(2027, 1, 1)): 1,
        })
        # End of 2026: the November melding and the one closed in January; end of 2027 (now): the November one.
        assert open_in_table(2026) == open_at_end_of(2026) == Counter({("concern", barnevern): 2})
        assert open_in_table(2027) == open_at_end_of(2027) == Counter({("concern", barnevern): 1})
        assert set(OpenCount.objects.values_list("year", flat=True)) == {2026, 2027}
        assert still_open.status != "closed"

    def test_it_counts_a_case_in_each_year_until_the_one_it_closed_in(self):
        key = (1, "concern", 7, "barnevern", 8, None, "6-12", datetime.date(2023, 5, 1), datetime.date(2026, 2, 1))
        open_key = (1, "concern", 7, "barnevern", 8, None, "6-12", datetime.date(2025, 3, 1), None)

        opened, closed, open_ = narrow_from_casecounts([(key, 3), (open_key, 2)], this_year=2027)

        assert opened == Counter({(1, "concern", 8, 7, datetime.date(2023, 5, 1)): 3, (1, "concern", 8, 7, datetime.date(2025, 3, 1)): 2})
        assert closed == Counter({(1, "concern", 7, datetime.date(2026, 2, 1)): 3})
        assert {k[-1]: n for k, n in open_.items()} == {2023: 3, 2024: 3, 2025: 5, 2026: 2, 2027: 2}
