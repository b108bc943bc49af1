"""The plan's measures for the annual report (årsrapport): every measure with its status and latest
evaluation, as CSV rows and as an A4 PDF (consent.pdf's layout, as the BrukerPlan report). A measure
holds no person; the evaluation names the service that wrote it, never a staff member."""
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from consent import pdf
from insights.measure_selectors import MeasureRow, status_counts
from insights.models import PolicyPlan


def _evaluation_day(measure) -> str:
    return date_format(measure.evaluation_date(2001), "j. F") if measure.evaluation_month else ""


def csv_headers() -> list[str]:
    return [_("Number"), _("Area of effort"), _("Measure"), _("Responsible service"), _("Co-responsible services"), _("Other partners"),
            _("Status"), _("Evaluation day"), _("Latest evaluation (year)"), _("Status at the evaluation"), _("Evaluation"),
            _("Evaluated by service")]


def csv_rows(plan: PolicyPlan, rows: list[MeasureRow]):
    """The header and one row per measure, in the plan's order."""
    yield csv_headers()
    for row in rows:
        m, latest = row.measure, row.latest
        yield [m.number, m.theme, m.text, m.responsible_service.name, ", ".join(row.co_responsible), m.partners, m.get_status_display(),
               _evaluation_day(m), latest.year if latest else "", latest.get_status_display() if latest else "",
               latest.text if latest else "", latest.service.name if latest else ""]


def filename(plan: PolicyPlan, extension: str) -> str:
    """The download's name: the plan's period and the start of its code, no title."""
    return f"tiltak-{plan.from_year}-{plan.to_year}-{str(plan.code)[:8]}.{extension}"


def measures_pdf(plan: PolicyPlan, rows: list[MeasureRow], *, compress: bool = True) -> bytes:
    """The plan's measures as an A4 PDF: the plan, the count per status, then one row per measure
    (number, measure, services, status, latest evaluation). ``compress=False`` leaves the page
    streams readable (tests)."""
    st = pdf.styles()
    title = _("Measures of %(title)s") % {"title": plan.title}
    story = [
        pdf.paragraph(title, st.h1),
        pdf.paragraph(_("Municipality: %(name)s") % {"name": plan.municipality.name}, st.base),
        pdf.paragraph(_("Period: %(period)s") % {"period": plan.period}, st.base),
        pdf.paragraph(_("Kept by: %(service)s") % {"service": plan.owner_service.name}, st.base),
        pdf.paragraph(_("Status of the measures"), st.h2),
        pdf.table([_("Status"), _("Measures")], [[label, str(n)] for _value, label, n in status_counts(rows)] + [[_("Total"), str(len(rows))]], st),
        pdf.paragraph(_("The measures"), st.h2),
    ]
    table_rows = []
    for row in rows:
        m, latest = row.measure, row.latest
        services = m.responsible_service.name
        if row.co_responsible or m.partners:
            others = ", ".join([*row.co_responsible, *([m.partners] if m.partners else [])])
            services += "\n" + _("With: %(others)s") % {"others": others}
        evaluation = f"{latest.year} ({latest.get_status_display()}): {latest.text}" if latest else _("Not evaluated yet")
        table_rows.append([m.number, m.text, services, m.get_status_display(), evaluation])
    story.append(pdf.table([_("No."), _("Measure"), _("Responsible"), _("Status"), _("Latest evaluation")], table_rows, st))
    header = _("Plan measures %(period)s") % {"period": plan.period}
    return pdf.a4_pdf(story, title=title, header=header, compress=compress)
