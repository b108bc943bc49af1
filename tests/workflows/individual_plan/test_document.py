"""The plan document (issue 9, point 7): the individual plan as an A4 PDF in bokmål for the person and
the participants, the person's own goals first; downloaded by whoever may read the plan (the read
logged as the document's), 404 for everyone else.

The text is read from uncompressed pages set in a standard font (no PDF text extractor is installed
here): tests.consent.test_transparency_report.pdf_lines. Personas and dates: see scenario.py.
"""
import re

import pytest
from django.urls import reverse
from django.utils import translation

from audit.models import AccessLog
from consent import pdf as layout
from referrals.models import IndividualPlan, PlanParticipant
from tests.consent.test_transparency_report import page_count, pdf_lines
from tests.factories import make_user
from tests.workflows.individual_plan.scenario import TODAY, adult, plan_with_participants
from workflows.individual_plan import document
from workflows.individual_plan import services as svc
from workflows.individual_plan.selectors import READ_DOCUMENT
from workflows.processes import process_named
from workflows.withdrawal import consent_withdraw_cascade

pytestmark = pytest.mark.django_db
GOALS = "Jeg vil ha egen leilighet og komme i jobb."
WORK = "Arbeidstrening tre dager i uka."
HOME = "Hjemmebesøk hver fredag."


@pytest.fixture
def plan(org, ip):
    """Ola's plan held by Psykisk helse og rus (koordinator named), NAV and Hjemmetjenesten taking
    part, his sister Siri as next of kin, and two measures."""
    plan = plan_with_participants(org, ip)
    sister = adult(org, ip, given="Siri", start=350)
    svc.participant_add(user=ip.rus_staff, plan=plan, role="next_of_kin", person=sister, relation="søster")
    svc.measure_add(user=ip.rus_staff, plan=plan, description=WORK, responsible_service=ip.nav,
                    starts_on=TODAY, evaluate_on=TODAY.replace(month=12))
    svc.measure_add(user=ip.rus_staff, plan=plan, description=HOME, responsible_service=ip.home,
                    starts_on=TODAY, evaluate_on=TODAY.replace(month=11))
    return IndividualPlan.objects.select_related("person", "consent", "registered_by_service").get(pk=plan.pk)


@pytest.fixture
def readable(monkeypatch):
    """The standard font, whose text can be read straight from uncompressed pages."""
    monkeypatch.setattr(layout, "FONT_DIR", "/nonexistent")


def text_of(plan, language="nb") -> list[str]:
    with translation.override(language):
        return pdf_lines(document.plan_document_pdf(document.plan_document(plan), compress=False))


def bokmal(msgid: str) -> str:
    with translation.override("nb"):
        text = translation.gettext(msgid)
    assert text != msgid, f"no bokmål for {msgid!r}"
    return text


def index_of(lines: list[str], text: str) -> int:
    return next(i for i, line in enumerate(lines) if text in line)


class PlanDocumentTests:
    def test_it_puts_the_persons_own_goals_first_then_the_resources_and_the_measures(self, plan, readable):
        lines = text_of(plan)
        goals = index_of(lines, GOALS)
        assert index_of(lines, bokmal("The person's own goals")) < goals
        assert goals < index_of(lines, "God kontakt med søsteren.") < index_of(lines, HOME) < index_of(lines, WORK)
        assert index_of(lines, WORK) < index_of(lines, bokmal("Participants"))

    def test_it_writes_its_headings_in_bokmal(self, plan, readable):
        text = "\n".join(text_of(plan))
        for msgid in ("The person's own goals", "Resources", "Measures", "Responsible service", "Evaluate by", "Participants",
                      "Main responsibility", "Plan period", "Revise by", "The person's participation", "Version"):
            assert bokmal(msgid) in text, msgid
        assert "Personens egne mål" in text and "Individuell plan" in text

    def test_it_shows_each_measure_with_its_service_dates_and_status(self, plan, readable):
        lines = text_of(plan)
        row = " ".join(lines[index_of(lines, WORK): index_of(lines, WORK) + 5])
        assert "NAV" in row and "01.09.2026" in row and "01.12.2026" in row and bokmal("Planned") in row

    def test_it_names_the_participants_the_holder_the_koordinator_the_period_and_the_version(self, plan, ip, readable):
        svc.plan_update(user=ip.rus_staff, plan=plan, participation_note="Ola skrev målene selv.")
        plan.refresh_from_db()
        text = "\n".join(text_of(plan))
        for shown in ("NAV", "Hjemmetjenesten", "Siri Nordmann", "søster", bokmal("Next of kin"),
                      f"{bokmal('Main responsibility')}: Psykisk helse og rus", bokmal("The person took part in writing the plan"),
                      "Ola skrev målene selv.", "01.09.2026 – 01.09.2027", f"{bokmal('Revise by')}: 28.02.2027"):
            assert shown in text, shown
        koordinator = ip.rus_koordinator.get_full_name() or ip.rus_koordinator.get_username()
        assert f"Koordinator: {koordinator}" in text
        assert f"{bokmal('Version')}: {plan.version}" in text and plan.version > 1

    def test_it_names_the_person_as_the_page_does_and_shows_no_fodselsnummer_or_birth_date(self, plan, readable):
        lines = text_of(plan)
        text = "\n".join(lines)
        assert "Person: Ola Nordmann" in text
        raw = document.plan_document_pdf(document.plan_document(plan), compress=False)
        for secret in (plan.person.national_id, "10.03.1996", "1996-03-10"):
            assert secret not in text and secret.encode() not in raw, secret

    def test_it_carries_the_reference_and_the_page_number_on_every_page(self, plan, ip, readable):
        for n in range(40):
            svc.measure_add(user=ip.rus_staff, plan=plan, description=f"Tiltak nummer {n} med en lengre beskrivelse av hva som skal gjøres.",
                            responsible_service=ip.nav, starts_on=TODAY, evaluate_on=TODAY.replace(month=12))
        plan.refresh_from_db()
        with translation.override("nb"):
            raw = document.plan_document_pdf(document.plan_document(plan), compress=False)
        lines = pdf_lines(raw)
        pages = page_count(raw)
        assert pages >= 2
        assert sum(plan.reference in line and "Ola" not in line for line in lines) >= pages + 1  # each header, and the title
        assert [f"Side {n}" in lines for n in range(1, pages + 1)] == [True] * pages

    def test_it_makes_an_a4_pdf_with_the_unicode_font(self, plan):
        raw = document.plan_document_pdf(document.plan_document(plan))
        assert raw.startswith(b"%PDF") and b"/MediaBox [ 0 0 595.2756 841.8898 ]" in raw
        assert b"DejaVuSans" in raw or layout.fonts()[0] == "Helvetica"


def download(client, user, plan):
    client.force_login(user)
    return client.get(reverse("individual_plans:pdf", args=[plan.code]))


def document_reads(plan):
    return list(AccessLog.objects.filter(object_type="referrals.individualplan", object_id=plan.pk, purpose=READ_DOCUMENT).order_by("id")
                .values_list("user_id", "service_id", "person_id", "action"))


class PlanPdfViewTests:
    def test_it_gives_a_participant_the_pdf_as_a_download_naming_no_person(self, client, ip, plan):
        response = download(client, ip.home_staff, plan)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert response["Content-Disposition"] == f'attachment; filename="individuell-plan-{plan.reference}.pdf"'
        assert "Ola" not in response["Content-Disposition"] and plan.person.national_id not in response["Content-Disposition"]
        assert response["Cache-Control"] == "no-store"

    def test_it_logs_the_read_once_with_the_documents_purpose_under_the_readers_service(self, client, ip, plan):
        download(client, ip.home_staff, plan)
        download(client, ip.rus_staff, plan)  # the holder: logged under its service too
        assert document_reads(plan) == [(ip.home_staff.pk, ip.home.pk, plan.person_id, "view"), (ip.rus_staff.pk, ip.rus.pk, plan.person_id, "view")]
        assert READ_DOCUMENT in process_named("individual_plan").audit_purposes

    def test_every_outsider_and_the_superuser_get_404_and_nothing_is_logged(self, client, org, ip, plan):
        superuser = make_user("drift", is_staff=True, is_superuser=True)
        for user in (ip.dps_staff, org.caseworker, org.slt_staff, superuser):
            assert download(client, user, plan).status_code == 404, user
        assert document_reads(plan) == []

    def test_a_removed_participant_gets_404_on_its_next_request(self, client, ip, plan):
        assert download(client, ip.home_staff, plan).status_code == 200
        home = PlanParticipant.objects.get(plan=plan, service=ip.home, removed_at__isnull=True)
        svc.participant_remove(user=ip.rus_staff, plan=plan, participant=home)
        assert download(client, ip.home_staff, plan).status_code == 404
        assert len(document_reads(plan)) == 1

    def test_after_the_withdrawal_every_participant_gets_404(self, client, ip, plan):
        consent_withdraw_cascade(consent=plan.consent, user=ip.rus_staff, note="Ola trekker samtykket.")
        for user in (ip.rus_staff, ip.nav_staff, ip.home_staff):
            assert download(client, user, plan).status_code == 404, user
        assert document_reads(plan) == []

    def test_a_forged_code_gets_404(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        code = str(plan.code)
        for code in ("00000000-0000-0000-0000-000000000000", code[:-1] + ("1" if code[-1] == "0" else "0")):  # never the plan's own
            assert client.get(reverse("individual_plans:pdf", args=[code])).status_code == 404

    def test_the_plan_page_links_the_document(self, client, ip, plan):
        client.force_login(ip.nav_staff)
        page = client.get(reverse("individual_plans:detail", args=[plan.code])).content.decode()
        assert re.search(r'href="%s"[^>]*data-testid="plan-pdf"' % re.escape(reverse("individual_plans:pdf", args=[plan.code])), page)
