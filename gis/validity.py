"""When a row counts, now or as of a time (``:at``): the one place for both rules.

Boundaries (districts, streets, communities, grids) carry a validity interval
``[valid_from, valid_to)``; the current row has no ``valid_to``. Facilities carry
their time in service: current while active and not retired, and as of ``:at``
when created by then and not retired before it. Each function gives the SQL
condition for a table alias (or none) and whether a time ``:at`` is bound.
"""

from __future__ import annotations


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


def facility_in_service(alias: str | None, dated: bool) -> str:
    """Facilities in service now, or at ``:at``."""
    p = _prefix(alias)
    if not dated:
        return f"({p}active AND {p}retired_at IS NULL)"
    return f"({p}created_at <= :at AND ({p}retired_at IS NULL OR {p}retired_at > :at))"
