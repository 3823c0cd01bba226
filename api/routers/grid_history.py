"""``GET /api/v1/grids/{code}/history``: every version of a grid (网格沿革)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from api.auth import Viewer
from api.deps import SessionDep
from gis.editing import grid_history

router = APIRouter(prefix="/api/v1/grids", tags=["boundaries"])


@router.get("/{code}/history")
def history(
    session: SessionDep,
    _: Viewer,
    code: str = Path(pattern=r"^[0-9]{15}$"),
    geometry: bool = False,
) -> dict[str, Any]:
    """All versions of a grid code, oldest first, with their validity and the edits
    that opened and closed them; ``geometry=true`` adds each outline."""
    return grid_history(session, code, geometry)
