"""The forums' reminders (issue 11, point 5), through the real sweep on PostgreSQL under frozen time.

Today is Tuesday 1 September 2026, 10:00 (forum_scenario.py). A meeting on Tuesday 15 September,
13:00–15:00. The policy rows (insights/migrations/0003_forums): the member services' staff are
reminded 72 hours before the meeting (Saturday 12 September, 13:00); the owner's (SLT's) staff are
reminded when the minutes are missing two working days after its end (Thursday 17 September, 15:00).
The messages are written in the platform's language (bokmål, notifications.services.system_text).
"""
import datetime

import pytest
import time_machine
from django.db import transaction

from insights import forums as svc
from notifications.models import Notification, Reminder
from notifications.services import reminders_sweep
from org.permissions import FORUM_MEMBER, revoke_from_service
from tests.factories import member
from tests.insights.forum_scenario import FIRST, HOUR, at, fo, frozen, schedule  # noqa: F401 (fixtures)
from workflows.models import DeadlinePolicy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgresql_only")]
MEMBERS_REMINDED = at(2026, 9, 12, 13, 0)
MINUTES_MISSING = at(2026, 9, 17, 15, 0)
MINUTE = datetime.timedelta(minutes=1)


def sweep_at(moment):
    with time_machine.travel(moment, tick=False):
        reminders_sweep()


def told(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("message", flat=True))


class ReminderScheduleTests:
    def test_it_writes_the_reminders_with_the_meetings(self, fo):
        (meeting,) = schedule(fo)
        rows = {(r.service_id, r.kind, r.due_at, r.required_perm) for r in Reminder.objects.filter(cancelled_at__isnull=True)}
        assert rows == {
            (fo.police_service.pk, Reminder.Kind.REMINDER, MEMBERS_REMINDED, "insights.take_part_forum"),
            (fo.org.nav.pk, Reminder.Kind.REMINDER, MEMBERS_REMINDED, "insights.take_part_forum"),
            (fo.org.slt.pk, Reminder.Kind.REMINDER, MINUTES_MISSING, "insights.run_forum"),
        }
        assert {r.url for r in Reminder.objects.all()} == {f"/insights/fora/mote/{meeting.code}/"}

    def test_a_schedule_rolled_back_leaves_no_reminder(self, fo):
        with pytest.raises(RuntimeError), transaction.atomic():
            schedule(fo, until=datetime.date(2026, 12, 31))
            assert Reminder.objects.count() == 9
            raise RuntimeError("the request failed after the service")
        assert not Reminder.objects.exists()

    def test_a_refused_schedule_writes_no_reminder(self, fo):
        with pytest.raises(Exception):
            schedule(fo, hours=0)
        assert not Reminder.objects.exists()

    def test_the_policy_row_times_the_reminder(self, fo):
        DeadlinePolicy.objects.filter(process="forums", step="meeting").update(remind_before_hours=24 * 7)
        schedule(fo)
        assert set(Reminder.objects.filter(service=fo.police_service).values_list("due_at", flat=True)) == {FIRST - datetime.timedelta(days=7)}


class ReminderDeliveryTests:
    def test_the_members_staff_are_reminded_before_the_meeting_and_no_one_else(self, fo):
        schedule(fo)
        sweep_at(MEMBERS_REMINDED - MINUTE)
        assert told(fo.police) == []
        sweep_at(MEMBERS_REMINDED)
        assert told(fo.police) == ["Arbeidsutvalget for politirådet: møte 15.09.2026 13:00"]
        assert len(told(fo.nav_staff)) == 1
        assert told(fo.slt) == [] and told(fo.org.caseworker) == []

    def test_slt_is_reminded_when_the_minutes_are_missing_two_working_days_after(self, fo):
        schedule(fo)
        sweep_at(MINUTES_MISSING - MINUTE)
        assert told(fo.slt) == []
        sweep_at(MINUTES_MISSING)
        assert told(fo.slt) == ["Arbeidsutvalget for politirådet: referatet fra møtet 15.09.2026 13:00 mangler"]
        assert told(fo.police) == ["Arbeidsutvalget for politirådet: møte 15.09.2026 13:00"]

    def test_the_minutes_cancel_the_missing_minutes_reminder(self, fo):
        (meeting,) = schedule(fo)
        with time_machine.travel(FIRST + 2 * HOUR + 30 * MINUTE, tick=False):
            svc.minutes_record(user=fo.slt, meeting=meeting, text="Gjennomgang av Ungdata.", sequence=0)
        assert not Reminder.objects.filter(cancelled_at__isnull=True, sent_at__isnull=True).exclude(service=fo.org.slt).filter(
            due_at__gt=FIRST).exists()
        sweep_at(MINUTES_MISSING)
        assert told(fo.slt) == []
        assert Reminder.objects.filter(service=fo.org.slt, cancelled_at__isnull=False).count() == 1

    def test_cancelling_the_meeting_cancels_every_reminder(self, fo):
        (meeting,) = schedule(fo)
        svc.meeting_cancel(user=fo.slt, meeting=meeting, sequence=0)
        assert Reminder.objects.filter(cancelled_at__isnull=True).count() == 0
        sweep_at(MINUTES_MISSING)
        assert told(fo.police) == [] and told(fo.slt) == []

    def test_a_removed_member_is_not_reminded(self, fo):
        schedule(fo, until=datetime.date(2026, 12, 31))
        svc.forum_member_remove(user=fo.slt, forum=fo.forum, service=fo.police_service)
        assert not Reminder.objects.filter(service=fo.police_service, cancelled_at__isnull=True).exists()
        sweep_at(MEMBERS_REMINDED)
        assert told(fo.police) == [] and len(told(fo.nav_staff)) == 1

    def test_the_sweep_rechecks_the_grant_at_delivery(self, fo):
        schedule(fo)
        # The grant goes, the row stays (as if revoked by some other path): the sweep tells no one.
        revoke_from_service(perm=FORUM_MEMBER, obj=fo.forum, service=fo.police_service)
        sweep_at(MEMBERS_REMINDED)
        assert told(fo.police) == []
        assert len(told(fo.nav_staff)) == 1

    def test_a_member_added_later_is_reminded_of_the_meetings_to_come(self, fo):
        schedule(fo)
        health = fo.org.barnevern.__class__.objects.create(municipality=fo.org.municipality, name="Helsestasjonen", kind="helsestasjon")
        nurse = member(health)
        svc.forum_member_add(user=fo.slt, forum=fo.forum, service=health)
        sweep_at(MEMBERS_REMINDED)
        assert told(nurse) == ["Arbeidsutvalget for politirådet: møte 15.09.2026 13:00"]

    def test_a_member_removed_and_added_again_is_reminded_again(self, fo):
        schedule(fo)
        svc.forum_member_remove(user=fo.slt, forum=fo.forum, service=fo.police_service)
        svc.forum_member_add(user=fo.slt, forum=fo.forum, service=fo.police_service)
        sweep_at(MEMBERS_REMINDED)
        assert len(told(fo.police)) == 1

    def test_an_escalating_policy_tells_slts_leaders(self, fo):
        DeadlinePolicy.objects.filter(process="forums", step="minutes").update(escalate=DeadlinePolicy.Escalate.LEADERS)
        schedule(fo)
        sweep_at(MINUTES_MISSING)
        assert told(fo.slt_leader)[-1] == "Arbeidsutvalget for politirådet: referatet fra møtet 15.09.2026 13:00 er ikke skrevet"
