"""When a row counts, now or as of a time (``:at``): the one place for both rules.

Boundaries (districts, streets, communities, grids) carry a validity interval
``[valid_from, valid_to)``; the current row has no ``valid_to``. Facilities carry
their time in service: current while active and not retired, and as of ``:at``
when created by then and not retired before it. The plain functions give the SQL
condition for a table alias (or none) and whether a time ``:at`` is bound; the
``*_clause`` functions give the same condition as a SQLAlchemy expression on a model.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, or_

if TYPE_CHECKING:
    from gis.models.boundaries import VersionedBoundary
    from gis.models.places import Facility


def _prefix(alias: str | None) -> str:
    return f"{alias}." if alias else ""


def boundary_valid(alias: str | None, dated: bool) -> str:
    """Boundary rows current now, or valid at ``:at`` (two plain forms so the planner can
    use the indexes on ``valid_to``)."""
    p = _prefix(alias)
    current = f"{p}valid_to IS NULL"
    if not dated:
        return current
    return f"({p}valid_from <= :at AND ({current} OR {p}valid_to > :at))"


def boundary_current(alias: str | None = None) -> str:
    """Boundary rows current now: :func:`boundary_valid` with no time bound."""
    return boundary_valid(alias, False)


def boundary_closed_by(alias: str | None) -> str:
    """Boundary rows closed by ``:at`` (no longer valid at it: the interval is half-open)."""
    return f"{_prefix(alias)}valid_to <= :at"


def boundary_valid_clause(
    model: type[VersionedBoundary], at: datetime | None = None
) -> ColumnElement[bool]:
    """:func:`boundary_valid` on a model: its rows current now, or valid at ``at``."""
    current = model.valid_to.is_(None)
    if at is None:
        return current
    return and_(model.valid_from <= at, or_(current, model.valid_to > at))


def facility_in_service(alias: str | None, dated: bool) -> str:
    """Facilities in service now, or at ``:at``."""
    p = _prefix(alias)
    if not dated:
        return f"({p}active AND {p}retired_at IS NULL)"
    return f"({p}created_at <= :at AND ({p}retired_at IS NULL OR {p}retired_at > :at))"


def facility_in_service_clause(
    model: type[Facility], at: datetime | None = None
) -> ColumnElement[bool]:
    """:func:`facility_in_service` on the facility model: in service now, or at ``at``."""
    if at is None:
        return and_(model.active.is_(True), model.retired_at.is_(None))
    return and_(model.created_at <= at, or_(model.retired_at.is_(None), model.retired_at > at))
