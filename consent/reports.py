"""The person's transparency report (GDPR art. 15): what was disclosed to whom on which basis, who
read or changed the person's data, and the person's consents. As data, and as an A4 PDF."""
import datetime
import io
import os
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from audit.labels import purpose_label
from audit.models import AccessLog
from consent.models import Consent, Disclosure
from consent.selectors import consents_judged
from people.models import Person

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
STATUS_LABELS = {
    "active": gettext_lazy("Active"),
    "withdrawn": gettext_lazy("Withdrawn"),
    "expired": gettext_lazy("Expired"),
    "pending": gettext_lazy("Not yet valid"),
    "insufficient": gettext_lazy("Must be renewed (the person’s age changed who may consent)"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


# The access log stores each purpose as a stable English key, shown translated in the person's
# report. The keys are marked for the translation catalogue where they are declared: here the ones
# of the kernel, consent and audit; each process's own in its registry entry (audit_purposes in
# workflows/processes.py). A key not (yet) marked is shown as stored.
AUDIT_PURPOSES = [
    gettext_noop("registered"), gettext_noop("admin"), gettext_noop("membership changed"),
    gettext_noop("consent recorded"), gettext_noop("consent withdrawn"), gettext_noop("consent renewed"),
    gettext_noop("consent page"), gettext_noop("consent form"), gettext_noop("consents of the person"),
    gettext_noop("consents exported (FHIR)"), gettext_noop("transparency report (GDPR art. 15)"),
    gettext_noop("access request registered"), gettext_noop("access request answered"),
    gettext_noop("emergency access opened"), gettext_noop("emergency access"), gettext_noop("emergency access reviewed"),
    gettext_noop("access log read"), gettext_noop("access review"),
]


@dataclass
class TransparencyReport:
    person: Person
    generated_at: datetime.datetime
    # None: the full report (the privacy function, on a registered request); a service: only that
    # service's own handling of the person (a leader's view).
    service: object = None
    name: str = ""
    disclosures: list = field(default_factory=list)
    access_entries: list = field(default_factory=list)
    consents: list = field(default_factory=list)
    access_truncated: bool = False


def _user_label(user) -> str:
    if user is None:
        return _("The system")
    return user.get_full_name() or user.get_username()


def transparency_report(person: Person, *, service=None, municipality=None, access_limit: int | None = None) -> TransparencyReport:
    """Everything the person is entitled to see about the handling of their data, newest first.

    Without ``service``: the full report, for the privacy function answering a registered access
    request. With ``service``: only what that service itself did — the disclosures it made or
    received, its own reads and changes, the consents it recorded — never another service's
    handling of the person.

    Includes records of minimal contacts later identified as this person (``merged_into``).
    ``access_limit`` caps the access-log rows (for the page; the PDF has them all) and sets
    ``access_truncated`` when more exist. ``municipality`` (a Municipality or its id) limits the
    full report to that municipality's services. Runs a constant number of queries (five: the
    disclosures, the access-log rows, the consents judged in their query, their grantees, and for
    a service its record of the person's name).
    """
    from django.db.models import Q

    from people.selectors import person_name_for

    # The person and the records merged into them, as a subquery of each read (not a query of its own).
    person_ids = Person.objects.filter(Q(pk=person.pk) | Q(merged_into=person)).values("pk")
    disclosures_qs = Disclosure.objects.filter(person_id__in=person_ids)
    entries_qs = AccessLog.objects.filter(person_id__in=person_ids)
    consents_qs = Consent.objects.filter(person_id__in=person_ids)
    if municipality is not None:
        # A privacy function answers for its own municipality's services (one installation may
        # serve several municipalities); rows without a service (the system, emergency reads) stay.
        disclosures_qs = disclosures_qs.filter(Q(from_service__municipality=municipality) | Q(to_service__municipality=municipality))
        entries_qs = entries_qs.filter(Q(service__municipality=municipality) | Q(service__isnull=True))
        consents_qs = consents_qs.filter(recorded_by_service__municipality=municipality)
    if service is not None:
        # What it disclosed (with any still awaiting approval), and what reached it (in force only:
        # a pending or refused row never reached the recipient).
        disclosures_qs = disclosures_qs.filter(Q(from_service=service) | Q(to_service=service, status=Disclosure.Status.IN_FORCE))
        entries_qs = entries_qs.filter(service=service)
        consents_qs = consents_qs.filter(recorded_by_service=service)
    disclosures = list(
        disclosures_qs.select_related("from_service", "to_service", "subject_type", "consent").order_by("-disclosed_at", "-id")
    )
    for d in disclosures:
        model = d.subject_type.model_class()
        d.subject_label = str(model._meta.verbose_name) if model else d.subject_type.model
        d.purpose_label = purpose_label(d.purpose)
    entries_qs = entries_qs.select_related("user", "service").order_by("-at", "-id")
    if access_limit is not None:
        entries = list(entries_qs[: access_limit + 1])
        truncated = len(entries) > access_limit
        entries = entries[:access_limit]
    else:
        entries, truncated = list(entries_qs), False
    for e in entries:
        e.user_label = _user_label(e.user)
        e.purpose_label = purpose_label(e.purpose)
    # Judged in their own query (consents_judged): no age rule or guardians asked per consent.
    consents = consents_judged(
        consents_qs.select_related("recorded_by_service", "person").prefetch_related("grantees").order_by("-recorded_at", "-id")
    )
    for c in consents:
        c.status_label = status_label(c.status)
    return TransparencyReport(
        person=person, generated_at=timezone.now(), disclosures=disclosures, access_entries=entries,
        consents=consents, access_truncated=truncated, service=service,
        name=person.full_name if service is None else person_name_for(person, service),
    )


_FONTS = None


def _fonts() -> tuple[str, str]:
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


def _dt(value) -> str:
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else "–"


def _d(value) -> str:
    return date_format(value, "SHORT_DATE_FORMAT") if value else "–"


# A table cell's padding left and right (points), and the font sizes a table may use, largest first:
# a table whose longest words do not fit side by side at one size is set at the next.
CELL_PADDING = 3
TABLE_FONT_SIZES = (8, 7.5, 7, 6.5, 6)


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


def transparency_report_pdf(report: TransparencyReport, *, compress: bool = True) -> bytes:
    """The report as an A4 PDF (reportlab), in the active language. ``compress=False`` leaves the
    page streams readable (tests)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer
    from xml.sax.saxutils import escape

    regular, bold = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9, leading=11)
    cell = ParagraphStyle("cell", parent=base, fontSize=8, leading=10)
    h1 = ParagraphStyle("h1", parent=base, fontName=bold, fontSize=16, leading=20, spaceAfter=6)
    h2 = ParagraphStyle("h2", parent=base, fontName=bold, fontSize=12, leading=15, spaceBefore=10, spaceAfter=4)

    def p(text, style=cell):
        return Paragraph(escape(str(text)), style)

    available = A4[0] - 30 * mm  # the page less its margins

    def table(headers, rows):
        # The largest size at which every word fits its column whole; only a word wider than the
        # page's share at the smallest size (a pasted URL) is still split.
        headers, rows = [str(h) for h in headers], [[str(v) for v in row] for row in rows]
        for size in TABLE_FONT_SIZES:
            widths = column_widths(headers, rows, available=available, font=regular, bold=bold, size=size)
            if widths is not None:
                break
        else:
            widths = [available / len(headers)] * len(headers)
        body = ParagraphStyle("cell", parent=cell, fontSize=size, leading=size + 2)
        header = ParagraphStyle("head", parent=body, fontName=bold)
        # A cell whose text fits its column on one line is drawn as a plain string (in the body's
        # font, size and leading, set below); only one that must wrap is laid out as a Paragraph,
        # reportlab's costly part: a person's long log is mostly one-line cells.
        room = [w - 2 * CELL_PADDING - 0.5 for w in widths]

        def body_cell(value, i):
            if "\n" not in value and stringWidth(value, regular, size) <= room[i]:
                return value
            return p(value, body)

        data = [[p(h, header) for h in headers]] + [[body_cell(v, i) for i, v in enumerate(row)] for row in rows]
        t = LongTable(data, colWidths=widths, repeatRows=1)
        t.setStyle([
            ("FONTNAME", (0, 1), (-1, -1), regular),
            ("FONTSIZE", (0, 1), (-1, -1), size),
            ("LEADING", (0, 1), (-1, -1), size + 2),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9a9a9a")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ])
        return t

    person = report.person
    story = [
        Paragraph(escape(_("Transparency report (GDPR article 15)")), h1),
        p("%s: %s" % (_("Person"), report.name or "–"), base),
    ]
    if report.service is not None:
        story.append(p(_("Only %(service)s's own handling of the person.") % {"service": report.service.name}, base))
    if person.birth_date:
        story.append(p("%s: %s" % (_("Birth date"), _d(person.birth_date)), base))
    story += [p("%s: %s" % (_("Produced"), _dt(report.generated_at)), base), Spacer(1, 4 * mm)]

    story.append(Paragraph(escape(_("Disclosures to other services")), h2))
    if report.disclosures:
        rows = [
            [
                _dt(d.disclosed_at), d.from_service.name, d.to_service.name, d.subject_label,
                d.get_basis_display() + (f" ({d.legal_reference})" if d.legal_reference else "")
                + (f" – {_('consent')} {d.consent.reference}" if d.consent_id else "")
                + (f" ({d.get_status_display()})" if d.status != Disclosure.Status.IN_FORCE else ""),
                d.purpose_label, _dt(d.revoked_at) if d.revoked_at else "–",
            ]
            for d in report.disclosures
        ]
        story.append(table([_("Time"), _("From"), _("To"), _("What"), _("Legal basis"), _("Purpose"), _("Revoked")], rows))
    else:
        story.append(p(_("No disclosures recorded."), base))

    story.append(Paragraph(escape(_("Who read or changed the data")), h2))
    if report.access_entries:
        rows = [
            [_dt(e.at), e.user_label, e.service.name if e.service else "–", e.get_action_display(), e.purpose_label or "–"]
            for e in report.access_entries
        ]
        story.append(table([_("Time"), _("User"), _("Service"), _("Action"), _("Purpose")], rows))
    else:
        story.append(p(_("No access recorded."), base))

    story.append(Paragraph(escape(_("Consents")), h2))
    if report.consents:
        rows = [
            [
                c.reference, c.get_purpose_display(), ", ".join(s.name for s in c.grantees.all()),
                f"{_d(c.valid_from)} – {_d(c.valid_to)}", c.status_label, c.recorded_by_service.name,
            ]
            for c in report.consents
        ]
        story.append(table([_("Reference"), _("Purpose"), _("May be shared with"), _("Period"), _("Status"), _("Responsible service")], rows))
    else:
        story.append(p(_("No consents recorded."), base))

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(regular, 8)
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, _("Page %(n)s") % {"n": doc.page})
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=18 * mm,
        title=_("Transparency report"), author="Samhandling", pageCompression=1 if compress else 0,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
