"""The person's transparency report (GDPR art. 15): its rows, and the PDF made from them."""
import re

import pytest
from django.urls import reverse
from django.utils import translation

from audit.models import AccessLog
from consent import pdf as layout
from consent import reports
from consent.reports import transparency_report, transparency_report_pdf
from consent.services import consent_withdraw
from tests.consent.ui_factories import person_aged, recipient_service, record, send_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org, client):
    """A 17-year-old referred by the school on her consent, whose page the recipient has read."""
    teen = person_aged(org, 17, given="Sofie", family="Ødegård")
    recipient = recipient_service(org)
    consent = record(org, teen, user=org.teacher, service=org.skole, grantees=[recipient.service], given_by_person=True)
    referral = send_referral(org, teen, consent, recipient)
    client.force_login(org.teacher)
    client.get(reverse("consent:detail", args=[consent.code]))
    return teen, recipient, consent, referral


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page(?!s)", pdf))


class ReportDataTests:
    def test_it_lists_the_disclosures_with_their_basis_including_revoked_ones(self, org, world):
        teen, recipient, consent, referral = world
        consent_withdraw(consent=consent, user=org.teacher, note="")
        report = transparency_report(teen)
        (d,) = report.disclosures
        assert (d.from_service, d.to_service, d.basis, d.consent) == (org.skole, recipient.service, "consent", consent)
        assert d.revoked_at is not None
        assert d.subject_label

    def test_it_lists_who_read_or_changed_the_data(self, org, world):
        teen, recipient, consent, referral = world
        report = transparency_report(teen)
        seen = {(e.user, e.service, e.action) for e in report.access_entries}
        assert (org.teacher, org.skole, "view") in seen  # read the consent page
        assert (org.teacher, org.skole, "disclose") in seen  # sent the referral
        assert all(e.user_label for e in report.access_entries)

    def test_it_includes_the_consents_with_their_status(self, org, world):
        teen, recipient, consent, referral = world
        (c,) = transparency_report(teen).consents
        assert (c, c.status) == (consent, "active")

    def test_it_caps_the_access_rows_for_the_page_and_says_so(self, org, world):
        teen, *_ = world
        total = AccessLog.objects.filter(person=teen).count()
        report = transparency_report(teen, access_limit=total - 1)
        assert len(report.access_entries) == total - 1 and report.access_truncated
        assert not transparency_report(teen, access_limit=total).access_truncated

    def test_it_leaves_out_other_persons(self, org, world):
        teen, *_ = world
        other = person_aged(org, 30, given="Annen")
        record(org, other, given_by_person=True)
        report = transparency_report(teen)
        assert all(e.person_id == teen.pk for e in report.access_entries)
        assert all(c.person_id == teen.pk for c in report.consents)


class ReportPdfTests:
    def test_it_writes_the_name_and_the_rows_into_the_pdf(self, org, world, monkeypatch):
        teen, recipient, consent, referral = world
        # With the standard font and uncompressed pages the text can be read straight from the file.
        monkeypatch.setattr(layout, "FONT_DIR", "/nonexistent")
        with translation.override("en"):
            pdf = transparency_report_pdf(transparency_report(teen), compress=False)
        assert pdf.startswith(b"%PDF")
        text = pdf.decode("latin-1")
        assert r"Sofie \330deg\345rd" in text  # WinAnsi, octal-escaped: Ø and å
        assert recipient.service.name in text
        assert org.skole.name in text
        assert org.teacher.username in text
        assert consent.reference in text
        assert "Transparency report" in text

    def test_it_makes_an_a4_pdf_with_the_unicode_font(self, org, world):
        teen, *_ = world
        pdf = transparency_report_pdf(transparency_report(teen))
        assert pdf.startswith(b"%PDF")
        assert page_count(pdf) >= 1
        assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf
        assert b"DejaVuSans" in pdf or layout.fonts()[0] == "Helvetica"

    def test_it_runs_onto_more_pages_when_the_log_is_long(self, org, world):
        teen, *_ = world
        for _ in range(120):
            AccessLog.objects.create(user=org.teacher, service=org.skole, action="view", object_type="referrals.person",
                                     object_id=teen.pk, person=teen, purpose="consents of the person")
        pdf = transparency_report_pdf(transparency_report(teen))
        assert page_count(pdf) >= 3


def pdf_lines(pdf: bytes) -> list[str]:
    """The text lines of an uncompressed PDF set in a standard font: one per ``(…) Tj`` operator
    (reportlab draws each line of a paragraph with one), decoded from WinAnsi."""
    lines = []
    for raw in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", pdf, flags=re.S):
        text = re.sub(rb"\\([0-7]{1,3})", lambda m: bytes([int(m.group(1), 8)]), raw)
        text = re.sub(rb"\\(.)", rb"\1", text)
        lines.append(text.decode("cp1252"))
    return lines


LONG_WORDS = ["Barneverntjenesten", "skolehelsetjenesten", "Spesialisthelsetjenesten", "ruskonsulentordningen"]


class ReportPdfWrappingTests:
    @pytest.fixture
    def long_names(self, org, world, monkeypatch):
        """Service and user names of long Norwegian compounds in the report's narrow columns."""
        teen, recipient, consent, referral = world
        org.skole.name = "Barneverntjenesten og skolehelsetjenesten"
        org.skole.save(update_fields=["name"])
        recipient.service.name = "Spesialisthelsetjenesten ruskonsulentordningen"
        recipient.service.save(update_fields=["name"])
        monkeypatch.setattr(layout, "FONT_DIR", "/nonexistent")  # the standard font: readable text
        return teen

    def test_it_splits_no_word_across_lines(self, long_names):
        with translation.override("nb"):
            pdf = transparency_report_pdf(transparency_report(long_names), compress=False)
        lines = pdf_lines(pdf)
        words = [w for line in lines for w in line.split()]
        for word in LONG_WORDS:
            assert word in words, word
            # A split word leaves a fragment at a line's end: no line ends with a piece of it.
            assert not any(line.split() and word.startswith(line.split()[-1]) and line.split()[-1] != word
                           and len(line.split()[-1]) > 3 for line in lines), word

    def test_it_gives_every_column_at_least_its_longest_word(self):
        from reportlab.pdfbase.pdfmetrics import stringWidth

        headers = ["Tid", "Fra", "Til"]
        rows = [["01.12.2026 10:00", "Barneverntjenesten i Fjordvik", "Helsestasjonen og skolehelsetjenesten"]] * 3
        widths = layout.column_widths(headers, rows, available=200, font="Helvetica", bold="Helvetica-Bold", size=8)
        assert widths is not None and sum(widths) == pytest.approx(200)
        for i, longest in enumerate(["01.12.2026", "Barneverntjenesten", "skolehelsetjenesten"]):
            assert widths[i] >= stringWidth(longest, "Helvetica", 8) + 2 * layout.CELL_PADDING

    def test_it_says_when_the_words_cannot_fit_at_a_size(self):
        rows = [["Barneverntjenesten"] * 6]
        assert layout.column_widths(["a"] * 6, rows, available=200, font="Helvetica", bold="Helvetica-Bold", size=8) is None
