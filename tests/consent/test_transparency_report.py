"""The person's transparency report (GDPR art. 15): its rows, and the PDF made from them (the access
log summed up by day: one row per local day, user, service, action and purpose).

Personas of the days: the school's teacher, Tone Lærer, reads the child's consent pages; the
barnehage's reporter reads them too (once just after midnight, Oslo time); the system changes a
record; a service in another municipality reads the child as well. Time is frozen at Friday
4 December 2026, 12:00 in Oslo.
"""
import datetime
import re
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AccessLog
from consent import pdf as layout
from consent import reports
from consent.reports import access_by_user, access_days, transparency_report, transparency_report_pdf
from consent.services import consent_withdraw
from org.models import Service
from people.services import person_merge
from tests.consent.ui_factories import log_reads, person_aged, recipient_service, record, send_referral
from tests.factories import make_org, make_service, member

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
        # One read a day for 120 days: 120 rows of the summary (the reads of one day make one).
        teen, *_ = world
        log_reads(teen, [
            (org.teacher, org.skole, "view", "consents of the person", timezone.now() - datetime.timedelta(days=i)) for i in range(120)
        ])
        pdf = transparency_report_pdf(transparency_report(teen, access_by_day=True))
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


OSLO = ZoneInfo("Europe/Oslo")


def oslo(day, hour, minute):
    """A moment of December 2026 in Oslo."""
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=OSLO)


def grouped(entries) -> list[tuple]:
    """The per-entry report's rows summed up by hand, as ``access_days`` should: (day, first, last,
    entries, user, service, action, purpose), newest first."""
    groups = defaultdict(list)
    for e in entries:
        key = (timezone.localtime(e.at).date(), e.user_label, e.service.name if e.service else "", e.get_action_display(), e.purpose_label)
        groups[key].append(e.at)
    rows = [(day, min(ats), max(ats), len(ats), user, service, action, purpose) for (day, user, service, action, purpose), ats in groups.items()]
    return sorted(rows, key=lambda r: (r[0], r[2]), reverse=True)


def summed(days) -> list[tuple]:
    return [(d.day, d.first, d.last, d.entries, d.user_label, d.service_name, d.action_label, d.purpose_label) for d in days]


@pytest.fixture
def frozen():
    with time_machine.travel(oslo(4, 12, 0), tick=False):
        yield


@pytest.fixture
def child(org, frozen):
    """Registered by the barnehage on 1 December; read on 2 and 3 December by two users of two
    services for two purposes, and changed once by the system."""
    org.teacher.first_name, org.teacher.last_name = "Tone", "Lærer"
    org.teacher.save(update_fields=["first_name", "last_name"])
    with time_machine.travel(oslo(1, 8, 0), tick=False):
        child = person_aged(org, 10, given="Emma")
    log_reads(child, [
        (org.teacher, org.skole, "view", "consent page", oslo(3, 9, 14)),
        (org.teacher, org.skole, "view", "consent page", oslo(3, 9, 52)),
        (org.teacher, org.skole, "view", "consent page", oslo(3, 9, 30)),
        (org.teacher, org.skole, "view", "consents of the person", oslo(3, 9, 20)),
        (org.reporter, org.barnehage, "view", "consent page", oslo(3, 10, 5)),
        # 23:30 UTC on the 2nd is 00:30 on the 3rd in Oslo: the local day counts.
        (org.reporter, org.barnehage, "view", "consent page", datetime.datetime(2026, 12, 2, 23, 30, tzinfo=datetime.UTC)),
        (org.teacher, org.skole, "view", "consent page", oslo(2, 14, 0)),
        (None, None, "update", "", oslo(2, 8, 0)),
    ])
    return child


class AccessDaysTests:
    def test_it_sums_up_each_day_user_service_action_and_purpose_newest_first(self, org, child):
        with translation.override("en"):
            days = summed(access_days(child))
        dec = lambda day: datetime.date(2026, 12, day)  # noqa: E731
        assert days[:5] == [
            (dec(3), datetime.datetime(2026, 12, 2, 23, 30, tzinfo=datetime.UTC), oslo(3, 10, 5), 2, org.reporter.username, "Solsiden barnehage",
             "Viewed", "consent page"),
            (dec(3), oslo(3, 9, 14), oslo(3, 9, 52), 3, "Tone Lærer", "Fjordvik skole", "Viewed", "consent page"),
            (dec(3), oslo(3, 9, 20), oslo(3, 9, 20), 1, "Tone Lærer", "Fjordvik skole", "Viewed", "consents of the person"),
            (dec(2), oslo(2, 14, 0), oslo(2, 14, 0), 1, "Tone Lærer", "Fjordvik skole", "Viewed", "consent page"),
            (dec(2), oslo(2, 8, 0), oslo(2, 8, 0), 1, "The system", "", "Changed", ""),
        ]
        # The registration on the 1st, and nothing else.
        assert {d[0] for d in days[5:]} == {dec(1)}
        assert sum(d[3] for d in days) == AccessLog.objects.filter(person=child).count()

    def test_it_sums_up_exactly_the_entries_of_the_full_report(self, org, child):
        assert summed(access_days(child)) == grouped(transparency_report(child).access_entries)

    def test_a_services_report_sums_up_only_its_own_entries(self, org, child):
        days = access_days(child, service=org.skole)
        assert {d.service_name for d in days} == {"Fjordvik skole"}
        assert [d.entries for d in days] == [3, 1, 1]
        assert summed(days) == grouped(transparency_report(child, service=org.skole).access_entries)
        assert transparency_report(child, service=org.skole, access_by_day=True).access_days == days

    def test_it_keeps_to_the_municipality_and_the_rows_without_a_service(self, org, child):
        elsewhere = make_service(make_org("9002").municipality, "Annen kommunes tjeneste", Service.Kind.OTHER)
        log_reads(child, [(member(elsewhere), elsewhere, "view", "consent page", oslo(3, 11, 0))])
        days = access_days(child, municipality=org.municipality.pk)
        assert "Annen kommunes tjeneste" not in {d.service_name for d in days}
        assert "Annen kommunes tjeneste" in {d.service_name for d in access_days(child)}
        assert any(d.service_name == "" for d in days)  # the system's change stays
        assert summed(days) == grouped(transparency_report(child, municipality=org.municipality.pk).access_entries)

    def test_it_includes_the_records_merged_into_the_person(self, org, child):
        contact = person_aged(org, 10, given="Emma", service=None)
        log_reads(contact, [(org.caseworker, org.barnevern, "view", "contact page", oslo(3, 8, 0))])
        person_merge(source=contact, target=child)
        days = access_days(child)
        assert ("Barneverntjenesten", 1) in {(d.service_name, d.entries) for d in days}
        assert summed(days) == grouped(transparency_report(child).access_entries)

    def test_the_report_by_day_reads_no_single_entry(self, org, child):
        report = transparency_report(child, access_by_day=True)
        assert report.access_entries == [] and not report.access_truncated
        assert summed(report.access_days) == summed(access_days(child))


class AccessByUserTests:
    def test_it_sums_up_each_user_and_service_most_recent_first(self, org, child):
        with translation.override("en"):
            found = [(u.user_label, u.service_name, u.entries, u.first, u.last) for u in access_by_user(child)]
        assert found[:2] == [
            # Two reads, and the registration on the 1st.
            (org.reporter.username, "Solsiden barnehage", 3, oslo(1, 8, 0), oslo(3, 10, 5)),
            ("Tone Lærer", "Fjordvik skole", 5, oslo(2, 14, 0), oslo(3, 9, 52)),
        ]
        assert sum(u.entries for u in access_by_user(child)) == AccessLog.objects.filter(person=child).count()

    def test_a_services_summary_has_only_its_own_entries(self, org, child):
        assert [(u.service_name, u.entries) for u in access_by_user(child, service=org.skole)] == [("Fjordvik skole", 5)]


class PdfBoundTests:
    """The PDF's access log is bounded: the newest ACCESS_DAYS_IN_PDF day rows, the summary by user
    (as long as the number of people who handled the data), and the CSV for every entry."""

    def test_it_lists_only_the_newest_days_and_says_so(self, child, monkeypatch):
        monkeypatch.setattr(reports, "ACCESS_DAYS_IN_PDF", 2)
        report = transparency_report(child, access_by_day=True)
        assert report.access_days_truncated
        assert summed(report.access_days) == summed(access_days(child))[:2]
        monkeypatch.setattr(layout, "FONT_DIR", "/nonexistent")
        with translation.override("nb"):
            text = " ".join(pdf_lines(transparency_report_pdf(report, compress=False)))
        assert "Bare de 2 nyeste" in text
        # The summary still counts every entry: the teacher's five.
        assert "Tone Lærer Fjordvik skole 5" in text

    def test_it_lists_every_day_row_below_the_bound(self, child):
        report = transparency_report(child, access_by_day=True)
        assert not report.access_days_truncated and summed(report.access_days) == summed(access_days(child))


class ReportPdfByDayTests:
    @pytest.fixture
    def lines(self, child, monkeypatch):
        monkeypatch.setattr(layout, "FONT_DIR", "/nonexistent")  # the standard font: readable text
        with translation.override("nb"):
            return pdf_lines(transparency_report_pdf(transparency_report(child, access_by_day=True), compress=False))

    def test_it_writes_one_row_per_day_user_service_action_and_purpose(self, lines):
        row = ["03.12.2026", "09:14–09:52", "Tone Lærer", "Fjordvik skole", "Vist", "samtykkeside", "3"]
        assert any(lines[i:i + len(row)] == row for i in range(len(lines))), lines

    def test_it_writes_a_single_entry_with_its_one_time(self, lines):
        row = ["02.12.2026", "14:00", "Tone Lærer", "Fjordvik skole"]
        assert any(lines[i:i + len(row)] == row for i in range(len(lines))), lines

    def test_it_heads_the_columns_and_says_where_every_entry_is(self, lines):
        text = " ".join(lines)
        for header in ("Dag", "Tidspunkt", "Bruker", "Tjeneste", "Handling", "Formål", "Antall"):
            assert header in lines, header
        assert "Hvert enkelt innslag står i rapportens CSV-fil." in text

    def test_it_sums_up_a_report_made_entry_by_entry_too(self, child, lines):
        with translation.override("nb"):
            assert pdf_lines(transparency_report_pdf(transparency_report(child), compress=False)) == lines
