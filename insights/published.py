"""The overview's figures as they may be published: every table passes through small-cell
suppression (workflows.services.suppression, threshold 5) before a page, a chart or an export sees
it. Charts draw these published numbers only; a hidden entry is drawn as no bar at all and reads
``hidden_marker()``.

What a page guarantees
----------------------
Within one filter (one municipality or all of the user's, one calendar year, one process or all):

* every published entry (cell, row total, column total, grand total) is 0 or at least 5;
* no hidden entry can be worked out from the published numbers of the page, by any sum or
  difference, because tables that share a total or margins are suppressed *together* until their
  hidden shared entries agree (``_suppress_linked``):
    - open at the end of the period: by service x kind of service (a two-way table, since a kind's
      count is the sum of its services'), by process, by area and by age band share the grand total;
    - opened in the period: by process x month (the trend) and the flow matrix (from service x
      service) share the grand total;
    - deadlines due in the period: by step x state and by service x state share the state totals
      and the grand total;
    - closed in the period by process x month, and the steps measured, stand alone;
* the hidden marker never tells "small" from "hidden to protect a neighbour" (it is not "<5": a
  complementary hidden entry may be large, and an upper bound on every hidden entry would let a
  reader solve a line), and no median or 90th percentile is shown for a step whose count is hidden;
* the figures are read from the rollup, which holds no person: there is nothing to name.

Residual risk across filter choices (what one page cannot promise)
------------------------------------------------------------------
Suppression is per page. A reader who compares pages may difference them: one municipality
against all of them, one process against all processes, or open at the end of one year against
the next (open(Y) = open(Y-1) + opened(Y) - closed(Y)), and in theory recover an entry hidden on
one page from entries shown on others. Mitigated cheaply: periods are whole calendar years only
(no arbitrary date ranges, so no one-day or one-case slices), the filter offers only the user's own
municipalities and registered processes, and a leader reads only the services they lead. What
remains is the differencing of coarse yearly aggregates, accepted as the national statistics
accept it; a complete guard would need one suppression over every combination of filters, which
the rollup's refresh could compute later if the risk assessment asks for it.
"""
import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import formats
from django.utils.dates import MONTHS_3
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from insights import charts
from insights.models import AGE_BANDS, DURATION_BUCKETS, DeadlineCount
from insights.models.rollup import AGE_UNKNOWN
from insights.selectors import OverviewFilter, Raw, histogram_quantile, process_choices
from org.models import Service
from workflows.services.suppression import DEFAULT_THRESHOLD, suppress_distribution, suppress_table

THRESHOLD = DEFAULT_THRESHOLD
STATE_ORDER = (DeadlineCount.State.AT_RISK, DeadlineCount.State.BREACHED, DeadlineCount.State.MET_LATE,
               DeadlineCount.State.MET, DeadlineCount.State.OPEN)
SECTIONS = (
    ("trend", gettext_lazy("Opened and closed per month")),
    ("open", gettext_lazy("Open at the end of the period")),
    ("deadlines", gettext_lazy("Deadlines")),
    ("durations", gettext_lazy("Time per step")),
    ("flow", gettext_lazy("Who refers to whom")),
)


def hidden_marker() -> str:
    return _("hidden")


def hidden_note() -> str:
    return _("“%(marker)s”: fewer than %(threshold)s cases, or hidden so that a small number cannot be worked "
             "out from the totals.") % {"marker": hidden_marker(), "threshold": THRESHOLD}


def count_text(value) -> str:
    return hidden_marker() if value is None else formats.number_format(value, 0, force_grouping=True)


@dataclass
class Figure:
    """One published table: ``cells`` (rows x columns, None = hidden), with row totals and column
    totals and a grand total when ``two_way``; a distribution (one column) has only its ``total``.
    ``extra`` adds text columns (``extra_headers``) after the counts (the step durations)."""

    key: str
    section: str
    title: str
    row_header: str
    rows: list[str]
    columns: list[str]
    cells: list[list[int | None]]
    total: int | None
    row_totals: list[int | None] | None = None
    column_totals: list[int | None] | None = None
    note: str = ""
    extra_headers: list[str] = field(default_factory=list)
    extra: list[list[str]] = field(default_factory=list)
    chart: str = ""

    @property
    def two_way(self) -> bool:
        return self.row_totals is not None

    def headers(self) -> list[str]:
        return [self.row_header, *self.columns, *([_("Total")] if self.two_way else []), *self.extra_headers]

    def text_rows(self) -> list[list[str]]:
        """Every row as text, the first cell its header; the totals row last."""
        out = []
        for i, label in enumerate(self.rows):
            row = [label, *(count_text(v) for v in self.cells[i])]
            if self.two_way:
                row.append(count_text(self.row_totals[i]))
            if self.extra_headers:
                row += self.extra[i]
            out.append(row)
        footer = [_("Total"), *(count_text(v) for v in (self.column_totals if self.two_way else [])),
                  count_text(self.total)]
        if not self.two_way:
            footer = [_("Total"), count_text(self.total)]
        out.append(footer + [""] * len(self.extra_headers))
        return out


@dataclass
class Overview:
    filter: OverviewFilter
    updated_at: datetime.datetime | None
    figures: list[Figure]

    def section(self, key):
        return [f for f in self.figures if f.section == key]

    def sections(self):
        return [(key, str(title), self.section(key)) for key, title in SECTIONS]


def _suppress_linked(tables, dists, *, share_columns=False):
    """Suppress two-way ``tables`` (lists of rows) and one-way ``dists`` that share their grand total
    (and, with ``share_columns``, the tables their column totals) together: repeat, forcing what any
    of them hid in a shared entry hidden in all, until the hidden shared entries agree (the
    suppression module's rule for linked tables)."""
    hidden_columns: set[int] = set()
    hide_total = False
    while True:
        done_t = [suppress_table(cells, threshold=THRESHOLD, hidden_column_totals=sorted(hidden_columns) if share_columns else (),
                                 hide_total=hide_total) for cells in tables]
        done_d = [suppress_distribution(counts, threshold=THRESHOLD, hide_total=hide_total) for counts in dists]
        columns = {j for t in done_t for j, v in enumerate(t.column_totals) if v is None} if share_columns else set()
        total_hidden = hide_total or any(t.total is None for t in done_t) or any(d.total is None for d in done_d)
        if columns <= hidden_columns and total_hidden == hide_total:
            return done_t, done_d
        hidden_columns |= columns
        hide_total = total_hidden


def _two_way(key, section, title, row_header, rows, columns, table, note=""):
    return Figure(key, section, title, row_header, rows, columns, [list(r) for r in table.cells], table.total,
                  row_totals=list(table.row_totals), column_totals=list(table.column_totals), note=note)


def _one_way(key, section, title, row_header, rows, column, dist, note=""):
    return Figure(key, section, title, row_header, rows, [column], [[v] for v in dist.counts], dist.total, note=note)


def _age_label(band):
    return _("Age unknown") if band == AGE_UNKNOWN else _("%(band)s years") % {"band": band.replace("-", "–")}


def _days_text(bucket):
    if bucket is None:
        return "–"
    if bucket < 0:
        return _("more than %(days)s days") % {"days": DURATION_BUCKETS[-1]}
    return _("up to %(days)s days") % {"days": bucket}


# The flow matrix names the services that send and hold the most cases; the rest are one row and one
# column ("other services"), so a municipality of 300 services gets a matrix a leader can read (and a
# PDF page can hold), and small services' cells are pooled before suppression rather than hidden.
FLOW_SERVICES = 12
OTHER_SERVICES = "other"


def _flow_grouped(flow: dict, service_name) -> tuple[dict, list, list]:
    """``flow`` ({(from, to): count}) with all but the FLOW_SERVICES largest senders and holders pooled
    under OTHER_SERVICES; returns the pooled cells and the row and column keys in display order."""
    def largest(position):
        totals = defaultdict(int)
        for pair, count in flow.items():
            totals[pair[position]] += count
        ranked = sorted(totals, key=lambda pk: (-totals[pk], pk is None, service_name(pk, ""), pk or 0))
        return set(ranked[:FLOW_SERVICES]) if len(ranked) > FLOW_SERVICES + 1 else set(ranked)

    kept_from, kept_to = largest(0), largest(1)
    cells = defaultdict(int)
    for (f, s), count in flow.items():
        cells[(f if f in kept_from else OTHER_SERVICES, s if s in kept_to else OTHER_SERVICES)] += count

    def ordered(keys):
        return sorted(keys, key=lambda pk: (pk == OTHER_SERVICES, pk is None, service_name(pk, "") if pk != OTHER_SERVICES else "", 0 if pk in (None, OTHER_SERVICES) else pk))

    return cells, ordered({f for f, _s in cells}), ordered({s for _f, s in cells})


def _flow_label(key, service_name, none):
    return _("Other services") if key == OTHER_SERVICES else service_name(key, none)


def publish(raw: Raw, flt: OverviewFilter) -> Overview:
    """The overview's published (suppressed) figures of ``raw``, with their charts, in the active language."""
    labels = dict(process_choices())
    names = [name for name in labels if flt.process in (None, name)]
    # Rows of a process no longer registered are counted under their code rather than dropped.
    seen = {p for p, _m in raw.opened} | {p for p, _m in raw.closed} | set(raw.open_by_process)
    names += sorted(seen - set(names))
    plabel = [labels.get(name, name) for name in names]
    months = [str(MONTHS_3[m]).capitalize() for m in range(1, 13)]
    service_name = lambda pk, none: raw.service_names.get(pk) or none  # noqa: E731
    cases = _("Cases")
    figures = []

    # Opened in the period: the trend by process and month, and who referred to whom.
    opened = [[raw.opened.get((p, m), 0) for m in range(1, 13)] for p in names]
    flow_cells, senders, holders = _flow_grouped(raw.flow, service_name)
    flow = [[flow_cells.get((f, s), 0) for s in holders] for f in senders]
    (t_opened, t_flow), _d = _suppress_linked([opened, flow], [])
    closed = [[raw.closed.get((p, m), 0) for m in range(1, 13)] for p in names]
    (t_closed,), _d = _suppress_linked([closed], [])
    f_opened = _two_way("opened", "trend", _("Cases opened per month, by process"), _("Kind of case"), plabel, months, t_opened)
    f_closed = _two_way("closed", "trend", _("Cases closed per month, by process"), _("Kind of case"), plabel, months, t_closed)
    f_closed.chart = charts.grouped_bars(
        "trend-bars", _("Cases opened and closed per month"), months,
        [(_("Opened"), f_opened.column_totals), (_("Closed"), f_closed.column_totals)],
        description=_("Cases opened and closed each month, all processes together. The same figures are in the tables."))
    f_opened.chart = charts.lines(
        "trend-lines", _("Cases opened per month, by process"), months, list(zip(plabel, f_opened.cells)),
        description=_("One line per process; a hidden month breaks its line. The same figures are in the table of cases opened."))
    figures += [f_opened, f_closed]

    # Open at the end of the period, by process, service (and its kind), area and age band.
    services = sorted(raw.open_by_service, key=lambda pk: (pk is None, service_name(pk, ""), pk or 0))
    kinds = sorted({k for _s, k in raw.open_by_service_kind}, key=lambda k: (k == "", k))
    kind_labels = dict(Service.Kind.choices)
    by_service_kind = [[raw.open_by_service_kind.get((s, k), 0) for k in kinds] for s in services]
    areas = sorted(raw.open_by_area, key=lambda pk: (pk is None, raw.area_names.get(pk) or "", pk or 0))
    bands = [band for band, _low in AGE_BANDS] + [AGE_UNKNOWN]
    (t_service,), (d_process, d_area, d_age) = _suppress_linked(
        [by_service_kind],
        [[raw.open_by_process.get(p, 0) for p in names], [raw.open_by_area[a] for a in areas], [raw.open_by_age.get(b, 0) for b in bands]])
    f_process = _one_way("open_process", "open", _("Open cases by process"), _("Kind of case"), plabel, cases, d_process)
    f_process.chart = charts.bars("open-process", f_process.title, plabel, list(d_process.counts))
    f_service = _two_way("open_service", "open", _("Open cases by service and kind of service"), _("Service"),
                         [service_name(s, _("No service registered")) for s in services],
                         [str(kind_labels.get(k, k or _("Kind unknown"))) for k in kinds], t_service)
    f_service.chart = charts.bars("open-service", _("Open cases by service"), f_service.rows, f_service.row_totals)
    f_area = _one_way("open_area", "open", _("Open cases by area"), _("Area"),
                      [raw.area_names.get(a) or _("No area") for a in areas], cases, d_area,
                      note=_("The school or kindergarten area of the service the case came from."))
    f_area.chart = charts.bars("open-area", f_area.title, f_area.rows, list(d_area.counts))
    f_age = _one_way("open_age", "open", _("Open cases by age band"), _("Age band"), [_age_label(b) for b in bands], cases, d_age,
                     note=_("The person's age when the case opened."))
    f_age.chart = charts.bars("open-age", f_age.title, f_age.rows, list(d_age.counts))
    figures += [f_process, f_service, f_area, f_age]

    # Deadlines due in the period, by step and by service, and their state.
    states = [str(s.label) for s in STATE_ORDER]
    steps = sorted({(p, st) for p, st, _x in raw.deadlines_by_step}, key=lambda k: (names.index(k[0]) if k[0] in names else 99, k))
    dl_services = sorted({s for s, _x in raw.deadlines_by_service}, key=lambda pk: (pk is None, service_name(pk, ""), pk or 0))
    (t_steps, t_dservice), _d = _suppress_linked(
        [[[raw.deadlines_by_step.get((p, st, state), 0) for state in STATE_ORDER] for p, st in steps],
         [[raw.deadlines_by_service.get((s, state), 0) for state in STATE_ORDER] for s in dl_services]], [], share_columns=True)

    def step_label(key):
        return f"{labels.get(key[0], key[0])}: {raw.step_titles.get(key, key[1])}"

    f_steps = _two_way("deadlines_step", "deadlines", _("Deadlines due in the period, by step and state"), _("Step"),
                       [step_label(k) for k in steps], states, t_steps,
                       note=_("“At risk” and “breached” are as of the latest update."))
    f_steps.chart = charts.stacked_bars("deadlines-step", _("Deadlines by state"), states[:4],
                                        [(_("All steps"), f_steps.column_totals[:4])])
    f_dservice = _two_way("deadlines_service", "deadlines", _("Deadlines due in the period, by service and state"), _("Service"),
                          [service_name(s, _("No service registered")) for s in dl_services], states, t_dservice)
    f_dservice.chart = charts.stacked_bars("deadlines-service", f_dservice.title, states[:4],
                                           [(label, row[:4]) for label, row in zip(f_dservice.rows, f_dservice.cells)])
    figures += [f_steps, f_dservice]

    # Time per step: how many steps were met in the period, and the median and 90th percentile read
    # off the merged histogram; both only where that count is published.
    d_steps = sorted(raw.durations, key=lambda k: (names.index(k[0]) if k[0] in names else 99, k))
    (), (d_measured,) = _suppress_linked([], [[sum(raw.durations[k].values()) for k in d_steps]])
    extra = []
    for key, n in zip(d_steps, d_measured.counts):
        hist = raw.durations[key]
        extra.append([_days_text(histogram_quantile(hist, 0.5)), _days_text(histogram_quantile(hist, 0.9))] if n is not None
                     else [hidden_marker(), hidden_marker()])
    f_durations = _one_way("durations", "durations", _("Time per step (steps met in the period)"), _("Step"),
                           [step_label(k) for k in d_steps], _("Steps met"), d_measured,
                           note=_("From the start of the step's clock to when it was met, read to whole days in "
                                  "fixed intervals: “up to 7 days” means the value lies in the interval ending at 7 days."))
    f_durations.extra_headers = [_("Median"), _("90th percentile")]
    f_durations.extra = extra
    figures.append(f_durations)

    f_flow = _two_way("flow", "flow", _("Cases opened in the period: from which service to which"), _("From"),
                      [_flow_label(f, service_name, _("Not from a service")) for f in senders],
                      [_flow_label(s, service_name, _("No service registered")) for s in holders], t_flow,
                      note=_("Rows: the service the case came from. Columns: the service holding it."))
    f_flow.chart = charts.heat_matrix("flow", _("Who refers to whom"), f_flow.rows, f_flow.columns, f_flow.cells)
    figures.append(f_flow)
    return Overview(filter=flt, updated_at=raw.updated_at, figures=figures)
