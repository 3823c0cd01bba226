"""The hotline's daily report (12345 热线日报): calls, messages by channel, handling, callbacks.

A day is a local calendar day of the hotline. Calls (来电) are hotline_call reports,
messages (留言) the written channels; handled directly (直接办结) vs transferred
(转办) counts calls, as the hotline reports them; callbacks (回访) count the day's
reports called back (``callbacks_made_that_day`` counts callbacks made on the day,
whatever day the report came in); top categories count every report of the day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.incidents.due import local_zone
from gis.incidents.records import MESSAGE_CHANNELS
from gis.models import CHANNELS, Incident, IncidentCategory


def check_day(day: date) -> None:
    """A report is of a day that has begun in the hotline's time zone (422 otherwise)."""
    today = datetime.now(local_zone()).date()
    if day > today:
        raise InvalidInput(f"date {day.isoformat()} is in the future (today is {today})", "date")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=local_zone())
    return start, start + timedelta(days=1)


def daily_report(session: Session, day: date, top: int = 10) -> dict[str, Any]:
    start, end = day_bounds(day)
    on_day = (Incident.received_at >= start, Incident.received_at < end)
    by_channel: dict[str, int] = dict.fromkeys(CHANNELS, 0)
    for channel, n in session.execute(
        select(Incident.channel, func.count()).where(*on_day).group_by(Incident.channel)
    ):
        by_channel[channel] = int(n)
    direct, transferred = session.execute(
        select(
            func.count().filter(Incident.handled_directly),
            func.count().filter(~Incident.handled_directly),
        ).where(*on_day, Incident.channel == "hotline_call")
    ).one()
    callbacks = session.execute(
        select(func.count()).where(*on_day, Incident.callback_at.is_not(None))
    ).scalar_one()
    made = session.execute(
        select(func.count()).where(Incident.callback_at >= start, Incident.callback_at < end)
    ).scalar_one()
    categories = session.execute(
        select(
            Incident.category_code,
            IncidentCategory.name_zh,
            IncidentCategory.name_en,
            func.count().label("n"),
        )
        .join(IncidentCategory, IncidentCategory.code == Incident.category_code)
        .where(*on_day)
        .group_by(Incident.category_code, IncidentCategory.name_zh, IncidentCategory.name_en)
        .order_by(func.count().desc(), Incident.category_code)
        .limit(top)
    ).all()
    messages = {c: by_channel[c] for c in MESSAGE_CHANNELS}
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
    }
