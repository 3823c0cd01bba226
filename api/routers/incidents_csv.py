"""``/api/v1/incidents.csv``: the list of incidents as a spreadsheet (诉求台账)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import SessionDep
from api.personal import Personal
from api.routers.incidents import FilterDep
from gis.incidents import export

router = APIRouter(prefix="/api/v1", tags=["incidents"])


@router.get(
    "/incidents.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def incidents_csv(
    session: SessionDep,
    personal: Personal,
    f: FilterDep,
    lang: Literal["zh", "en"] = "zh",
) -> StreamingResponse:
    """Every incident matching the list's filters as CSV (UTF-8 with BOM, for Excel): the
    time of every stage, due, overdue, unit, places, station, rating; personal data by role."""
    records = (personal.present(r) for r in export.rows(session, f, lang))
    return StreamingResponse(
        export.write_csv(records, lang),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="incidents.csv"'},
    )
