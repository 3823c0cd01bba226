"""``/api/v1/incidents.csv``: the list of incidents as a spreadsheet (诉求台账)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from api.deps import SessionDep
from api.personal import Personal
from api.routers.incidents import FilterDep
from gis.incidents import export, queries

router = APIRouter(prefix="/api/v1", tags=["incidents"])


@router.get(
    "/incidents.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def incidents_csv(
    request: Request,
    session: SessionDep,
    personal: Personal,
    f: FilterDep,
    lang: Literal["zh", "en"] = "zh",
) -> StreamingResponse:
    """Every incident matching the list's filters as CSV (UTF-8 with BOM, for Excel): the
    time of every stage, due, overdue, unit, places, station, rating; personal data by role."""
    # Bad filters are refused before the first byte goes out.
    queries.list_incidents(session, f, 1)
    sessionmaker = request.app.state.sessionmaker

    def chunks() -> Iterator[str]:
        # Its own session: the response outlives the request's.
        with sessionmaker() as own:
            records = (personal.present(r) for r in export.rows(own, f, lang))
            yield from export.write_csv(records, lang)

    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="incidents.csv"'},
    )
