"""Duplicates (重复诉求): reports of the same category near the same place, recently.

A report is a candidate duplicate of another when both have the same category, lie
within the category's radius on the ground (``similar_radius_m``, 250 m by default), and
the other is open or was closed within the category's window (``similar_days``, 7 days by
default). Duplicates already merged into another incident are left out: their original
answers for them. Nearest first, then newest; at most :data:`LIMIT`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.assign.metric import metres_per_degree
from gis.errors import NotFound
from gis.incidents.records import categories, check_category
from gis.models import IncidentCategory

LIMIT = 10

# The bounding box (in degrees, from the metres per degree at the point) finds
# candidates by the GiST index; the geodesic distance then decides.
SIMILAR_SQL = text(
    """
SELECT i.id, i.status, i.category_code, i.received_at, i.closed_at, i.description,
       i.address, i.unit_code, i.grid_code, i.merged_into,
       ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
       ST_Distance(i.geom::geography, p.pt::geography) AS distance_m
FROM incidents i,
     (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4490) AS pt) p
WHERE i.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)
  AND i.category_code = :category
  AND i.merged_into IS NULL
  AND i.id IS DISTINCT FROM :exclude
  AND (i.status <> 'closed' OR i.closed_at >= :since)
  AND ST_DWithin(i.geom::geography, p.pt::geography, :radius)
ORDER BY distance_m, i.received_at DESC, i.id DESC
LIMIT :limit
"""
)


def _window(session: Session, category_code: str) -> tuple[float, int]:
    check_category(categories(session), category_code)
    category = session.get(IncidentCategory, category_code)
    assert category is not None
    return float(category.similar_radius_m), int(category.similar_days)


def similar_at(
    session: Session,
    lon: float,
    lat: float,
    category_code: str,
    exclude: int | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Candidate duplicates of a report of ``category_code`` at CGCS2000 ``lon``/``lat``."""
    radius, days = _window(session, category_code)
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    per_x, per_y = metres_per_degree(lat)
    dx, dy = radius / float(per_x) * 1.01, radius / float(per_y) * 1.01
    rows = session.execute(
        SIMILAR_SQL,
        {
            "lon": lon,
            "lat": lat,
            "x0": lon - dx,
            "y0": lat - dy,
            "x1": lon + dx,
            "y1": lat + dy,
            "category": category_code,
            "exclude": exclude,
            "since": since,
            "radius": radius,
            "limit": LIMIT,
        },
    ).mappings()
    return [_candidate(r) for r in rows]


def similar_to(session: Session, incident_id: int) -> list[dict[str, Any]]:
    """Candidate duplicates of a stored incident (itself left out)."""
    row = session.execute(
        text(
            "SELECT category_code, ST_X(geom) AS lon, ST_Y(geom) AS lat, received_at"
            " FROM incident_reports WHERE id = :id"
        ),
        {"id": incident_id},
    ).one_or_none()
    if row is None:
        raise NotFound(f"no incident with id {incident_id}", field="id")
    return similar_at(session, row.lon, row.lat, row.category_code, exclude=incident_id)


def _candidate(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"],
        "status": r["status"],
        "category_code": r["category_code"],
        "received_at": r["received_at"].isoformat(),
        "closed_at": r["closed_at"].isoformat() if r["closed_at"] else None,
        "description": r["description"],
        "address": r["address"],
        "unit_code": r["unit_code"],
        "grid_code": r["grid_code"],
        "lon": float(r["lon"]),
        "lat": float(r["lat"]),
        "distance_m": round(float(r["distance_m"]), 1),
    }
