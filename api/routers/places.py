"""``GET /api/v1/places/search``: places by code, name or pinyin initials (地名检索)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api.auth import Viewer
from api.deps import EngineDep
from gis.places import parse_query, search
from gis.places.search import DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY_CHARS

router = APIRouter(prefix="/api/v1/places", tags=["places"])


class PlaceOut(BaseModel):
    kind: str
    code: str
    name: str
    district: str | None
    street: str | None
    community: str | None
    label: str
    point: tuple[float, float]
    bbox: tuple[float, float, float, float]


class PlacesOut(BaseModel):
    items: list[PlaceOut]


@router.get(
    "/search",
    response_class=Response,
    responses={200: {"model": PlacesOut, "description": "The best matches, best first"}},
)
def search_places(
    _: Viewer,
    engine: EngineDep,
    q: Annotated[
        str | None,
        Query(
            description=f"A code (or its beginning), part of a name, or its pinyin initials or"
            f" spelling (`wsx` finds 五四巷); 1 to {MAX_QUERY_CHARS} characters"
        ),
    ] = None,
    kind: Annotated[
        str | None,
        Query(
            description="Only these kinds, comma-separated: district, street, community,"
            " grid, compound, facility"
        ),
    ] = None,
    limit: Annotated[int | None, Query(description=f"At most this many (1 to {MAX_LIMIT})")] = (
        DEFAULT_LIMIT
    ),
) -> Response:
    """Current districts, streets, communities, grids, compounds and facilities in service,
    each with the names of the units above it, a point inside it and its bounding box
    (CGCS2000 lon/lat)."""
    query = parse_query(q, kind, limit)
    with engine.connect() as conn:
        places = search(conn, query)
    body = {"items": [p.as_dict() for p in places]}
    return Response(orjson.dumps(body), media_type="application/json")
