"""A layer made ready for the checks of :mod:`gis.boundaries.validate`, and the measures
its defects are reported in: areas on the ground, points on the map, severities."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from gis.boundaries import CODE_LENGTH, PARENT_LEVEL, parent_code
from gis.boundaries.defects import Objects
from gis.coords import geometry_to_local

NOISE_M2 = 1e-3  # below this an overlap, gap or overhang is floating-point noise, not a sliver
POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
PLURAL = {
    "district": "districts",
    "street": "streets",
    "community": "communities",
    "grid": "grids",
    "compound": "compounds",
    "building": "buildings",
    "facility": "facilities",
}
# The unit each level sits in; places (compounds, buildings, facilities) name theirs explicitly.
PARENT_NOUN = {
    **PARENT_LEVEL,
    "compound": "community",
    "building": "community",
    "facility": "district",
}
POINT_LEVELS = ("building", "facility")


def area_m2(geoms: Any) -> NDArray[np.float64]:
    """Area on the ground in square metres (EPSG:4543, the Xining Gauss-Kruger zone)."""
    return np.asarray(shapely.area(geometry_to_local(geoms)), dtype=np.float64)


def locations(geoms: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A point on each geometry (NaN for missing or empty ones)."""
    points = np.atleast_1d(np.asarray(shapely.point_on_surface(geoms), dtype=object))
    ok = ~(shapely.is_missing(points) | shapely.is_empty(points))
    x, y = np.full(len(points), np.nan), np.full(len(points), np.nan)
    x[ok], y[ok] = shapely.get_x(points[ok]), shapely.get_y(points[ok])
    return x, y


def coordinate(value: float) -> float | None:
    """A longitude or latitude as reported: 7 decimals, None when unknown."""
    return None if not np.isfinite(value) else round(float(value), 7)


def located(geoms: Objects, areas: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """Locations of the pieces big enough to report (the others are never shown)."""
    x, y = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
    big = areas > NOISE_M2
    if big.any():
        x[big], y[big] = locations(_polygonal(np.asarray(geoms, dtype=object)[big]))
    return x, y


def _polygonal(geoms: Objects) -> Objects:
    """The polygonal part of each geometry (intersections may carry touching lines)."""
    out = geoms.copy()
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == shapely.GeometryType.GEOMETRYCOLLECTION)
    for i in mixed:  # rare: only pairs that both overlap and touch
        parts = shapely.get_parts(geoms[i])
        out[i] = shapely.union_all(parts[np.isin(shapely.get_type_id(parts), POLYGONAL)])
    return out


def format_m2(area: float) -> str:
    """An area for a message: one decimal, four below a square metre."""
    return f"{area:,.1f}" if area >= 1 else f"{area:.4f}"


def indices(mask: Any) -> list[int]:
    """Where a mask is true, as Python ints."""
    return [int(i) for i in np.flatnonzero(mask)]


def severity_of(kind: str, area: float, tolerance: float) -> str | None:
    """Severity of an area defect: error above the sliver tolerance, warning below, else none."""
    if area > tolerance:
        return "error"
    if area > NOISE_M2:
        return "warning"
    return None


@dataclass(frozen=True)
class CheckedLayer:
    """The units being checked, with what every check needs worked out once."""

    level: str
    tolerance: float
    codes: Objects
    geoms: Objects  # as given
    rows: NDArray[np.int_]  # 1-based feature numbers
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    points: bool  # a point level (buildings, facilities)
    missing: NDArray[np.bool_]
    polygonal: NDArray[np.bool_]  # present and of the level's geometry type
    flat: Objects  # the polygonal geometries in 2-D, as given (None for the others)
    valid: NDArray[np.bool_]
    fixed: Objects  # flat, invalid ones made valid
    usable: NDArray[np.bool_]  # polygonal and not empty once made valid
    well_formed: NDArray[np.bool_]  # the code has the level's format
    derived: Objects  # the parent code each unit belongs to ("" when none)

    @classmethod
    def of(
        cls,
        level: str,
        codes: Sequence[str] | Objects,
        geoms: Sequence[Any] | Objects,
        rows: Sequence[int] | None,
        parent_of: Sequence[str] | Objects | None,
        tolerance: float,
    ) -> CheckedLayer:
        code_arr = np.array(["" if c is None else str(c) for c in codes], dtype=object)
        geom_arr = np.asarray(geoms, dtype=object)
        n = len(code_arr)
        points = level in POINT_LEVELS
        wanted = (shapely.GeometryType.POINT,) if points else POLYGONAL
        missing = shapely.is_missing(geom_arr) | shapely.is_empty(geom_arr)
        polygonal = np.isin(shapely.get_type_id(geom_arr), wanted) & ~missing
        flat = np.full(n, None, dtype=object)
        flat[polygonal] = shapely.force_2d(geom_arr[polygonal])
        valid = np.zeros(n, dtype=bool)
        valid[polygonal] = shapely.is_valid(flat[polygonal])
        fixed = flat.copy()
        for i in indices(polygonal & ~valid):
            fixed[i] = shapely.make_valid(flat[i], method="structure")
        usable = polygonal.copy()
        usable[polygonal] = ~shapely.is_empty(fixed[polygonal])
        pattern = re.compile(
            rf"[0-9]{{{CODE_LENGTH[level]}}}" if level in CODE_LENGTH else r"\S{1,24}"
        )
        if parent_of is not None:
            derived = np.array(["" if p is None else str(p) for p in parent_of], dtype=object)
        else:
            derived = np.array(
                [parent_code(c, level) if level in PARENT_LEVEL else "" for c in code_arr],
                dtype=object,
            )
        lon, lat = locations(geom_arr)
        return cls(
            level=level,
            tolerance=tolerance,
            codes=code_arr,
            geoms=geom_arr,
            rows=np.asarray(rows if rows is not None else np.arange(1, n + 1)),
            lon=lon,
            lat=lat,
            points=points,
            missing=missing,
            polygonal=polygonal,
            flat=flat,
            valid=valid,
            fixed=fixed,
            usable=usable,
            well_formed=np.array([bool(pattern.fullmatch(c)) for c in code_arr], dtype=bool),
            derived=derived,
        )

    def at(self, i: Any) -> dict[str, Any]:
        """Where unit ``i`` is: its location and its feature number."""
        return {
            "lon": coordinate(self.lon[i]),
            "lat": coordinate(self.lat[i]),
            "rows": (int(self.rows[i]),),
        }
