"""Reminders of the youth contract's appointments (issue 8, "Must show": a missed test's reminder
and escalation delivered once each), through the real sweep on PostgreSQL."""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications.models import Notification
from notifications.services import reminders_sweep
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
