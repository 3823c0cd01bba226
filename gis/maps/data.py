"""What the map pages draw, read from PostGIS as GeoJSON, as of a time (``at``) or now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, text

from gis.errors import NotFound
from gis.validity import boundary_current, boundary_valid, facility_in_service

# Degrees of simplification of the uncovered area (see ``uncovered``).
UNCOVERED_TOLERANCE = 0.0001


def _valid(alias: str, at: datetime | None) -> str:
    return boundary_valid(alias, at is not None)


def _facility_valid(at: datetime | None) -> str:
    return facility_in_service("f", at is not None)


def bounds(conn: Connection, at: datetime | None) -> tuple[float, float, float, float] | None:
    row = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
            f" (SELECT ST_Extent(geom) e FROM districts d WHERE {_valid('d', at)}) q"
        ),
        {"at": at},
    ).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def facilities(conn: Connection, kind: str, at: datetime | None) -> list[dict[str, Any]]:
    """Points and radii only: a page draws the circles itself (a polygon each is kilobytes)."""
    rows = conn.execute(
        text(
            "SELECT code, name, ST_X(geom) AS lon, ST_Y(geom) AS lat, service_radius_m,"
            " staff, seats, hours FROM facilities f"
            f" WHERE f.type = :kind AND {_facility_valid(at)} ORDER BY code"
        ),
        {"kind": kind, "at": at},
    )
    return [dict(row._mapping) for row in rows]


def uncovered(conn: Connection, kind: str, at: datetime | None) -> dict[str, Any]:
    """The part of the city outside every active circle of ``kind``.

    Simplified to ``UNCOVERED_TOLERANCE`` (about 10 m, under a pixel up to zoom 14) and
    written to 1 m: the exact outline of a city is hundreds of kilobytes in a page.
    """
    geometry = conn.execute(
        text(
            "SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(ST_Difference("
            f"  (SELECT ST_Union(geom) FROM districts d WHERE {_valid('d', at)}),"
            "   coalesce((SELECT ST_Union(service_area) FROM facilities f"
            f"    WHERE f.type = :kind AND {_facility_valid(at)}),"
            "    'SRID=4490;POLYGON EMPTY'::geometry)), :tolerance), 5)"
        ),
        {"kind": kind, "at": at, "tolerance": UNCOVERED_TOLERANCE},
    ).scalar()
    features = []
    if geometry:
        features.append(
            {"type": "Feature", "id": 1, "geometry": orjson.loads(geometry), "properties": {}}
        )
    return {"type": "FeatureCollection", "features": features}


def incident(conn: Connection, incident_id: int) -> dict[str, Any]:
    """One incident with its units, station and party branch, personal data included.

    Units are read at the boundary version the incident was assigned under.
    """
    row = conn.execute(
        text(
            """
SELECT i.id, i.external_id, i.channel, i.category_code, c.name_zh AS category_zh,
       c.name_en AS category_en, c.handling_unit, i.description, i.address, i.status,
       i.received_at, i.due_at, i.match, i.distance_m, i.reporter_name, i.reporter_phone,
       ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat, i.grid_code, i.community_code, i.street_code,
       i.district_code, i.station_distance_m, i.station_within_radius, i.received_at AS at
FROM incidents i JOIN incident_categories c ON c.code = i.category_code
WHERE i.id = :id
"""
        ),
        {"id": incident_id},
    ).first()
    if row is None:
        raise NotFound(f"no incident {incident_id}", field="incident_id")
    out = dict(row._mapping)
    at = out.pop("at")

    def unit(table: str, code: str | None) -> dict[str, Any] | None:
        if code is None:
            return None
        # The version that held the incident when it was received, else the current one.
        hit = conn.execute(
            text(
                f"SELECT id, code, name, ST_AsGeoJSON(geom, 6) AS geometry FROM {table} u"
                f" WHERE code = :code ORDER BY {boundary_valid('u', True)} DESC,"
                f" {boundary_current('u')} DESC LIMIT 1"
            ),
            {"code": code, "at": at},
        ).first()
        if hit is None:
            return None
        m = dict(hit._mapping)
        m["geometry"] = orjson.loads(m["geometry"])
        return m

    out["grid"] = unit("grids", out["grid_code"])
    out["community"] = unit("communities", out["community_code"])
    out["street"] = unit("streets", out["street_code"])
    out["district"] = unit("districts", out["district_code"])
    station = conn.execute(
        text(
            "SELECT f.id, f.code, f.name, f.service_radius_m, f.staff, f.hours,"
            " ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat, ST_AsGeoJSON(f.service_area, 6) AS area"
            " FROM incidents i JOIN facilities f ON f.id = i.station_id WHERE i.id = :id"
        ),
        {"id": incident_id},
    ).first()
    out["station"] = None
    if station is not None:
        s = dict(station._mapping)
        s["area"] = orjson.loads(s["area"]) if s["area"] else None
        out["station"] = s
    branch = conn.execute(
        text(
            "SELECT b.id, b.name, b.kind, b.secretary, b.members FROM incidents i"
            " JOIN party_branches b ON b.id = i.party_branch_id WHERE i.id = :id"
        ),
        {"id": incident_id},
    ).first()
    out["party_branch"] = dict(branch._mapping) if branch is not None else None
    return out


def incident_ids(conn: Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The latest open incidents: id, category names, status and when received."""
    rows = conn.execute(
        text(
            "SELECT i.id, c.name_zh, c.name_en, i.status, i.received_at FROM incidents i"
            " JOIN incident_categories c ON c.code = i.category_code WHERE i.status <> 'closed'"
            " ORDER BY i.received_at DESC LIMIT :n"
        ),
        {"n": limit},
    )
    return [dict(r._mapping) for r in rows]
