"""Service circles (服务圈) on the ground: geodesic polygons and their metric twins.

A facility's circle is the set of points within its service radius measured on
the CGCS2000 ellipsoid. It is stored as a 128-vertex polygon in SRID 4490; the
chord error of that polygon is r·(1 − cos(π/128)) ≈ 0.03 % of the radius.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.coords import GEOD

VERTICES = 128


def geodesic_circles(
    lon: ArrayLike, lat: ArrayLike, radius_m: ArrayLike, vertices: int = VERTICES
) -> NDArray[Any]:
    """One polygon per centre, vertices at ``radius_m`` along geodesics, counter-clockwise."""
    lon_a = np.atleast_1d(np.asarray(lon, dtype=float))
    lat_a = np.atleast_1d(np.asarray(lat, dtype=float))
    r = np.broadcast_to(np.asarray(radius_m, dtype=float), lon_a.shape)
    n = lon_a.size
    if n == 0:
        return np.empty(0, dtype=object)
    # Decreasing azimuth walks the ring counter-clockwise (GeoJSON's exterior orientation).
    azimuth = (360.0 - np.linspace(0.0, 360.0, vertices, endpoint=False)) % 360.0
    x, y, _ = GEOD.fwd(
        np.repeat(lon_a, vertices),
        np.repeat(lat_a, vertices),
        np.tile(azimuth, n),
        np.repeat(r, vertices),
    )
    coords = np.stack([x, y], axis=-1).reshape(n, vertices, 2)
    return np.asarray(shapely.polygons(coords), dtype=object)


def refresh_service_areas(
    session: Session, ids: Sequence[int] | None = None, only_missing: bool = False
) -> int:
    """Recompute the stored circle of the given facilities (all when ``ids`` is None).

    Runs inside the caller's transaction so a facility and its circle never disagree.
    Returns how many circles were written.
    """
    where = ["TRUE"]
    params: dict[str, Any] = {}
    if ids is not None:
        if not ids:
            return 0
        where.append("id = ANY(:ids)")
        params["ids"] = list(ids)
    if only_missing:
        where.append("service_area IS NULL")
    rows = session.execute(
        text(
            "SELECT id, ST_X(geom), ST_Y(geom), service_radius_m FROM facilities WHERE "
            + " AND ".join(where)
        ),
        params,
    ).all()
    if not rows:
        return 0
    arr = np.asarray([r[1:] for r in rows], dtype=float)
    circles = geodesic_circles(arr[:, 0], arr[:, 1], arr[:, 2])
    wkb = shapely.to_wkb(circles, hex=True)
    session.execute(
        text(
            "UPDATE facilities SET service_area = ST_GeomFromWKB(decode(:wkb, 'hex'), 4490)"
            " WHERE id = :id"
        ),
        [{"id": int(r[0]), "wkb": w} for r, w in zip(rows, wkb, strict=True)],
    )
    return len(rows)
