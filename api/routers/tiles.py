"""``GET /tiles/{layer}/{z}/{x}/{y}.mvt``: Mapbox Vector Tiles for the map pages and GIS clients."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from api.auth import Viewer
from api.deps import ReadEngineDep
from gis.maps.tiles import LAYERS, etag_of, tile_server

router = APIRouter(prefix="/tiles", tags=["maps"])

MVT_TYPE = "application/vnd.mapbox-vector-tile"
# Live data: browsers may reuse a tile briefly, then revalidate with its ETag.
MAX_AGE_S = {"incidents": 15}
DEFAULT_MAX_AGE_S = 60
PAST_MAX_AGE_S = 3600


def as_utc(at: datetime | None) -> datetime | None:
    if at is not None and at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses={200: {"content": {MVT_TYPE: {}}, "description": "A Mapbox Vector Tile."}},
)
def tile(
    layer: str,
    z: int,
    x: int,
    y: int,
    request: Request,
    engine: ReadEngineDep,
    _: Viewer,
    at: datetime | None = None,
    shift: str | None = None,
) -> Response:
    """One tile of ``districts``, ``streets``, ``communities``, ``grids``, ``compounds``,
    ``facilities`` or ``incidents``.

    ``at`` answers as of that time (boundaries valid then, incidents received by then).
    Incidents below zoom 13 come as counted cells (``cluster``, ``count``, ``open_count``).
    ``shift=gcj02`` places features for GCJ-02 basemaps (Amap, Tencent).
    """
    at = as_utc(at)
    server = tile_server(engine.url.render_as_string(hide_password=False))
    data = server.render(layer, z, x, y, at, shift)
    etag = etag_of(data)
    # Past boundaries never change; incidents' statuses do, so they keep the short age.
    past = at is not None and at < datetime.now(UTC) and LAYERS[layer].versioned
    max_age = PAST_MAX_AGE_S if past else MAX_AGE_S.get(layer, DEFAULT_MAX_AGE_S)
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}, must-revalidate"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(content=data, media_type=MVT_TYPE, headers=headers)
