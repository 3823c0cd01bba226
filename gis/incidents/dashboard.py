"""The command centre's figures (指挥大屏): a day's work in the structure of the hotline's
daily report, what is open and overdue by district and by unit, each unit's rates over 30
days (:mod:`gis.incidents.rates`), a 30-day trend and incident density by grid.

Every figure is aggregated in the database from ``incident_reports`` (its
``district_code`` is kept equal to the assignment's), so a day's figures read one day's
rows and the open cases' partial index, never the whole table. Open at the end of a past
day: received before its end and not closed by then; for today, open now (any status
but closed). Overdue: open and past ``due_at`` at that moment.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import exists, select, text
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.incidents.day_figures import grid_counts, kept, open_now, trend_counts
from gis.incidents.due import local_zone
from gis.incidents.figure_cache import PAST_DAYS, database_of, past_and_today
from gis.incidents.rates import Scope, names, rate_window, unit_rates
from gis.incidents.records import MESSAGE_CHANNELS
from gis.incidents.report import daily_report, day_bounds
from gis.models import District, Unit

TREND_DAYS = 30
DENSITY_DAYS = (1, 7, 30)
FRAMED_GRIDS = 60


def dashboard(session: Session, day: date, scope: Scope, top: int = 10) -> dict[str, Any]:
    """Every figure of the command centre for ``day`` (the page's one JSON request)."""
    rates = unit_rates(session, day, scope)
    return {
        "date": day.isoformat(),
        "timezone": str(local_zone()),
        "district": scope.district,
        "unit": scope.unit,
        "day": daily_report(session, day, top, scope, rates),
        "open": open_cases(session, day, scope),
        "rates": rates,
        "trend": trend(session, day, scope),
    }


def check_scope_inputs(session: Session, district: str | None, unit: str | None) -> Scope:
    """The scope asked for, each code checked (:class:`InvalidInput` naming the field)."""
    if district is not None:
        current = exists().where(District.code == district, District.valid_to.is_(None))
        if not session.scalar(select(current)):
            raise InvalidInput(f"unknown district {district!r}", field="district")
    if unit is not None and session.get(Unit, unit) is None:
        raise InvalidInput(f"unknown unit {unit!r}", field="unit")
    return Scope(district, unit)


def as_of(day: date, now: datetime | None = None) -> tuple[datetime, bool]:
    """The moment a day's open cases are counted at, and whether it is today."""
    now = now or datetime.now(local_zone())
    end = day_bounds(day)[1]
    return (now, True) if end > now else (end, False)


OPEN_NOW_SQL = """
SELECT r.district_code, r.unit_code, count(*) AS open,
       count(*) FILTER (WHERE r.due_at < :at) AS overdue
FROM incident_reports r
WHERE r.status <> 'closed'{scope}
GROUP BY r.district_code, r.unit_code
"""
OPEN_THEN_SQL = """
SELECT r.district_code, r.unit_code, count(*) AS open,
       count(*) FILTER (WHERE r.due_at < :at) AS overdue
FROM incident_reports r
WHERE r.received_at < :at AND (r.closed_at IS NULL OR r.closed_at >= :at)
  AND NOT (r.status = 'closed' AND r.closed_at IS NULL){scope}
GROUP BY r.district_code, r.unit_code
"""


def open_cases(session: Session, day: date, scope: Scope) -> dict[str, Any]:
    """Open and overdue cases by district and by responsible unit (with names)."""
    at, today = as_of(day)
    sql = (OPEN_NOW_SQL if today else OPEN_THEN_SQL).format(scope=scope.sql())

    def read() -> list[tuple[Any, ...]]:
        return [tuple(r) for r in session.execute(text(sql), {"at": at, **scope.params()})]

    # A past day's end is a fixed moment: kept a few minutes like the other past figures.
    key = ("open", database_of(session), at, scope.key())
    if today and kept():
        rows: list[tuple[Any, ...]] = list(open_now(session, at, day_bounds(day)[0], scope.key()))
    else:
        rows = read() if today else PAST_DAYS.get(key, read)
    districts = names(session, "SELECT code, name, NULL FROM districts WHERE valid_to IS NULL")
    units = names(session, "SELECT code, name, name_en, kind FROM units")
    by_district: dict[str | None, list[int]] = {}
    by_unit: dict[str | None, list[int]] = {}
    for district, unit, n_open, n_overdue in rows:
        for key, into in ((district, by_district), (unit, by_unit)):
            figures = into.setdefault(key, [0, 0])
            figures[0] += int(n_open)
            figures[1] += int(n_overdue)

    def listed(into: dict[str | None, list[int]], known: dict[str, tuple[Any, ...]]) -> list[Any]:
        out = []
        for code, (n_open, n_overdue) in sorted(
            into.items(), key=lambda kv: (-kv[1][0], kv[0] or "")
        ):
            name = known.get(code or "", (None, None, None))
            out.append(
                {"code": code, "name": name[0], "name_en": name[1], "kind": name[2],
                 "open": n_open, "overdue": n_overdue}
            )  # fmt: skip
        return out

    return {
        "as_of": at.isoformat(),
        "total": sum(v[0] for v in by_district.values()),
        "overdue": sum(v[1] for v in by_district.values()),
        "by_district": listed(by_district, districts),
        "by_unit": listed(by_unit, units),
    }


TREND_RECEIVED_SQL = """
SELECT (r.received_at AT TIME ZONE :tz)::date AS day, count(*) AS received,
       count(*) FILTER (WHERE r.channel = 'hotline_call') AS calls,
       count(*) FILTER (WHERE r.channel = ANY(:messages)) AS messages
FROM incident_reports r
WHERE r.received_at >= :since AND r.received_at < :until{scope}
GROUP BY 1
"""
TREND_CLOSED_SQL = """
SELECT (r.closed_at AT TIME ZONE :tz)::date AS day, count(*) AS closed
FROM incident_reports r
WHERE r.closed_at >= :since AND r.closed_at < :until{scope}
GROUP BY 1
"""


def _trend_rows(
    session: Session, since: datetime, until: datetime, scope: Scope
) -> dict[date, tuple[int, int, int, int]]:
    """Per local day in ``[since, until)``: received, calls, messages, closed."""
    params = {
        "since": since, "until": until, "tz": str(local_zone()),
        "messages": list(MESSAGE_CHANNELS), **scope.params(),
    }  # fmt: skip
    out: dict[date, list[int]] = {}
    for d, received, calls, messages in session.execute(
        text(TREND_RECEIVED_SQL.format(scope=scope.sql())), params
    ):
        out.setdefault(d, [0, 0, 0, 0])[:3] = [int(received), int(calls), int(messages)]
    for d, closed in session.execute(text(TREND_CLOSED_SQL.format(scope=scope.sql())), params):
        out.setdefault(d, [0, 0, 0, 0])[3] = int(closed)
    return {d: (v[0], v[1], v[2], v[3]) for d, v in out.items()}


def trend(session: Session, day: date, scope: Scope) -> list[dict[str, Any]]:
    """Per local day of the 30 ending on ``day``: received, calls, messages, closed (from
    the kept day figures; aggregated directly, the days before today are kept a few
    minutes and today read afresh)."""
    since, until = rate_window(day, TREND_DAYS)
    days = [day - timedelta(days=TREND_DAYS - 1 - i) for i in range(TREND_DAYS)]
    rows: dict[date, tuple[int, int, int, int]] = {}
    if kept():
        rows = trend_counts(session, days[0], day, MESSAGE_CHANNELS, scope.key())
    else:
        for start, end, keep in past_and_today(since, until, local_zone()):
            if keep:
                key = ("trend", database_of(session), start, end, scope.key())
                part = PAST_DAYS.get(key, partial(_trend_rows, session, start, end, scope))
            else:
                part = _trend_rows(session, start, end, scope)
            rows.update(part)
    return [
        dict(zip(("date", "received", "calls", "messages", "closed"),
                 (d.isoformat(), *rows.get(d, (0, 0, 0, 0))), strict=True))
        for d in days
    ]  # fmt: skip


DENSITY_SQL = """
SELECT a.grid_code, g.name, count(*) AS n
FROM incident_reports r
JOIN incident_assignments a ON a.incident_id = r.id
LEFT JOIN grids g ON g.code = a.grid_code AND g.valid_to IS NULL
WHERE r.received_at >= :since AND r.received_at < :until AND a.grid_code IS NOT NULL{scope}
GROUP BY a.grid_code, g.name
ORDER BY n DESC, a.grid_code
"""


def density(session: Session, day: date, days: int, scope: Scope) -> dict[str, Any]:
    """Incidents received per grid over the ``days`` local days ending on ``day``."""
    if days not in DENSITY_DAYS:
        raise InvalidInput(f"days must be one of {DENSITY_DAYS}", field="days")
    since, until = rate_window(day, days)
    if kept() and scope.unit is None:
        first = day - timedelta(days=days - 1)
        rows: list[Any] = grid_counts(session, first, day, scope.district)
    else:
        rows = list(
            session.execute(
                text(DENSITY_SQL.format(scope=scope.sql())),
                {"since": since, "until": until, **scope.params()},
            )
        )
    grids = [{"code": code, "name": name, "count": int(n)} for code, name, n in rows]
    # Where most reports are: the extent of the busiest grids, for the map to frame.
    busiest = [g["code"] for g in grids[:FRAMED_GRIDS]]
    box = session.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e"
            " FROM grids WHERE valid_to IS NULL AND code = ANY(:codes)) q"
        ),
        {"codes": busiest},
    ).one()
    return {
        "bounds": None if box[0] is None else [float(v) for v in box],
        "since": since.isoformat(),
        "until": until.isoformat(),
        "days": days,
        "max": grids[0]["count"] if grids else 0,
        "total": sum(g["count"] for g in grids),
        "grids": grids,
    }
