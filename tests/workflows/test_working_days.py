"""Working-day deadlines of a referral across Easter and 17 May 2027 (issue #3, item 5f), frozen time.

Easter Sunday 2027 is 28 March: Maundy Thursday 25, Good Friday 26 and Easter Monday 29 March are
public holidays. Ascension Day is Thursday 6 May, and Whit Monday falls on 17 May itself in 2027.
The policy rows give "routing" 3 and "answer" 5 working days, a reminder 24 hours before and an
escalation to the responsible service's leaders at the deadline.

The persons: Sara, 17, consented; the nurse in Skolehelsetjenesten sends her referral to Rask
psykisk helsehjelp (rask_staff, rask_leader) or to the coordinator's queue (coordinator, rus_leader).
"""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from notifications.models import Notification, Reminder
from notifications.services import reminders_sweep
from tests.factories import make_child, make_consent, make_org, make_referral_services
from workflows.deadlines import is_working_day
from workflows.models import Deadline
from workflows.referral.services import referral_accept, referral_receive, referral_send

OSLO = ZoneInfo("Europe/Oslo")
D = datetime.date
MINUTE = datetime.timedelta(minutes=1)


def oslo(day: datetime.date, hour=10, minute=0):
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(db):
    org = make_org()
    return org, make_referral_services(org)


def send(world, at: datetime.datetime, *, coordinator=False):
    """Sara's referral, sent by the nurse at ``at`` straight to Rask (or to the coordinator's queue)."""
    org, svc = world
    with time_machine.travel(at, tick=False):
        sara = make_child(org, birth=D(2009, 3, 10), given="Sara")
        consent = make_consent(user=svc.nurse, service=svc.helse, person=sara, grantees=[svc.rask, svc.rus])
        target = {"routing_service": svc.rus} if coordinator else {"target_service": svc.rask}
        return referral_send(user=svc.nurse, sender_service=svc.helse, person=sara, kind="mental_health",
                             reason="Angst og søvnvansker.", consent=consent, **target)


def deadline(referral, step="answer"):
    return Deadline.objects.get(subject_id=referral.pk, subject_type__model="referral", policy__step=step)


def sweep_at(at):
    with time_machine.travel(at, tick=False):
        reminders_sweep()


def notified(kind):
    return set(Notification.objects.filter(kind=kind).values_list("user_id", flat=True))


def weekdays(first, last):
    day = first
    while day <= last:
        if day.weekday() < 5:
            yield day
        day += datetime.timedelta(days=1)


class NorwegianCalendarTests:
    def test_it_knows_the_weekday_holidays_of_easter_2027(self):
        off = [d for d in weekdays(D(2027, 3, 22), D(2027, 4, 9)) if not is_working_day(d)]
        assert off == [D(2027, 3, 25), D(2027, 3, 26), D(2027, 3, 29)]

    def test_it_knows_the_weekday_holidays_of_may_2027(self):
        # 1 May is a Saturday; Whit Monday coincides with Constitution Day on 17 May.
        off = [d for d in weekdays(D(2027, 5, 1), D(2027, 5, 31)) if not is_working_day(d)]
        assert off == [D(2027, 5, 6), D(2027, 5, 17)]

    def test_it_counts_weekends_as_non_working_days(self):
        assert not is_working_day(D(2027, 3, 27)) and not is_working_day(D(2027, 3, 28))
        assert is_working_day(D(2027, 3, 24))


class AnswerDeadlineTests:
    def test_it_skips_easter_and_the_weekend(self, world):
        # Wednesday 24 March; working days after it: 30, 31 March, 1, 2 and 5 April.
        referral = send(world, oslo(D(2027, 3, 24)))
        assert deadline(referral).due_at == oslo(D(2027, 4, 5))

    def test_it_keeps_the_local_time_across_the_change_to_summer_time(self, world):
        referral = send(world, oslo(D(2027, 3, 24), 14, 30))
        due = deadline(referral).due_at.astimezone(OSLO)
        assert (due.date(), due.hour, due.minute, due.utcoffset()) == (D(2027, 4, 5), 14, 30, datetime.timedelta(hours=2))

    def test_it_starts_counting_after_a_referral_sent_on_good_friday(self, world):
        referral = send(world, oslo(D(2027, 3, 26)))
        assert deadline(referral).due_at == oslo(D(2027, 4, 5))

    def test_it_skips_17_may(self, world):
        # Friday 14 May; working days after it: 18, 19, 20, 21 and 24 May (17 May is a holiday).
        referral = send(world, oslo(D(2027, 5, 14)))
        assert deadline(referral).due_at == oslo(D(2027, 5, 24))

    def test_it_skips_ascension_day(self, world):
        # Tuesday 4 May; working days after it: 5, 7, 10, 11 and 12 May (6 May is Ascension Day).
        referral = send(world, oslo(D(2027, 5, 4)))
        assert deadline(referral).due_at == oslo(D(2027, 5, 12))

    def test_it_gives_the_coordinator_three_working_days_to_route(self, world):
        # Friday 14 May; working days after it: 18, 19 and 20 May.
        referral = send(world, oslo(D(2027, 5, 14)), coordinator=True)
        assert deadline(referral, "routing").due_at == oslo(D(2027, 5, 20))

    def test_it_shows_the_deadline_on_the_referral(self, world):
        referral = send(world, oslo(D(2027, 3, 24)))
        referral.refresh_from_db()
        assert referral.next_deadline_at == oslo(D(2027, 4, 5))


class AnswerReminderTests:
    def test_it_schedules_the_reminder_24_hours_before_for_the_staff(self, world):
        referral = send(world, oslo(D(2027, 3, 24)))
        reminder = Reminder.objects.get(obligation=f"deadline:{deadline(referral).pk}", kind=Reminder.Kind.REMINDER)
        assert (reminder.due_at, reminder.service, reminder.audience) == (oslo(D(2027, 4, 4)), world[1].rask, Reminder.Audience.STAFF)

    def test_it_delivers_the_reminder_at_its_time_not_before(self, world):
        org, svc = world
        send(world, oslo(D(2027, 3, 24)))
        sweep_at(oslo(D(2027, 4, 4)) - MINUTE)
        assert notified(Reminder.Kind.REMINDER) == set()
        sweep_at(oslo(D(2027, 4, 4)))
        assert notified(Reminder.Kind.REMINDER) == {svc.rask_staff.pk, svc.rask_leader.pk}


class EscalationTests:
    def test_it_does_not_escalate_before_the_deadline(self, world):
        send(world, oslo(D(2027, 5, 14)))
        sweep_at(oslo(D(2027, 5, 24)) - MINUTE)
        assert notified(Reminder.Kind.ESCALATION) == set()

    def test_it_escalates_to_the_receiving_services_leaders_only_at_the_deadline(self, world):
        org, svc = world
        referral = send(world, oslo(D(2027, 5, 14)))
        sweep_at(oslo(D(2027, 5, 24)))
        assert notified(Reminder.Kind.ESCALATION) == {svc.rask_leader.pk}
        # Rendered in the site language (bokmål), with the reference and the deadline, never the name.
        message = Notification.objects.get(kind=Reminder.Kind.ESCALATION).message
        assert message.startswith(f"{referral.reference}: ") and "24.05.2027 10:00" in message and "Sara" not in message

    def test_it_escalates_an_unrouted_referral_to_the_coordinators_leaders(self, world):
        org, svc = world
        send(world, oslo(D(2027, 5, 14)), coordinator=True)
        sweep_at(oslo(D(2027, 5, 20)))
        assert notified(Reminder.Kind.ESCALATION) == {svc.rus_leader.pk}

    def test_it_does_not_escalate_a_referral_answered_in_time(self, world):
        org, svc = world
        referral = send(world, oslo(D(2027, 5, 14)))
        with time_machine.travel(oslo(D(2027, 5, 21)), tick=False):
            referral_receive(referral=referral, user=svc.rask_staff)
            referral_accept(referral=referral, user=svc.rask_staff)
        sweep_at(oslo(D(2027, 5, 24)))
        assert notified(Reminder.Kind.ESCALATION) == set()
        assert notified(Reminder.Kind.REMINDER) == set()
