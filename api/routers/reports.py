"""Reports: ``GET /api/v1/reports/daily`` reproduces the hotline's daily report."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query

from api.auth import Viewer
from api.deps import SessionDep
from gis.incidents.report import daily_report

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("/daily")
def daily(
    session: SessionDep,
    _: Viewer,
    date: date = Query(description="the local day, YYYY-MM-DD"),
    top: int = Query(10, ge=1, le=100, description="how many top categories"),
) -> dict[str, Any]:
    """Calls and messages by channel, handled directly vs transferred, callbacks, top categories."""
    return daily_report(session, date, top)
