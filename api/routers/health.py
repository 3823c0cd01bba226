"""``GET /health``: database reachable, PostGIS version, boundary version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import EngineDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(engine: EngineDep) -> dict[str, Any]:
    with engine.connect() as conn:
        postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
        version = conn.execute(text("SELECT max(id) FROM boundary_versions")).scalar_one_or_none()
    return {
        "status": "ok",
        "database": "reachable",
        "postgis_version": postgis,
        "boundary_version": version,
    }
