"""Facility kinds (设施类型) and their service radius: the checks shared by facility edits,
the place importer and coverage analysis."""

from __future__ import annotations

from gis.errors import InvalidInput
from gis.models import FACILITY_TYPES, STATION
from gis.settings import Settings, get_settings

MAX_RADIUS_M = 50_000.0


def check_type(kind: str) -> str:
    if kind not in FACILITY_TYPES:
        raise InvalidInput(
            f"unknown facility type {kind!r}; use one of {', '.join(FACILITY_TYPES)}", field="type"
        )
    return kind


def default_radius_m(kind: str, settings: Settings | None = None) -> float:
    s = settings or get_settings()
    return s.station_radius_m if check_type(kind) == STATION else s.canteen_radius_m


def check_radius(radius_m: float) -> float:
    value = float(radius_m)
    if not value == value or value <= 0 or value > MAX_RADIUS_M:  # NaN fails the first test
        raise InvalidInput(
            f"service_radius_m must be > 0 and ≤ {MAX_RADIUS_M:,.0f} m, got {radius_m}",
            field="service_radius_m",
        )
    return value
