"""Statutory clocks of a melding (barnevernsloven §§ 2-1, 2-2, 13-2), judged with frozen time.

Personas: ``reporter`` (Solsiden barnehage), ``reporter_leader`` (its leader), ``caseworker`` and
``bv_leader`` (Barneverntjenesten). All times are Norwegian local time (Europe/Oslo).
"""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")

import pytest
import time_machine
from django.core.exceptions import ValidationError

from notifications.models import Notification, Reminder
from notifications.services import reminders_sweep
from workflows.deadlines import add_duration, add_working_days
from workflows.concern import services as svc
from workflows.services.deadlines import deadline_for
from tests.factories import advance, make_consultation, make_melding

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
# A Monday in winter time, far from any holiday or clock change.
SENT = datetime(2026, 3, 2, 10, 0, tzinfo=OSLO)


def oslo(*args):
    return datetime(*args, tzinfo=OSLO)


def due(concern, step):
    return deadline_for(concern, step, process="concern").due_at


def pending_reminders(deadline):
    return Reminder.objects.filter(obligation=f"deadline:{deadline.pk}", sent_at__isnull=True, cancelled_at__isnull=True)


def alarm_recipients(concern):
    """Users who got an overdue alarm or escalation about ``concern``."""
    return set(
        Notification.objects.filter(
            reminder__subject_id=concern.pk, kind__in=[Reminder.Kind.ALARM, Reminder.Kind.ESCALATION]
        ).values_list("user__username", flat=True)
    )


def reminded(user, concern, step):
    """Whether ``user`` got the before-deadline reminder of ``step`` on ``concern``."""
    deadline = deadline_for(concern, step, process="concern")
    return Notification.objects.filter(
        user=user, kind=Reminder.Kind.REMINDER, reminder__obligation=f"deadline:{deadline.pk}"
    ).exists()


def investigating_melding(org, traveller, *, reviewed=oslo(2026, 3, 4, 9, 0)):
    concern = make_melding(org)
    traveller.move_to(SENT + timedelta(hours=1))
    concern = advance(concern, org, "received")
    traveller.move_to(reviewed)
    return svc.concern_review(concern=concern, user=org.caseworker, decision="investigate")


class ReviewDeadlineTests:
    def test_it_is_due_one_week_after_submission(self, org):
        with time_machine.travel(SENT, tick=False):
            concern = make_melding(org)
        assert due(concern, "review") == oslo(2026, 3, 9, 10, 0)

    def test_it_sets_the_concerns_next_deadline_to_the_receipt_alarm_first(self, org):
        with time_machine.travel(SENT, tick=False):
            concern = make_melding(org)
        assert concern.next_deadline_at == SENT + timedelta(hours=24)

    def test_it_reminds_barnevern_staff_48_hours_before(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = advance(make_melding(org), org, "received")
            traveller.move_to(oslo(2026, 3, 7, 10, 0))
            reminders_sweep()
        assert reminded(org.caseworker, concern, "review")
        assert not reminded(org.reporter, concern, "review")

    def test_it_does_not_remind_earlier_than_48_hours_before(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = advance(make_melding(org), org, "received")
            traveller.move_to(oslo(2026, 3, 7, 9, 59))
            reminders_sweep()
        assert not reminded(org.caseworker, concern, "review")

    def test_it_keeps_the_local_wall_clock_time_across_the_end_of_summer_time(self, org):
        sent = oslo(2026, 10, 21, 14, 0)  # summer time; clocks go back on Sunday 25 October
        with time_machine.travel(sent, tick=False):
            concern = make_melding(org)
        review_due = due(concern, "review").astimezone(OSLO)
        assert (review_due.date(), review_due.hour, review_due.minute) == (date(2026, 10, 28), 14, 0)
        # Same-zone subtraction in Python ignores the offset change; compare real elapsed time in UTC.
        assert review_due.astimezone(UTC) - sent.astimezone(UTC) == timedelta(days=7, hours=1)


class InvestigationDeadlineTests:
    def test_it_counts_three_months_from_the_end_of_the_review_week(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = investigating_melding(org, traveller, reviewed=oslo(2026, 3, 4, 9, 0))
        assert due(concern, "investigation") == oslo(2026, 6, 9, 10, 0)

    def test_it_does_not_count_from_the_review_decision(self, org):
        reviewed = oslo(2026, 3, 4, 9, 0)
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = investigating_melding(org, traveller, reviewed=reviewed)
        assert concern.reviewed_at == reviewed
        assert due(concern, "investigation") != oslo(2026, 6, 4, 9, 0)
        assert due(concern, "investigation") - due(concern, "review") > timedelta(days=89)

    def test_it_refuses_an_extension_without_a_reason(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = investigating_melding(org, traveller)
            with pytest.raises(ValidationError) as raised:
                svc.concern_extend_investigation(concern=concern, user=org.caseworker, reason="   ")
        assert "reason" in raised.value.error_dict

    def test_it_changes_nothing_when_the_extension_is_refused(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = investigating_melding(org, traveller)
            deadline = deadline_for(concern, "investigation", process="concern")
            before = set(pending_reminders(deadline).values_list("key", "due_at"))
            with pytest.raises(ValidationError):
                svc.concern_extend_investigation(concern=concern, user=org.caseworker, reason="")
        deadline.refresh_from_db()
        concern.refresh_from_db()
        assert deadline.due_at == oslo(2026, 6, 9, 10, 0)
        assert deadline.extension_reason == ""
        assert concern.investigation_extension_reason == ""
        assert set(pending_reminders(deadline).values_list("key", "due_at")) == before

    def test_it_extends_to_six_months_after_the_review_week_by_default(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = investigating_melding(org, traveller)
            deadline = svc.concern_extend_investigation(concern=concern, user=org.caseworker, reason="Sakkyndig utredning")
        assert deadline.due_at == oslo(2026, 9, 9, 10, 0)
        assert deadline.extension_reason == "Sakkyndig utredning"

    def test_it_refuses_an_extension_beyond_six_months_after_the_review_week(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = investigating_melding(org, traveller)
            with pytest.raises(ValidationError) as raised:
                svc.concern_extend_investigation(
                    concern=concern, user=org.caseworker, reason="Sakkyndig utredning", until=date(2026, 9, 10)
                )
        assert "until" in raised.value.error_dict
        assert due(concern, "investigation") == oslo(2026, 6, 9, 10, 0)

    def test_it_allows_an_extension_to_the_last_permitted_day(self, org):
        # The page says "at most until 09.09.2026"; choosing that very date must be accepted.
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = investigating_melding(org, traveller)
            latest = svc.investigation_max_due(concern)
            deadline = svc.concern_extend_investigation(
                concern=concern, user=org.caseworker, reason="Sakkyndig utredning", until=latest.astimezone(OSLO).date()
            )
        assert deadline.due_at == oslo(2026, 9, 9, 10, 0)

    def test_it_moves_the_reminder_rows_with_the_extension(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = investigating_melding(org, traveller)
            deadline = deadline_for(concern, "investigation", process="concern")
            old_ids = set(pending_reminders(deadline).values_list("id", flat=True))
            svc.concern_extend_investigation(concern=concern, user=org.caseworker, reason="Venter på BUP", until=date(2026, 8, 1))
        assert old_ids and not pending_reminders(deadline).filter(id__in=old_ids).exists()
        moved = dict(pending_reminders(deadline).values_list("kind", "due_at"))
        assert moved == {
            Reminder.Kind.REMINDER: oslo(2026, 8, 1, 23, 59) - timedelta(days=14),
            Reminder.Kind.ESCALATION: oslo(2026, 8, 1, 23, 59),
        }

    def test_it_does_not_remind_at_the_old_time_after_an_extension(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = investigating_melding(org, traveller)
            svc.concern_extend_investigation(concern=concern, user=org.caseworker, reason="Venter på BUP", until=date(2026, 8, 1))
            traveller.move_to(oslo(2026, 5, 26, 10, 1))  # 14 days before the original deadline
            reminders_sweep()
        assert not reminded(org.caseworker, concern, "investigation")

    def test_it_reminds_at_the_new_time_after_an_extension(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = investigating_melding(org, traveller)
            svc.concern_extend_investigation(concern=concern, user=org.caseworker, reason="Venter på BUP", until=date(2026, 8, 1))
            traveller.move_to(oslo(2026, 7, 18, 23, 59))  # 14 days before the new deadline
            reminders_sweep()
        assert reminded(org.caseworker, concern, "investigation")


class FeedbackDeadlineTests:
    def test_it_gives_the_reporter_feedback_three_weeks_after_submission(self, org):
        with time_machine.travel(SENT, tick=False):
            concern = make_melding(org)
        assert due(concern, "feedback_initial") == oslo(2026, 3, 23, 10, 0)

    def test_it_gives_new_feedback_three_weeks_after_the_investigation_ends(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = investigating_melding(org, traveller)
            traveller.move_to(oslo(2026, 4, 15, 13, 30))
            concern = svc.concern_conclude_investigation(concern=concern, user=org.caseworker, outcome="measures")
        assert due(concern, "feedback_final") == oslo(2026, 5, 6, 13, 30)

    def test_it_meets_the_feedback_deadline_when_feedback_is_sent(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = advance(make_melding(org), org, "investigating")
            traveller.move_to(oslo(2026, 3, 5, 12, 0))
            svc.concern_send_feedback(concern=concern, user=org.caseworker, kind="initial")
        deadline = deadline_for(concern, "feedback_initial", process="concern")
        assert deadline.met_at == oslo(2026, 3, 5, 12, 0)
        assert not pending_reminders(deadline).exists()


class ReceiptAlarmTests:
    def test_it_alarms_the_leaders_of_both_services_after_24_hours_without_receipt(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = make_melding(org)
            traveller.move_to(SENT + timedelta(hours=24, minutes=1))
            reminders_sweep()
        assert alarm_recipients(concern) == {org.bv_leader.username, org.reporter_leader.username}

    def test_it_does_not_alarm_plain_staff(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = make_melding(org)
            traveller.move_to(SENT + timedelta(hours=25))
            reminders_sweep()
        assert org.caseworker.username not in alarm_recipients(concern)
        assert org.reporter.username not in alarm_recipients(concern)

    def test_it_does_not_alarm_before_24_hours(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = make_melding(org)
            traveller.move_to(SENT + timedelta(hours=23, minutes=59))
            reminders_sweep()
        assert alarm_recipients(concern) == set()

    def test_it_counts_the_24_hours_as_elapsed_time_across_a_clock_change(self, org):
        sent = oslo(2026, 10, 24, 12, 0)  # clocks go back at 03:00 on 25 October
        with time_machine.travel(sent, tick=False):
            concern = make_melding(org)
        assert due(concern, "receipt").astimezone(OSLO) == oslo(2026, 10, 25, 11, 0)

    def test_it_cancels_the_alarm_rows_when_receipt_is_confirmed_in_time(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = make_melding(org)
            receipt = deadline_for(concern, "receipt", process="concern")
            assert pending_reminders(receipt).count() == 2
            traveller.move_to(SENT + timedelta(hours=3))
            advance(concern, org, "received")
        assert not pending_reminders(receipt).exists()
        assert Reminder.objects.filter(obligation=f"deadline:{receipt.pk}", cancelled_at=SENT + timedelta(hours=3)).count() == 2

    def test_it_sends_no_alarm_for_a_melding_confirmed_in_time(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = make_melding(org)
            traveller.move_to(SENT + timedelta(hours=23))
            advance(concern, org, "received")
            traveller.move_to(SENT + timedelta(hours=30))
            reminders_sweep()
        assert alarm_recipients(concern) == set()


class ConsultationDeadlineTests:
    def test_it_gives_five_working_days_to_answer_skipping_easter(self, org):
        with time_machine.travel(oslo(2027, 3, 23, 9, 15), tick=False):  # Tuesday before Easter
            consultation = make_consultation(org)
        # Wed 24, [Easter Thu 25 – Mon 29], Tue 30, Wed 31, Thu 1, Fri 2
        assert due(consultation, "consultation_answer") == oslo(2027, 4, 2, 9, 15)


class WorkingDaysTests:
    def test_it_skips_the_easter_holidays(self):
        # Wednesday before Easter 2027; Thursday 25 to Monday 29 March are holidays or weekend.
        assert add_working_days(oslo(2027, 3, 24, 10, 0), 1) == oslo(2027, 3, 30, 10, 0)

    def test_it_counts_across_easter(self):
        assert add_working_days(oslo(2027, 3, 22, 10, 0), 5) == oslo(2027, 4, 1, 10, 0)

    def test_it_starts_counting_from_the_next_working_day_when_started_on_a_holiday(self):
        assert add_working_days(oslo(2027, 3, 26, 10, 0), 1) == oslo(2027, 3, 30, 10, 0)

    def test_it_skips_17_may(self):
        # 17 May 2028 is a Wednesday and no other holiday.
        assert add_working_days(oslo(2028, 5, 16, 8, 0), 1) == oslo(2028, 5, 18, 8, 0)

    def test_it_skips_17_may_falling_on_whit_monday(self):
        assert add_working_days(oslo(2027, 5, 14, 8, 0), 1) == oslo(2027, 5, 18, 8, 0)

    def test_it_counts_an_ordinary_week_as_five_working_days(self):
        assert add_working_days(oslo(2027, 6, 7, 8, 0), 5) == oslo(2027, 6, 14, 8, 0)

    def test_it_keeps_the_local_time_across_a_clock_change(self):
        # Summer time ends on Sunday 31 October 2027.
        result = add_working_days(oslo(2027, 10, 29, 15, 30), 1)
        assert result == oslo(2027, 11, 1, 15, 30)
        assert result.utcoffset() == timedelta(hours=1)


class AddDurationTests:
    def test_it_adds_a_week_in_local_time_across_the_end_of_october(self):
        start = oslo(2026, 10, 22, 9, 0)
        result = add_duration(start, 1, "weeks").astimezone(OSLO)
        assert (result.day, result.hour, result.utcoffset()) == (29, 9, timedelta(hours=1))

    def test_it_adds_hours_as_elapsed_time(self):
        start = oslo(2026, 10, 24, 12, 0)
        assert add_duration(start, 24, "hours") - start == timedelta(hours=24)

    def test_it_adds_months_to_the_last_day_of_a_shorter_month(self):
        assert add_duration(oslo(2026, 11, 30, 10, 0), 3, "months") == oslo(2027, 2, 28, 10, 0)

    def test_it_refuses_an_unknown_unit(self):
        with pytest.raises(ValueError):
            add_duration(oslo(2026, 1, 5, 10, 0), 1, "fortnights")
