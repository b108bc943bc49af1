"""The round's reminders and escalation come from the policy rows (workflows/migrations/0017), through
the real sweep under frozen time (issue 10: "reminders to services behind schedule … escalation at
the deadline"). Today is 1 December 2026; the deadline Tuesday 15 December is due by the end of that
day (16 December 00:00); a service not done is reminded a week (168 hours) before, and at the due
time its leaders and the coordinating service's leaders are told. A service that has marked its
mapping done hears nothing."""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from notifications.models import Notification
from notifications.services import reminders_sweep
from org.models import Membership
from referrals.models import BrukerPlanParticipation
from tests.factories import member
from tests.workflows.brukerplan.scenario import make_round, map_person, person
from workflows.brukerplan import clocks
from workflows.brukerplan import services as svc
from workflows.models import DeadlinePolicy
from workflows.services.deadlines import deadline_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgresql_only")]
OSLO = ZoneInfo("Europe/Oslo")


def at(*args):
    return datetime.datetime(*args, tzinfo=OSLO)


def sweep_at(moment):
    with time_machine.travel(moment, tick=False):
        reminders_sweep()
        reminders_sweep()


def kinds(user):
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


class MappingReminderTests:
    def test_it_reminds_the_service_behind_schedule_and_escalates_to_the_coordinator_at_the_deadline(self, bp):
        nav_leader = member(bp.nav, role=Membership.Role.LEADER)
        round_ = make_round(bp)
        rus = BrukerPlanParticipation.objects.get(round=round_, service=bp.rus)
        nav = BrukerPlanParticipation.objects.get(round=round_, service=bp.nav)
        assert timezone.localtime(deadline_for(nav, clocks.MAPPING, process=clocks.PROCESS).due_at) == at(2026, 12, 16, 0, 0)
        svc.service_complete(user=bp.rus_worker, round=round_, service=bp.rus)

        sweep_at(at(2026, 12, 8, 23, 59))
        assert Notification.objects.count() == 0
        sweep_at(at(2026, 12, 9, 0, 0))
        assert kinds(bp.nav_worker) == ["reminder"] and kinds(bp.rus_worker) == []
        sweep_at(at(2026, 12, 16, 0, 1))
        assert kinds(bp.nav_worker) == ["reminder"]
        assert kinds(nav_leader) == ["escalation", "reminder"]
        assert kinds(bp.coordinator) == ["alarm"]
        assert kinds(bp.rus_worker) == [] and kinds(bp.org.reporter) == []
        alarm = Notification.objects.get(user=bp.coordinator)
        assert round_.reference in alarm.message
        assert deadline_for(rus, clocks.MAPPING, process=clocks.PROCESS).met_at is not None

    def test_it_follows_the_policy_row_when_it_is_changed(self, bp):
        DeadlinePolicy.objects.filter(process="brukerplan", step="mapping").update(remind_before_hours=48)
        round_ = make_round(bp)
        sweep_at(at(2026, 12, 13, 23, 59))
        assert kinds(bp.nav_worker) == []
        sweep_at(at(2026, 12, 14, 0, 0))
        assert kinds(bp.nav_worker) == ["reminder"] and kinds(bp.rus_worker) == ["reminder"]
        assert round_.status == "open"

    def test_it_reminds_no_one_after_the_round_is_closed(self, bp):
        round_ = make_round(bp)
        svc.round_close(user=bp.coordinator, round=round_)
        sweep_at(at(2026, 12, 16, 0, 1))
        assert Notification.objects.count() == 0


class ChildrenFollowUpReminderTests:
    def test_it_reminds_the_mapping_service_and_never_names_the_person(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        mapping = map_person(bp, round_, bp.rus, ola, has_children=True)
        deadline = deadline_for(mapping, clocks.CHILDREN, process=clocks.PROCESS)
        assert timezone.localtime(deadline.due_at) == at(2026, 12, 15, 10, 0)  # ten working days from Tuesday 1 December, 10:00
        sweep_at(at(2026, 12, 14, 10, 0))
        about_children = Notification.objects.filter(reminder__obligation=f"deadline:{deadline.pk}")
        (notice,) = about_children
        assert notice.user == bp.rus_worker and notice.kind == "reminder"
        assert mapping.reference in notice.message and "Ola" not in notice.message and "Nordmann" not in notice.message
