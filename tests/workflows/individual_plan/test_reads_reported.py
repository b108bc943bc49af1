"""Every read of a plan reaches the person's transparency report (issue 9, point 7; GDPR art. 15): the
plan's page, its document, the plans list and the hand-over's task page each write one access-log
row naming the person, the reader and the reader's service, with a purpose the report shows in the
reader's language. Personas and dates: see scenario.py.
"""
import pytest
from django.urls import reverse
from django.utils import translation

from audit.models import AccessLog
from consent import pdf as layout
from consent.reports import transparency_report, transparency_report_pdf
from tests.consent.test_transparency_report import pdf_lines
from tests.workflows.individual_plan.scenario import TODAY, plan_with_participants
from tests.workflows.individual_plan.test_views import task_kwargs
from workflows.individual_plan import services as svc
from workflows.individual_plan.selectors import READ_DOCUMENT, READ_HANDOVER_TASK, READ_PAGE
from workflows.processes import process_named

pytestmark = pytest.mark.django_db
LIST = "individual plan list"


@pytest.fixture
def plan(org, ip):
    """Ola's plan held by Psykisk helse og rus, NAV and Hjemmetjenesten taking part, one measure, and
    a hand-over to NAV that NAV has assigned to its caseworker."""
    plan = plan_with_participants(org, ip)
    svc.measure_add(user=ip.rus_staff, plan=plan, description="Arbeidstrening tre dager i uka.", responsible_service=ip.nav,
                    starts_on=TODAY, evaluate_on=TODAY.replace(month=12))
    plan.handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav, note="Arbeid er nå det viktigste.")
    return plan


def task_page(plan) -> str:
    return reverse("workflow:flows:individualplan:decide:execute", kwargs=task_kwargs(plan.handover))


@pytest.fixture
def read_everywhere(client, ip, plan):
    """Hjemmetjenesten reads the plan's page and its document; NAV its plans list and the task page."""
    client.force_login(ip.home_staff)
    assert client.get(reverse("individual_plans:detail", args=[plan.code])).status_code == 200
    assert client.get(reverse("individual_plans:pdf", args=[plan.code])).status_code == 200
    client.force_login(ip.nav_staff)
    assert client.get(reverse("individual_plans:index")).status_code == 200
    client.post(reverse("workflow:flows:individualplan:decide:assign", kwargs=task_kwargs(plan.handover)), {})
    assert client.get(task_page(plan)).status_code == 200
    return plan


def reads(entries) -> set:
    return {(e.user_id, e.service_id, e.purpose) for e in entries if e.action == "view"}


class PlanReadsReportedTests:
    def test_it_lists_every_read_of_the_plan_in_the_persons_report(self, ip, read_everywhere):
        plan = read_everywhere
        report = transparency_report(plan.person)
        assert {
            (ip.home_staff.pk, ip.home.pk, READ_PAGE), (ip.home_staff.pk, ip.home.pk, READ_DOCUMENT),
            (ip.nav_staff.pk, ip.nav.pk, LIST), (ip.nav_staff.pk, ip.nav.pk, READ_HANDOVER_TASK),
        } <= reads(report.access_entries)

    def test_it_declares_each_purpose_for_the_report_to_translate(self):
        # The report shows a purpose through the catalogue (audit.labels.purpose_label): each must
        # be declared where the catalogue finds it, the process's registry entry.
        assert {READ_PAGE, READ_DOCUMENT, READ_HANDOVER_TASK, LIST} <= set(process_named("individual_plan").audit_purposes)

    def test_it_names_the_purposes_in_the_readers_language(self, read_everywhere):
        plan = read_everywhere
        with translation.override("nb"):
            labels = {e.purpose: e.purpose_label for e in transparency_report(plan.person).access_entries}
        assert (labels[READ_PAGE], labels[LIST]) == ("individuell plan vist", "liste over individuelle planer")
        with translation.override("en"):
            labels = {e.purpose: e.purpose_label for e in transparency_report(plan.person).access_entries}
        assert labels[READ_DOCUMENT] == READ_DOCUMENT and labels[READ_HANDOVER_TASK] == READ_HANDOVER_TASK

    def test_it_writes_the_reads_into_the_reports_pdf(self, read_everywhere, monkeypatch):
        plan = read_everywhere
        monkeypatch.setattr(layout, "FONT_DIR", "/nonexistent")  # the standard font: readable text
        with translation.override("en"):
            text = " ".join(pdf_lines(transparency_report_pdf(transparency_report(plan.person), compress=False)))
        for purpose in (READ_PAGE, READ_DOCUMENT, LIST, READ_HANDOVER_TASK):
            assert purpose in text, purpose

    def test_a_services_own_report_holds_its_own_reads_only(self, ip, read_everywhere):
        plan = read_everywhere
        nav = reads(transparency_report(plan.person, service=ip.nav).access_entries)
        assert {(ip.nav_staff.pk, ip.nav.pk, LIST), (ip.nav_staff.pk, ip.nav.pk, READ_HANDOVER_TASK)} <= nav
        assert all(service == ip.nav.pk for _user, service, _purpose in nav)


class HandOverTaskPageReadTests:
    def test_it_writes_one_read_per_view_of_the_task_page(self, client, ip, plan):
        client.force_login(ip.nav_staff)
        client.post(reverse("workflow:flows:individualplan:decide:assign", kwargs=task_kwargs(plan.handover)), {})
        before = AccessLog.objects.filter(person=plan.person).count()
        page = client.get(task_page(plan))
        assert page.status_code == 200 and "Arbeidstrening tre dager i uka." in page.content.decode()
        rows = list(AccessLog.objects.filter(person=plan.person).order_by("id").values_list("user_id", "service_id", "purpose", "object_id"))
        assert len(rows) == before + 1
        assert rows[-1] == (ip.nav_staff.pk, ip.nav.pk, READ_HANDOVER_TASK, plan.pk)
