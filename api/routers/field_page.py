"""The grid worker's page (网格员, ``/field/``): an installable phone page that works offline.

The page is a shell the same for every worker (who they are, their grids, tasks and map
come from ``/api/v1/field/...`` with the token kept on the phone), so a service worker
can keep it: ``/field/sw.js`` precaches the shell and serves it cache-first under a cache
named after the content hash of the files it is made of (a deploy that changes any of
them changes the name, and the old cache is dropped), and keeps the last answers of the
field API for when the network is gone. Reports wait in the phone's IndexedDB until the
network returns (``field-outbox.js``).

The manifest, the service worker and the icons are public like ``/maps/static``: they
carry no data. The page itself needs a signed-in browser, as the other pages do.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from functools import cache
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.auth import PageViewer
from api.deps import SettingsDep
from api.routers.maps import PAGE_HEADERS, STATIC_DIR, TEMPLATES, WEB
from gis.errors import NotFound
from gis.incidents.words import table
from gis.maps.base import READABLE_JS, STATIC
from gis.maps.field_text import FIELD_TEXT
from gis.maps.i18n import language, texts
from gis.settings import PROJECT_ROOT, Settings

router = APIRouter(tags=["maps"])

HOME = "/field/"
LEAFLET_JS = "/vendor/leaflet/dist/leaflet.js"
LEAFLET_CSS = "/vendor/leaflet/dist/leaflet.css"
FIELD_JS = [
    LEAFLET_JS,
    READABLE_JS,  # Beijing time and words: the one formatter of every page
    *(f"{STATIC}/field-{part}.js" for part in ("util", "outbox", "map", "tasks", "report")),
    f"{STATIC}/field.js",
]
FIELD_CSS = [LEAFLET_CSS, f"{STATIC}/field.css"]
MANIFEST = "/field/manifest.webmanifest"
ICON_SIZES = (192, 512)
ICONS = [f"/field/icon-{size}.png" for size in ICON_SIZES]
# Everything the page needs to start with no network, as the service worker asks for it.
SHELL = [HOME, f"{HOME}?lang=en", *FIELD_JS, *FIELD_CSS, MANIFEST, *ICONS]
# Answers the service worker keeps for offline use (network first, the last one kept).
DATA = ["/api/v1/field/me", "/api/v1/field/area", "/api/v1/field/tasks", "/api/v1/categories"]
THEME = "#8b0000"
VENDOR_DIR = PROJECT_ROOT / "node_modules"
SW_HEADERS = {"Cache-Control": "no-cache", "Service-Worker-Allowed": HOME}


def _asset_file(url: str) -> bytes:
    if url.startswith("/vendor/"):
        return (VENDOR_DIR / url.removeprefix("/vendor/")).read_bytes()
    return (STATIC_DIR / url.removeprefix(f"{STATIC}/")).read_bytes()


@cache
def _file_digest() -> str:
    """Hash of every file the shell is made of (read once, at the first request)."""
    h = hashlib.sha256()
    for url in [*FIELD_JS, *FIELD_CSS]:
        h.update(url.encode())
        h.update(_asset_file(url))
    for name in ("field.html", "field-sw.js"):
        h.update((WEB / "templates" / name).read_bytes())
    h.update(json.dumps(FIELD_TEXT, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


def shell_version(settings: Settings) -> str:
    """The shell's version: its files' content and the settings its HTML shows."""
    h = hashlib.sha256(_file_digest().encode())
    h.update(json.dumps(_page_settings(settings), sort_keys=True).encode())
    return h.hexdigest()[:16]


def _page_settings(settings: Settings) -> dict[str, Any]:
    return {
        "basemap": settings.basemap_url or None,
        "attribution": settings.basemap_attribution,
        "timezone": settings.timezone,
    }


@router.get("/field", include_in_schema=False)
def field_bare(request: Request, _: PageViewer) -> RedirectResponse:
    """``/field`` → ``/field/``: the service worker's scope is the folder."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"{HOME}{query}", status_code=307)


@router.get(HOME, response_class=HTMLResponse)
def field(request: Request, settings: SettingsDep, _: PageViewer, lang: str = "zh") -> HTMLResponse:
    """The grid worker's phone page: my grid's map, my tasks, reporting a finding with
    position and photos, and the reports waiting for the network."""
    lang = language(lang)
    t = texts(lang)
    f = FIELD_TEXT[lang]
    config = {
        "lang": lang,
        "text": f,
        "status": table(lang)["status"],
        "version": shell_version(settings),
        "sw": "/field/sw.js",
        "scope": HOME,
        **_page_settings(settings),
    }
    body = TEMPLATES.get_template("field.html").render(
        t=t,
        f=f,
        lang=lang,
        other_lang_url=f"{HOME}?lang={'zh' if lang == 'en' else 'en'}",
        manifest=MANIFEST,
        icon=ICONS[0],
        theme=THEME,
        js=FIELD_JS,
        css=FIELD_CSS,
        config=config,
    )
    return HTMLResponse(body, headers=PAGE_HEADERS)


@router.get("/field/sw.js", include_in_schema=False)
def service_worker(settings: SettingsDep) -> Response:
    """The service worker, scoped to ``/field/``, with this deploy's version and shell."""
    body = TEMPLATES.get_template("field-sw.js").render(
        version=json.dumps(shell_version(settings)),
        shell=json.dumps(SHELL),
        data=json.dumps(DATA),
        home=json.dumps(HOME),
    )
    return Response(body, media_type="text/javascript", headers=SW_HEADERS)


@router.get(MANIFEST, include_in_schema=False)
def manifest() -> Response:
    """The web app manifest: installable, standalone, starting at ``/field/``."""
    f = FIELD_TEXT["zh"]
    body = {
        "name": f["app_name"],
        "short_name": f["app_name"],
        "description": f["app_description"],
        "lang": "zh-CN",
        "start_url": HOME,
        "scope": HOME,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": [
            {"src": src, "sizes": f"{size}x{size}", "type": "image/png", "purpose": "any maskable"}
            for src, size in zip(ICONS, ICON_SIZES, strict=True)
        ],
    }
    return Response(
        json.dumps(body, ensure_ascii=False),
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/field/icon-{size}.png", include_in_schema=False)
def icon(size: int) -> Response:
    """The app icon: a white 3×3 grid (网格) on the page's red, drawn here, not copied."""
    if size not in ICON_SIZES:
        raise NotFound(f"no icon of size {size}; sizes: {ICON_SIZES}", field="size")
    return Response(grid_icon(size), media_type="image/png", headers={"Cache-Control": "no-cache"})


@cache
def grid_icon(size: int) -> bytes:
    """A ``size``×``size`` PNG: red ground, a white 3×3 grid inside the maskable safe zone."""
    red, white = bytes((0x8B, 0, 0)), bytes((0xFF, 0xFF, 0xFF))
    lo, hi = round(size * 0.25), round(size * 0.75)
    width = max(2, size // 40)
    lines = {round(lo + (hi - lo) * k / 3) for k in range(4)}
    near = {c for line in lines for c in range(line - width // 2, line + (width + 1) // 2)}
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter: none
        for x in range(size):
            inside = lo - width <= x <= hi + width and lo - width <= y <= hi + width
            on_line = (x in near and lo - width // 2 <= y <= hi + width // 2) or (
                y in near and lo - width // 2 <= x <= hi + width // 2
            )
            row += white if inside and on_line else red
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )
