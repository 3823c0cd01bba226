"""``GET /health``: database reachable, PostGIS version, boundary version, and which node
this is (``role``: primary or standby) with its replication lag in seconds.

When PostGIS cannot be reached the answer is 503 with ``database: unreachable`` and
Retry-After, so a load balancer or supervisor sees the fault; it turns back to 200 by
itself once the database returns (the pool pre-pings and reconnects).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import EngineDep
from api.errors import RETRY_AFTER_S, is_unreachable
from gis.replication import replication_status

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    responses={503: {"description": "The database is unreachable; retry after a few seconds."}},
)
def health(engine: EngineDep) -> Any:
    try:
        with engine.connect() as conn:
            postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
            version = conn.execute(
                text("SELECT max(id) FROM boundary_versions")
            ).scalar_one_or_none()
            replication = replication_status(conn)
    except SQLAlchemyError as exc:
        if not is_unreachable(exc):
            raise
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "unreachable",
                "error": "database is unavailable; try again shortly",
            },
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    body: dict[str, Any] = {
        "status": "ok",
        "database": "reachable",
        "postgis_version": postgis,
        "boundary_version": version,
        "role": replication.role,
        "replication_lag_s": replication.lag_s,
        "standbys": replication.standbys,
    }
    return body
