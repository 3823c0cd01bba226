"""A day's figures read from ``incident_day_figures`` (日统计), which the database keeps
exact in the same transaction as every write to ``incident_reports`` (migration 0013):
the daily report's counts, callbacks made, the 30-day rates and trend, and the open cases
read a few hundred summary rows instead of a day's (or a month's) reports.

The table counts days in :data:`FIGURES_ZONE`; when the hotline's zone is another
(:func:`kept`), the callers aggregate the reports directly, as they always may.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.incidents.due import local_zone

FIGURES_ZONE = "Asia/Shanghai"  # the zone migration 0013's triggers count days in


_DIRECT: ContextVar[bool] = ContextVar("aggregated_directly", default=False)


def kept() -> bool:
    """Whether the figures are read from the kept table: it counts days as the hotline
    does, and the caller has not asked for :func:`aggregated_directly`."""
    return str(local_zone()) == FIGURES_ZONE and not _DIRECT.get()


@contextmanager
def aggregated_directly() -> Iterator[None]:
    """Within the block, figures are aggregated from the reports themselves (the way the
    kept ones are checked and measured against)."""
    token = _DIRECT.set(True)
    try:
        yield
    finally:
        _DIRECT.reset(token)


def _scope_sql(district: str | None, unit: str | None) -> str:
    parts = []
    if district is not None:
        parts.append(" AND f.district_code = :district")
    if unit is not None:
        parts.append(" AND f.unit_code = :unit")
    return "".join(parts)


def _rows(
    session: Session, sql: str, scope: tuple[str | None, str | None], **params: Any
) -> list[Any]:
    district, unit = scope
    return list(
        session.execute(
            text(sql.format(scope=_scope_sql(district, unit))),
            {"district": district, "unit": unit, **params},
        )
    )


RECEIVED_SQL = """
SELECT f.channel, sum(f.reports), sum(f.direct), sum(f.called_back)
FROM incident_day_figures f
WHERE f.kind = 'received' AND f.day = :day{scope}
GROUP BY f.channel
"""
CATEGORIES_SQL = """
SELECT f.category_code, c.name_zh, c.name_en, sum(f.reports) AS n
FROM incident_day_figures f JOIN incident_categories c ON c.code = f.category_code
WHERE f.kind = 'received' AND f.day = :day{scope}
GROUP BY f.category_code, c.name_zh, c.name_en
HAVING sum(f.reports) > 0
ORDER BY n DESC, f.category_code
LIMIT :top
"""
MADE_SQL = """
SELECT coalesce(sum(f.reports), 0) FROM incident_day_figures f
WHERE f.kind = 'callback' AND f.day = :day{scope}
"""


def day_counts(
    session: Session, day: date, top: int, scope: tuple[str | None, str | None]
) -> dict[str, Any]:
    """The daily report's counts of ``day``: per channel (reports, handled directly,
    called back), the ``top`` categories and the callbacks made that day."""
    by_channel = {
        channel: (int(n), int(direct), int(called))
        for channel, n, direct, called in _rows(session, RECEIVED_SQL, scope, day=day)
    }
    categories = _rows(session, CATEGORIES_SQL, scope, day=day, top=top)
    made = _rows(session, MADE_SQL, scope, day=day)[0][0]
    return {"by_channel": by_channel, "categories": categories, "made": int(made)}


TREND_SQL = """
SELECT f.day,
       sum(f.reports) FILTER (WHERE f.kind = 'received'),
       sum(f.reports) FILTER (WHERE f.kind = 'received' AND f.channel = 'hotline_call'),
       sum(f.reports) FILTER (WHERE f.kind = 'received' AND f.channel = ANY(:messages)),
       sum(f.reports) FILTER (WHERE f.kind = 'closed')
FROM incident_day_figures f
WHERE f.kind IN ('received', 'closed') AND f.day >= :first AND f.day <= :last{scope}
GROUP BY f.day
"""


def trend_counts(
    session: Session,
    first: date,
    last: date,
    messages: Iterable[str],
    scope: tuple[str | None, str | None],
) -> dict[date, tuple[int, int, int, int]]:
    """Per local day from ``first`` to ``last``: received, calls, messages, closed."""
    rows = _rows(session, TREND_SQL, scope, first=first, last=last, messages=list(messages))
    return {d: tuple(int(n or 0) for n in counts) for d, *counts in rows}  # type: ignore[misc]


RATES_SQL = """
SELECT f.unit_code,
       sum(f.reports) FILTER (WHERE f.kind = 'due'),
       sum(f.on_time) FILTER (WHERE f.kind = 'due'),
       sum(f.reports) FILTER (WHERE f.kind = 'closed'),
       sum(f.rated) FILTER (WHERE f.kind = 'closed'),
       sum(f.satisfied) FILTER (WHERE f.kind = 'closed'),
       sum(f.reopened) FILTER (WHERE f.kind = 'closed')
FROM incident_day_figures f
WHERE f.kind IN ('due', 'closed') AND f.day >= :first AND f.day <= :last{scope}
GROUP BY f.unit_code
HAVING sum(f.reports) > 0
"""


def rate_counts(
    session: Session, first: date, last: date, scope: tuple[str | None, str | None]
) -> dict[str | None, list[int]]:
    """Each unit's due, on time, closed, rated, satisfied and reopened cases of the local
    days ``first`` to ``last`` (units with none due and none closed left out)."""
    rows = _rows(session, RATES_SQL, scope, first=first, last=last)
    return {unit: [int(n or 0) for n in counts] for unit, *counts in rows}


OPEN_SQL = """
SELECT f.district_code, f.unit_code, sum(f.reports),
       coalesce(sum(f.reports) FILTER (WHERE f.day < :today), 0)
FROM incident_day_figures f
WHERE f.kind = 'open'{scope}
GROUP BY f.district_code, f.unit_code
HAVING sum(f.reports) > 0
"""
# Cases due since midnight and before now: the part of today's overdue no day count holds.
DUE_TODAY_SQL = """
SELECT r.district_code, r.unit_code, count(*)
FROM incident_reports r
WHERE r.status <> 'closed' AND r.due_at >= :midnight AND r.due_at < :at{scope}
GROUP BY r.district_code, r.unit_code
"""


def open_now(
    session: Session, at: datetime, midnight: datetime, scope: tuple[str | None, str | None]
) -> list[tuple[str | None, str | None, int, int]]:
    """Cases not closed, and of them those due before ``at`` (today, after ``midnight``),
    per district and unit."""
    rows = {
        (d, u): [int(n), int(overdue)]
        for d, u, n, overdue in _rows(session, OPEN_SQL, scope, today=midnight.date())
    }
    district, unit = scope
    due_today = session.execute(
        text(DUE_TODAY_SQL.format(scope=_scope_sql(district, unit).replace("f.", "r."))),
        {"midnight": midnight, "at": at, "district": district, "unit": unit},
    )
    for d, u, n in due_today:
        rows.setdefault((d, u), [0, 0])[1] += int(n)
    return [(d, u, n, overdue) for (d, u), (n, overdue) in rows.items()]


GRIDS_SQL = """
SELECT f.grid_code, g.name, sum(f.reports) AS n
FROM incident_day_grids f
LEFT JOIN grids g ON g.code = f.grid_code AND g.valid_to IS NULL
WHERE f.day >= :first AND f.day <= :last{scope}
GROUP BY f.grid_code, g.name
HAVING sum(f.reports) > 0
ORDER BY n DESC, f.grid_code COLLATE "C"
"""


def grid_counts(
    session: Session, first: date, last: date, district: str | None
) -> list[tuple[str, str | None, int]]:
    """Reports received per grid over the local days ``first`` to ``last``, the most
    first (the density map's counts; they are kept per district, not per unit)."""
    rows = _rows(session, GRIDS_SQL, (district, None), first=first, last=last)
    return [(code, name, int(n)) for code, name, n in rows]
