"""Map pages (HTML): ``/maps/`` index, coverage, grids, dispatch and the boundary editor.

Chinese by default, English with ``?lang=en``; ``at=`` shows the city as of that time and
is passed on to the tiles and feature requests the page makes. Every script, stylesheet
and icon is served by the app itself (``/vendor``, ``/maps/static``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.auth import Dispatcher, PageViewer
from api.deps import EngineDep, SettingsDep
from api.personal import Personal
from gis.errors import NotFound
from gis.maps import data, pages
from gis.maps.base import (
    GEOMAN_CSS,
    GEOMAN_JS,
    LEAFLET_CSS,
    LEAFLET_JS,
    STATIC,
    VECTORGRID_JS,
    Chrome,
    gcj02_offset,
)
from gis.maps.desk_text import DESK_TEXT
from gis.maps.i18n import texts

router = APIRouter(prefix="/maps", tags=["maps"])

WEB = Path(__file__).resolve().parents[1] / "web"
STATIC_DIR = WEB / "static"
TEMPLATES = Environment(
    loader=FileSystemLoader(WEB / "templates"), autoescape=select_autoescape(["html"])
)
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
PAGE_HEADERS = {"Cache-Control": "no-cache"}


def _at(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _chrome(
    request: Request, t: dict[str, str], title: str, lang: str, at: datetime | None
) -> Chrome:
    other = "en" if lang == "zh" else "zh"
    url = request.url.include_query_params(lang=other)
    index = request.url_for("maps_index").include_query_params(lang=lang)
    at_label = f"{t['at']}: {at.isoformat(timespec='minutes')}" if at else None
    return Chrome(
        title,
        f"{url.path}?{url.query}",
        t["other_lang"],
        f"{index.path}?{index.query}",
        t["index"],
        at_label,
    )


def _page(body: str) -> HTMLResponse:
    return HTMLResponse(body, headers=PAGE_HEADERS)


@router.get("/", response_class=HTMLResponse, name="maps_index")
def maps_index(
    request: Request, engine: EngineDep, who: PageViewer, lang: str = "zh"
) -> HTMLResponse:
    """Links to every map page."""
    t = texts(lang)
    with engine.connect() as conn:
        incidents = data.incident_ids(conn, 10)
    s = request.app.state.settings
    pages_ = [
        ("coverage", t["coverage"], t["coverage_desc"]),
        (
            "grids",
            t["grids"],
            t["grids_desc"].format(lo=s.household_band_min, hi=s.household_band_max),
        ),
        ("editor", t["editor"], t["editor_desc"]),
    ]
    body = TEMPLATES.get_template("index.html").render(
        t=t,
        lang=lang,
        other="en" if lang == "zh" else "zh",
        pages=pages_,
        desk=DESK_TEXT[lang.lower()],
        incidents=incidents,
        css=[href for _, href in LEAFLET_CSS],
        signed_in=None if who.role == "anonymous" else who,
    )
    return _page(body)


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> FileResponse:
    """The pages' own small scripts and styles (a fixed set: no paths)."""
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise NotFound(f"no static file {name!r}", field="name")
    return FileResponse(path, media_type=STATIC_TYPES.get(path.suffix, "application/octet-stream"))


@router.get("/coverage", response_class=HTMLResponse)
def coverage(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _: PageViewer,
    lang: str = "zh",
    at: datetime | None = None,
) -> HTMLResponse:
    """Stations and canteens with their circles, uncovered areas, communities by class."""
    t, at = texts(lang), _at(at)
    with engine.connect() as conn:
        return _page(
            pages.coverage_page(conn, settings, t, _chrome(request, t, t["coverage"], lang, at), at)
        )


@router.get("/grids", response_class=HTMLResponse)
def grids(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _: PageViewer,
    lang: str = "zh",
    at: datetime | None = None,
) -> HTMLResponse:
    """Grids (vector tiles) coloured by households against the target band; search by code."""
    t, at = texts(lang), _at(at)
    with engine.connect() as conn:
        return _page(
            pages.grids_page(conn, settings, t, _chrome(request, t, t["grids"], lang, at), at, lang)
        )


@router.get("/dispatch/{incident_id}", response_class=HTMLResponse)
def dispatch(
    incident_id: int,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _: PageViewer,
    personal: Personal,
    lang: str = "zh",
) -> HTMLResponse:
    """The incident, its grid and community, its station (circle, distance) and party branch.

    Reporter name and phone appear only for a dispatcher token (header, or typed in the page),
    through the personal-data gate (masked otherwise, audited when shown).
    """
    t = texts(lang)
    with engine.connect() as conn:
        title = f"{t['dispatch']} #{incident_id}"
        return _page(
            pages.dispatch_page(
                conn,
                settings,
                t,
                _chrome(request, t, title, lang, None),
                incident_id,
                personal.present,
                lang,
            )
        )


@router.get("/dispatch/{incident_id}/reporter")
def dispatch_reporter(
    incident_id: int, engine: EngineDep, _: Dispatcher, personal: Personal
) -> dict[str, Any]:
    """Reporter name and phone of one incident, for the dispatch page (dispatchers only)."""
    with engine.connect() as conn:
        inc = data.incident(conn, incident_id)
    # Through the one personal-data gate, so the read is in the audit log.
    return personal.present(
        {
            "id": inc["id"],
            "reporter_name": inc["reporter_name"],
            "reporter_phone": inc["reporter_phone"],
        }
    )


@router.get("/editor", response_class=HTMLResponse)
def editor(
    request: Request, engine: EngineDep, settings: SettingsDep, _: PageViewer, lang: str = "zh"
) -> HTMLResponse:
    """Draw a split line or a new outline, preview the impact, commit with a planner token."""
    t = texts(lang)
    with engine.connect() as conn:
        bounds = data.bounds(conn, None)
    lo, hi = settings.household_band_min, settings.household_band_max
    body = TEMPLATES.get_template("editor.html").render(
        t=t,
        lang=lang,
        chrome=_chrome(request, t, t["editor"], lang, None),
        js=[src for _, src in LEAFLET_JS] + VECTORGRID_JS + GEOMAN_JS + [f"{STATIC}/editor.js"],
        css=[href for _, href in LEAFLET_CSS] + GEOMAN_CSS,
        config={
            "bounds": bounds,
            "band": [lo, hi],
            "lang": lang,
            "text": t,
            "basemap": settings.basemap_url or None,
            "attribution": settings.basemap_attribution,
            "shift": "gcj02" if settings.basemap_gcj02 else None,
            "offset": gcj02_offset(settings, bounds),
        },
    )
    return _page(body)
