"""Grid edits (网格调整): preview and commit for planners, the edit log for viewers."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Planner, Viewer
from api.deps import EngineDep, SessionDep, SettingsDep
from gis.editing import EditRequest, commit_edit, preview_edit, version_detail
from gis.editing.history import list_versions

router = APIRouter(prefix="/api/v1/edits", tags=["edits"])

GRID_CODE = r"^[0-9]{15}$"
Operation = Literal["split", "merge", "reshape", "transfer", "move", "undo"]


class EditIn(BaseModel):
    """One edit. Which fields are needed depends on ``operation``:
    split ``grid`` + ``line``; merge ``grids``; reshape ``grid`` + ``outline``;
    transfer ``from_grid`` + ``to_grid`` + ``region``; move ``grid`` + ``community``;
    undo ``version``. Geometries are GeoJSON in ``crs`` (default CGCS2000 lon/lat)."""

    model_config = ConfigDict(extra="forbid")

    operation: Operation
    base_version: int | None = Field(
        default=None, description="The version the preview returned; required to commit"
    )
    reason: str = Field(default="", max_length=2000, description="Why (kept in the edit log)")
    grid: str | None = Field(default=None, pattern=GRID_CODE)
    grids: list[str] = Field(default_factory=list, max_length=50)
    from_grid: str | None = Field(default=None, pattern=GRID_CODE)
    to_grid: str | None = Field(default=None, pattern=GRID_CODE)
    community: str | None = Field(default=None, pattern=r"^[0-9]{12}$")
    line: dict[str, Any] | None = None
    outline: dict[str, Any] | None = None
    region: dict[str, Any] | None = None
    version: int | None = Field(default=None, description="undo: the edit to undo")
    crs: str = "cgcs2000"

    def request(self) -> EditRequest:
        return EditRequest(**self.model_dump())


@router.post("/preview")
def preview(
    body: EditIn, session: SessionDep, settings: SettingsDep, who: Planner
) -> dict[str, Any]:
    """Validation and impact of an edit, and the ``base_version`` to commit it against.

    Nothing is written. Bad input is a 422 that says what and where."""
    return preview_edit(session, body.request(), settings, who.district_code)


@router.post("", status_code=201)
def commit(body: EditIn, engine: EngineDep, settings: SettingsDep, who: Planner) -> dict[str, Any]:
    """Commit an edit in one transaction; a stale ``base_version`` is a 409 and changes nothing."""
    return commit_edit(engine, body.request(), who.name, settings, who.district_code).as_dict()


@router.get("")
def edit_log(
    session: SessionDep,
    _: Viewer,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """The edit log, newest first: who, when, why and what."""
    return {"edits": list_versions(session, limit, offset)}


@router.get("/{version}")
def edit_detail(version: int, session: SessionDep, _: Viewer) -> dict[str, Any]:
    """One edit with its parameters and the outlines before and after (GeoJSON)."""
    return version_detail(session, version)
