"""A4 documents made with reportlab, in the active language: the fonts, the dates, paragraphs,
tables whose words are never split, the page frame (a header line and page numbers), and the
download. Shared by the documents given to a person or about them: the transparency report
(consent.reports) and the individual plan (workflows.individual_plan.document)."""
import csv
import io
import os
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
# The page's margins (points are reportlab's unit; 1 mm = 72 / 25.4 points).
MM = 72 / 25.4
MARGIN, TOP_MARGIN, BOTTOM_MARGIN = 15 * MM, 15 * MM, 18 * MM
# A table cell's padding left and right (points), and the font sizes a table may use, largest first:
# a table whose longest words do not fit side by side at one size is set at the next.
CELL_PADDING = 3
TABLE_FONT_SIZES = (8, 7.5, 7, 6.5, 6)

_FONTS = None


def fonts() -> tuple[str, str]:
    """(regular, bold) font names: DejaVu Sans if installed (covers æøå and more), else Helvetica."""
    global _FONTS
    regular, bold = os.path.join(FONT_DIR, "DejaVuSans.ttf"), os.path.join(FONT_DIR, "DejaVuSans-Bold.ttf")
    if not (os.path.exists(regular) and os.path.exists(bold)):
        return "Helvetica", "Helvetica-Bold"
    if _FONTS is None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont("DejaVuSans", regular))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", bold))
        _FONTS = ("DejaVuSans", "DejaVuSans-Bold")
    return _FONTS


def datetime_text(value) -> str:
    """A moment in local time, in the active language's short format; "–" for none."""
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else "–"


def time_text(value) -> str:
    """The time of day of a moment in local time, in the active language's format; "–" for none."""
    return date_format(timezone.localtime(value), "TIME_FORMAT") if value else "–"


def date_text(value) -> str:
    """A date in the active language's short format; "–" for none."""
    return date_format(value, "SHORT_DATE_FORMAT") if value else "–"


def page_width() -> float:
    """The width (points) of an A4 page's text: the page less its margins."""
    from reportlab.lib.pagesizes import A4

    return A4[0] - 2 * MARGIN


def _longest_word(text, font: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return max((stringWidth(word, font, size) for word in str(text).split()), default=0.0)


def column_widths(headers, rows, *, available: float, font: str, bold: str, size: float, padding: float = CELL_PADDING) -> list[float] | None:
    """Widths (points) of a table's columns in which no word has to be split: each column at least
    as wide as its longest word (the header's in ``bold``) plus padding, and the rest of
    ``available`` shared by how much more text each column holds. None when the longest words do not
    fit side by side at ``size``.

    reportlab breaks a line only at spaces, and splits a word wider than its cell mid-word
    (“Barneverntje-nesten”): the widths, not the text, must give way.
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    edge = 2 * padding + 0.5  # the half point absorbs rounding in the line breaker's sums
    mins, wants = [], []
    for i, header in enumerate(headers):
        cells = [row[i] for row in rows]
        mins.append(max([_longest_word(header, bold, size)] + [_longest_word(c, font, size) for c in cells]) + edge)
        wants.append(max([stringWidth(str(header), bold, size)] + [stringWidth(str(c), font, size) for c in cells]) + edge)
    if sum(mins) > available:
        return None
    if sum(wants) <= available:
        extra = (available - sum(wants)) / len(wants)
        return [w + extra for w in wants]
    spare, needs = available - sum(mins), [w - m for w, m in zip(wants, mins)]
    return [m + spare * n / sum(needs) for m, n in zip(mins, needs)]


@dataclass(frozen=True)
class Styles:
    """A document's fonts and paragraph styles: body text, table cells and two levels of heading."""

    regular: str
    bold: str
    base: object
    cell: object
    h1: object
    h2: object


def styles() -> Styles:
    from reportlab.lib.styles import ParagraphStyle

    regular, bold = fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9, leading=11)
    return Styles(
        regular=regular, bold=bold, base=base,
        cell=ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        h1=ParagraphStyle("h1", parent=base, fontName=bold, fontSize=16, leading=20, spaceAfter=6),
        h2=ParagraphStyle("h2", parent=base, fontName=bold, fontSize=12, leading=15, spaceBefore=10, spaceAfter=4),
    )


def paragraph(text, style):
    """``text`` as a reportlab Paragraph, taken literally (no markup), its line breaks kept."""
    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def table(headers, rows, st: Styles):
    """A table over the page's width, the header row repeated on every page, at the largest size
    at which every word fits its column whole (only a word wider than the page's share at the
    smallest size, a pasted URL, is still split)."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import LongTable

    available = page_width()
    headers, rows = [str(h) for h in headers], [[str(v) for v in row] for row in rows]
    for size in TABLE_FONT_SIZES:
        widths = column_widths(headers, rows, available=available, font=st.regular, bold=st.bold, size=size)
        if widths is not None:
            break
    else:
        widths = [available / len(headers)] * len(headers)
    body = ParagraphStyle("cell", parent=st.cell, fontSize=size, leading=size + 2)
    header = ParagraphStyle("head", parent=body, fontName=st.bold)
    # A cell whose text fits its column on one line is drawn as a plain string (in the body's font,
    # size and leading, set below); only one that must wrap is laid out as a Paragraph, reportlab's
    # costly part: a person's long log is mostly one-line cells.
    room = [w - 2 * CELL_PADDING - 0.5 for w in widths]

    def body_cell(value, i):
        if "\n" not in value and stringWidth(value, st.regular, size) <= room[i]:
            return value
        return paragraph(value, body)

    data = [[paragraph(h, header) for h in headers]] + [[body_cell(v, i) for i, v in enumerate(row)] for row in rows]
    t = LongTable(data, colWidths=widths, repeatRows=1)
    t.setStyle([
        ("FONTNAME", (0, 1), (-1, -1), st.regular),
        ("FONTSIZE", (0, 1), (-1, -1), size),
        ("LEADING", (0, 1), (-1, -1), size + 2),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9a9a9a")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
    ])
    return t


def a4_pdf(story, *, title: str, header: str = "", compress: bool = True) -> bytes:
    """``story`` (reportlab flowables) set on A4 pages: ``header`` (a reference, never a person's
    name or number: a printed page gets separated from the first) at the top of every page, the
    page number at the foot. ``compress=False`` leaves the page streams readable (tests)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    regular, _bold = fonts()

    def frame(canvas, doc):
        canvas.saveState()
        canvas.setFont(regular, 8)
        if header:
            canvas.drawString(MARGIN, A4[1] - 10 * MM, header)
        canvas.drawRightString(A4[0] - MARGIN, 10 * MM, _("Page %(n)s") % {"n": doc.page})
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=TOP_MARGIN, bottomMargin=BOTTOM_MARGIN,
        title=title, author="Samhandling", pageCompression=1 if compress else 0,
    )
    doc.build(story, onFirstPage=frame, onLaterPages=frame)
    return buffer.getvalue()


def pdf_download(pdf: bytes, filename: str) -> HttpResponse:
    """A PDF as a download (``filename`` names no person: a reference or a code) that no cache keeps."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


class _Echo:
    """A file-like object whose write returns the text, so csv.writer produces one line at a time."""

    def write(self, value):
        return value


def csv_cell(value):
    """A text cell that starts like a formula would run as one in a spreadsheet program: quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def csv_download(rows, filename: str) -> StreamingHttpResponse:
    """The house's CSV download, as ``pdf_download`` is its PDF one: ``rows`` (an iterable of lists,
    read lazily after the view has returned, in the request's language still) streamed as
    semicolon-separated UTF-8 with a byte-order mark (so spreadsheet programs read it as UTF-8),
    text cells that start like a formula quoted, and no cache keeping it. ``filename`` names no person."""
    writer = csv.writer(_Echo(), delimiter=";")
    language = translation.get_language()

    def lines():
        with translation.override(language):
            yield "\ufeff"
            for row in rows:
                yield writer.writerow([csv_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
