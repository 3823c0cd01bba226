"""Hotspots (热点网格): ``GET /api/v1/hotspots``, as a JSON list or a GeoJSON map layer."""

from __future__ import annotations

from typing import Literal

import orjson
from fastapi import APIRouter, HTTPException, Query, Response

from api.auth import Viewer
from api.deps import SessionDep
from gis.incidents.hotspots import hotspot_features, hotspot_query, hotspots

router = APIRouter(prefix="/api/v1/hotspots", tags=["hotspots"])
GEOJSON = "application/geo+json"


@router.get(
    "",
    response_class=Response,
    responses={200: {"content": {"application/json": {}, GEOJSON: {}}}},
)
def hotspot_grids(
    session: SessionDep,
    who: Viewer,
    since: str | None = Query(
        None,
        description="start, ISO 8601 date or time (local time without offset); "
        "default 30 days before until",
    ),
    until: str | None = Query(None, description="end (excluded), ISO 8601; default now"),
    category: str | None = Query(None, max_length=32, description="one incident category"),
    district: str | None = Query(None, max_length=6, description="the grids of one district"),
    unit: str | None = Query(None, max_length=32, description="reports of one responsible unit"),
    format: Literal["json", "geojson"] = Query("json", description="json list or GeoJSON"),
) -> Response:
    """Per current grid, the reports received in [since, until) and their Getis-Ord Gi*
    z-score, pseudo p-value and class (hot, cold or not_significant), the hottest first.
    GeoJSON carries the hot and cold grids only, with the same properties. A unit's staff
    see the reports of their own unit."""
    if who.role == "unit":
        # A unit's staff see their own cases, as in the incident list.
        if unit is not None and unit != who.unit_code:
            raise HTTPException(403, f"a unit token sees the cases of unit {who.unit_code} only")
        unit = who.unit_code
    q = hotspot_query(session, since, until, category, district, unit)
    rows = hotspots(session, q)
    if format == "geojson":
        return Response(orjson.dumps(hotspot_features(session, rows)), media_type=GEOJSON)
    return Response(orjson.dumps(rows), media_type="application/json")
