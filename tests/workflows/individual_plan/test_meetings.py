"""The ansvarsgruppe's meetings (issue 9, point 5 and its reminders in point 6): series, agenda,
minutes whose decisions become measures, bad input that changes nothing, and the reminders,
escalation and digest delivered once each through the real sweep under frozen time, following the
plan's changes (a service added or removed, a hand-over, a pause and a resume).

Personas and dates: see scenario.py (today Tuesday 1 September 2026, 10:00 in Oslo). Ola's plan is
held by Psykisk helse og rus; NAV and Hjemmetjenesten take part; DPS is outside the plan.
"""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AccessLog
from notifications.models import Notification, Reminder
from notifications.services import reminders_sweep
from org.models import Membership
from referrals.models import PlanMeasure, PlanMeeting, PlanMeetingAttendance, PlanMeetingDecision, PlanMeetingMinutes, PlanVersion
from tests.factories import member
from tests.workflows.individual_plan.scenario import TODAY, adult, create_plan, plan_consent, plan_with_participants
from workflows.individual_plan import meetings
from workflows.individual_plan import services as svc
from workflows.individual_plan.selectors import PERSON_MEMBER, group_members, meeting_agenda
from workflows.withdrawal import consent_withdraw_cascade

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")
# Tuesday two weeks on, 13:00–14:30.
STARTS = datetime.datetime(2026, 9, 15, 13, 0, tzinfo=OSLO)
ENDS = datetime.datetime(2026, 9, 15, 14, 30, tzinfo=OSLO)


@pytest.fixture
def plan(org, ip):
    return plan_with_participants(org, ip)


def schedule(ip, plan, **extra):
    fields = dict(user=ip.rus_staff, plan=plan, starts_at=STARTS, ends_at=ENDS, place="Rådhuset, møterom 2")
    fields.update(extra)
    return meetings.meeting_schedule(**fields)


def held_now(meeting):
    """Frozen time at the meeting's end, so its minutes can be written."""
    return time_machine.travel(meeting.ends_at, tick=False)


def keys(plan, *services):
    """The minutes form's member keys of the participants that are ``services``."""
    wanted = {s.pk for s in services}
    return [m["key"] for m in group_members(plan) if m["participant"] is not None and m["participant"].service_id in wanted]


def kinds(user, obligation_prefix):
    return sorted(Notification.objects.filter(user=user, reminder__obligation__startswith=obligation_prefix).values_list("kind", flat=True))


class MeetingScheduleTests:
    def test_it_schedules_a_series_every_six_weeks_up_to_the_plan_periods_end_at_the_same_local_time(self, ip, plan):
        made = schedule(ip, plan, every_weeks=6)
        # 15.09.2026 + 8 × 42 days = 17.08.2027 (a Tuesday); the next (28.09.2027) falls after the period's end (01.09.2027).
        assert len(made) == 9
        assert [timezone.localtime(m.starts_at).date() for m in made][-1] == datetime.date(2027, 8, 17)
        # Across the end of summer time (25.10.2026) the meetings stay at 13:00 Oslo time, and each lasts 1.5 hours.
        assert {timezone.localtime(m.starts_at).time() for m in made} == {datetime.time(13, 0)}
        assert {m.ends_at - m.starts_at for m in made} == {datetime.timedelta(minutes=90)}
        assert {m.series_id for m in made} == {made[0].series_id} and made[0].series.every_weeks == 6

    def test_it_schedules_one_meeting_and_logs_it(self, ip, plan):
        (meeting,) = schedule(ip, plan)
        assert meeting.status == PlanMeeting.Status.PLANNED and meeting.series is None and meeting.sequence == 0
        log = AccessLog.objects.get(purpose="ansvarsgruppe meeting scheduled")
        assert (log.user_id, log.person_id, log.object_id) == (ip.rus_staff.pk, plan.person_id, meeting.pk)

    @pytest.mark.parametrize("extra, field", [
        ({"starts_at": datetime.datetime(2026, 8, 31, 13, 0, tzinfo=OSLO), "ends_at": datetime.datetime(2026, 8, 31, 14, 0, tzinfo=OSLO)},
         "starts_at"),
        ({"ends_at": STARTS - datetime.timedelta(minutes=1)}, "ends_at"),
        ({"ends_at": STARTS + datetime.timedelta(hours=13)}, "ends_at"),
        ({"place": "  "}, "place"),
        ({"starts_at": datetime.datetime(2027, 9, 2, 13, 0, tzinfo=OSLO), "ends_at": datetime.datetime(2027, 9, 2, 14, 0, tzinfo=OSLO)},
         "starts_at"),
        ({"every_weeks": 0}, "every_weeks"),
        ({"every_weeks": 1}, "until"),  # 51 weekly meetings: more than a series may hold
        ({"every_weeks": 6, "until": datetime.date(2026, 9, 1)}, "until"),
    ])
    def test_it_refuses_bad_times_and_series_and_saves_nothing(self, ip, plan, extra, field):
        with pytest.raises(ValidationError) as refused:
            schedule(ip, plan, **extra)
        assert field in refused.value.message_dict
        assert not PlanMeeting.objects.exists() and not Reminder.objects.filter(obligation__contains=":meeting:").exists()

    def test_only_the_holders_staff_schedule(self, ip, plan):
        with pytest.raises(ValidationError) as refused:
            schedule(ip, plan, user=ip.nav_staff)
        assert refused.value.code == "not_member"
        assert not PlanMeeting.objects.exists()


class MeetingAgendaTests:
    def test_the_agenda_holds_the_open_measures_due_for_evaluation_by_the_meeting(self, ip, plan):
        def measure(text, evaluate_on, **extra):
            return svc.measure_add(user=ip.rus_staff, plan=plan, description=text, responsible_service=ip.nav, starts_on=TODAY,
                                   evaluate_on=evaluate_on, **extra)

        due = measure("Arbeidstrening", datetime.date(2026, 9, 15))
        early = measure("Samtaler", datetime.date(2026, 9, 10))
        measure("Boligsøknad", datetime.date(2026, 9, 16))
        measure("Avsluttet kurs", datetime.date(2026, 9, 2), status=PlanMeasure.Status.COMPLETED)
        (meeting,) = schedule(ip, plan)
        assert list(meeting_agenda(meeting)) == [early, due]


class MinutesTests:
    def test_the_minutes_record_attendance_and_turn_a_decision_into_a_measure_of_the_plan(self, ip, plan):
        (meeting,) = schedule(ip, plan)
        version = plan.version
        with held_now(meeting):
            minutes = meetings.minutes_record(
                user=ip.rus_staff, meeting=meeting, text="Gjennomgang av arbeidstreningen.", present=[PERSON_MEMBER, *keys(plan, ip.rus, ip.nav)],
                decisions=[{"text": "Søke kommunal bolig.", "responsible_service": ip.home, "starts_on": datetime.date(2026, 9, 16),
                            "evaluate_on": datetime.date(2026, 11, 1)}])
        meeting.refresh_from_db()
        assert meeting.status == PlanMeeting.Status.HELD and minutes.written_by == ip.rus_staff
        decision = PlanMeetingDecision.objects.get(meeting=meeting)
        measure = decision.measure
        assert (measure.plan_id, measure.description, measure.responsible_service, measure.evaluate_on) == (
            plan.pk, "Søke kommunal bolig.", ip.home, datetime.date(2026, 11, 1))
        present = {(a.participant.service_id if a.participant_id else PERSON_MEMBER): a.present for a in meeting.attendance.all()}
        assert present == {PERSON_MEMBER: True, ip.rus.pk: True, ip.nav.pk: True, ip.home.pk: False}
        plan.refresh_from_db()
        assert plan.version == version + 1
        assert PlanVersion.objects.get(plan=plan, number=plan.version).change == PlanVersion.Change.MEASURE_ADDED
        assert AccessLog.objects.filter(purpose="ansvarsgruppe minutes written", object_id=meeting.pk).count() == 1

    @pytest.mark.parametrize("decision, field", [
        ({"evaluate_on": datetime.date(2026, 9, 10)}, "decisions-1-evaluate_on"),  # before the start
        ({"responsible_service": "dps"}, "decisions-1-responsible_service"),  # a service outside the plan
        ({"text": ""}, "decisions-1-text"),
    ])
    def test_a_bad_decision_refuses_the_whole_minutes_and_saves_nothing(self, ip, plan, decision, field):
        (meeting,) = schedule(ip, plan)
        version = plan.version
        good = {"text": "Søke kommunal bolig.", "responsible_service": ip.home, "starts_on": datetime.date(2026, 9, 16),
                "evaluate_on": datetime.date(2026, 11, 1)}
        bad = {**good, **decision}
        if bad["responsible_service"] == "dps":
            bad["responsible_service"] = ip.dps
        with held_now(meeting), pytest.raises(ValidationError) as refused:
            meetings.minutes_record(user=ip.rus_staff, meeting=meeting, text="Referat.", present=[PERSON_MEMBER], decisions=[good, bad])
        assert list(refused.value.message_dict) == [field]
        meeting.refresh_from_db()
        plan.refresh_from_db()
        assert meeting.status == PlanMeeting.Status.PLANNED and plan.version == version
        assert not PlanMeasure.objects.filter(plan=plan).exists()
        assert not PlanMeetingMinutes.objects.exists() and not PlanMeetingAttendance.objects.exists()

    def test_minutes_are_refused_before_the_meeting_starts_and_for_a_stale_page(self, ip, plan):
        (meeting,) = schedule(ip, plan)
        with pytest.raises(ValidationError) as early:
            meetings.minutes_record(user=ip.rus_staff, meeting=meeting, text="Referat.", present=[])
        assert early.value.code == "out_of_order"
        with held_now(meeting), pytest.raises(ValidationError) as stale:
            meetings.minutes_record(user=ip.rus_staff, meeting=meeting, text="Referat.", present=[], sequence=meeting.sequence + 1)
        assert stale.value.code == "stale"
        assert not PlanMeetingMinutes.objects.exists()

    def test_a_participant_that_does_not_hold_the_plan_cannot_write_minutes(self, ip, plan):
        (meeting,) = schedule(ip, plan)
        with held_now(meeting), pytest.raises(ValidationError):
            meetings.minutes_record(user=ip.nav_staff, meeting=meeting, text="Referat.", present=[])
        assert not PlanMeetingMinutes.objects.exists()

    def test_a_cancelled_meeting_gets_no_minutes_and_its_sequence_is_bumped(self, ip, plan):
        (meeting,) = schedule(ip, plan)
        meeting = meetings.meeting_cancel(user=ip.rus_staff, meeting=meeting, sequence=0)
        assert (meeting.status, meeting.sequence) == (PlanMeeting.Status.CANCELLED, 1)
        with held_now(meeting), pytest.raises(ValidationError) as refused:
            meetings.minutes_record(user=ip.rus_staff, meeting=meeting, text="Referat.", present=[])
        assert refused.value.code == "out_of_order"
        with pytest.raises(ValidationError):
            meetings.meeting_cancel(user=ip.rus_staff, meeting=meeting)


@pytest.fixture
def leaders(ip):
    return {"rus": member(ip.rus, role=Membership.Role.LEADER), "nav": member(ip.nav, role=Membership.Role.LEADER)}


def at(*args):
    return time_machine.travel(datetime.datetime(*args, tzinfo=OSLO), tick=False)


class MeetingReminderTests:
    """Delivered through the real sweep (PostgreSQL), once each, at the times the policy rows give."""

    def test_the_members_services_are_reminded_once_two_days_before_the_meeting(self, postgresql_only, ip, plan):
        (meeting,) = schedule(ip, plan)
        prefix = f"individual_plan:meeting:{meeting.pk}"
        with at(2026, 9, 13, 12, 59):
            reminders_sweep()
        assert kinds(ip.nav_staff, prefix) == []
        with at(2026, 9, 13, 13, 0):
            reminders_sweep()
            reminders_sweep()
        assert [kinds(u, prefix) for u in (ip.rus_staff, ip.nav_staff, ip.home_staff, ip.dps_staff)] == [["reminder"]] * 3 + [[]]
        notice = Notification.objects.get(user=ip.nav_staff, reminder__obligation=prefix)
        assert plan.reference in notice.message and "Ola" not in notice.message and "15.09.2026 13:00" in notice.message

    def test_unwritten_minutes_are_escalated_once_to_the_holders_leaders_two_working_days_after(self, postgresql_only, ip, plan, leaders):
        (meeting,) = schedule(ip, plan)
        prefix = f"individual_plan:minutes:{meeting.pk}"
        # Tuesday 14:30 + two working days: Thursday 17 September 14:30; the staff are reminded a day before.
        with at(2026, 9, 16, 14, 30):
            reminders_sweep()
        assert kinds(ip.rus_staff, prefix) == ["reminder"] and kinds(leaders["rus"], prefix) == ["reminder"]
        with at(2026, 9, 17, 14, 29):
            reminders_sweep()
        assert "escalation" not in kinds(leaders["rus"], prefix)
        with at(2026, 9, 17, 14, 30):
            reminders_sweep()
            reminders_sweep()
        assert kinds(leaders["rus"], prefix) == ["escalation", "reminder"]
        assert kinds(ip.rus_staff, prefix) == ["reminder"] and kinds(leaders["nav"], prefix) == []

    def test_written_minutes_cancel_the_escalation(self, postgresql_only, ip, plan, leaders):
        (meeting,) = schedule(ip, plan)
        with held_now(meeting):
            meetings.minutes_record(user=ip.rus_staff, meeting=meeting, text="Referat.", present=[PERSON_MEMBER, *keys(plan, ip.rus, ip.nav, ip.home)])
        with at(2026, 9, 18, 9, 0):
            reminders_sweep()
        assert kinds(leaders["rus"], f"individual_plan:minutes:{meeting.pk}") == []

    def test_a_cancelled_meeting_reminds_no_one(self, postgresql_only, ip, plan, leaders):
        (meeting,) = schedule(ip, plan)
        meetings.meeting_cancel(user=ip.rus_staff, meeting=meeting)
        with at(2026, 9, 18, 9, 0):
            reminders_sweep()
        assert not Notification.objects.filter(reminder__obligation__endswith=f":{meeting.pk}").exists()
        assert Reminder.objects.filter(obligation__endswith=f":{meeting.pk}", cancelled_at__isnull=False).count() == 5  # 3 services + 2

    def test_a_paused_plans_meetings_remind_no_one(self, postgresql_only, ip, plan, leaders):
        (meeting,) = schedule(ip, plan)
        consent_withdraw_cascade(consent=plan.consent, user=ip.rus_staff, note="Ola trekker samtykket.")
        with at(2026, 9, 18, 9, 0):
            reminders_sweep()
        assert not Notification.objects.filter(reminder__obligation__endswith=f":{meeting.pk}").exists()
        assert not Reminder.objects.filter(obligation__endswith=f":{meeting.pk}", cancelled_at__isnull=True).exists()


class MeetingDigestTests:
    def test_an_absent_member_service_gets_the_digest_once_naming_no_one(self, postgresql_only, ip, plan):
        (meeting,) = schedule(ip, plan)
        with held_now(meeting):
            meetings.minutes_record(
                user=ip.rus_staff, meeting=meeting, text="Ola vil flytte.", present=[PERSON_MEMBER, *keys(plan, ip.rus, ip.nav)],
                decisions=[{"text": "Søke kommunal bolig.", "responsible_service": ip.home, "starts_on": datetime.date(2026, 9, 16),
                            "evaluate_on": datetime.date(2026, 11, 1)}])
            reminders_sweep()
            reminders_sweep()
        prefix = f"individual_plan:meeting:{meeting.pk}:digest"
        assert kinds(ip.home_staff, prefix) == ["info"]
        assert kinds(ip.nav_staff, prefix) == [] and kinds(ip.rus_staff, prefix) == []
        digest = Notification.objects.get(user=ip.home_staff, reminder__obligation=prefix)
        assert plan.reference in digest.message and "Ola" not in digest.message and "15.09.2026 13:00" in digest.message
        assert digest.url.endswith(f"/mote/{meeting.code}/")


def stored(plan):
    """Every reminder row of the plan's meetings, as the sweep and the refresh see them."""
    return sorted(Reminder.objects.filter(obligation__startswith="individual_plan:m", subject_id=plan.pk)
                  .values_list("key", "service_id", "due_at", "sent_at", "cancelled_at"))


class MeetingRemindersFollowThePlanTests:
    """meetings.meeting_reminders_refresh, through the services that change the plan, and the real sweep."""

    def test_a_service_added_after_the_meeting_was_scheduled_is_reminded_once(self, postgresql_only, org, ip):
        plan = create_plan(ip, adult(org, ip))
        svc.participant_add(user=ip.rus_staff, plan=plan, role="service", service=ip.nav)
        (meeting,) = schedule(ip, plan)
        prefix = f"individual_plan:meeting:{meeting.pk}"
        with at(2026, 9, 13, 13, 0):
            reminders_sweep()
        # Added a day after the others were reminded: its reminder is due at once, the others' not repeated.
        with at(2026, 9, 14, 9, 0):
            svc.participant_add(user=ip.rus_staff, plan=plan, role="service", service=ip.home)
            reminders_sweep()
            reminders_sweep()
        assert [kinds(u, prefix) for u in (ip.rus_staff, ip.nav_staff, ip.home_staff)] == [["reminder"]] * 3
        notice = Notification.objects.get(user=ip.home_staff, reminder__obligation=prefix)
        assert plan.reference in notice.message and "Ola" not in notice.message

    def test_a_removed_service_is_not_reminded_and_its_reminder_is_cancelled(self, postgresql_only, ip, plan):
        (meeting,) = schedule(ip, plan)
        home = plan.participants.get(service=ip.home, removed_at__isnull=True)
        svc.participant_remove(user=ip.rus_staff, plan=plan, participant=home)
        prefix = f"individual_plan:meeting:{meeting.pk}"
        with at(2026, 9, 13, 13, 0):
            reminders_sweep()
        assert kinds(ip.home_staff, prefix) == [] and kinds(ip.nav_staff, prefix) == ["reminder"]
        row = Reminder.objects.get(obligation=prefix, service=ip.home)
        assert row.cancelled_at is not None and row.sent_at is None

    def test_after_a_hand_over_the_minutes_are_escalated_to_the_new_holders_leaders_only(self, postgresql_only, ip, plan, leaders):
        (meeting,) = schedule(ip, plan)
        prefix = f"individual_plan:minutes:{meeting.pk}"
        with at(2026, 9, 16, 14, 30):
            reminders_sweep()
        assert kinds(ip.rus_staff, prefix) == ["reminder"]
        # The minutes are still unwritten when NAV takes the plan over, the day before they are late.
        with at(2026, 9, 16, 15, 0):
            handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
            svc.handover_accept(user=ip.nav_staff, handover=handover)
        with at(2026, 9, 17, 14, 30):
            reminders_sweep()
            reminders_sweep()
        assert kinds(leaders["nav"], prefix) == ["escalation", "reminder"] and kinds(ip.nav_staff, prefix) == ["reminder"]
        assert kinds(leaders["rus"], prefix) == ["reminder"] and kinds(ip.rus_staff, prefix) == ["reminder"]
        escalation = Notification.objects.get(user=leaders["nav"], kind="escalation")
        assert plan.reference in escalation.message and "Ola" not in escalation.message
        # The new holder writes the minutes: nothing of the obligation is left to send.
        with held_now(meeting):
            meetings.minutes_record(user=ip.nav_staff, meeting=meeting, text="Referat.", present=[PERSON_MEMBER])
        assert not Reminder.objects.filter(obligation=prefix, sent_at__isnull=True, cancelled_at__isnull=True).exists()

    def test_a_resumed_plan_reminds_of_its_meeting_once(self, postgresql_only, ip, plan, leaders):
        (meeting,) = schedule(ip, plan)
        consent_withdraw_cascade(consent=plan.consent, user=ip.rus_staff, note="Ola trekker samtykket.")
        with at(2026, 9, 2, 9, 0):
            svc.plan_resume(user=ip.rus_staff, plan=plan, consent=plan_consent(ip, plan.person))
        with at(2026, 9, 13, 13, 0):
            reminders_sweep()
            reminders_sweep()
        prefix = f"individual_plan:meeting:{meeting.pk}"
        assert [kinds(u, prefix) for u in (ip.rus_staff, ip.nav_staff, ip.home_staff, ip.dps_staff)] == [["reminder"]] * 3 + [[]]
        with at(2026, 9, 17, 14, 30):
            reminders_sweep()
        assert kinds(leaders["rus"], f"individual_plan:minutes:{meeting.pk}") == ["escalation", "reminder"]

    def test_a_plan_resumed_after_its_meeting_owes_only_the_minutes(self, postgresql_only, ip, plan, leaders):
        (meeting,) = schedule(ip, plan)
        consent_withdraw_cascade(consent=plan.consent, user=ip.rus_staff, note="Ola trekker samtykket.")
        with at(2026, 9, 18, 9, 0):
            svc.plan_resume(user=ip.rus_staff, plan=plan, consent=plan_consent(ip, plan.person))
            reminders_sweep()
            reminders_sweep()
        assert kinds(ip.nav_staff, f"individual_plan:meeting:{meeting.pk}") == []
        assert kinds(leaders["rus"], f"individual_plan:minutes:{meeting.pk}") == ["escalation", "reminder"]

    def test_a_refresh_run_twice_changes_nothing_and_repeats_nothing_delivered(self, postgresql_only, ip, plan):
        (meeting,) = schedule(ip, plan)
        with at(2026, 9, 13, 13, 0):
            reminders_sweep()
            before = stored(plan)
            meetings.meeting_reminders_refresh(plan)
            meetings.meeting_reminders_refresh(plan)
            assert stored(plan) == before
            reminders_sweep()
        assert kinds(ip.nav_staff, f"individual_plan:meeting:{meeting.pk}") == ["reminder"]
        told = Notification.objects.filter(reminder__obligation=f"individual_plan:meeting:{meeting.pk}").values_list("user_id", flat=True)
        assert sorted(told) == sorted(u.pk for u in (ip.rus_staff, ip.rus_koordinator, ip.nav_staff, ip.home_staff))
