"""The SLT insights in real Chromium (issue 11, "Must show": axe-core clean on every insights and
forum page; charts have text alternatives; 404 for anyone who may read no insights).

Personas (tests.factories.make_org, Testkommune 9998): ``slt_staff`` is the SLT coordinator, who
lands on the insights overview after logging in and runs the forums; a police officer of "Fjordvik
politistasjon" (a member service of the forum) reads the forum; ``caseworker`` in Barneverntjenesten
holds no role in the insights and gets 404.

The overview's figures come from a real rollup refresh (insights.services.rollup_refresh) over 16
meldinger sent from Solsiden barnehage to Barneverntjenesten through the concern services this
month: 8 about children of 6–12 years, 6 of 13–15 and 2 of 0–5. By age band the 2 is hidden, and
with it the 6 (else the total would give it away); the 8 and the total 16 are shown.

Time: the live server runs on the real clock. A meeting that has already started (the minutes are
written only then) is scheduled through the services with the clock moved back three days
(time_machine, in the test's own setup), so it lies in the past when the browser opens it.
"""
import csv
import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from insights import forums as forum_svc
from insights.forum_forms import AgendaItemForm, ForumForm, ScheduleForm
from insights.models import AgendaItem, Forum, ForumMeeting, ForumMinutes
from insights.services import rollup_refresh
from org.models import Service
from tests.e2e.support import label, nb, settled, submit
from tests.factories import make_child, make_melding, make_org, make_service, member
from workflows.processes import process_named

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

IDENTITY_REFUSAL = ("Remove the number: it looks like a national identity number (fødselsnummer or D-nummer). "
                    "A forum discusses themes and de-identified cases only.")


def children_aged(org, years, count, *, given):
    """``count`` children who are ``years`` old (or one less, early in January) today."""
    today = timezone.localdate()
    return [make_child(org, birth=datetime.date(today.year - years, 1, 1 + i), start=500, given=given) for i in range(count)]


@pytest.fixture
def concerns():
    """The coordinator's municipality with 16 meldinger this month, counted by a real rollup refresh."""
    org = make_org()
    for years, count, given in ((9, 8, "Emma"), (14, 6, "Nora"), (3, 2, "Ida")):
        for child in children_aged(org, years, count, given=given):
            make_melding(org, child=child)
    rollup_refresh()
    return org


def rows(page, key):
    """The text of the rendered table ``key`` (its body: one list per row, the row header first)."""
    return [[c.strip() for c in r.locator("th, td").all_inner_texts()] for r in page.locator(f"table[data-key={key}] tbody tr").all()]


def row_of(table_rows, start):
    return next(r for r in table_rows if r[0].startswith(start))


def index_url(page_url: str) -> bool:
    return page_url.split("?")[0].endswith(reverse("insights:index"))


class InsightsOverviewE2ETests:
    def test_it_lands_the_slt_coordinator_on_the_figures_filters_them_and_exports_them(self, page, login, axe_scan, concerns):
        c = login(page, concerns.slt_staff.username)
        settled(c)
        assert index_url(c.url), c.url
        expect(c.get_by_role("heading", level=1)).to_have_text(nb("Open and late work"))
        expect(c.get_by_test_id("menu-insights")).to_have_count(1)
        hidden = nb("hidden")

        # --- Figures from the refresh: the 8 shown, the 2 hidden (and the 6 that would give it away)
        by_age = rows(c, "open_age")
        assert row_of(by_age, "6–12")[1] == "8"
        small = row_of(by_age, "0–5")
        assert small[1] == hidden and "2" not in small[1:]
        assert row_of(by_age, "13–15")[1] == hidden
        assert by_age[-1] == [nb("Total"), "16"]
        assert row_of(rows(c, "open_service"), "Barneverntjenesten")[-1] == "16"
        expect(c.get_by_test_id("insights-hidden-note")).to_contain_text(hidden)
        axe_scan(c, "the insights overview")

        # --- Every chart has a text alternative: a named image, and a captioned table beside it --
        figures = c.locator("[data-testid^=insights-figure-]").filter(has=c.locator("figure svg[role=img]"))
        assert figures.count() >= 4
        for i in range(figures.count()):
            chart = figures.nth(i).locator("figure svg[role=img]")
            expect(chart).to_have_count(1)
            expect(chart).to_have_accessible_name(re.compile(r"\S"))
            caption = figures.nth(i).locator("table caption")
            expect(caption).to_have_count(1)
            expect(caption).to_have_text(re.compile(r"\S"))
        expect(c.locator("svg[role=img]")).to_have_count(figures.count())

        # --- The CSV of the same figures -----------------------------------------------------------
        with c.expect_download() as download:
            c.get_by_role("link", name=nb("Download as CSV")).click()
        assert download.value.suggested_filename == f"innsikt-{timezone.localdate().year}-alle.csv"
        text = download.value.path().read_text(encoding="utf-8-sig")
        lines = list(csv.reader(text.splitlines(), delimiter=";"))
        assert lines[0] == [nb("Municipality"), nb("All my municipalities")]
        assert [nb("Table"), nb("Row"), nb("Column"), nb("Value")] in lines
        young = [r for r in lines if len(r) == 4 and r[1].startswith("0–5")]
        assert young and all(r[3] == hidden for r in young)
        assert "Emma" not in text and "Ida" not in text

        # --- The filter: another process with the keyboard, then last year with a click ----------
        process = c.get_by_label(nb("Kind of case"), exact=True)
        process.select_option("referral")
        c.get_by_label(nb("Year"), exact=True).press("Enter")
        expect(c).to_have_url(re.compile(r"process=referral"))
        settled(c)
        expect(c.get_by_test_id("insights-about")).to_contain_text(nb(process_named("referral").label))
        assert rows(c, "open_age")[-1] == [nb("Total"), "0"]
        assert row_of(rows(c, "open_process"), nb(process_named("referral").label))[1] == "0"

        last_year = timezone.localdate().year - 1
        c.get_by_label(nb("Kind of case"), exact=True).select_option("concern")
        c.get_by_label(nb("Year"), exact=True).fill(str(last_year))
        c.get_by_test_id("insights-filter").get_by_role("button", name=nb("Show")).click()
        expect(c).to_have_url(re.compile(rf"year={last_year}"))
        settled(c)
        expect(c.get_by_test_id("insights-about")).to_contain_text(str(last_year))
        assert rows(c, "open_age")[-1] == [nb("Total"), "0"]

        c.get_by_label(nb("Year"), exact=True).fill(str(last_year + 1))
        c.get_by_test_id("insights-filter").get_by_role("button", name=nb("Show")).click()
        expect(c).to_have_url(re.compile(rf"year={last_year + 1}"))
        settled(c)
        assert row_of(rows(c, "open_age"), "6–12")[1] == "8"

        # --- A year out of range: the translated error, no figures, still accessible ---------------
        response = c.goto(reverse("insights:index") + "?year=3000")
        assert response.status == 400
        expect(c.get_by_test_id("form-errors")).to_contain_text(str(last_year + 1))
        expect(c.locator("table[data-key]")).to_have_count(0)
        axe_scan(settled(c), "the insights overview with a filter error")


class InsightsAccessE2ETests:
    def test_it_answers_404_to_a_caseworker_and_offers_no_insights_in_the_menu(self, page, login, concerns):
        c = login(page, concerns.caseworker.username)
        settled(c)
        assert not index_url(c.url)
        expect(c.get_by_test_id("menu-insights")).to_have_count(0)
        expect(c.locator("#sh-menu-insights")).to_have_count(0)
        for name in ("insights:index", "insights:export_csv", "insights:forums"):
            assert c.goto(reverse(name)).status == 404, name
        assert c.request.get(reverse("insights:export_csv")).status == 404


@pytest.fixture
def forum_org():
    org = make_org()
    police_service = make_service(org.municipality, "Fjordvik politistasjon", Service.Kind.POLITI, Service.Owner.STATE)
    org.extra.update(police_service=police_service, police=member(police_service))
    return org


def past_meeting(org, forum) -> ForumMeeting:
    """A meeting that started an hour ago: scheduled through the services three days back."""
    start = timezone.now() - datetime.timedelta(hours=1)
    with time_machine.travel(start - datetime.timedelta(days=3), tick=False):
        (meeting,) = forum_svc.meetings_schedule(user=org.slt_staff, forum=forum, starts_at=start, ends_at=start + datetime.timedelta(hours=2),
                                                 place="Rådhuset, møterom 2", until=None)
    return meeting


class ForumsE2ETests:
    def test_it_lets_the_coordinator_run_a_politirad_and_a_member_service_read_it(self, new_page, login, axe_scan, forum_org):
        org = forum_org
        c = login(new_page(), org.slt_staff.username)
        c.goto(reverse("insights:forums"))
        axe_scan(settled(c), "the forum list, empty")

        # --- A new forum: refused without a name, then the politiråd twice a year with the police --
        c.get_by_test_id("forum-new").click()
        form = c.get_by_test_id("forum-form")
        expect(form).to_be_visible()
        axe_scan(settled(c), "the new forum form")
        form.get_by_role("button", name=nb("Create the forum")).click()
        expect(c.get_by_test_id("form-errors")).to_be_visible()
        assert not Forum.objects.exists()
        axe_scan(settled(c), "the new forum form with errors")
        form = c.get_by_test_id("forum-form")
        form.get_by_label(label(ForumForm, "kind")).select_option(Forum.Kind.POLITIRAD)
        form.get_by_label(label(ForumForm, "name")).fill("Politirådet")
        form.get_by_label(label(ForumForm, "recurrence")).select_option(Forum.Recurrence.TWICE_A_YEAR)
        form.get_by_label("Fjordvik politistasjon").check()
        submit(c, form.get_by_role("button", name=nb("Create the forum")))
        forum = Forum.objects.get()
        assert (forum.kind, forum.recurrence, forum.owner) == (Forum.Kind.POLITIRAD, Forum.Recurrence.TWICE_A_YEAR, org.slt)
        expect(c.get_by_test_id("forum-facts")).to_contain_text(nb("Twice a year"))
        expect(c.get_by_test_id("member")).to_have_text(["Fjordvik politistasjon"])
        axe_scan(settled(c), "the forum page")

        # --- Meetings for a year, twice a year ------------------------------------------------------
        c.get_by_test_id("meetings-new").click()
        schedule = c.get_by_test_id("schedule-form")
        first = timezone.localdate() + datetime.timedelta(days=30)
        schedule.get_by_label(label(ScheduleForm, "day")).fill(first.isoformat())
        schedule.get_by_label(label(ScheduleForm, "starts")).fill("13:00")
        schedule.get_by_label(label(ScheduleForm, "ends")).fill("15:00")
        schedule.get_by_label(label(ScheduleForm, "place")).fill("Rådhuset, møterom 2")
        schedule.get_by_label(label(ScheduleForm, "until")).fill((first + datetime.timedelta(days=300)).isoformat())
        submit(c, schedule.get_by_role("button", name=nb("Schedule")))
        assert ForumMeeting.objects.filter(forum=forum).count() == 2
        expect(c.get_by_test_id("meeting-upcoming")).to_have_count(2)

        # --- The first meeting's agenda: an item added, one holding an 11-digit number refused ------
        c.get_by_test_id("meeting-upcoming").first.get_by_role("link").click()
        agenda = c.get_by_test_id("agenda-form")
        expect(agenda).to_be_visible()
        axe_scan(settled(c), "the meeting page")
        agenda.get_by_label(label(AgendaItemForm, "title")).fill("Ungdata 2026: funn om rus")
        submit(c, agenda.get_by_role("button", name=nb("Add to the agenda")))
        expect(c.get_by_test_id("agenda-item")).to_have_count(1)
        agenda = c.get_by_test_id("agenda-form")
        agenda.get_by_label(label(AgendaItemForm, "title")).fill("Sak 12345678901")
        agenda.get_by_role("button", name=nb("Add to the agenda")).click()
        expect(c.get_by_test_id("form-errors")).to_contain_text(nb(IDENTITY_REFUSAL))
        assert list(AgendaItem.objects.values_list("title", flat=True)) == ["Ungdata 2026: funn om rus"]
        assert "12345678901" not in c.url
        axe_scan(settled(c), "the meeting page with a refused agenda item")

        # --- After a meeting: the minutes ---------------------------------------------------------
        held = past_meeting(org, forum)
        c.goto(reverse("insights:forum_meeting", args=[held.code]))
        minutes = c.get_by_test_id("minutes-form")
        expect(minutes).to_be_visible()
        minutes.locator("textarea[name=text]").fill("Politiet orienterte om ungdomsmiljøet i sentrum. Ny gjennomgang til våren.")
        submit(c, minutes.get_by_role("button", name=nb("Save the minutes")))
        expect(c.get_by_test_id("minutes-text")).to_contain_text("ungdomsmiljøet i sentrum")
        assert ForumMinutes.objects.get(meeting=held).written_by == org.slt_staff
        axe_scan(settled(c), "the meeting page with its minutes")
        c.goto(reverse("insights:forums"))
        expect(c.get_by_test_id("forum-row")).to_have_count(1)
        axe_scan(settled(c), "the forum list")

        # --- The police, a member service, read the forum and change nothing ------------------------
        p = login(new_page(), org.extra["police"].username)
        p.goto(reverse("insights:forums"))
        expect(p.get_by_test_id("forum-row")).to_contain_text("Politirådet")
        expect(p.get_by_test_id("forum-new")).to_have_count(0)
        p.get_by_test_id("forum-row").get_by_role("link").click()
        expect(p.get_by_role("heading", level=1)).to_have_text("Politirådet")
        expect(p.get_by_test_id("meetings-new")).to_have_count(0)
        expect(p.get_by_test_id("members-edit")).to_have_count(0)
        p.goto(reverse("insights:forum_meeting", args=[held.code]))
        expect(p.get_by_test_id("minutes-text")).to_contain_text("ungdomsmiljøet i sentrum")
        expect(p.get_by_test_id("minutes-form")).to_have_count(0)
        upcoming = ForumMeeting.objects.filter(forum=forum).exclude(pk=held.pk).order_by("starts_at").first()
        p.goto(reverse("insights:forum_meeting", args=[upcoming.code]))
        expect(p.get_by_test_id("agenda-item")).to_have_count(1)
        expect(p.get_by_test_id("agenda-form")).to_have_count(0)
        expect(p.get_by_test_id("meeting-cancel")).to_have_count(0)
        assert p.goto(reverse("insights:forum_members", args=[forum.code])).status == 404
