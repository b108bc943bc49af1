"""Reminders of the youth contract's appointments (issue 8, "Must show": a missed test's reminder
and escalation delivered once each), through the real sweep on PostgreSQL."""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from notifications.models import Notification
from notifications.services import reminders_sweep
from workflows.models import DeadlinePolicy
from workflows.services.deadlines import deadline_for
from workflows.youth_contract import services as svc
from tests.workflows.youth_contract.scenario import TODAY, active_contract

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
OSLO = ZoneInfo("Europe/Oslo")


def notices(contract, appointment, user):
    return list(Notification.objects.filter(user=user, reminder__obligation=f"youth_contract:appointment:{appointment.pk}")
                .values_list("kind", flat=True).order_by("kind"))


class MissedTestReminderTests:
    def test_a_missed_test_is_reminded_and_escalated_once_each(self, postgresql_only, org, yc):
        contract = active_contract(org, yc)
        test = contract.appointments.get(kind="test", on=TODAY)
        conversation = contract.appointments.get(kind="conversation", on=TODAY)
        svc.result_record(contract=contract, user=yc.nurse, kind="conversation", outcome="held", appointment_code=conversation.code)
        # The morning after: the test was never registered.
        with time_machine.travel(datetime.datetime(2026, 9, 2, 8, 0, tzinfo=OSLO), tick=False):
            reminders_sweep()
            reminders_sweep()
        assert notices(contract, test, yc.nurse) == ["reminder"]
        assert notices(contract, test, yc.nurse_leader) == ["escalation", "reminder"]
        assert notices(contract, conversation, yc.nurse_leader) == []
        escalation = Notification.objects.get(user=yc.nurse_leader, kind="escalation", reminder__obligation=f"youth_contract:appointment:{test.pk}")
        assert contract.reference in escalation.message and "Emil" not in escalation.message

    def test_a_registered_test_is_not_escalated(self, postgresql_only, org, yc):
        contract = active_contract(org, yc)
        test = contract.appointments.get(kind="test", on=TODAY)
        svc.result_record(contract=contract, user=yc.nurse, kind="test", outcome="negative", appointment_code=test.code)
        with time_machine.travel(datetime.datetime(2026, 9, 2, 8, 0, tzinfo=OSLO), tick=False):
            reminders_sweep()
        assert notices(contract, test, yc.nurse_leader) == []

    def test_the_next_test_is_reminded_the_afternoon_before(self, postgresql_only, org, yc):
        contract = active_contract(org, yc)
        next_test = contract.appointments.get(kind="test", on=datetime.date(2026, 9, 15))
        with time_machine.travel(datetime.datetime(2026, 9, 14, 17, 59, tzinfo=OSLO), tick=False):
            reminders_sweep()
        assert notices(contract, next_test, yc.nurse) == []
        with time_machine.travel(datetime.datetime(2026, 9, 14, 18, 0, tzinfo=OSLO), tick=False):
            reminders_sweep()
        assert notices(contract, next_test, yc.nurse) == ["reminder"]


def deadline_notices(deadline, user):
    return list(Notification.objects.filter(user=user, reminder__obligation=f"deadline:{deadline.pk}")
                .values_list("kind", flat=True).order_by("kind"))


class OverdueStepTests:
    """Issue 8, point 5: an overdue breach assessment and an overdue outcome report to the police are
    reminded and escalated from their policy rows (workflows.DeadlinePolicy, admin-editable), once each."""

    def test_an_overdue_breach_assessment_is_reminded_then_escalated_once(self, postgresql_only, org, yc):
        # The municipality shortens its rule to 2 working days: the clock follows the row, not a constant.
        DeadlinePolicy.objects.filter(process="youth_contract", step="breach").update(amount=2, remind_before_hours=24)
        contract = active_contract(org, yc)
        test = contract.appointments.get(kind="test", on=TODAY)
        svc.result_record(contract=contract, user=yc.nurse, kind="test", outcome="positive", appointment_code=test.code)
        deadline = deadline_for(contract, "breach", process="youth_contract")
        assert deadline.is_open and timezone.localtime(deadline.due_at) == datetime.datetime(2026, 9, 3, 10, 0, tzinfo=OSLO)
        with time_machine.travel(datetime.datetime(2026, 9, 2, 9, 59, tzinfo=OSLO), tick=False):
            reminders_sweep()
        assert deadline_notices(deadline, yc.nurse) == []
        with time_machine.travel(datetime.datetime(2026, 9, 2, 10, 0, tzinfo=OSLO), tick=False):
            reminders_sweep()
        assert deadline_notices(deadline, yc.nurse) == ["reminder"]
        assert "escalation" not in deadline_notices(deadline, yc.nurse_leader)
        with time_machine.travel(datetime.datetime(2026, 9, 3, 10, 1, tzinfo=OSLO), tick=False):
            reminders_sweep()
            reminders_sweep()
        assert deadline_notices(deadline, yc.nurse_leader).count("escalation") == 1
        assert "escalation" not in deadline_notices(deadline, yc.nurse)
        escalation = Notification.objects.get(user=yc.nurse_leader, kind="escalation", reminder__obligation=f"deadline:{deadline.pk}")
        assert contract.reference in escalation.message and "Emil" not in escalation.message
        # The police never hear of a breach's clock.
        assert not Notification.objects.filter(user=yc.officer, reminder__obligation=f"deadline:{deadline.pk}").exists()

    def test_an_assessed_breach_is_not_escalated(self, postgresql_only, org, yc):
        contract = active_contract(org, yc)
        svc.result_record(contract=contract, user=yc.nurse, kind="test", outcome="missed", taken_on=TODAY)
        svc.breach_decide(contract=contract, user=yc.nurse, decision="continue", note="Samtale holdt.")
        deadline = deadline_for(contract, "breach", process="youth_contract")
        with time_machine.travel(datetime.datetime(2026, 10, 1, 10, 0, tzinfo=OSLO), tick=False):
            reminders_sweep()
        assert deadline_notices(deadline, yc.nurse_leader) == []

    def test_an_overdue_outcome_report_to_the_police_is_escalated_once(self, postgresql_only, org, yc):
        DeadlinePolicy.objects.filter(process="youth_contract", step="outcome_report").update(amount=3, remind_before_hours=48)
        contract = active_contract(org, yc)
        svc.contract_complete(contract=contract, user=yc.nurse, outcome="Alle vilkår oppfylt.")
        deadline = deadline_for(contract, "outcome_report", process="youth_contract")
        # 3 working days from Tuesday 1 September 10:00: Friday 4 September; reminded 48 hours before.
        assert deadline.is_open and timezone.localtime(deadline.due_at) == datetime.datetime(2026, 9, 4, 10, 0, tzinfo=OSLO)
        with time_machine.travel(datetime.datetime(2026, 9, 2, 10, 0, tzinfo=OSLO), tick=False):
            reminders_sweep()
        assert deadline_notices(deadline, yc.nurse) == ["reminder"]
        with time_machine.travel(datetime.datetime(2026, 9, 4, 10, 1, tzinfo=OSLO), tick=False):
            reminders_sweep()
            reminders_sweep()
        assert deadline_notices(deadline, yc.nurse_leader).count("escalation") == 1
        assert not Notification.objects.filter(user=yc.officer, reminder__obligation=f"deadline:{deadline.pk}").exists()

    def test_a_reported_outcome_is_not_escalated(self, postgresql_only, org, yc):
        contract = active_contract(org, yc)
        svc.contract_complete(contract=contract, user=yc.nurse, outcome="Alle vilkår oppfylt.")
        svc.outcome_report(contract=contract, user=yc.nurse)
        deadline = deadline_for(contract, "outcome_report", process="youth_contract")
        assert not deadline.is_open
        with time_machine.travel(datetime.datetime(2026, 10, 1, 10, 0, tzinfo=OSLO), tick=False):
            reminders_sweep()
        assert deadline_notices(deadline, yc.nurse_leader) == []
