"""An individual plan from the offer to the PDF, in real Chromium (issue 9, "Must show").

Personas (tests/workflows/individual_plan/scenario.make_plans): ``rus_staff`` in Psykisk helse og
rus registers the offer to Ola (30), records his answer and his consent, makes the plan with his own
goals, adds NAV and Hjemmetjenesten, two measures, schedules an ansvarsgruppe meeting and, once it
has started, writes its minutes, whose decision is a third measure owned by NAV; then proposes the
hand-over to NAV. ``nav_staff`` accepts it on the task page, naming ``nav_koordinator``. The PDF is
downloaded from the plan's page. axe-core checks every page on the way; no identity number ever
appears in an address, and ``dps_staff`` (a service outside the consent) gets 404 on the plan.

Time: the whole test runs on the server's clock moved (time_machine, ticking) to 09:00 tomorrow, so
a meeting can be scheduled at 09:10 (a meeting cannot start in the past) and its minutes written
after the clock is moved on to 09:12 (minutes only once the meeting has started). The jump is short
enough for the sessions' idle timeout; the browser's own clock is not moved, and every cookie the
server sets expires later by its clock than by the browser's.
"""
import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from consent.forms import ConsentForm
from consent.models import Consent
from people.validators import synthetic_national_id
from referrals.models import IndividualPlan, PlanMeasure, PlanOffer
from tests.e2e.support import exact, label, nb, settled, submit
from tests.factories import make_org, member
from tests.workflows.individual_plan.scenario import make_plans
from workflows.individual_plan import forms as pforms

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GOALS = "Jeg vil ha min egen leilighet og komme i jobb innen et år."
MINUTES = "Ola fortalte om arbeidstreningen. NAV undersøker en lønnstilskuddsplass."
DECISION = "NAV søker om lønnstilskudd hos en lokal bedrift."


@pytest.fixture(autouse=True)
def seeded_rows():
    """The rows the migrations seed (age rules, legal bases, the plan's deadline policies), in case
    the serialized restore did not bring them back (a reused test database)."""
    import importlib

    from django.apps import apps

    for module in ("consent.migrations.0004_default_age_rules", "consent.migrations.0006_default_legal_bases",
                   "workflows.migrations.0015_individual_plan_policies"):
        importlib.import_module(module).forwards(apps, None)


def group(form, form_class, name):
    """The fieldset of a radio or checkbox field, by its legend."""
    return form.get_by_role("group", name=label(form_class, name))


def tomorrow_at(hour, minute=0):
    day = timezone.localdate() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def urls_visited(page) -> list[str]:
    seen = []
    page.on("framenavigated", lambda frame: seen.append(frame.url) if frame == page.main_frame else None)
    return seen


class IndividualPlanRoundTripTests:
    def test_an_offer_becomes_a_plan_with_a_meeting_a_hand_over_and_a_pdf(self, new_page, login, axe_scan):
        start = tomorrow_at(9)
        with time_machine.travel(start, tick=True) as clock:
            self.round_trip(new_page, login, axe_scan, clock, start)

    def round_trip(self, new_page, login, axe_scan, clock, start):
        org = make_org()
        ip = make_plans(org)
        nav_koordinator = member(ip.nav)
        today = start.date()
        national_id = synthetic_national_id(datetime.date(1996, 3, 10), 300)

        # --- Psykisk helse og rus registers the offer and Ola's answer -----------------------------
        r = login(new_page(), ip.rus_staff.username)
        visited = urls_visited(r)
        r.goto(reverse("individual_plans:offers"))
        axe_scan(settled(r), "the offers list")
        r.get_by_test_id("offer-new").click()
        form = r.get_by_test_id("offer-form")
        expect(form).to_be_visible()
        axe_scan(settled(r), "the offer's registration form")
        F = pforms.OfferRegisterForm
        form.get_by_label(label(F, "service")).select_option(label=ip.rus.name)
        form.get_by_label(label(F, "national_id")).fill(national_id)
        form.get_by_label(label(F, "given_name")).fill("Ola")
        form.get_by_label(label(F, "family_name")).fill("Nordmann")
        form.get_by_label(label(F, "reason")).fill("Trenger langvarige, koordinerte tjenester fra flere.")
        submit(r, form.get_by_role("button", name=nb("Register the offer")))
        offer = PlanOffer.objects.get()
        expect(r.get_by_test_id("person")).to_have_text("Ola Nordmann")
        axe_scan(settled(r), "the offer's page with the answer form")

        answer = r.get_by_test_id("answer-form")
        A = pforms.OfferAnswerForm
        group(answer, A, "answer").get_by_label(exact(nb(PlanOffer.Answer.ACCEPTED.label))).check()
        answer.get_by_label(label(A, "by_person")).check()
        submit(r, answer.get_by_role("button", name=nb("Record the answer")))
        expect(r.get_by_test_id("answer")).to_have_attribute("data-answer", "accepted")
        axe_scan(settled(r), "the offer's page, accepted")

        # --- No consent yet: the plan's page links to recording it ----------------------------------
        r.get_by_test_id("plan-create").click()
        expect(r.get_by_test_id("no-consent")).to_be_visible()
        axe_scan(settled(r), "the plan's form without a consent")
        r.get_by_test_id("consent-create").click()
        consent_form = r.get_by_test_id("consent-form")
        expect(consent_form).to_be_visible()
        axe_scan(settled(r), "the consent form")
        C = ConsentForm
        consent_form.get_by_label(label(C, "service")).select_option(label=ip.rus.name)
        consent_form.get_by_label(label(C, "given_by_person")).check()
        grantees = group(consent_form, C, "grantees")
        for service in (ip.rus, ip.nav, ip.home):
            grantees.get_by_label(service.name, exact=True).check()
        group(consent_form, C, "purpose").get_by_label(exact(nb(Consent.Purpose.INDIVIDUAL_PLAN.label))).check()
        consent_form.get_by_label(label(C, "information")).fill("Den individuelle planen, tiltakene og ansvarsgruppens møter.")
        group(consent_form, C, "method").get_by_label(exact(nb(Consent.Method.VERBAL.label))).check()
        submit(r, consent_form.get_by_role("button", name=nb("Record the consent")))
        consent = Consent.objects.get(purpose=Consent.Purpose.INDIVIDUAL_PLAN)
        axe_scan(settled(r), "the consent's page")
        assert set(consent.grantees.values_list("pk", flat=True)) == {ip.rus.pk, ip.nav.pk, ip.home.pk}

        # --- The plan, from the offer, on that consent ---------------------------------------------
        r.goto(reverse("individual_plans:offer", args=[offer.code]))
        r.get_by_test_id("plan-create").click()
        plan_form = r.get_by_test_id("plan-form")
        expect(plan_form).to_be_visible()
        expect(r.get_by_test_id("no-consent")).to_have_count(0)
        axe_scan(settled(r), "the plan's form")
        P = pforms.PlanCreateForm
        plan_form.get_by_label(label(P, "goals")).fill(GOALS)
        plan_form.get_by_label(label(P, "period_end")).fill((today + datetime.timedelta(days=365)).isoformat())
        plan_form.get_by_label(label(P, "revision_due_on")).fill((today + datetime.timedelta(days=180)).isoformat())
        group(plan_form, P, "participation").get_by_label(exact(nb(IndividualPlan.Participation.WROTE.label))).check()
        plan_form.get_by_label(label(P, "koordinator")).select_option(label=ip.rus_koordinator.get_full_name() or ip.rus_koordinator.username)
        submit(r, plan_form.get_by_role("button", name=nb("Make the plan")))
        plan = IndividualPlan.objects.get()
        expect(r.get_by_test_id("holder")).to_have_text(ip.rus.name)
        expect(r.get_by_text(GOALS)).to_be_visible()
        axe_scan(settled(r), "the new plan's page")

        # --- NAV and Hjemmetjenesten take part ------------------------------------------------------
        r.get_by_test_id("participants-link").click()
        expect(r.get_by_test_id("participant-service-form")).to_be_visible()
        axe_scan(settled(r), "the participants page")
        for service in (ip.nav, ip.home):
            add = r.get_by_test_id("participant-service-form")
            add.get_by_label(label(pforms.ParticipantServiceForm, "service")).select_option(label=service.name)
            submit(r, add.get_by_role("button", name=nb("Add the service")))
        expect(r.get_by_test_id("participants").get_by_test_id("participant")).to_have_count(3)
        axe_scan(settled(r), "the participants page with three services")

        # --- Two measures ---------------------------------------------------------------------------
        r.goto(reverse("individual_plans:detail", args=[plan.code]))
        M = pforms.MeasureForm
        for text, service, months in (("Samtaler hver uke om rusbruken.", ip.rus, 3), ("Hjemmebesøk to ganger i uka.", ip.home, 6)):
            r.get_by_test_id("measure-add").click()
            measure_form = r.get_by_test_id("measure-form")
            expect(measure_form).to_be_visible()
            axe_scan(settled(r), "the measure form")
            measure_form.get_by_label(label(M, "description")).fill(text)
            measure_form.get_by_label(label(M, "responsible_service")).select_option(label=service.name)
            measure_form.get_by_label(label(M, "evaluate_on")).fill((today + datetime.timedelta(days=30 * months)).isoformat())
            submit(r, measure_form.get_by_role("button", name=nb("Add the measure")))
        assert PlanMeasure.objects.filter(plan=plan).count() == 2

        # --- An ansvarsgruppe meeting at 09:10, its invitation --------------------------------------
        r.get_by_test_id("meeting-new").click()
        meeting_form = r.get_by_test_id("meeting-form")
        expect(meeting_form).to_be_visible()
        axe_scan(settled(r), "the meeting form")
        S = pforms.MeetingScheduleForm
        meeting_form.get_by_label(label(S, "day")).fill(today.isoformat())
        meeting_form.get_by_label(label(S, "starts")).fill("09:10")
        meeting_form.get_by_label(label(S, "ends")).fill("10:00")
        meeting_form.get_by_label(label(S, "place")).fill("Møterom 2, rådhuset")
        submit(r, meeting_form.get_by_role("button", name=nb("Schedule")))
        meeting = plan.meetings.get()
        assert timezone.localtime(meeting.starts_at).time() == datetime.time(9, 10)
        axe_scan(settled(r), "the meeting's page")
        with r.expect_download() as download:
            r.get_by_test_id("meeting-ics").click()
        ics = download.value.path().read_text(encoding="utf-8")
        assert download.value.suggested_filename == f"ansvarsgruppe-{plan.reference}.ics"
        assert "BEGIN:VEVENT" in ics and "Ola" not in ics and national_id not in ics

        # --- The meeting has started: the minutes, Hjemmetjenesten absent, one decision -------------
        clock.move_to(start + datetime.timedelta(minutes=12))
        r.reload()
        r.get_by_test_id("minutes-link").click()
        minutes_form = r.get_by_test_id("minutes-form")
        expect(minutes_form).to_be_visible()
        axe_scan(settled(r), "the minutes form")
        N = pforms.MinutesForm
        present = group(minutes_form, N, "present")
        expect(present.get_by_role("checkbox")).to_have_count(4)  # the person and the three services
        present.get_by_role("checkbox", name=re.compile(rf"^\s*{re.escape(ip.home.name)} \(")).uncheck()
        minutes_form.get_by_label(label(N, "text")).fill(MINUTES)
        row = minutes_form.get_by_test_id("decision-row").first
        D = pforms.DecisionForm
        row.get_by_label(label(D, "text")).fill(DECISION)
        row.get_by_label(label(D, "responsible_service")).select_option(label=ip.nav.name)
        row.get_by_label(label(D, "starts_on")).fill(today.isoformat())
        row.get_by_label(label(D, "evaluate_on")).fill((today + datetime.timedelta(days=60)).isoformat())
        submit(r, minutes_form.get_by_role("button", name=nb("Save the minutes")))
        expect(r.get_by_test_id("decisions").get_by_test_id("decision")).to_have_count(1)
        expect(r.get_by_test_id("attendee").filter(has_text=ip.home.name)).to_have_attribute("data-present", "no")
        axe_scan(settled(r), "the meeting's page with the minutes")
        r.goto(reverse("individual_plans:detail", args=[plan.code]))
        measures = r.get_by_test_id("measures").get_by_test_id("measure")
        expect(measures).to_have_count(3)
        expect(measures.filter(has_text=DECISION)).to_contain_text(ip.nav.name)

        # --- The hand-over to NAV -------------------------------------------------------------------
        propose = r.get_by_test_id("propose")
        H = pforms.HandOverProposeForm
        propose.get_by_label(label(H, "to_service")).select_option(label=ip.nav.name)
        propose.get_by_label(label(H, "note")).fill("Arbeid er nå det viktigste for Ola.")
        submit(r, propose.get_by_role("button", name=nb("Propose the hand-over")))
        expect(r.get_by_test_id("handover")).to_have_count(1)
        axe_scan(settled(r), "the plan's page with a hand-over proposed")

        n = login(new_page(), ip.nav_staff.username)
        visited_by_nav = urls_visited(n)
        n.goto(reverse("individual_plans:index"))
        axe_scan(settled(n), "NAV's plans list")
        n.get_by_role("link", name=plan.reference).click()
        n.get_by_test_id("handover-task").click()
        # The task is the service's, not yet the user's: viewflow's task address leads to its
        # assign page first, then to the task's form.
        n.wait_for_url(re.compile(r"/decide/\d+/assign/$"))
        axe_scan(settled(n), "the hand-over task's assign page")
        n.get_by_role("button", name=exact(nb("Assign and continue"))).click()
        n.wait_for_url(re.compile(r"/decide/\d+/execute/$"))
        expect(n.get_by_text(GOALS)).to_be_visible()
        axe_scan(settled(n), "the hand-over task page")
        T = pforms.HandOverDecideForm
        task_form = n.locator("main form.sh-form")
        group(task_form, T, "decision").get_by_label(exact(nb("Accept the main responsibility"))).check()
        task_form.get_by_label(label(T, "koordinator")).select_option(label=nav_koordinator.get_full_name() or nav_koordinator.username)
        submit(n, task_form.get_by_role("button", name=nb("Complete the task")))
        expect(n.get_by_test_id("holder")).to_have_text(ip.nav.name)
        expect(n.get_by_test_id("koordinator")).to_have_text(nav_koordinator.get_full_name() or nav_koordinator.username)
        axe_scan(settled(n), "the plan's page, now NAV's")
        r.reload()
        expect(r.get_by_test_id("holder")).to_have_text(ip.nav.name)
        expect(r.get_by_test_id("propose")).to_have_count(0)

        # --- The PDF from the plan's page -----------------------------------------------------------
        link = r.get_by_test_id("plan-pdf")
        with r.expect_download() as download:
            link.click()
        assert download.value.suggested_filename == f"individuell-plan-{plan.reference}.pdf"
        assert download.value.path().read_bytes().startswith(b"%PDF-")
        pdf_url = link.get_attribute("href")
        response = r.request.get(pdf_url)
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == f'attachment; filename="individuell-plan-{plan.reference}.pdf"'
        assert response.headers["cache-control"] == "no-store"

        # --- The change history: every version, newest first, the hand-over at the top ----------------
        r.get_by_test_id("plan-history").click()
        rows = settled(r).get_by_test_id("version-row")
        expect(rows.first).to_have_attribute("data-number", str(IndividualPlan.objects.get(pk=plan.pk).version))
        axe_scan(r, "the plan's change history")

        # --- Privacy: no identity number in an address; an outsider gets 404 ------------------------
        assert visited and visited_by_nav
        assert not [url for url in visited + visited_by_nav if national_id in url or "Ola" in url]
        d = login(new_page(), ip.dps_staff.username)
        assert d.goto(reverse("individual_plans:detail", args=[plan.code])).status == 404
        assert d.request.get(pdf_url).status == 404
