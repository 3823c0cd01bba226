"""The app as served, plus two peer endpoints for the locate benchmark (never in the product).

- ``/bench/noop``: the same stack (middleware, auth dependency) answering a constant,
  the floor any endpoint pays.
- ``/bench/intersects``: the same stack answering the grid of a point with a plain
  PostGIS ``ST_Intersects`` query, the way a service without an in-memory engine would.

``uvicorn --factory tests.bench.locate_app:create`` with ``WANGGE_DATABASE_URL`` set.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from api.app import create_app
from api.auth import Viewer
from api.deps import EngineDep

GRID_SQL = text(
    "SELECT code, name, community_code, street_code, district_code FROM grids"
    " WHERE valid_to IS NULL AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490))"
    " ORDER BY code LIMIT 1"
)


def create() -> FastAPI:
    app = create_app()

    @app.get("/bench/noop")
    def noop(_: Viewer, lon: float, lat: float) -> dict[str, Any]:
        return {"lon": lon, "lat": lat}

    @app.get("/bench/intersects")
    def intersects(_: Viewer, engine: EngineDep, lon: float, lat: float) -> dict[str, Any]:
        with engine.connect() as conn:
            row = conn.execute(GRID_SQL, {"x": lon, "y": lat}).first()
        return {"grid": None if row is None else dict(row._mapping)}

    return app
