"""A BrukerPlan round from its set-up to the report, in real Chromium (issue 10, "Must show").

Personas: ``coordinator`` (leader of BrukerPlan-koordinering) sets the round "BrukerPlan e2e" up
through the form with three participating services and opens it; ``rus_worker`` in Psykisk helse og
rus (service A) opens the worklist, marks Ola and Kari in scope and Per out of scope, maps Ola and
Kari (the life areas chosen with the keyboard) and marks the service's mapping done; ``nav_worker``
in NAV (service B) maps Ola too (the report counts him once); ``home_worker`` in Hjemmetjenesten
(service C) maps no one and is reminded before the deadline by the real sweep (the beat's task),
which reminds no one in A. The coordinator sees the completion per service, closes the round with
the confirmation, the report's task runs (Celery's own run of the task the close enqueued) while the
page shows its progress, and the report shows its charts and tables, every small cell hidden; its
CSV and PDF answer. axe-core checks every page on the way.

Time: the server's clock is moved (time_machine, ticking) to 09:00 tomorrow; the round's deadline
is ten days later, so its week-ahead reminders fall due in four days: the sweep runs at 09:00 on the
fifth day (that clock moved only for the sweep, while no page is asked for), before the deadline.
"""
import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from notifications.models import Notification
from org.models import Membership, Service
from people.services import person_get_or_create, service_period_record
from people.validators import synthetic_national_id
from referrals.models import BrukerPlanMapping, BrukerPlanReport, BrukerPlanRound, LifeArea
from tests.e2e.support import exact, label, nb, settled, submit
from tests.factories import make_org, make_service, member
from workflows.brukerplan import forms as bforms
from workflows.brukerplan import tasks

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
TITLE = "BrukerPlan e2e"


@pytest.fixture(autouse=True)
def seeded_rows():
    """The rows the migrations seed (the default scales, the round's deadline policies), in case the
    serialized restore did not bring them back (a reused test database)."""
    import importlib

    from django.apps import apps

    for module in ("consent.migrations.0004_default_age_rules", "referrals.migrations.0021_brukerplan_default_scales",
                   "workflows.migrations.0018_brukerplan_policies"):
        importlib.import_module(module).forwards(apps, None)


@pytest.fixture
def enqueued(monkeypatch):
    """The report tasks the round's close hands to Celery, kept here instead of the broker, so the
    test runs each as the worker would once the page has shown the report being computed."""
    ids = []
    monkeypatch.setattr(tasks.round_report_compute, "delay", lambda round_id: ids.append(round_id))
    return ids


def group(form, form_class, name):
    """The fieldset of a radio or checkbox field, by its legend."""
    return form.get_by_role("group", name=label(form_class, name))


def choice(text):
    return exact(nb(text))


class Personas:
    def __init__(self, today):
        org = make_org()
        muni = org.municipality
        self.coordination = make_service(muni, "BrukerPlan-koordinering", Service.Kind.OTHER)
        self.rus = make_service(muni, "Psykisk helse og rus", Service.Kind.RUSTJENESTE)
        self.nav = org.nav
        self.home = make_service(muni, "Hjemmetjenesten", Service.Kind.OTHER)
        self.coordinator = member(self.coordination, role=Membership.Role.LEADER)
        self.rus_worker, self.nav_worker, self.home_worker = member(self.rus), org.nav_staff, member(self.home)
        started = today - datetime.timedelta(days=100)
        self.persons = {}
        for n, (given, family, age, served_by) in enumerate((
            ("Ola", "Berg", 40, (self.rus, self.nav)), ("Kari", "Dahl", 30, (self.rus,)), ("Per", "Moe", 50, (self.rus,)),
            ("Eva", "Strand", 45, (self.home,)),
        )):
            national_id = synthetic_national_id(today.replace(year=today.year - age) - datetime.timedelta(days=40), 300 + n)
            for service in served_by:
                user = self.worker(service)
                person = person_get_or_create(user=user, given_name=given, family_name=family, national_id=national_id,
                                              municipality=muni, service=service)
                service_period_record(user=user, service=service, person=person, started_on=started)
            self.persons[given] = person

    def worker(self, service):
        return {self.rus: self.rus_worker, self.nav: self.nav_worker, self.home: self.home_worker}[service]


def worklist_row(page, name):
    return page.get_by_test_id("worklist-row").filter(has=page.get_by_role("rowheader", name=name, exact=True))


def status_cell(page, name):
    return worklist_row(page, name).locator("td").nth(1)


def completion_cells(page, service) -> list[str]:
    row = page.get_by_test_id("completion-row").filter(has=page.get_by_role("rowheader", name=service.name, exact=True))
    return [text.strip() for text in row.locator("td").all_inner_texts()]


class BrukerPlanRoundTripTests:
    def test_a_round_is_set_up_mapped_reminded_closed_and_reported(self, new_page, login, axe_scan, enqueued):
        day = timezone.localdate() + datetime.timedelta(days=1)
        start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
        with time_machine.travel(start, tick=True):
            self.round_trip(new_page, login, axe_scan, enqueued, day)

    def round_trip(self, new_page, login, axe_scan, enqueued, today):
        bp = Personas(today)
        deadline = today + datetime.timedelta(days=10)

        # --- The coordinator sets the round up with three services and opens it --------------------
        c = login(new_page(), bp.coordinator.username)
        c.goto(reverse("brukerplan:index"))
        axe_scan(settled(c), "the rounds list")
        c.get_by_test_id("round-new").click()
        form = c.get_by_test_id("round-form")
        expect(form).to_be_visible()
        axe_scan(settled(c), "the new round's form")
        F = bforms.RoundCreateForm
        form.get_by_label(label(F, "title")).fill(TITLE)
        form.get_by_label(label(F, "coordinator_service")).select_option(label=bp.coordination.name)
        form.get_by_label(label(F, "period_start")).fill((today - datetime.timedelta(days=5)).isoformat())
        form.get_by_label(label(F, "period_end")).fill((today + datetime.timedelta(days=30)).isoformat())
        form.get_by_label(label(F, "reference_date")).fill(today.isoformat())
        form.get_by_label(label(F, "deadline")).fill(deadline.isoformat())
        group(form, F, "age_threshold").get_by_label(choice(BrukerPlanRound.AgeThreshold.EIGHTEEN.label)).check()
        services = group(form, F, "services")
        for service in (bp.rus, bp.nav, bp.home):
            services.get_by_label(service.name, exact=True).check()
        submit(c, form.get_by_role("button", name=nb("Set the round up")))
        round_ = BrukerPlanRound.objects.get()
        assert round_.status == "draft" and round_.deadline == deadline and round_.age_threshold == 18
        expect(c.get_by_test_id("round-status")).to_have_text(nb(BrukerPlanRound.Status.DRAFT.label))
        axe_scan(settled(c), "the draft round's page")
        submit(c, c.get_by_test_id("round-open").get_by_role("button"))
        expect(c.get_by_test_id("round-status")).to_have_text(nb(BrukerPlanRound.Status.OPEN.label))
        axe_scan(settled(c), "the open round's page")
        assert [cells[:3] for cells in (completion_cells(c, s) for s in (bp.rus, bp.nav, bp.home))] == [["3", "0", "0"], ["1", "0", "0"], ["1", "0", "0"]]

        # --- Service A: two in scope and mapped, one not in scope, then done ----------------------------
        a = login(new_page(), bp.rus_worker.username)
        a.goto(reverse("brukerplan:index"))
        axe_scan(settled(a), "the rounds list of a participating service")
        a.get_by_test_id("worklists").get_by_role("link", name=re.compile(re.escape(TITLE))).click()
        expect(a.get_by_test_id("worklist-row")).to_have_count(3)
        axe_scan(settled(a), "service A's worklist")
        for given, family, assessment in (("Ola", "Berg", BrukerPlanMapping.ScopeReason.BOTH.label),
                                          ("Kari", "Dahl", BrukerPlanMapping.ScopeReason.MENTAL_HEALTH.label)):
            self.mark(a, f"{given} {family}", nb(assessment))
            expect(a.get_by_test_id("mapping-status")).to_have_text(nb(BrukerPlanMapping.Status.IN_SCOPE.label))
            axe_scan(settled(a), "the mapping form")
            self.map(a, sex=BrukerPlanMapping.Sex.FEMALE if given == "Kari" else BrukerPlanMapping.Sex.MALE)
            expect(a.get_by_test_id("mapping-status")).to_have_text(nb(BrukerPlanMapping.Status.MAPPED.label))
            axe_scan(settled(a), "the mapping's page after it was saved")
            a.get_by_role("link", name=nb("Worklist of %(service)s") % {"service": bp.rus.name}).click()
            settled(a)
        self.mark(a, "Per Moe", nb("Not in scope"))
        statuses = {name: status_cell(a, name) for name in ("Ola Berg", "Kari Dahl", "Per Moe")}
        for name, status in (("Ola Berg", "Mapped"), ("Kari Dahl", "Mapped"), ("Per Moe", "Not in scope")):
            expect(statuses[name]).to_have_text(nb(status))
        axe_scan(settled(a), "service A's worklist, everyone assessed")
        submit(a, a.get_by_test_id("complete").get_by_role("button"))
        expect(a.get_by_test_id("complete")).not_to_contain_text(nb("Mark our mapping done"))
        axe_scan(settled(a), "service A's worklist, marked done")

        # --- Service B maps Ola too ------------------------------------------------------------------
        b = login(new_page(), bp.nav_worker.username)
        b.goto(reverse("brukerplan:round", args=[round_.code]))
        expect(b.get_by_test_id("completion")).to_have_count(0)  # counts are the coordinator's
        axe_scan(settled(b), "the round's page for a participating service")
        b.get_by_test_id("worklist-link").click()
        expect(b.get_by_test_id("worklist-row")).to_have_count(1)
        axe_scan(settled(b), "service B's worklist")
        self.mark(b, "Ola Berg", nb(BrukerPlanMapping.ScopeReason.SUBSTANCE.label))
        axe_scan(settled(b), "service B's mapping form")
        self.map(b, sex=BrukerPlanMapping.Sex.MALE, level=3)
        expect(b.get_by_test_id("mapping-status")).to_have_text(nb(BrukerPlanMapping.Status.MAPPED.label))
        axe_scan(settled(b), "service B's mapping after it was saved")
        assert BrukerPlanMapping.objects.filter(status="mapped").count() == 3

        # --- The reminder: the beat's sweep before the deadline reaches C (and B), never A -------------
        from notifications.tasks import sweep_reminders

        sweep_reminders.apply()
        assert not Notification.objects.filter(user__in=[bp.rus_worker, bp.nav_worker, bp.home_worker]).exists()
        swept_at = timezone.make_aware(datetime.datetime.combine(today + datetime.timedelta(days=5), datetime.time(9)))
        with time_machine.travel(swept_at, tick=False):
            assert sweep_reminders.apply().get() >= 2
        assert list(Notification.objects.filter(user=bp.home_worker).values_list("kind", flat=True)) == ["reminder"]
        assert Notification.objects.filter(user=bp.nav_worker, kind="reminder").count() == 1
        assert not Notification.objects.filter(user=bp.rus_worker).exists()
        h = login(new_page(), bp.home_worker.username)
        h.goto(reverse("notifications:index"))
        notice = h.get_by_test_id("notification")
        expect(notice).to_have_count(1)
        expect(notice).to_contain_text(round_.reference)
        expect(notice).not_to_contain_text("Eva")
        axe_scan(settled(h), "service C's notifications")
        notice.get_by_test_id("notification-open").click()
        h.wait_for_url(re.compile(re.escape(reverse("brukerplan:round", args=[round_.code]))))
        axe_scan(settled(h), "the round's page, from C's reminder")

        # --- The coordinator sees the completion and closes the round ------------------------------
        c.reload()
        assert completion_cells(c, bp.rus)[:4] == ["3", "2", "2", "100 %"]
        assert completion_cells(c, bp.rus)[4] != nb("Not yet")
        assert completion_cells(c, bp.nav)[:4] == ["1", "1", "1", "100 %"]
        assert completion_cells(c, bp.home)[:3] == ["1", "0", "0"] and completion_cells(c, bp.home)[4] == nb("Not yet")
        assert "Ola" not in c.locator("main").inner_text()
        axe_scan(settled(c), "the round's page with the completion")
        close = c.get_by_test_id("round-close")
        close.get_by_role("button").click()  # without the confirmation: refused, still open
        expect(c.get_by_test_id("form-errors")).to_contain_text(nb("Tick the box to confirm that the round is to be closed."))
        assert BrukerPlanRound.objects.get().status == "open" and not enqueued
        axe_scan(settled(c), "the round's page, the close refused")
        close = c.get_by_test_id("round-close")
        close.get_by_role("checkbox").check()
        submit(c, close.get_by_role("button"))
        expect(c.get_by_test_id("round-status")).to_have_text(nb(BrukerPlanRound.Status.CLOSED.label))
        assert enqueued == [round_.pk]
        expect(c.get_by_test_id("report-status").locator("progress")).to_be_visible()
        axe_scan(settled(c), "the closed round's page, the report being computed")

        # --- The report: its progress, then (the task run) its charts and tables ----------------------
        c.goto(reverse("brukerplan:report", args=[round_.code]))
        expect(c.get_by_test_id("report-status").locator("progress")).to_be_visible()
        axe_scan(settled(c), "the report page while it is computed")
        result = tasks.round_report_compute.apply(args=[enqueued[0]])
        assert result.successful()
        assert BrukerPlanReport.objects.get(round=round_).status == "done"
        # The page's script polls the progress and reloads itself when the report is done.
        expect(c.get_by_test_id("report-about")).to_be_visible(timeout=15_000)
        hidden = nb("hidden")
        # Two persons mapped (Ola counted once): under five, so the page hides even the total.
        stored = BrukerPlanReport.objects.get(round=round_)
        assert stored.data["mapped"] is None and stored.total == 2
        expect(c.get_by_test_id("report-mapped")).to_have_text(hidden)
        axe_scan(settled(c), "the report")
        charts = c.locator("figure svg[role=img]")
        expect(charts).to_have_count(2)
        for i in range(2):
            assert charts.nth(i).locator("title").text_content().strip()
        expect(c.get_by_test_id("report-table-life_areas").locator("figure svg title")).to_have_count(1)
        expect(c.get_by_test_id("report-table-index").locator("figure svg title")).to_have_count(1)
        expect(c.get_by_test_id("report-hidden-note")).to_contain_text(hidden)
        sex_cells = c.get_by_test_id("report-table-sex").locator("tbody td")
        assert hidden in sex_cells.all_inner_texts()  # one man (Ola) and one woman: both hidden
        life_areas = c.get_by_test_id("report-table-life_areas").locator("tbody td").all_inner_texts()
        assert life_areas and all(hidden in cell for cell in life_areas)
        assert "Ola" not in c.locator("main").inner_text() and "Kari" not in c.locator("main").inner_text()
        for name, content_type in (("Download as CSV", "text/csv"), ("Download as PDF", "application/pdf")):
            href = c.get_by_role("link", name=nb(name)).get_attribute("href")
            response = c.request.get(href)
            assert response.status == 200, href
            assert response.headers["content-type"].startswith(content_type)
            body = response.body()
            assert body.startswith(b"%PDF-") if content_type == "application/pdf" else hidden.encode() in body
        # The report holds no person: the participating services read it too; an outsider gets 404.
        assert a.goto(reverse("brukerplan:report", args=[round_.code])).status == 200
        outsider = login(new_page(), make_org("9997").nav_staff.username)
        assert outsider.goto(reverse("brukerplan:report", args=[round_.code])).status == 404
        assert outsider.goto(reverse("brukerplan:round", args=[round_.code])).status == 404

    def mark(self, page, name, assessment):
        """On the worklist: the row's assessment chosen and saved (in scope leads to the mapping form)."""
        row = worklist_row(page, name)
        row.get_by_label(nb("Assessment of %(name)s") % {"name": name}).select_option(label=assessment)
        submit(page, row.get_by_role("button", name=nb("Save")))

    def map(self, page, *, sex, level=None):
        """Fill the mapping form: the life areas with the keyboard (focus the area's first level, Space
        picks it, each ArrowDown the next), the rest by clicking; then save."""
        form = page.get_by_test_id("mapping-form")
        M = bforms.MappingForm
        group(form, M, "sex").get_by_label(choice(sex.label)).check()
        group(form, M, "has_children").get_by_label(choice("No")).check()
        for i, area in enumerate(LifeArea):
            wanted = level or 1 + i % 3
            radios = form.get_by_role("group", name=re.compile(rf"^\s*{re.escape(nb(area.label))}:?\s*$")).get_by_role("radio")
            radios.first.focus()
            page.keyboard.press("Space")
            for _ in range(wanted - 1):
                page.keyboard.press("ArrowDown")
            expect(radios.nth(wanted - 1)).to_be_checked()
        group(form, M, "services_used").get_by_role("checkbox").first.check()
        group(form, M, "expected_need").get_by_role("checkbox").nth(1).check()
        for name, answer in (("lar", "No"), ("tsb", "Yes")):
            group(form, M, name).get_by_label(choice(answer)).check()
        for name in ("ansvarsgruppe", "individual_plan"):
            group(form, M, name).get_by_role("radio").first.check()
        submit(page, form.get_by_role("button", name=nb("Save the mapping")))
