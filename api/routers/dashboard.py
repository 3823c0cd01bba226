"""The command centre (指挥大屏): the page ``GET /dashboard`` and its figures,
``GET /api/v1/dashboard`` and ``GET /api/v1/dashboard/density``.

The page is a small shell (Chinese by default, ``lang=en``); its figures come from the
JSON endpoints and are fetched again when the event stream announces a change, so the
page never reloads. ``date=`` shows any past day (today by default, in the hotline's time
zone); ``district=`` and ``unit=`` narrow every figure.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from api.auth import PageViewer, Principal, Viewer
from api.deps import EngineDep, SessionDep
from gis.errors import check_scope
from gis.incidents.dashboard import DENSITY_DAYS, check_scope_inputs, dashboard, density
from gis.incidents.dashboard_text import dashboard_texts
from gis.incidents.due import local_zone
from gis.incidents.rates import Scope
from gis.incidents.report import check_day
from gis.incidents.words import table
from gis.maps import data
from gis.maps.page_cache import Page
from gis.models import EVENT_KINDS

router = APIRouter(tags=["dashboard"])

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "web" / "templates"),
    autoescape=select_autoescape(["html"]),
)
ECHARTS_JS = "/vendor/echarts/dist/echarts.min.js"
DateQuery = Annotated[
    Date | None, Query(description="the local day, YYYY-MM-DD (today by default)")
]
DistrictQuery = Annotated[str | None, Query(max_length=12, description="a current district code")]
UnitQuery = Annotated[str | None, Query(max_length=32, description="a responsible unit's code")]


def _today() -> Date:
    return datetime.now(local_zone()).date()


def _scope(
    session: Session, who: Principal, day: Date, district: str | None, unit: str | None
) -> Scope:
    """The day checked (not in the future), the codes checked, a district token kept to
    its district."""
    check_day(day)
    district = district if district is not None else who.district_code
    check_scope(district, who.district_code, "the dashboard")
    return check_scope_inputs(session, district, unit)


@router.get("/api/v1/dashboard")
def dashboard_figures(
    session: SessionDep,
    who: Viewer,
    date: DateQuery = None,
    district: DistrictQuery = None,
    unit: UnitQuery = None,
) -> Response:
    """The day in the structure of the daily report, open and overdue by district and by
    unit, each unit's on-time, satisfaction and reopen rates over 30 days, a 30-day trend."""
    day = date or _today()
    return _json(dashboard(session, day, _scope(session, who, day, district, unit)))


@router.get("/api/v1/dashboard/density")
def dashboard_density(
    session: SessionDep,
    who: Viewer,
    date: DateQuery = None,
    days: Annotated[int, Query(description=f"one of {DENSITY_DAYS}, ending on date")] = 1,
    district: DistrictQuery = None,
    unit: UnitQuery = None,
) -> Response:
    """Incidents received per grid over the ``days`` ending on ``date`` (for the map)."""
    day = date or _today()
    return _json(density(session, day, days, _scope(session, who, day, district, unit)))


def _json(body: dict[str, Any]) -> Response:
    """Plain JSON serialised at once (a city's grids are thousands of small objects)."""
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    who: PageViewer,
    lang: str = "zh",
    date: DateQuery = None,
    district: DistrictQuery = None,
    unit: UnitQuery = None,
) -> Response:
    """The 1920×1080 command centre: a shell whose figures come from the JSON endpoints."""
    t = dashboard_texts(lang)
    today = _today()
    day = date or today
    scope = _scope(session, who, day, district, unit)
    with engine.connect() as conn:
        bounds = data.bounds(conn, None)
    other = request.url.include_query_params(lang="en" if lang == "zh" else "zh")
    body = TEMPLATES.get_template("dashboard.html").render(
        t=t,
        lang=lang,
        other_url=f"{other.path}?{other.query}",
        echarts=ECHARTS_JS,
        config={
            "lang": lang,
            "date": day.isoformat(),
            "live": day == today,
            "district": scope.district,
            "unit": scope.unit,
            "text": t,
            "words": table(lang),
            "kinds": list(EVENT_KINDS),
            "bounds": bounds,
            "density_days": list(DENSITY_DAYS),
        },
    )
    page = Page.of(body)
    headers = {"Cache-Control": "no-cache", "ETag": page.etag}
    if request.headers.get("if-none-match") == page.etag:
        return Response(status_code=304, headers=headers)
    return Response(page.body, media_type="text/html; charset=utf-8", headers=headers)
