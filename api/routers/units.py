"""``GET /api/v1/units``: the responsible units (责任单位) a case may be dispatched to, and
``GET /api/v1/categories``: the category table with default units and pinyin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import Viewer
from api.deps import SessionDep
from gis.incidents.categories import list_categories
from gis.incidents.units import MAX_LIMIT, UnitQuery, list_units

router = APIRouter(prefix="/api/v1", tags=["units"])


@router.get("/units")
def units(
    session: SessionDep,
    _: Viewer,
    kind: Annotated[
        str | None, Query(description="department, street_office, community or station")
    ] = None,
    district: Annotated[
        str | None,
        Query(description="units of this district (6 digits) and the city-wide ones"),
    ] = None,
    street: Annotated[str | None, Query(description="units of this street (9 digits)")] = None,
    q: Annotated[str | None, Query(max_length=60, description="part of a code or name")] = None,
    limit: Annotated[int, Query(description=f"at most this many (1 to {MAX_LIMIT})")] = 1000,
) -> dict[str, Any]:
    """Active units: departments first, then street offices, communities and stations."""
    query = UnitQuery(kind=kind, district=district, street=street, q=q, limit=limit)
    return {"items": list_units(session, query)}


@router.get("/categories")
def categories(session: SessionDep, _: Viewer) -> dict[str, Any]:
    """Active categories (诉求分类) with names, default unit, due days, and the pinyin
    initials and spelling of the Chinese name (for typing ``zyrm`` to pick 噪音扰民)."""
    return {"items": list_categories(session)}
