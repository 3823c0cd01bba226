"""``GET /api/v1/locate``: which grid, community, street, district, station and party branch
a point belongs to (定位归属), now or as of ``at``."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.auth import Viewer
from api.deps import ReadEngineDep, SettingsDep
from gis.assign import assigner_at
from gis.assign.cache import fresh_assigner
from gis.assign.intake import normalize_point, parse_at

router = APIRouter(prefix="/api/v1", tags=["locate"])


class UnitOut(BaseModel):
    code: str
    name: str


class StationOut(BaseModel):
    id: int
    code: str
    name: str
    distance_m: float
    within_radius: bool


class BranchOut(BaseModel):
    id: int
    name: str
    kind: str


class LocateOut(BaseModel):
    match: str
    distance_m: float
    grid: UnitOut | None
    community: UnitOut | None
    street: UnitOut | None
    district: UnitOut | None
    station: StationOut | None
    party_branch: BranchOut | None
    boundary_version: int | None


@router.get(
    "/locate",
    response_class=Response,
    responses={200: {"model": LocateOut, "description": "The point's assignment"}},
)
async def locate(
    _: Viewer,
    engine: ReadEngineDep,
    settings: SettingsDep,
    lon: Annotated[float, Query(description="Longitude (east), in `crs`")],
    lat: Annotated[float, Query(description="Latitude (north), in `crs`")],
    crs: Annotated[
        str, Query(description="wgs84, cgcs2000, gcj02 (Amap, WeChat), bd09 (Baidu) or EPSG:<code>")
    ] = "cgcs2000",
    at: Annotated[
        str | None, Query(description="Answer as of this ISO 8601 time (local time if naive)")
    ] = None,
) -> Response:
    """Assign a point under the rules of ``gis.assign``: ``match`` is inside, boundary (on a
    shared edge: the smallest grid code), snapped (within the snap tolerance; ``distance_m``
    on the ground) or outside. Distances are metres on the ground."""
    when = parse_at(at)
    # The cached snapshot answers in the event loop; loading or re-checking one touches
    # the database, so that goes to the thread pool.
    assigner = fresh_assigner(engine, settings) if when is None else None
    if assigner is None:
        # A slow load is not waited out: the previous snapshot answers meanwhile.
        patience = settings.assign_stale_wait_ms / 1000
        assigner = await run_in_threadpool(
            partial(assigner_at, engine, when, settings, patience_s=patience)
        )
    x, y = normalize_point(lon, lat, crs, assigner)
    body = assigner.locate(x, y).as_dict()
    return Response(orjson.dumps(body), media_type="application/json")
