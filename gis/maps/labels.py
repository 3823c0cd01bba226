"""Label points of the boundary levels (地名标注): a point inside each unit with its name and code.

The map pages fetch these and draw names by zoom: districts when the city is in view, then
streets, communities, and grid codes close in. The point is ``ST_PointOnSurface`` (always
inside the polygon; a centroid may fall outside a crescent or into a neighbour).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from gis.coords import from_storage
from gis.errors import InvalidInput
from gis.validity import boundary_valid

# Each level, from the largest unit down; the tables share their columns.
LEVELS = ("districts", "streets", "communities", "grids")
# Labels of one answer at most: a view of grids is far fewer, a city's communities too.
MAX_LABELS = 20000


def parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat`` in CGCS2000 degrees, or none for the whole city."""
    if bbox is None or bbox == "":
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
    except ValueError:
        raise InvalidInput("bbox must be minlon,minlat,maxlon,maxlat", field="bbox") from None
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise InvalidInput("bbox must be minlon,minlat,maxlon,maxlat in degrees", field="bbox")
    return x0, y0, x1, y1


def check_level(level: str) -> str:
    """``level`` when it has labels; refused (naming the field) otherwise."""
    if level not in LEVELS:
        raise InvalidInput(f"level must be one of {', '.join(LEVELS)}", field="level")
    return level


def _sql(level: str, dated: bool, boxed: bool) -> str:
    box = " AND t.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)" if boxed else ""
    inside = " WHERE p && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)" if boxed else ""
    return (
        "SELECT code, name, ST_X(p), ST_Y(p) FROM ("
        f" SELECT t.code, t.name, ST_PointOnSurface(t.geom) AS p FROM {level} t"
        f" WHERE {boundary_valid('t', dated)}{box}) q{inside}"
        f" ORDER BY code LIMIT {MAX_LABELS}"
    )


_STATEMENTS = {
    (level, dated, boxed): text(_sql(level, dated, boxed))
    for level in LEVELS
    for dated in (False, True)
    for boxed in (False, True)
}


def labels(
    conn: Connection,
    level: str,
    bbox: tuple[float, float, float, float] | None,
    at: datetime | None,
    gcj02: bool = False,
) -> list[list[Any]]:
    """``[code, name, lon, lat]`` of each unit of ``level`` (valid at ``at``, or now) whose
    label point lies in ``bbox``; on a GCJ-02 basemap the points are moved onto it."""
    check_level(level)
    params: dict[str, object] = {"at": at}
    if bbox is not None:
        params.update(zip(("x0", "y0", "x1", "y1"), bbox, strict=True))
    rows = conn.execute(_STATEMENTS[(level, at is not None, bbox is not None)], params).all()
    if not rows:
        return []
    lon = np.array([r[2] for r in rows])
    lat = np.array([r[3] for r in rows])
    if gcj02:
        lon, lat = from_storage(lon, lat, "gcj02")
    return [
        [r[0], r[1], round(float(x), 6), round(float(y), 6)]
        for r, x, y in zip(rows, lon, lat, strict=True)
    ]
