"""``/api/v1/field``: what a grid worker's field page (/field) reads (网格员).

A grid worker's token (role ``grid_worker``) names its grids; these answer for them.
Every other role gets 403 on ``/me`` and ``/tasks``; dispatchers and above may read
``/area`` for grids they name (``?grid=CODE``, repeatable). ``lang`` (zh, en) picks the
words of statuses and categories. Times are ISO 8601 with their offset; positions are
CGCS2000 longitude/latitude (GeoJSON order).

- ``GET /api/v1/field/me`` → ``{"name", "role", "grids": [{"code", "name",
  "community_code", "community_name", "worker_name"}]}``: ``name`` is the token's holder,
  ``worker_name`` each grid's worker on record (网格员名册).
- ``GET /api/v1/field/area`` → a GeoJSON FeatureCollection: the grids
  (``properties.kind = "grid"``: code, name, community_code, community_name,
  worker_name, grid_kind, households, residents), the compounds (小区) overlapping them
  (``"compound"``: id, code, name, housing_type, households, residents), the buildings
  (楼栋) in them (``"building"``: id, code, compound_id, households, residents) and
  their open incidents, newest first (``"incident"``: id, grid_code, category_code,
  category_name, status, status_name (in words), received_at, due_at,
  verification_pending).
- ``GET /api/v1/field/tasks`` → ``{"verifications": [...], "incidents": [...]}``:
  verifications (核查) waiting for me, oldest asked first, each ``{"request_id",
  "incident_id", "asked_at", "asked_by", "note", "grid_code", "category_code",
  "category", "status", "status_name", "description", "address", "lon", "lat",
  "reply", "replied_at", "unit_code", "unit_name", "reporter_name",
  "reporter_phone"}``; and the open incidents of my grids, newest first, each
  ``{"id", "grid_code", "category_code", "category_name", "status", "status_name",
  "channel", "description", "address", "lon", "lat", "received_at", "due_at",
  "replied_at", "reply", "unit_code", "verification_pending", "reporter_name",
  "reporter_phone"}``. Reporters' names and phones are shown to the worker of the grid
  (they knock on the door), and noted in the audit log.

A verification is answered with ``POST /api/v1/incidents/{id}/transitions``:
``{"to": "verify_confirm", "note"?, "photo"?}`` (``photo``: the number ``n`` of a
photo uploaded first with ``POST /api/v1/incidents/{id}/media``; left out, the latest
photo the worker added since it was asked) or ``{"to": "verify_reject",
"note"}``; a patrol finding (巡查上报) is ``POST /api/v1/incidents`` with
``"channel": "patrol"`` and ``"crs": "wgs84"`` or ``"gcj02"``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query

from api.auth import GridWorker, Principal, Reporter
from api.deps import SessionDep
from api.personal import Personal
from gis.errors import Forbidden, InvalidInput
from gis.field import views
from gis.field.grids import current_grids

router = APIRouter(prefix="/api/v1/field", tags=["field"])

Lang = Literal["zh", "en"]
MAX_GRIDS = 50


@router.get("/me")
def me(who: GridWorker, session: SessionDep) -> dict[str, Any]:
    """Who I am and the grids I serve, each with its community and its worker on record."""
    return {
        "name": who.name,
        "role": who.role,
        "grids": [g.as_dict() for g in current_grids(session, who.grid_codes)],
    }


def _area_grids(who: Principal, grid: list[str] | None) -> tuple[str, ...]:
    """The grids an area read covers: a worker's own (or those of them it names); the
    grids a dispatcher names."""
    if who.role == "grid_worker":
        if not grid:
            return who.grid_codes
        others = [g for g in grid if g not in who.grid_codes]
        if others:
            raise Forbidden(
                f"grid {', '.join(others)} is not served by this grid worker "
                f"({', '.join(who.grid_codes)})",
                field="grid",
            )
        return tuple(grid)
    if not grid:
        raise InvalidInput("name the grids to show (grid=CODE)", field="grid")
    if len(grid) > MAX_GRIDS:
        raise InvalidInput(f"at most {MAX_GRIDS} grids at a time", field="grid")
    return tuple(grid)


@router.get("/area")
def area(
    who: Reporter,
    session: SessionDep,
    grid: list[str] | None = Query(None, description="grid codes (dispatchers: required)"),
    lang: Lang = "zh",
) -> dict[str, Any]:
    """My grids, the compounds and buildings in them and their open incidents (GeoJSON)."""
    return views.area(session, _area_grids(who, grid), lang)


@router.get("/tasks")
def tasks(
    who: GridWorker, session: SessionDep, personal: Personal, lang: Lang = "zh"
) -> dict[str, Any]:
    """Verifications waiting for me and the open incidents of my grids."""
    waiting = views.verifications(session, who.grid_codes, lang)
    return {
        "verifications": [personal.present(v, v["incident_id"]) for v in waiting],
        "incidents": personal.present_all(views.open_incidents(session, who.grid_codes, lang)),
    }
