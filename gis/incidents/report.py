"""The hotline's daily report (12345 热线日报): calls, messages by channel, handling, callbacks.

A day is a local calendar day of the hotline. Calls (来电) are hotline_call reports,
messages (留言) the written channels; handled directly (直接办结) vs transferred
(转办) counts calls, as the hotline reports them; callbacks (回访) count the day's
reports called back (``callbacks_made_that_day`` counts callbacks made on the day,
whatever day the report came in); top categories count every report of the day. The
on-time closure, satisfaction and reopen rates are over the 30 days ending on the day
(:mod:`gis.incidents.rates`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.incidents.day_figures import day_counts, kept
from gis.incidents.due import local_zone
from gis.incidents.rates import Scope, unit_rates
from gis.incidents.records import MESSAGE_CHANNELS
from gis.models import CHANNELS, IncidentCategory, IncidentReport


def check_day(day: date) -> None:
    """A report is of a day that has begun in the hotline's time zone (422 otherwise)."""
    today = datetime.now(local_zone()).date()
    if day > today:
        raise InvalidInput(f"date {day.isoformat()} is in the future (today is {today})", "date")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=local_zone())
    return start, start + timedelta(days=1)


def _scoped(scope: Scope) -> list[Any]:
    conditions: list[Any] = []
    if scope.district is not None:
        conditions.append(IncidentReport.district_code == scope.district)
    if scope.unit is not None:
        conditions.append(IncidentReport.unit_code == scope.unit)
    return conditions


def direct_day_counts(session: Session, day: date, top: int, scope: Scope) -> dict[str, Any]:
    """The counts of :func:`gis.incidents.day_figures.day_counts`, aggregated from the
    reports themselves."""
    start, end = day_bounds(day)
    on_day = (
        IncidentReport.received_at >= start,
        IncidentReport.received_at < end,
        *_scoped(scope),
    )
    per_channel = session.execute(
        select(
            IncidentReport.channel,
            func.count(),
            func.count().filter(IncidentReport.handled_directly),
            func.count().filter(IncidentReport.callback_at.is_not(None)),
        )
        .where(*on_day)
        .group_by(IncidentReport.channel)
    )
    made = session.execute(
        select(func.count()).where(
            IncidentReport.callback_at >= start, IncidentReport.callback_at < end, *_scoped(scope)
        )
    ).scalar_one()
    categories = session.execute(
        select(
            IncidentReport.category_code,
            IncidentCategory.name_zh,
            IncidentCategory.name_en,
            func.count().label("n"),
        )
        .join(IncidentCategory, IncidentCategory.code == IncidentReport.category_code)
        .where(*on_day)
        .group_by(IncidentReport.category_code, IncidentCategory.name_zh, IncidentCategory.name_en)
        .order_by(func.count().desc(), IncidentReport.category_code)
        .limit(top)
    ).all()
    return {
        "by_channel": {c: (int(n), int(d), int(b)) for c, n, d, b in per_channel},
        "categories": categories,
        "made": int(made),
    }


def daily_report(
    session: Session,
    day: date,
    top: int = 10,
    scope: Scope | None = None,
    rates: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The day's report, of the whole city or of ``scope`` (a district, a unit); ``rates``:
    the scope's :func:`unit_rates` of the day when the caller has them already."""
    scope = scope or Scope()
    counts = (
        day_counts(session, day, top, scope.key())
        if kept()
        else direct_day_counts(session, day, top, scope)
    )
    by_channel: dict[str, int] = dict.fromkeys(CHANNELS, 0)
    for channel, (n, _, _) in counts["by_channel"].items():
        by_channel[channel] = n
    direct, calls, callbacks = 0, 0, 0
    for channel, (n, handled, called) in counts["by_channel"].items():
        callbacks += called
        if channel == "hotline_call":
            direct, calls = handled, n
    transferred, made, categories = calls - direct, counts["made"], counts["categories"]
    messages = {c: by_channel[c] for c in MESSAGE_CHANNELS}
    rates = rates if rates is not None else unit_rates(session, day, scope)
    return {
        "date": day.isoformat(),
        "timezone": str(local_zone()),
        "calls": by_channel["hotline_call"],
        "messages": {"total": sum(messages.values()), **messages},
        "other_channels": {
            c: n for c, n in by_channel.items() if c not in (*MESSAGE_CHANNELS, "hotline_call")
        },
        "total": sum(by_channel.values()),
        "handled_directly": int(direct),
        "transferred": int(transferred),
        "callbacks": int(callbacks),
        "callbacks_made_that_day": int(made),
        "top_categories": [
            {"code": code, "name_zh": zh, "name_en": en, "count": int(n)}
            for code, zh, en, n in categories
        ],
        "on_time_rate": rates["on_time_rate"],
        "satisfaction_rate": rates["satisfaction_rate"],
        "reopen_rate": rates["reopen_rate"],
        "rates_since": rates["since"],
        "rates_until": rates["until"],
    }
