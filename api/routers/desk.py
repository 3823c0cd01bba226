"""The dispatch desk (调度台, ``/desk``): the queue, its map, the selected case's card and
intake, for dispatchers and for a unit's staff on their own queue.

Chinese by default, English with ``?lang=en``. The page reads with the session cookie
and writes with the token typed into it (see :mod:`api.auth`); every script and style
is served by the app itself. What a role may do comes from the API (``allowed_steps``);
the page only offers it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.auth import PageViewer
from api.deps import EngineDep, SettingsDep
from api.routers import events
from api.routers.maps import PAGE_HEADERS, TEMPLATES, _chrome
from gis.coords import CRS_NAMES
from gis.incidents.words import table
from gis.maps import data
from gis.maps.base import LEAFLET_CSS, READABLE_JS, STATIC, VECTORGRID_JS, reading
from gis.maps.desk_text import DESK_TEXT
from gis.maps.i18n import language, texts
from gis.models import UNIT_KINDS

router = APIRouter(tags=["maps"])

DESK_JS = [
    "/vendor/leaflet/dist/leaflet.js",
    *VECTORGRID_JS,
    READABLE_JS,
    # The helpers first; desk.js wires the others together.
    *(f"{STATIC}/desk-{part}.js" for part in ("util", "queue", "map", "card", "intake")),
    f"{STATIC}/desk.js",
]
DESK_CSS = [href for _, href in LEAFLET_CSS] + [f"{STATIC}/desk.css"]
# Seconds between queue refreshes while the live event stream is unavailable.
POLL_S = 15
STREAM_PATH = f"{events.router.prefix}/stream"


@router.get("/desk", response_class=HTMLResponse)
def desk(
    request: Request, engine: EngineDep, settings: SettingsDep, who: PageViewer, lang: str = "zh"
) -> HTMLResponse:
    """The dispatch desk: queue by status with SLA countdowns, map, card with the steps the
    viewer's role allows, and intake with duplicates offered before saving."""
    lang = language(lang)
    t = texts(lang)
    d = DESK_TEXT[lang]
    with engine.connect() as conn:
        bounds = data.bounds(conn, None)
    words = table(lang)
    config = {
        "text": {**t, **d},
        "unit_kinds": list(UNIT_KINDS),
        **reading(settings, lang, None, bounds),
        "words": words,
        "bounds": bounds,
        "me": {
            "role": who.role,
            "name": who.name,
            "unit_code": who.unit_code,
            "district_code": who.district_code,
        },
        "max_extension_days": settings.loop.max_extension_days,
        # Photos are for the staff of the case unless the setting opens them to every reader.
        "media_public": settings.media_public,
        "poll_s": POLL_S,
        # Live updates; the page polls while the stream cannot be reached.
        "stream": STREAM_PATH,
    }
    body = TEMPLATES.get_template("desk.html").render(
        t=t,
        d=d,
        lang=lang,
        words=words,
        crs=CRS_NAMES,
        chrome=_chrome(request, t, d["title"], lang, None),
        js=DESK_JS,
        css=DESK_CSS,
        config=config,
        signed_in=who.role != "anonymous",
    )
    return HTMLResponse(body, headers=PAGE_HEADERS)
