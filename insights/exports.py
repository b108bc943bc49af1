"""The overview's published figures for the årsrapport: CSV rows and an A4 PDF (consent.pdf's
layout). Both carry exactly the tables of the page for the same filter, hidden entries as
``hidden_marker()``; neither reads anything the page does not show."""
from django.utils.translation import gettext as _

from consent import pdf
from insights.published import Overview, hidden_note


def describe(overview: Overview, *, municipality: str, process: str) -> list[tuple[str, str]]:
    """The filter and the update time, as (label, value) lines heading both exports."""
    return [
        (_("Municipality"), municipality),
        (_("Year"), str(overview.filter.year)),
        (_("Kind of case"), process),
        (_("Updated"), pdf.datetime_text(overview.updated_at) if overview.updated_at else _("Not yet updated")),
    ]


def csv_rows(overview: Overview, *, municipality: str, process: str):
    """Header, the filter, then one line per published entry: table, row, column, value."""
    for label, value in describe(overview, municipality=municipality, process=process):
        yield [str(label), str(value)]
    yield []
    yield [_("Table"), _("Row"), _("Column"), _("Value")]
    for figure in overview.figures:
        headers = figure.headers()
        for row in figure.text_rows():
            for header, value in zip(headers[1:], row[1:]):
                if value != "":
                    yield [str(figure.title), str(row[0]), str(header), value]
    yield []
    yield [hidden_note()]


def filename(overview: Overview, extension: str) -> str:
    """The download's name: the year and the process, nothing identifying."""
    process = overview.filter.process or "alle"
    return f"innsikt-{overview.filter.year}-{process}.{extension}"


def overview_pdf(overview: Overview, *, municipality: str, process: str, compress: bool = True) -> bytes:
    st = pdf.styles()
    title = _("Open and late work %(year)s") % {"year": overview.filter.year}
    story = [pdf.paragraph(title, st.h1)]
    story += [pdf.paragraph(f"{label}: {value}", st.base) for label, value in describe(overview, municipality=municipality, process=process)]
    story.append(pdf.paragraph(hidden_note(), st.base))
    for figure in overview.figures:
        story.append(pdf.paragraph(figure.title, st.h2))
        if figure.note:
            story.append(pdf.paragraph(figure.note, st.base))
        story.append(pdf.table(figure.headers(), figure.text_rows(), st))
    return pdf.a4_pdf(story, title=title, header=_("Insights %(year)s") % {"year": overview.filter.year}, compress=compress)
