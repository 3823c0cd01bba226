"""Map pages (HTML): ``/maps/`` index, coverage, grids, dispatch and the boundary editor.

Chinese by default, English with ``?lang=en``; ``at=`` shows the city as of that time and
is passed on to the tiles and feature requests the page makes. Every script, stylesheet
and icon is served by the app itself (``/vendor``, ``/maps/static``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Connection, Engine

from api.assets import PAGE_CACHE, asset_response
from api.auth import Dispatcher, PageViewer, Viewer
from api.deps import EngineDep, SettingsDep
from api.personal import Personal
from gis.errors import NotFound
from gis.incidents.words import clock, word
from gis.maps import data, labels, pages
from gis.maps.base import (
    GEOMAN_CSS,
    GEOMAN_JS,
    LEAFLET_CSS,
    LEAFLET_JS,
    READABLE_JS,
    STATIC,
    VECTORGRID_JS,
    Chrome,
    reading,
)
from gis.maps.desk_text import DESK_TEXT
from gis.maps.i18n import language, texts
from gis.maps.page_cache import Page, PageCache, content_epoch, etag_of
from gis.settings import Settings

router = APIRouter(prefix="/maps", tags=["maps"])

WEB = Path(__file__).resolve().parents[1] / "web"
STATIC_DIR = WEB / "static"
TEMPLATES = Environment(
    loader=FileSystemLoader(WEB / "templates"), autoescape=select_autoescape(["html"])
)
PAGE_HEADERS = {"Cache-Control": "no-cache"}
# A page that may show a reporter: no shared cache may keep it.
PRIVATE_HEADERS = {"Cache-Control": "private, no-cache"}


def _at(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _chrome(
    request: Request, t: dict[str, str], title: str, lang: str, at: datetime | None
) -> Chrome:
    other = "en" if lang == "zh" else "zh"
    url = request.url.include_query_params(lang=other)
    index = request.url_for("maps_index").include_query_params(lang=lang)
    at_label = f"{t['at']}: {clock(at)}" if at else None
    return Chrome(
        title,
        f"{url.path}?{url.query}",
        t["other_lang"],
        f"{index.path}?{index.query}",
        t["index"],
        at_label,
    )


def _fresh(request: Request, etag: str) -> bool:
    """Whether the client's ``If-None-Match`` already names this page."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags or "*" in tags


def _send(request: Request, page: Page, base: dict[str, str] = PAGE_HEADERS) -> Response:
    """The page, or 304 with no body when the client holds it already."""
    headers = {**base, "ETag": page.etag}
    if _fresh(request, page.etag):
        return Response(status_code=304, headers=headers)
    return Response(page.body, media_type="text/html; charset=utf-8", headers=headers)


def _page(request: Request, body: str) -> Response:
    """A page built for this request alone, still answered 304 when unchanged."""
    return _send(request, Page.of(body))


def _basemap(s: Settings) -> tuple[object, ...]:
    """The settings a page's HTML depends on (part of every cache key)."""
    return (
        s.basemap_url,
        s.basemap_attribution,
        s.basemap_max_zoom,
        s.basemap_gcj02,
        s.household_band_min,
        s.household_band_max,
        s.timezone,
    )


def _cached(
    request: Request,
    engine: Engine,
    settings: Settings,
    key: tuple[Hashable, ...],
    build: Callable[[Connection], str],
) -> Response:
    """A page built once per content epoch and key, then served from memory.

    ``key`` holds everything of the request the page shows (page, language, ``at``, the
    header's links); the epoch is read before the build, so a page is never newer-keyed
    than its data. Pages cached here show no personal data and are the same for every role.
    """
    cache: PageCache = request.app.state.pages
    with engine.connect() as conn:
        full = (*key, _basemap(settings), content_epoch(conn))
        etag = etag_of(*full)
        if _fresh(request, etag):  # no build needed, even in a process that has none yet
            return Response(status_code=304, headers={**PAGE_HEADERS, "ETag": etag})
        page = cache.get(full, lambda: Page.of(build(conn), etag))
    return _send(request, page)


@router.get("/", response_class=HTMLResponse, name="maps_index")
def maps_index(request: Request, engine: EngineDep, who: PageViewer, lang: str = "zh") -> Response:
    """Links to every map page (built per request: it lists the latest incidents)."""
    lang = language(lang)
    t = texts(lang)
    with engine.connect() as conn:
        latest = data.incident_ids(conn, 10)
    name = "name_en" if lang == "en" else "name_zh"
    incidents = [
        (i["id"], f"{i[name]} · {word('status', i['status'], lang)} · {clock(i['received_at'])}")
        for i in latest
    ]
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
        desk=DESK_TEXT[language(lang)],
        incidents=incidents,
        css=[href for _, href in LEAFLET_CSS],
        signed_in=None if who.role == "anonymous" else who,
    )
    return _page(request, body)


@router.get("/static/{name}", include_in_schema=False)
def static(request: Request, name: str) -> Response:
    """The pages' own small scripts and styles (a fixed set: no paths), compressed and
    revalidated by ETag (:mod:`api.assets`)."""
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise NotFound(f"no static file {name!r}", field="name")
    return asset_response(path, request.headers, PAGE_CACHE)


@router.get("/labels/{level}")
def level_labels(
    level: str,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _: Viewer,
    bbox: str | None = None,
    at: datetime | None = None,
) -> Response:
    """Label points of ``districts``, ``streets``, ``communities`` or ``grids``: a point inside
    each unit (``[code, name, lon, lat]``), those in ``bbox`` (``minlon,minlat,maxlon,maxlat``)
    or all; as of ``at``. Answered 304 while the boundaries stand (ETag of the content epoch).
    """
    level, box, at = labels.check_level(level), labels.parse_bbox(bbox), _at(at)
    with engine.connect() as conn:
        etag = etag_of("labels", level, box, at, settings.basemap_gcj02, content_epoch(conn))
        if _fresh(request, etag):
            return Response(status_code=304, headers={**PAGE_HEADERS, "ETag": etag})
        rows = labels.labels(conn, level, box, at, settings.basemap_gcj02)
    body = orjson.dumps({"level": level, "labels": rows})
    return Response(body, media_type="application/json", headers={**PAGE_HEADERS, "ETag": etag})


@router.get("/coverage", response_class=HTMLResponse)
def coverage(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _: PageViewer,
    lang: str = "zh",
    at: datetime | None = None,
) -> Response:
    """Stations and canteens with their circles, uncovered areas, communities by class."""
    lang = language(lang)
    t, at = texts(lang), _at(at)
    chrome = _chrome(request, t, t["coverage"], lang, at)
    return _cached(
        request,
        engine,
        settings,
        ("coverage", lang, at, chrome),
        lambda conn: pages.coverage_page(conn, settings, t, chrome, at, lang),
    )


@router.get("/grids", response_class=HTMLResponse)
def grids(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _: PageViewer,
    lang: str = "zh",
    at: datetime | None = None,
) -> Response:
    """Grids (vector tiles) coloured by households against the target band; search by code."""
    lang = language(lang)
    t, at = texts(lang), _at(at)
    chrome = _chrome(request, t, t["grids"], lang, at)
    return _cached(
        request,
        engine,
        settings,
        ("grids", lang, at, chrome),
        lambda conn: pages.grids_page(conn, settings, t, chrome, at, lang),
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
) -> Response:
    """The incident, its grid and community, its station (circle, distance) and party branch.

    Reporter name and phone appear only for a dispatcher token (header, or typed in the page),
    through the personal-data gate (masked otherwise, audited when shown). Built per request,
    never cached: the incident's status moves with every step, and each showing of personal
    data must pass the gate and its audit. Its ETag digests what the page is built of, so an
    unchanged incident answers 304 without building the page again.
    """
    lang = language(lang)
    t = texts(lang)
    chrome = _chrome(request, t, f"{t['dispatch']} #{incident_id}", lang, None)
    with engine.connect() as conn:
        # Read through the gate on every request, a revalidation included: it is audited.
        inc, shown = pages.dispatch_incident(conn, incident_id, personal.present)
    etag = etag_of("dispatch", inc, shown, lang, chrome, _basemap(settings))
    if _fresh(request, etag):
        return Response(status_code=304, headers={**PRIVATE_HEADERS, "ETag": etag})
    body = pages.dispatch_page(settings, t, chrome, inc, shown, lang)
    return _send(request, Page.of(body, etag), PRIVATE_HEADERS)


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
) -> Response:
    """Draw a split line or a new outline, preview the impact, commit with a planner token."""
    lang = language(lang)
    t = texts(lang)
    chrome = _chrome(request, t, t["editor"], lang, None)
    return _cached(
        request,
        engine,
        settings,
        ("editor", lang, chrome),
        lambda conn: _editor_page(conn, settings, t, lang, chrome),
    )


def _editor_page(
    conn: Connection, settings: Settings, t: dict[str, str], lang: str, chrome: Chrome
) -> str:
    bounds = data.bounds(conn, None)
    lo, hi = settings.household_band_min, settings.household_band_max
    return TEMPLATES.get_template("editor.html").render(
        t=t,
        lang=lang,
        chrome=chrome,
        js=[src for _, src in LEAFLET_JS]
        + VECTORGRID_JS
        + GEOMAN_JS
        + [READABLE_JS, f"{STATIC}/editor.js"],
        css=[href for _, href in LEAFLET_CSS] + GEOMAN_CSS,
        config={
            **reading(settings, lang, None, bounds),
            "bounds": bounds,
            "band": [lo, hi],
            "text": t,
        },
    )
