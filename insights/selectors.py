"""The reads of the insights overview: the rollup's aggregate rows (insights.models.rollup) for one
filter, within what the user may read (insights.access.InsightScope).

Everything here is a count by dimension, summed in SQL (``values().annotate(Sum("n"))``): a fixed
handful of queries whatever the number of rows, and nothing about a person (the rollup holds none).
The counts are raw: never show them. ``insights.published`` suppresses them before any page, chart
or export sees a number.
"""
import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q, Sum
from django.urls import reverse

from insights.access import InsightScope
from insights.models import ClosedCount, DeadlineCount, OpenCount, OpenedCount, RollupRun, StepDuration
from org.access import member_facts
from workflows.models import DeadlinePolicy
from workflows.processes import processes


@dataclass(frozen=True)
class OverviewFilter:
    """One view of the figures: a municipality of the scope (None: all of them), a calendar year,
    a registered process's name (None: all)."""

    municipality_id: int | None
    year: int
    process: str | None

    @property
    def first_month(self) -> datetime.date:
        return datetime.date(self.year, 1, 1)

    @property
    def last_month(self) -> datetime.date:
        return datetime.date(self.year, 12, 1)


@dataclass
class Raw:
    """The raw (unsuppressed) sums for one filter. Keys are ids and codes; labels ride along."""

    updated_at: datetime.datetime | None = None
    # (process, month) -> n
    opened: dict = field(default_factory=lambda: defaultdict(int))
    closed: dict = field(default_factory=lambda: defaultdict(int))
    # open at the end of the period (or now, in the current year)
    open_by_process: dict = field(default_factory=lambda: defaultdict(int))
    open_by_service: dict = field(default_factory=lambda: defaultdict(int))  # service id (None) -> n
    open_by_service_kind: dict = field(default_factory=lambda: defaultdict(int))  # (service id, kind) -> n
    open_by_area: dict = field(default_factory=lambda: defaultdict(int))  # area id (None) -> n
    open_by_age: dict = field(default_factory=lambda: defaultdict(int))  # age band -> n
    # (process, step, state) -> n and (service id, state) -> n, deadlines due in the period
    deadlines_by_step: dict = field(default_factory=lambda: defaultdict(int))
    deadlines_by_service: dict = field(default_factory=lambda: defaultdict(int))
    # (process, step) -> {bucket_days: n}
    durations: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    # (from service id, service id) -> n, cases opened in the period
    flow: dict = field(default_factory=lambda: defaultdict(int))
    service_names: dict = field(default_factory=dict)
    area_names: dict = field(default_factory=dict)
    step_titles: dict = field(default_factory=dict)  # (process, step) -> the policy's title


def process_choices() -> list[tuple[str, str]]:
    """(name, label) of every registered process, in the registry's order."""
    return [(process.name, str(process.label)) for process in processes()]


def scope_filter(scope: InsightScope, municipality_id: int | None) -> Q:
    """The rollup rows ``scope`` may read in ``municipality_id`` (None: every municipality of the
    scope): whole municipalities where SLT covers them, else only the rows of services the user
    leads (``InsightScope.services_only``). A municipality outside the scope matches nothing."""
    ids = scope.all_municipality_ids if municipality_id is None else scope.all_municipality_ids & {municipality_id}
    q = Q(pk__in=[])
    for mid in sorted(ids):
        only = scope.services_only(mid)
        q |= Q(municipality_id=mid) if only is None else Q(municipality_id=mid, service_id__in=sorted(only))
    return q


def latest_run() -> RollupRun | None:
    """The newest finished refresh (it dates the page), or None before the first."""
    return RollupRun.objects.filter(finished_at__isnull=False).order_by("-finished_at", "-id").first()


def overview_raw(scope: InsightScope, flt: OverviewFilter) -> Raw:
    """The raw sums the overview shows for ``flt``, in eight queries whatever the data volume."""
    raw = Raw()
    run = latest_run()
    raw.updated_at = run.finished_at if run else None
    where = scope_filter(scope, flt.municipality_id)
    if flt.process:
        where &= Q(process=flt.process)
    in_year = {"gte": flt.first_month, "lte": flt.last_month}

    # The narrow rollups (insights.models.rollup): a few thousand rows each where CaseCount holds
    # hundreds of thousands. The trend and the flow are two groupings of OpenedCount, each a few
    # rows per month or per pair of services (grouped together, they were one row per both).
    opened = OpenedCount.objects.filter(where, opened_month__gte=in_year["gte"], opened_month__lte=in_year["lte"])
    for process, month, total in opened.values_list("process", "opened_month").annotate(total=Sum("n")).order_by():
        raw.opened[(process, month.month)] += total
    for from_id, from_name, service_id, service_name, total in (
            opened.values_list("from_service_id", "from_service__name", "service_id", "service__name")
            .annotate(total=Sum("n")).order_by()):
        raw.flow[(from_id, service_id)] += total
        raw.service_names[from_id] = from_name
        raw.service_names[service_id] = service_name

    for row in (ClosedCount.objects.filter(where, closed_month__gte=in_year["gte"], closed_month__lte=in_year["lte"])
                .values("process", "closed_month").annotate(total=Sum("n")).order_by()):
        raw.closed[(row["process"], row["closed_month"].month)] += row["total"]

    # Open at the end of the period: opened by its last month, not closed by then (in the current
    # year no case has closed after it, so this is "open now" as of the refresh): OpenCount's year.
    open_rows = (OpenCount.objects.filter(where, year=flt.year)
                 .values("process", "service_id", "service__name", "service_kind", "area_id", "area__name", "age_band")
                 .annotate(total=Sum("n")).order_by())
    for row in open_rows:
        n = row["total"]
        raw.open_by_process[row["process"]] += n
        raw.open_by_service[row["service_id"]] += n
        raw.open_by_service_kind[(row["service_id"], row["service_kind"])] += n
        raw.open_by_area[row["area_id"]] += n
        raw.open_by_age[row["age_band"]] += n
        raw.service_names[row["service_id"]] = row["service__name"]
        raw.area_names[row["area_id"]] = row["area__name"]

    for row in (DeadlineCount.objects.filter(where, due_month__gte=in_year["gte"], due_month__lte=in_year["lte"])
                .values("process", "step", "service_id", "service__name", "state").annotate(total=Sum("n")).order_by()):
        raw.deadlines_by_step[(row["process"], row["step"], row["state"])] += row["total"]
        raw.deadlines_by_service[(row["service_id"], row["state"])] += row["total"]
        raw.service_names[row["service_id"]] = row["service__name"]

    for row in (StepDuration.objects.filter(where, month__gte=in_year["gte"], month__lte=in_year["lte"])
                .values("process", "step", "bucket_days").annotate(total=Sum("n")).order_by()):
        raw.durations[(row["process"], row["step"])][row["bucket_days"]] += row["total"]

    policy_q = Q(process=flt.process) if flt.process else Q()
    for process, step, title in DeadlinePolicy.objects.filter(policy_q).values_list("process", "step", "title").order_by("pk"):
        raw.step_titles.setdefault((process, step), title)
    return raw


def histogram_quantile(histogram: dict[int, int], q: float) -> int | None:
    """The upper bound (days) of the DURATION_BUCKETS bucket holding the ``q`` quantile of the merged
    ``histogram`` ({bucket_days: n}); -1 when it falls in the open last bucket; None when empty.
    So a median of 7 reads "up to 7 days"."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = q * total
    seen = 0
    # -1 (longer than the last bound) sorts last.
    for bucket in sorted(histogram, key=lambda b: (b < 0, b)):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket
    return -1


def own_lists(user, flt: OverviewFilter) -> list[dict]:
    """Links to the processes' own lists the user's menu offers (a process's index), for the
    processes in the filter: the cases stay behind each process's own access helper."""
    facts = member_facts(user)
    links = []
    for process in processes():
        if flt.process not in (None, process.name) or not any(process.menu_flags()(facts).values()):
            continue
        links.append({"label": str(process.label), "url": reverse(f"{process.app_class().app_name}:index")})
    return links
