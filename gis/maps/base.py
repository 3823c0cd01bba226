"""The frame every map page shares: folium map with app-served assets, header, basemap, shift.

folium's own defaults load Leaflet, jQuery, Bootstrap and Font Awesome from CDNs; the pages
replace them with the copies the app serves under ``/vendor`` so that they work on an
intranet with no internet at all.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import folium
import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from gis.coords import from_storage
from gis.incidents.words import table
from gis.settings import Settings

# The kinds of words a map page shows for codes.
PAGE_WORDS = ("status", "channel")

STATIC = "/maps/static"
LEAFLET_JS = [
    ("leaflet", "/vendor/leaflet/dist/leaflet.js"),
    ("folium_shim", f"{STATIC}/folium-shim.js"),
]
# Times, words, labels and the city's own basemap (``WG`` in the browser): every map page.
READABLE_JS = f"{STATIC}/readable.js"
LEAFLET_CSS = [
    ("leaflet_css", "/vendor/leaflet/dist/leaflet.css"),
    ("wangge_css", f"{STATIC}/maps.css"),
]
VECTORGRID_JS = [
    "/vendor/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.js",
    f"{STATIC}/vectorgrid-fix.js",
]
GEOMAN_JS = ["/vendor/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js"]
GEOMAN_CSS = ["/vendor/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css"]
CLASS_COLOURS = {"A": "#1a9850", "B": "#fdae61", "C": "#d73027", "D": "#4575b4", "?": "#999999"}


@dataclass(frozen=True)
class Chrome:
    """What the header shows: title, the same page in the other language, and ``at``."""

    title: str
    other_lang_url: str
    other_lang_label: str
    index_url: str
    index_label: str
    at_label: str | None = None


class Register(MacroElement):
    """Exposes a layer as ``window.wangge.layers[key]`` for page scripts and tests."""

    _template = Template(
        """{% macro script(this, kwargs) %}
window.wangge = window.wangge || {layers: {}};
window.wangge.map = {{ this._parent.get_name() }};
window.wangge.layers[{{ this.key|tojson }}] = {{ this.layer.get_name() }};
{% endmacro %}"""
    )

    def __init__(self, key: str, layer: Any) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.key = key
        self.layer = layer


class Script(MacroElement):
    """A page script run after the map exists, with ``map`` and a JSON config bound."""

    _template = Template(
        """{% macro script(this, kwargs) %}
window.wangge = window.wangge || {layers: {}};
window.wangge.map = {{ this._parent.get_name() }};
{{ this.function }}({{ this._parent.get_name() }}, {{ this.config|tojson }});
{% endmacro %}"""
    )

    def __init__(self, function: str, config: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.function = function
        self.config = config


def reading(
    settings: Settings,
    lang: str,
    at: datetime | None,
    bounds: tuple[float, float, float, float] | None,
    labels: bool = True,
) -> dict[str, Any]:
    """What ``readable.js`` needs: the zone of the times, the words for codes, the basemap
    (or none: the city's own layers) and where labels are fetched."""
    words = table(lang)
    return {
        "timezone": settings.timezone,
        "lang": lang,
        "words": {kind: words[kind] for kind in PAGE_WORDS},
        "basemap": settings.basemap_url or None,
        "attribution": settings.basemap_attribution,
        "maxZoom": settings.basemap_max_zoom,
        "at": at.isoformat() if at else None,
        "shift": "gcj02" if settings.basemap_gcj02 else None,
        "offset": gcj02_offset(settings, bounds),
        "labels": labels,
    }


def new_map(
    settings: Settings,
    chrome: Chrome,
    bounds: tuple[float, float, float, float] | None,
    scripts: list[str] | None = None,
    styles: list[str] | None = None,
    read: dict[str, Any] | None = None,
) -> folium.Map:
    """The page's map; ``read`` (see :func:`reading`) sets up times, words, labels and the
    basemap before the page's own script runs."""
    m = folium.Map(
        location=[36.62, 101.78],
        zoom_start=12,
        tiles=None,
        control_scale=True,
        max_zoom=20,
        prefer_canvas=True,
    )
    # folium links these in order when it renders, after anything added to the header now.
    js = [READABLE_JS, *(scripts or [])]
    m.default_js = LEAFLET_JS + [(f"page_js_{i}", src) for i, src in enumerate(js)]
    m.default_css = LEAFLET_CSS + [(f"page_css_{i}", h) for i, h in enumerate(styles or [])]
    root = figure(m)
    root.header.add_child(Element(f"<title>{html.escape(chrome.title)}</title>"))
    root.html.add_child(Element(header_html(chrome)))
    m.add_child(Script("wanggeReadable", read or reading(settings, "zh", None, bounds)))
    if bounds is not None:
        (x0, y0), (x1, y1) = (
            shift_point(bounds[0], bounds[1], settings),
            shift_point(bounds[2], bounds[3], settings),
        )
        m.fit_bounds([[y0, x0], [y1, x1]])
    return m


def figure(m: folium.Map) -> Figure:
    """The page around the map (folium's root is always a Figure)."""
    root = m.get_root()
    assert isinstance(root, Figure)
    return root


def header_html(c: Chrome) -> str:
    at = f'<span class="wg-at">{html.escape(c.at_label)}</span>' if c.at_label else ""
    return (
        '<header class="wg-header">'
        f'<a class="wg-home" href="{html.escape(c.index_url)}">{html.escape(c.index_label)}</a>'
        f"<h1>{html.escape(c.title)}</h1>{at}"
        f'<a class="wg-lang" href="{html.escape(c.other_lang_url)}">'
        f"{html.escape(c.other_lang_label)}</a></header>"
    )


def shift_point(lon: float, lat: float, settings: Settings) -> tuple[float, float]:
    if not settings.basemap_gcj02:
        return lon, lat
    x, y = from_storage(np.array([lon]), np.array([lat]), "gcj02")
    return float(x[0]), float(y[0])


def gcj02_offset(
    settings: Settings, bounds: tuple[float, float, float, float] | None
) -> list[float] | None:
    """(dlon, dlat) of GCJ-02 at the city's centre, for outlines a page fetches itself.

    The offset drifts by metres across a city, so one value serves highlights and previews;
    tiles and embedded layers are shifted exactly.
    """
    if not settings.basemap_gcj02 or bounds is None:
        return None
    lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    glon, glat = shift_point(lon, lat, settings)
    return [glon - lon, glat - lat]


def shift_geojson(collection: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Move every geometry onto a GCJ-02 basemap when the setting asks for it."""
    if not settings.basemap_gcj02:
        return collection
    for feature in collection["features"]:
        feature["geometry"] = shift_geometry(feature["geometry"], settings)
    return collection


def shift_geometry(geometry: dict[str, Any], settings: Settings) -> dict[str, Any]:
    if not settings.basemap_gcj02:
        return geometry
    geom = shapely.geometry.shape(geometry)

    def move(coords: Any) -> Any:
        x, y = from_storage(coords[:, 0], coords[:, 1], "gcj02")
        return np.column_stack([x, y])

    moved: dict[str, Any] = shapely.geometry.mapping(shapely.transform(geom, move))
    return moved
