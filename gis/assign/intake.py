"""Coordinate checks on intake (坐标校验): every way in (locate, incidents, bulk) uses these.

In order: the crs must be known; lon/lat must be finite; a point whose lon and
lat look swapped (swapping them lands inside the city) is refused saying so;
values must be in range; GCJ-02 / BD-09 / projected inputs are converted to
CGCS2000; and, given an assigner, a point farther than
``service_area_margin_m`` outside every district is refused as outside the
service area.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gis.assign.engine import Assigner
from gis.coords import CRS_NAMES, normalize_crs, to_storage
from gis.errors import InvalidInput
from gis.settings import get_settings

Floats = NDArray[np.float64]


def _problem(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, field=field)


def normalize_points(
    lon: ArrayLike, lat: ArrayLike, crs: str, assigner: Assigner | None = None
) -> tuple[Floats, Floats, NDArray[np.object_]]:
    """Vectorised intake: CGCS2000 lon/lat and, per point, ``None`` or the InvalidInput refusing it.

    Refused points come back as NaN. ``crs`` errors raise at once (they concern every point).
    """
    name = normalize_crs(crs)
    x = np.ascontiguousarray(lon, dtype=np.float64).ravel()
    y = np.ascontiguousarray(lat, dtype=np.float64).ravel()
    problems = np.full(len(x), None, dtype=object)

    def refuse(mask: NDArray[np.bool_], field: str, message: str) -> None:
        if not mask.any():
            return
        for i in np.flatnonzero(mask & (problems == None)):  # noqa: E711 (element-wise)
            problems[i] = _problem(field, message.format(lon=x[i], lat=y[i]))

    refuse(~np.isfinite(x), "lon", "lon must be a finite number, got {lon}")
    refuse(~np.isfinite(y), "lat", "lat must be a finite number, got {lat}")
    geographic = name in CRS_NAMES
    area = assigner is not None and assigner.has_service_area
    finite = problems == None  # noqa: E711
    in_range = finite & ((np.abs(x) <= 180) & (np.abs(y) <= 90) if geographic else True)
    out_x, out_y = np.full(len(x), np.nan), np.full(len(x), np.nan)
    if in_range.any():
        out_x[in_range], out_y[in_range] = to_storage(x[in_range], y[in_range], name)
    distance = np.full(len(x), np.inf)
    if area:
        assert assigner is not None
        distance[in_range] = assigner.area_distance_m(out_x[in_range], out_y[in_range])
        # Only points not already inside the city are tried swapped (cheap for bulk intake).
        maybe = finite & (distance > 0) & (np.abs(y) <= 180) & (np.abs(x) <= 90)
        if geographic and maybe.any():
            sx, sy = to_storage(y[maybe], x[maybe], name)
            swapped = np.zeros(len(x), dtype=bool)
            swapped[maybe] = assigner.area_distance_m(sx, sy) == 0
            refuse(
                swapped,
                "lat",
                "lon and lat look swapped: lon={lon}, lat={lat} is outside the city, but "
                "swapped it falls inside; send lon (east) first, then lat",
            )
    if geographic:
        refuse(np.abs(x) > 180, "lon", "lon must be within ±180, got {lon}")
        refuse(np.abs(y) > 90, "lat", "lat must be within ±90, got {lat}")
    else:
        refuse(
            finite & ((np.abs(out_x) > 180) | (np.abs(out_y) > 90) | ~np.isfinite(out_x)),
            "lon",
            f"lon/lat outside the valid range after converting from {name}",
        )
    if area:
        assert assigner is not None
        km = assigner.area_margin_m / 1000
        refuse(
            np.isinf(distance),
            "lon",
            f"lon={{lon}}, lat={{lat}} is outside the service area (more than {km:g} km "
            "beyond every district of the city)",
        )
    bad = problems != None  # noqa: E711
    out_x[bad], out_y[bad] = np.nan, np.nan
    return out_x, out_y, problems


def normalize_point(
    lon: float, lat: float, crs: str = "cgcs2000", assigner: Assigner | None = None
) -> tuple[float, float]:
    """One point to CGCS2000 lon/lat, or InvalidInput naming the field (see the module doc)."""
    x, y, problems = normalize_points([lon], [lat], crs, assigner)
    if problems[0] is not None:
        raise problems[0]
    return float(x[0]), float(y[0])


def parse_at(value: str | None) -> datetime | None:
    """``at=`` as an ISO 8601 time; naive times are the hotline's local time. Errors name ``at``."""
    if value is None or not value.strip():
        return None
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(
            f"at must be an ISO 8601 time such as 2026-01-31T09:00:00+08:00, got {value!r}",
            field="at",
        ) from exc
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return at
