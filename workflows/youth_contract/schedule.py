"""The contract's schedule of tests and conversations, on working days.

Pure: dates in, dates out. An appointment falls every ``interval`` days from the start; one that
lands on a weekend or a Norwegian public holiday (Easter, 17 May, Whitsun, Christmas …: the
``holidays`` package through workflows.deadlines) moves to the next working day. A moved day that
passes the contract's end, or meets the next appointment of the same kind, is dropped rather than
doubled.
"""
import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from workflows.deadlines import is_working_day

# A schedule is bounded by the longest template (two years); this guards a mistyped interval.
MAX_APPOINTMENTS = 400


@dataclass(frozen=True)
class Slot:
    kind: str
    planned_on: datetime.date  # the interval's day
    on: datetime.date  # the working day it falls on


def next_working_day(day: datetime.date) -> datetime.date:
    """``day`` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += datetime.timedelta(days=1)
    return day


def schedule_slots(*, kind: str, starts_on: datetime.date, ends_on: datetime.date, interval_days: int | None) -> list[Slot]:
    """The appointments of one kind between ``starts_on`` and ``ends_on`` (both included), the first
    on the start day. Raises a translated ValidationError for a reversed period or a bad interval."""
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("The schedule's end date must be on or after its start date.")}, code="invalid")
    if interval_days is None:
        return []
    if interval_days < 1:
        raise ValidationError(_("The interval between appointments must be at least one day."), code="invalid")
    slots: list[Slot] = []
    planned = starts_on
    while planned <= ends_on:
        on = next_working_day(planned)
        if on <= ends_on and (not slots or on > slots[-1].on):
            slots.append(Slot(kind=kind, planned_on=planned, on=on))
        if len(slots) > MAX_APPOINTMENTS:
            raise ValidationError(_("The schedule would hold too many appointments; check the interval."), code="invalid")
        planned += datetime.timedelta(days=interval_days)
    return slots


def contract_slots(template, *, starts_on: datetime.date, ends_on: datetime.date) -> list[Slot]:
    """Every test and conversation of a contract of ``template``, by day (tests first on a shared day)."""
    slots = schedule_slots(kind="test", starts_on=starts_on, ends_on=ends_on, interval_days=template.test_interval_days)
    slots += schedule_slots(kind="conversation", starts_on=starts_on, ends_on=ends_on, interval_days=template.conversation_interval_days)
    return sorted(slots, key=lambda s: (s.on, s.kind != "test"))
