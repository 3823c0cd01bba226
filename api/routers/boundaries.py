"""GeoJSON of districts, streets, communities and grids: ``GET /api/v1/{level}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.auth import Viewer
from api.deps import EngineDep
from gis.boundaries.queries import COLLECTIONS, collection, grid_feature, parse_at, parse_bbox

router = APIRouter(prefix="/api/v1", tags=["boundaries"])
GEOJSON = "application/geo+json"

ParentQuery = Annotated[
    str | None, Query(description="An ancestor code: district, street or community.")
]
BboxQuery = Annotated[str | None, Query(description="minx,miny,maxx,maxy in lon/lat degrees.")]
AtQuery = Annotated[
    str | None, Query(description="ISO 8601 time: the boundaries valid then (default now).")
]


def _listing(level: str, plural: str) -> Callable[..., Response]:
    def endpoint(
        engine: EngineDep,
        _: Viewer,
        parent: ParentQuery = None,
        bbox: BboxQuery = None,
        at: AtQuery = None,
    ) -> Response:
        with engine.connect() as conn:
            body = collection(
                conn,
                level,
                parent=parent,
                bbox=parse_bbox(bbox) if bbox is not None else None,
                at=parse_at(at) if at is not None else None,
            )
        return Response(body, media_type=GEOJSON)

    endpoint.__name__ = f"list_{plural}"
    endpoint.__doc__ = f"The {plural} as a GeoJSON FeatureCollection."
    return endpoint


for _plural, _level in COLLECTIONS.items():
    if _level != "community":
        router.add_api_route(
            f"/{_plural}",
            _listing(_level, _plural),
            methods=["GET"],
            response_class=Response,
            responses={200: {"content": {GEOJSON: {}}}},
        )


@router.get("/communities", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def list_communities(
    engine: EngineDep,
    _: Viewer,
    parent: ParentQuery = None,
    bbox: BboxQuery = None,
    at: AtQuery = None,
    community_class: Annotated[
        str | None, Query(alias="class", description="Community class: A, B, C or D.")
    ] = None,
) -> Response:
    """The communities as a GeoJSON FeatureCollection, with their class."""
    with engine.connect() as conn:
        body = collection(
            conn,
            "community",
            parent=parent,
            bbox=parse_bbox(bbox) if bbox is not None else None,
            at=parse_at(at) if at is not None else None,
            community_class=community_class,
        )
    return Response(body, media_type=GEOJSON)


@router.get("/grids/{code}", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def get_grid(
    engine: EngineDep,
    _: Viewer,
    code: Annotated[str, Path(description="15-digit grid code.")],
    at: AtQuery = None,
) -> Response:
    """One grid as a GeoJSON Feature (404 when no grid has the code)."""
    with engine.connect() as conn:
        body = grid_feature(conn, code, parse_at(at) if at is not None else None)
    return Response(body, media_type=GEOJSON)
