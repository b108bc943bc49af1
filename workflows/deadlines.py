"""Calendar arithmetic for deadlines, in Norwegian local time.

Working days skip weekends and Norwegian public holidays (Easter, 17 May, …), computed by the
``holidays`` package, so the calendar never needs a yearly update by hand.
"""
from datetime import datetime, timedelta
from functools import lru_cache

import holidays
from dateutil.relativedelta import relativedelta
from django.utils import timezone


@lru_cache(maxsize=64)
def _norwegian_holidays(year):
    # Sundays are not "public holidays" here; weekends are handled separately.
    return holidays.country_holidays("NO", years=year, include_sundays=False)


def is_working_day(day):
    return day.weekday() < 5 and day not in _norwegian_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """``days`` working days after ``start``, at the same local time of day.

    A clock started on a non-working day starts counting from the next working day.
    """
    local = timezone.localtime(start)
    day = local.date()
    added = 0
    while added < days:
        day += timedelta(days=1)
        if is_working_day(day):
            added += 1
    naive = datetime.combine(day, local.time().replace(tzinfo=None))
    return timezone.make_aware(naive, timezone.get_current_timezone())


def add_duration(start: datetime, amount: int, unit: str) -> datetime:
    """``start`` plus a policy duration. Calendar units are added in local time (DST-safe)."""
    if unit == "hours":
        return start + timedelta(hours=amount)
    if unit == "working_days":
        return add_working_days(start, amount)
    local = timezone.localtime(start).replace(tzinfo=None)
    if unit == "days":
        naive = local + timedelta(days=amount)
    elif unit == "weeks":
        naive = local + timedelta(weeks=amount)
    elif unit == "months":
        naive = local + relativedelta(months=amount)
    else:
        raise ValueError(f"unknown unit {unit!r}")
    return timezone.make_aware(naive, timezone.get_current_timezone())
