"""Coverage (覆盖): ``GET /api/v1/coverage`` statistics and ``POST /api/v1/coverage/siting``."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.auth import Planner, Viewer
from api.deps import EngineDep
from gis.coverage.siting import SitingRequest, site
from gis.coverage.stats import coverage_stats
from gis.models import STATION

router = APIRouter(prefix="/api/v1/coverage", tags=["coverage"])


def _json(body: object) -> Response:
    # orjson: the uncovered polygons of a whole city are large; serialise them fast.
    return Response(
        orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json"
    )


@router.get("")
def coverage(
    engine: EngineDep,
    _: Viewer,
    type: str = Query("enforcement_station", description="enforcement_station or elderly_canteen"),
    district: str | None = None,
    street: str | None = None,
    community: str | None = None,
    days: int = Query(30, description="Incidents of the last N days (1..366)"),
    uncovered: bool = Query(True, description="Include the uncovered areas as GeoJSON"),
) -> Response:
    """Share of area, residents, households, elderly and recent incidents inside active circles.

    Also the area covered twice or more, the uncovered areas (GeoJSON polygons, CGCS2000
    lon/lat) and each serving facility's load (residents, incidents per day, per staff).
    For elderly canteens the headline ``population`` counts residents aged 60+.
    """
    return _json(
        coverage_stats(engine, type, district, street, community, days, with_uncovered=uncovered)
    )


class SitingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    district: str = Field(pattern=r"^\d{6}$", description="6-digit district code")
    k: int | None = Field(
        default=None,
        description="How many sites; default 1 (add) or the district's count (relocate)",
    )
    type: str = STATION
    objective: str = Field(
        "residents", description="residents, households, elderly_residents or incidents"
    )
    candidates: str = Field("lattice", description="lattice or grid_centroids")
    spacing_m: float = Field(250.0, description="Lattice spacing in metres")
    mode: str = Field("add", description="add new sites, or relocate the district's existing ones")
    exact: bool = Field(False, description="Also solve exactly (PuLP + CBC) and compare")
    days: int = 30
    service_radius_m: float | None = None
    time_limit_s: float = Field(120.0, description="Cap on the exact solver's time")


@router.post("/siting")
async def siting(body: SitingIn, engine: EngineDep, _: Planner) -> Response:
    """Suggest where k facilities should go to cover the most demand; nothing is written."""
    req = SitingRequest(**body.model_dump())
    return _json(await run_in_threadpool(site, engine, req))
