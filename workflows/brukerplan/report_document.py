"""A stored BrukerPlan report (referrals.BrukerPlanReport.data) as tables for its page and its PDF,
in the active language. Reads only the stored dict: no query, no person.

Every table is text: a count, a share in the active locale's format, or hidden_marker() for a
suppressed figure. The charts (report.report_charts) draw the life areas and the index; their
tables here carry the same figures, and each chart names the table beside it (``Table.key``).
"""
from dataclasses import dataclass, field

from django.utils import formats
from django.utils.translation import gettext as _

from consent import pdf
from org.models import Service
from referrals.models import HelpKind
from workflows.brukerplan.report import (
    TITLES, category_label, hidden_marker, index_rule_text, report_charts, report_csv_rows,
)


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list[str]]  # the first cell of a row is its header cell
    note: str = ""
    chart: str = ""  # the SVG of the chart this table is the text of, or ""


@dataclass
class ReportView:
    mapped: str
    tables: list[Table] = field(default_factory=list)
    hidden_note: str = ""
    index_rule: str = ""
    compared: bool = False


def labels() -> dict:
    """The labels of the service kinds and the services of "services used"/"expected need"."""
    return {"service_kind_labels": dict(Service.Kind.choices), "service_labels": dict(HelpKind.choices)}


def _count(value) -> str:
    return hidden_marker() if value is None else formats.number_format(value, 0, force_grouping=True)


def _share(value) -> str:
    return hidden_marker() if value is None else f"{formats.number_format(value, 1)} %"


def _change(value) -> str:
    if value is None:
        return "–"
    return ("+" if value > 0 else "") + formats.number_format(value, 1)


def report_view(data: dict) -> ReportView:
    """The page's and the PDF's tables of the stored report ``data``, in the active language."""
    names = labels()
    comparison = data.get("comparison") or {}
    compared = bool(comparison)
    charts = {chart.table: chart.svg for chart in report_charts(data)}
    count_h, share_h, change_h = _("Persons"), _("Share"), _("Change (percentage points)")
    tables = []

    def distribution(name, kind):
        dist = data["distributions"][name]
        changes = comparison.get("distributions", {}).get(name, {}).get("differences") or [None] * len(dist["counts"])
        rows = [[category_label(kind, key, **names), _count(c), _share(s)] + ([_change(d)] if compared else [])
                for key, c, s, d in zip(dist["categories"], dist["counts"], dist["shares"], changes)]
        return Table(name, str(TITLES[name]), [_("Group"), count_h, share_h] + ([change_h] if compared else []), rows,
                     chart=charts.get(name, ""))

    tables.append(distribution("index", "index"))
    level_keys = data["life_areas"]["categories"]
    rows = [[category_label("life_area", row["key"])] + [f"{_count(c)} ({_share(s)})" for c, s in zip(row["counts"], row["shares"])]
            for row in data["life_areas"]["rows"]]
    tables.append(Table("life_areas", str(TITLES["life_areas"]), [_("Life area")] + [category_label("level", k) for k in level_keys],
                        rows, note=_("Persons (share of the persons mapped)."), chart=charts.get("life_areas", "")))
    if compared:
        rows = [[category_label("life_area", row["key"])]
                + [_change(d) for d in (comparison.get("life_areas", {}).get(row["key"], {}).get("differences") or [None] * len(level_keys))]
                for row in data["life_areas"]["rows"]]
        tables.append(Table("life_areas_change", _("Change in the levels since the previous round (percentage points)"),
                            [_("Life area")] + [category_label("level", k) for k in level_keys], rows))
    for name, kind in (("age_band", "age_band"), ("sex", "sex"), ("service_kind", "service_kind"), ("lar", "yes_no"),
                       ("tsb", "yes_no"), ("ansvarsgruppe", "yes_no"), ("individual_plan", "yes_no"), ("has_children", "yes_no")):
        tables.append(distribution(name, kind))
    for name, table in data["tables"].items():
        row_kind = name.removesuffix("_by_index")
        rows = [[category_label(row_kind, key, **names)] + [f"{_count(c)} ({_share(s)})" for c, s in zip(cells, shares)] + [_count(total)]
                for key, cells, shares, total in zip(table["rows"], table["cells"], table["row_shares"], table["row_totals"])]
        rows.append([_("Total")] + [_count(c) for c in table["column_totals"]] + [_count(table["total"])])
        tables.append(Table(name, str(TITLES[name]), [_("Group")] + [category_label("index", c) for c in table["columns"]] + [_("Total")],
                            rows, note=_("Persons (share of the row).")))
    for section, title in (("used", "services_used"), ("expected_need", "expected_need")):
        rows = [[category_label("service", row["key"], **names), _count(row["counts"][0]), _share(row["shares"][0])]
                for row in data["services"][section]]
        tables.append(Table(title, str(TITLES[title]), [_("Service"), count_h, share_h], rows))
    hidden = _("“%(marker)s”: fewer than %(threshold)s persons, or hidden so that a small number cannot be worked out from the "
               "totals.") % {"marker": hidden_marker(), "threshold": data["threshold"]}
    return ReportView(mapped=_count(data["mapped"]), tables=tables, hidden_note=hidden, index_rule=index_rule_text(data["index_rule"]),
                      compared=compared)


def csv_rows(data: dict):
    """The stored report as CSV rows (report.report_csv_rows with the service labels)."""
    return report_csv_rows(data, **labels())


def filename(round_, extension: str) -> str:
    """The download's file name: the round's reference (from its code), no title, no person."""
    return f"brukerplan-rapport-{round_.reference}.{extension}"


def report_pdf(round_, report, *, compress: bool = True) -> bytes:
    """The stored report of ``round_`` as an A4 PDF (consent.pdf's layout): the round, the persons
    mapped, every table of the page (the charts' figures are in their tables), the suppression
    note and the index rule. ``compress=False`` leaves the page streams readable (tests)."""
    view = report_view(report.data)
    st = pdf.styles()
    title = _("BrukerPlan report: %(title)s") % {"title": round_.title}

    def fact(label, value):
        return pdf.paragraph(f"{label}: {value}", st.base)

    story = [
        pdf.paragraph(title, st.h1),
        fact(_("Reference date"), pdf.date_text(round_.reference_date)),
        fact(_("Persons mapped"), view.mapped),
        fact(_("Computed"), pdf.datetime_text(report.computed_at)),
        fact(_("Compared with"), round_.previous_round.title if view.compared and round_.previous_round else _("No previous round")),
        pdf.paragraph(view.hidden_note, st.base),
        pdf.paragraph(view.index_rule, st.base),
    ]
    for table in view.tables:
        story.append(pdf.paragraph(table.title, st.h2))
        if table.note:
            story.append(pdf.paragraph(table.note, st.base))
        story.append(pdf.table(table.headers, table.rows, st))
    header = _("BrukerPlan report %(ref)s") % {"ref": round_.reference}
    return pdf.a4_pdf(story, title=title, header=header, compress=compress)
