"""Reports: ``GET /api/v1/reports/daily`` reproduces the hotline's daily report."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from api.auth import Viewer
from api.deps import SessionDep
from gis.incidents.bulletin import bulletin
from gis.incidents.report import check_day, daily_report

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("/daily")
def daily(
    session: SessionDep,
    _: Viewer,
    date: date = Query(description="the local day, YYYY-MM-DD"),
    top: int = Query(10, ge=1, le=100, description="how many top categories"),
) -> dict[str, Any]:
    """Calls and messages by channel, handled directly vs transferred, callbacks, top
    categories; on-time closure, satisfaction and reopen rates over the 30 days ending on it."""
    check_day(date)
    return daily_report(session, date, top)


@router.get("/daily.txt", response_class=PlainTextResponse)
def daily_text(
    session: SessionDep,
    _: Viewer,
    date: date = Query(description="the local day, YYYY-MM-DD"),
) -> PlainTextResponse:
    """The day in the hotline's own wording (热线日报): calls, messages by channel, handled
    directly, transferred, callbacks, hot topics."""
    check_day(date)
    return PlainTextResponse(bulletin(daily_report(session, date), date))
