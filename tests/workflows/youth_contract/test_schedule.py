"""The schedule of tests and conversations on working days (issue 8, "Must show": across Easter and 17 May)."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from referrals.models import ContractTemplate
from workflows.youth_contract.schedule import Slot, contract_slots, next_working_day, schedule_slots

D = datetime.date


def days(slots):
    return [(s.planned_on, s.on) for s in slots]


class ScheduleTests:
    def test_it_moves_a_test_on_maundy_thursday_past_easter_to_the_tuesday(self):
        # Easter 2026: Thursday 2 April to Monday 6 April are holidays or weekend.
        slots = schedule_slots(kind="test", starts_on=D(2026, 3, 19), ends_on=D(2026, 4, 20), interval_days=14)
        assert days(slots) == [(D(2026, 3, 19), D(2026, 3, 19)), (D(2026, 4, 2), D(2026, 4, 7)), (D(2026, 4, 16), D(2026, 4, 16))]

    def test_it_moves_a_test_on_17_may_to_the_next_day(self):
        # 17 May 2028 is a Wednesday.
        slots = schedule_slots(kind="test", starts_on=D(2028, 5, 3), ends_on=D(2028, 5, 31), interval_days=14)
        assert days(slots) == [(D(2028, 5, 3), D(2028, 5, 3)), (D(2028, 5, 17), D(2028, 5, 18)), (D(2028, 5, 31), D(2028, 5, 31))]

    def test_it_moves_a_weekend_day_to_monday(self):
        assert next_working_day(D(2026, 9, 5)) == D(2026, 9, 7)

    def test_it_drops_a_day_moved_past_the_end(self):
        slots = schedule_slots(kind="test", starts_on=D(2026, 3, 19), ends_on=D(2026, 4, 3), interval_days=14)
        assert days(slots) == [(D(2026, 3, 19), D(2026, 3, 19))]

    def test_it_never_puts_two_of_a_kind_on_one_day(self):
        # Daily from Maundy Thursday: Thursday to Monday all move to Tuesday 7 April, once.
        slots = schedule_slots(kind="conversation", starts_on=D(2026, 4, 2), ends_on=D(2026, 4, 8), interval_days=1)
        assert [s.on for s in slots] == [D(2026, 4, 7), D(2026, 4, 8)]

    def test_it_refuses_an_end_before_the_start_with_a_translated_error(self):
        with translation.override("en"), pytest.raises(ValidationError) as caught:
            schedule_slots(kind="test", starts_on=D(2026, 9, 1), ends_on=D(2026, 8, 31), interval_days=14)
        assert caught.value.message_dict == {"ends_on": ["The schedule's end date must be on or after its start date."]}

    def test_it_refuses_a_zero_interval(self):
        with pytest.raises(ValidationError):
            schedule_slots(kind="test", starts_on=D(2026, 9, 1), ends_on=D(2026, 9, 30), interval_days=0)

    def test_it_schedules_both_kinds_from_the_template(self):
        template = ContractTemplate(test_interval_days=7, conversation_interval_days=14)
        slots = contract_slots(template, starts_on=D(2026, 9, 1), ends_on=D(2026, 9, 15))
        assert slots == [
            Slot("test", D(2026, 9, 1), D(2026, 9, 1)), Slot("conversation", D(2026, 9, 1), D(2026, 9, 1)),
            Slot("test", D(2026, 9, 8), D(2026, 9, 8)),
            Slot("test", D(2026, 9, 15), D(2026, 9, 15)), Slot("conversation", D(2026, 9, 15), D(2026, 9, 15)),
        ]
