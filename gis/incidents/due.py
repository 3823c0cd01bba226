"""Due dates in Chinese working days (工作日), make-up workdays (调休上班) included.

A report received on day D with N working days is due at the end of the N-th
working day after D (local time of the hotline). Holidays and make-up workdays
come from PyPI ``chinese-calendar``; outside its data range only weekends rest.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from gis.settings import get_settings

END_OF_DAY = time(23, 59, 59)


def local_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


@lru_cache(maxsize=8192)
def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # Beyond the calendar's published years: Monday to Friday.
        return day.weekday() < 5


@lru_cache(maxsize=65536)
def due_day(received: date, working_days: int) -> date:
    """The N-th working day after ``received`` (the day of receipt does not count)."""
    day, left = received, working_days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def local_date(at: datetime) -> date:
    return at.astimezone(local_zone()).date()


def due_at(received_at: datetime, working_days: int) -> datetime:
    """End of the due day in local time, as an aware UTC datetime."""
    day = due_day(local_date(received_at), working_days)
    return datetime.combine(day, END_OF_DAY, tzinfo=local_zone()).astimezone(UTC)


def is_overdue(due: datetime | None, closed_at: datetime | None, now: datetime) -> bool:
    """Past due while open, or closed after its due time."""
    if due is None:
        return False
    return (closed_at or now) > due


def past_notice(due: datetime | None, closed_at: datetime | None, now: datetime, days: int) -> bool:
    """Open and more than ``days`` working days past due: the case is for a formal notice
    (通报), beyond the chasing (催办) that starts the day after the deadline."""
    if due is None or closed_at is not None:
        return False
    return now > due_at(due, days)
