"""The ansvarsgruppe's pages (issue 9, point 5): the plan page's section, a meeting's page, its
invitation as an iCalendar file, scheduling, cancelling and the minutes form; 404 on every meeting
URL for outsiders, removed participants and forged codes; bad input refused with a translated
error and nothing saved.

Personas and dates: see scenario.py (the pages speak bokmål).
"""
import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from audit.models import AccessLog
from referrals.models import PlanMeasure, PlanMeeting, PlanMeetingMinutes
from tests.workflows.individual_plan.scenario import plan_with_participants
from tests.workflows.individual_plan.test_views import bokmal
from workflows.individual_plan import meetings
from workflows.individual_plan import services as svc
from workflows.individual_plan.selectors import PERSON_MEMBER, group_members

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")
STARTS = datetime.datetime(2026, 9, 15, 13, 0, tzinfo=OSLO)


@pytest.fixture
def plan(org, ip):
    return plan_with_participants(org, ip)


@pytest.fixture
def meeting(ip, plan):
    (meeting,) = meetings.meeting_schedule(user=ip.rus_staff, plan=plan, starts_at=STARTS, ends_at=STARTS + datetime.timedelta(hours=1),
                                           place="Rådhuset, møterom 2")
    return meeting


def in_bokmal(msgid: str) -> str:
    """``msgid`` as the bokmål page shows it (its translation arrives with the lead's catalogue merge)."""
    with translation.override("nb"):
        return escape(translation.gettext(msgid))


def meeting_urls(meeting) -> list[tuple[str, str]]:
    return [("get", reverse("individual_plans:meeting", args=[meeting.code])),
            ("get", reverse("individual_plans:meeting_ics", args=[meeting.code])),
            ("get", reverse("individual_plans:minutes", args=[meeting.code])),
            ("post", reverse("individual_plans:minutes", args=[meeting.code])),
            ("post", reverse("individual_plans:meeting_cancel", args=[meeting.code])),
            ("get", reverse("individual_plans:meeting_new", args=[meeting.plan.code]))]


def unfold(ics: str) -> dict[str, str]:
    """The iCalendar content lines, unfolded (RFC 5545 3.1), by name (with parameters)."""
    lines = ics.replace("\r\n ", "").split("\r\n")
    return {line.split(":", 1)[0]: line.split(":", 1)[1] for line in lines if ":" in line}


class MeetingAccessTests:
    def test_outsiders_and_forged_codes_get_404_on_every_meeting_url(self, client, org, ip, meeting):
        for user in (org.caseworker, org.slt_staff, ip.dps_staff):
            client.force_login(user)
            for method, url in meeting_urls(meeting):
                assert getattr(client, method)(url).status_code == 404, (user, url)
        client.force_login(ip.rus_staff)
        forged = str(uuid.uuid4())
        for name in ("meeting", "meeting_ics", "minutes"):
            assert client.get(reverse(f"individual_plans:{name}", args=[forged])).status_code == 404
        assert meeting.__class__.objects.get(pk=meeting.pk).status == PlanMeeting.Status.PLANNED

    def test_a_removed_participant_gets_404_and_a_participant_reads_but_does_not_write(self, client, ip, plan, meeting):
        client.force_login(ip.nav_staff)
        assert client.get(reverse("individual_plans:meeting", args=[meeting.code])).status_code == 200
        for method, url in meeting_urls(meeting)[2:]:
            assert getattr(client, method)(url).status_code == 404, url
        home = next(m["participant"] for m in group_members(plan) if m["participant"] and m["participant"].service_id == ip.home.pk)
        svc.participant_remove(user=ip.rus_staff, plan=plan, participant=home)
        client.force_login(ip.home_staff)
        for method, url in meeting_urls(meeting):
            assert getattr(client, method)(url).status_code == 404, url

    def test_reading_a_meeting_is_logged(self, client, ip, meeting):
        client.force_login(ip.nav_staff)
        client.get(reverse("individual_plans:meeting", args=[meeting.code]))
        log = AccessLog.objects.get(purpose="ansvarsgruppe meeting page")
        assert (log.user_id, log.service_id, log.object_id, log.person_id) == (ip.nav_staff.pk, ip.nav.pk, meeting.pk, meeting.plan.person_id)


class PlanPageSectionTests:
    def test_the_plan_page_lists_the_members_and_meetings_and_links_scheduling_for_the_holder(self, client, ip, plan, meeting):
        client.force_login(ip.rus_staff)
        page = client.get(reverse("individual_plans:detail", args=[plan.code])).content.decode()
        assert 'data-testid="ansvarsgruppe"' in page and page.count('data-testid="group-member"') == 4
        assert reverse("individual_plans:meeting", args=[meeting.code]) in page
        assert reverse("individual_plans:meeting_new", args=[plan.code]) in page
        client.force_login(ip.nav_staff)
        page = client.get(reverse("individual_plans:detail", args=[plan.code])).content.decode()
        assert reverse("individual_plans:meeting", args=[meeting.code]) in page
        assert reverse("individual_plans:meeting_new", args=[plan.code]) not in page


class MeetingScheduleViewTests:
    def test_the_holder_schedules_a_series_from_the_form(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:meeting_new", args=[plan.code]), {
            "day": "2026-09-15", "starts": "13:00", "ends": "14:30", "place": "Rådhuset", "every_weeks": "6", "until": "2026-12-31"})
        made = list(PlanMeeting.objects.filter(plan=plan).order_by("starts_at"))
        assert len(made) == 3  # 15.09, 27.10, 08.12
        assert response.status_code == 302 and response["Location"] == reverse("individual_plans:meeting", args=[made[0].code])

    def test_an_end_before_the_start_is_refused_in_bokmal_and_nothing_is_saved(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:meeting_new", args=[plan.code]), {
            "day": "2026-09-15", "starts": "13:00", "ends": "12:00", "place": "Rådhuset"})
        assert response.status_code == 422
        assert in_bokmal("The meeting must end after it starts.") in response.content.decode()
        assert not PlanMeeting.objects.exists()


def minutes_post(plan, meeting, **decision):
    data = {"text": "Gjennomgang.", "sequence": str(meeting.sequence), "present": [PERSON_MEMBER],
            "decisions-TOTAL_FORMS": "3", "decisions-INITIAL_FORMS": "0", "decisions-MIN_NUM_FORMS": "0", "decisions-MAX_NUM_FORMS": "10"}
    data.update({f"decisions-0-{k}": v for k, v in decision.items()})
    return data


class MinutesViewTests:
    def test_the_minutes_form_turns_a_decision_into_a_measure_shown_on_the_meeting_page(self, client, ip, plan, meeting):
        url = reverse("individual_plans:minutes", args=[meeting.code])
        with time_machine.travel(meeting.ends_at, tick=False):
            client.force_login(ip.rus_staff)
            assert client.get(url).status_code == 200
            response = client.post(url, minutes_post(plan, meeting, text="Søke kommunal bolig.", responsible_service=str(ip.home.pk),
                                                     starts_on="2026-09-16", evaluate_on="2026-11-01"))
            assert response.status_code == 302
            page = client.get(reverse("individual_plans:meeting", args=[meeting.code])).content.decode()
        measure = PlanMeasure.objects.get(plan=plan)
        assert (measure.description, measure.responsible_service) == ("Søke kommunal bolig.", ip.home)
        assert 'data-testid="decision"' in page and "Søke kommunal bolig." in page and 'data-present="no"' in page

    def test_an_evaluation_before_the_start_is_refused_in_bokmal_and_nothing_is_saved(self, client, ip, plan, meeting):
        with time_machine.travel(meeting.ends_at, tick=False):
            client.force_login(ip.rus_staff)
            response = client.post(reverse("individual_plans:minutes", args=[meeting.code]), minutes_post(
                plan, meeting, text="Søke kommunal bolig.", responsible_service=str(ip.home.pk), starts_on="2026-09-16",
                evaluate_on="2026-09-10"))
        assert response.status_code == 422
        assert bokmal("The evaluation date cannot be before the measure starts.") in response.content.decode()
        assert not PlanMeasure.objects.exists() and not PlanMeetingMinutes.objects.exists()

    def test_a_service_outside_the_plan_cannot_be_chosen(self, client, ip, plan, meeting):
        with time_machine.travel(meeting.ends_at, tick=False):
            client.force_login(ip.rus_staff)
            response = client.post(reverse("individual_plans:minutes", args=[meeting.code]), minutes_post(
                plan, meeting, text="Behandling.", responsible_service=str(ip.dps.pk), starts_on="2026-09-16", evaluate_on="2026-11-01"))
        assert response.status_code == 422
        assert not PlanMeasure.objects.exists() and not PlanMeetingMinutes.objects.exists()


class MeetingInvitationTests:
    def test_the_invitation_is_an_icalendar_event_naming_no_one_and_a_cancellation_after_cancelling(self, client, ip, plan, meeting):
        client.force_login(ip.nav_staff)
        response = client.get(reverse("individual_plans:meeting_ics", args=[meeting.code]))
        assert response["Content-Type"].startswith("text/calendar") and "attachment" in response["Content-Disposition"]
        body = response.content.decode()
        assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
        assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
        event = unfold(body)
        assert event["METHOD"] == "PUBLISH" and event["STATUS"] == "CONFIRMED" and event["SEQUENCE"] == "0"
        assert event["UID"] == f"{meeting.code}@samhandling"
        assert (event["DTSTART"], event["DTEND"]) == ("20260915T110000Z", "20260915T120000Z")  # 13:00–14:00 in Oslo (summer time)
        assert plan.reference in event["SUMMARY"] and "Ola" not in body and "Nordmann" not in body
        assert event["LOCATION"] == "Rådhuset\\, møterom 2"
        assert AccessLog.objects.filter(purpose="ansvarsgruppe meeting invitation", user=ip.nav_staff).count() == 1

        client.force_login(ip.rus_staff)
        assert client.post(reverse("individual_plans:meeting_cancel", args=[meeting.code]), {"sequence": "0"}).status_code == 302
        cancelled = unfold(client.get(reverse("individual_plans:meeting_ics", args=[meeting.code])).content.decode())
        assert (cancelled["METHOD"], cancelled["STATUS"], cancelled["SEQUENCE"]) == ("CANCEL", "CANCELLED", "1")
        assert cancelled["UID"] == event["UID"]

    def test_a_stale_cancel_changes_nothing(self, client, ip, meeting):
        client.force_login(ip.rus_staff)
        client.post(reverse("individual_plans:meeting_cancel", args=[meeting.code]), {"sequence": "7"})
        meeting.refresh_from_db()
        assert (meeting.status, meeting.sequence) == (PlanMeeting.Status.PLANNED, 0)
