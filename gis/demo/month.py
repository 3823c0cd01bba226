"""The month of hotline days before the demo day (热线历史): how busy each day is.

Each of the :data:`HISTORY_DAYS` days before ``HOTLINE_DAY`` is shaped like the published
day (:data:`gis.demo.incidents.PUBLISHED_DAY`), scaled by the kind of day it is: weekdays
about as busy (Mondays a little busier, Fridays a little quieter), weekends much quieter,
public holidays quieter still, make-up workdays (调休上班) like a weekday; calls come round
the clock (:func:`gis.demo.incidents.hotline_clock`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import chinese_calendar

from gis.demo.hotline import HOTLINE_DAY
from gis.demo.incidents import PUBLISHED_DAY, DayShape, hotline_clock, hotline_day
from gis.demo.model import rng_for

HISTORY_DAYS = 30
# Volume of a day against the published Wednesday, Monday first.
WEEKDAY_VOLUME = (1.12, 1.05, 1.02, 1.0, 0.96, 0.7, 0.64)
HOLIDAY_VOLUME = 0.5
# Share of calls the hotline answers itself, and of those called back the same day.
DIRECT_SHARE = PUBLISHED_DAY.handled_directly / PUBLISHED_DAY.channels["hotline_call"]
CALLBACK_SHARE = PUBLISHED_DAY.callbacks / PUBLISHED_DAY.handled_directly


def history_days(end: date = HOTLINE_DAY, days: int = HISTORY_DAYS) -> list[date]:
    """The ``days`` days before ``end``, oldest first."""
    return [end - timedelta(days=k) for k in range(days, 0, -1)]


def _volume(day: date) -> float:
    try:
        holiday, name = chinese_calendar.get_holiday_detail(day)
        working = bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # beyond the calendar's years: weekends rest
        holiday, name, working = day.weekday() >= 5, None, day.weekday() < 5
    if holiday and name is not None:
        return HOLIDAY_VOLUME
    if working:
        return WEEKDAY_VOLUME[min(day.weekday(), 4)]
    return WEEKDAY_VOLUME[day.weekday()]


def day_shape(seed: int, day: date) -> DayShape:
    """The shape of an ordinary day of the month, deterministic for (seed, day)."""
    rng = rng_for(seed, "month", day.toordinal())
    scale = _volume(day) * float(rng.lognormal(0.0, 0.05))
    channels = {
        ch: int(rng.poisson(n * scale)) if ch != "hotline_call" else round(n * scale)
        for ch, n in PUBLISHED_DAY.channels.items()
    }
    direct = round(channels["hotline_call"] * float(rng.normal(DIRECT_SHARE, 0.015)))
    callbacks = round(direct * float(rng.normal(CALLBACK_SHARE, 0.03)))
    top = {
        code: max(12, round(n * scale * float(rng.lognormal(0.0, 0.08))))
        for code, n in PUBLISHED_DAY.top.items()
    }
    return DayShape(channels, direct, min(callbacks, direct), top, hotline_clock)


def month_reports(seed: int, days: list[date] | None = None) -> list[dict[str, Any]]:
    """Every report of the month's days, in ``gis.incidents.ingest``'s shape."""
    days = days or history_days()
    return [r for day in days for r in hotline_day(seed, day, day_shape(seed, day))]
