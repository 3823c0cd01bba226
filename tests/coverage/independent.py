"""An independent reference for coverage figures: pyproj geodesic distances and areas,
Shapely in lon/lat, nothing from ``gis.coverage``."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from sqlalchemy import Engine, text

GEOD = Geod(ellps="WGS84")  # deliberately not the CGCS2000 parameters used by the product


def facilities(engine: Engine, kind: str) -> np.ndarray:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT ST_X(geom), ST_Y(geom), service_radius_m FROM facilities"
                " WHERE active AND type = :t"
            ),
            {"t": kind},
        ).all()
    return np.asarray(rows, dtype=float).reshape(-1, 3)


def hits(fac: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """How many circles hold each point, by true geodesic distance."""
    count = np.zeros(lon.size, dtype=int)
    for x, y, r in fac:
        _, _, d = GEOD.inv(np.full(lon.size, x), np.full(lon.size, y), lon, lat)
        count += np.asarray(d) <= r
    return count


def circles(fac: np.ndarray, vertices: int = 720) -> list[Any]:
    out = []
    for x, y, r in fac:
        az = np.linspace(0.0, 360.0, vertices, endpoint=False)
        lon, lat, _ = GEOD.fwd(np.full(vertices, x), np.full(vertices, y), az, np.full(vertices, r))
        out.append(shapely.Polygon(np.column_stack([lon, lat])))
    return out


def geodesic_area(geom: Any) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) if not geom.is_empty else 0.0


def unit_geometry(engine: Engine, table: str, code: str | None) -> Any:
    sql = f"SELECT ST_AsBinary(ST_Union(geom)) FROM {table} WHERE valid_to IS NULL"
    params = {}
    if code is not None:
        sql += " AND code = :c"
        params["c"] = code
    with engine.connect() as conn:
        return shapely.from_wkb(bytes(conn.execute(text(sql), params).scalar_one()))


def reference(engine: Engine, kind: str, table: str, code: str | None, days: int) -> dict[str, Any]:
    """Shares of area, residents, households, elderly and incidents covered, computed afresh."""
    fac = facilities(engine, kind)
    region = unit_geometry(engine, table, code)
    union = shapely.union_all(circles(fac))
    level_len = {"districts": 6, "streets": 9, "communities": 12}[table]
    where = f" AND left(community_code, {level_len}) = :c" if code else ""
    with engine.connect() as conn:
        b = np.asarray(
            conn.execute(
                text(
                    "SELECT ST_X(geom), ST_Y(geom), residents, households, elderly_residents"
                    " FROM buildings WHERE TRUE" + where
                ),
                {"c": code},
            ).all(),
            dtype=float,
        )
        i = np.asarray(
            conn.execute(
                text(
                    "SELECT ST_X(geom), ST_Y(geom) FROM incidents"
                    " WHERE received_at >= now() - make_interval(days => :d)"
                    + (
                        f" AND left(coalesce(community_code, district_code), {level_len}) = :c"
                        if code
                        else ""
                    )
                ),
                {"c": code, "d": days},
            ).all(),
            dtype=float,
        ).reshape(-1, 2)
    bh = hits(fac, b[:, 0], b[:, 1])
    ih = hits(fac, i[:, 0], i[:, 1])
    total_area = geodesic_area(region)
    return {
        "area": geodesic_area(shapely.intersection(region, union)) / total_area,
        "residents": b[bh >= 1, 2].sum() / b[:, 2].sum(),
        "households": b[bh >= 1, 3].sum() / b[:, 3].sum(),
        "elderly_residents": b[bh >= 1, 4].sum() / b[:, 4].sum(),
        "residents_twice": b[bh >= 2, 2].sum() / b[:, 2].sum(),
        "incidents": (ih >= 1).sum() / max(len(i), 1),
        "incident_count": len(i),
        "per_facility_residents": [
            b[hits(fac[j : j + 1], b[:, 0], b[:, 1]) >= 1, 2].sum() for j in range(len(fac))
        ],
    }
