"""Each responsible unit's rates over 30 days (办理质效): on-time closure (按时办结率),
satisfaction (满意率) and reopening (重办率), aggregated in the database.

- on-time closure rate: of the cases due in the window, those closed by ``due_at``;
- satisfaction rate: of the cases closed in the window with a rating, those rated 4 or 5
  (满意、非常满意; 3 is 基本满意 and does not count as satisfied);
- reopen rate: of the cases closed in the window, those reopened at least once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.incidents.day_figures import kept, rate_counts
from gis.incidents.due import local_zone
from gis.incidents.figure_cache import PAST_DAYS, database_of, past_and_today

RATE_DAYS = 30
SATISFIED_FROM = 4  # ratings 4-5 count as satisfied


class Scope:
    """What the figures are limited to: a district, a unit, or neither (the whole city).

    Only bound parameters go into the SQL; the condition text is fixed."""

    def __init__(self, district: str | None = None, unit: str | None = None) -> None:
        self.district = district
        self.unit = unit

    def sql(self, alias: str = "r") -> str:
        parts = []
        if self.district is not None:
            parts.append(f"{alias}.district_code = :district")
        if self.unit is not None:
            parts.append(f"{alias}.unit_code = :unit")
        return "".join(f" AND {p}" for p in parts)

    def params(self) -> dict[str, Any]:
        return {"district": self.district, "unit": self.unit}

    def key(self) -> tuple[str | None, str | None]:
        return (self.district, self.unit)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def names(session: Session, sql: str) -> dict[str, tuple[Any, ...]]:
    return {row[0]: tuple(row[1:]) + (None,) * (4 - len(row)) for row in session.execute(text(sql))}


def rate_window(day: date, days: int = RATE_DAYS) -> tuple[datetime, datetime]:
    """The ``days`` local days ending on ``day``, as a half-open interval."""
    zone = local_zone()
    start = datetime.combine(day - timedelta(days=days - 1), time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


RATES_SQL = """
SELECT r.unit_code,
       count(*) FILTER (WHERE r.due_at >= :since AND r.due_at < :until) AS due,
       count(*) FILTER (WHERE r.due_at >= :since AND r.due_at < :until
                          AND r.closed_at <= r.due_at) AS on_time,
       count(*) FILTER (WHERE r.closed_at >= :since AND r.closed_at < :until) AS closed,
       count(*) FILTER (WHERE r.closed_at >= :since AND r.closed_at < :until
                          AND r.rating IS NOT NULL) AS rated,
       count(*) FILTER (WHERE r.closed_at >= :since AND r.closed_at < :until
                          AND r.rating >= :satisfied) AS satisfied,
       count(*) FILTER (WHERE r.closed_at >= :since AND r.closed_at < :until
                          AND r.reopen_count > 0) AS reopened
FROM incident_reports r
WHERE ((r.due_at >= :since AND r.due_at < :until)
       OR (r.closed_at >= :since AND r.closed_at < :until)){scope}
GROUP BY r.unit_code
"""
COUNTS = ("due", "on_time", "closed", "rated", "satisfied", "reopened")


def _with_rates(counts: dict[str, int]) -> dict[str, Any]:
    return {
        **counts,
        "on_time_rate": _rate(counts["on_time"], counts["due"]),
        "satisfaction_rate": _rate(counts["satisfied"], counts["rated"]),
        "reopen_rate": _rate(counts["reopened"], counts["closed"]),
    }


def _counts(
    session: Session, since: datetime, until: datetime, scope: Scope
) -> dict[str | None, tuple[int, ...]]:
    """Each unit's counts (:data:`COUNTS`) of cases due or closed in ``[since, until)``."""
    rows = session.execute(
        text(RATES_SQL.format(scope=scope.sql())),
        {"since": since, "until": until, "satisfied": SATISFIED_FROM, **scope.params()},
    ).all()
    return {unit: tuple(int(n) for n in numbers) for unit, *numbers in rows}


def window_counts(
    session: Session, since: datetime, until: datetime, scope: Scope
) -> dict[str | None, list[int]]:
    """Counts of a window of whole local days: from the kept day figures
    (:mod:`gis.incidents.day_figures`), or else as the sum of its days before today (kept
    a few minutes, see :mod:`gis.incidents.figure_cache`) and of today (read afresh): each
    count is of cases whose own date falls in the window, so the parts add up."""
    if kept():
        last = (until - timedelta(days=1)).astimezone(local_zone()).date()
        return rate_counts(session, since.astimezone(local_zone()).date(), last, scope.key())
    total: dict[str | None, list[int]] = {}
    for start, end, keep in past_and_today(since, until, local_zone()):
        if keep:
            key = ("rates", database_of(session), start, end, scope.key())
            part = PAST_DAYS.get(key, partial(_counts, session, start, end, scope))
        else:
            part = _counts(session, start, end, scope)
        for unit, numbers in part.items():
            into = total.setdefault(unit, [0] * len(COUNTS))
            for i, n in enumerate(numbers):
                into[i] += n
    return total


def unit_rates(session: Session, day: date, scope: Scope | None = None) -> dict[str, Any]:
    """On-time, satisfaction and reopen rates over the 30 days ending on ``day``: the
    whole scope's and each unit's (units with nothing due or closed are left out)."""
    scope = scope or Scope()
    since, until = rate_window(day)
    units = names(session, "SELECT code, name, name_en, kind FROM units")
    total = dict.fromkeys(COUNTS, 0)
    per_unit = []
    for unit, numbers in window_counts(session, since, until, scope).items():
        counts = dict(zip(COUNTS, numbers, strict=True))
        for k, n in counts.items():
            total[k] += n
        name = units.get(unit or "", (None, None, None))
        per_unit.append(
            {
                "code": unit,
                "name": name[0],
                "name_en": name[1],
                "kind": name[2],
                **_with_rates(counts),
            }
        )
    per_unit.sort(key=lambda u: (-u["due"], -u["closed"], u["code"] or ""))
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "days": RATE_DAYS,
        **_with_rates(total),
        "units": per_unit,
    }
