"""folium builders of the map pages: coverage, grids, dispatch (HTML strings, no HTTP)."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from typing import Any

import folium
import shapely.geometry
from branca.element import Element
from sqlalchemy import Connection

from gis.incidents.words import clock, word
from gis.maps import data
from gis.maps.base import (
    CLASS_COLOURS,
    STATIC,
    VECTORGRID_JS,
    Chrome,
    Register,
    Script,
    figure,
    gcj02_offset,
    new_map,
    reading,
    shift_geojson,
    shift_geometry,
    shift_point,
)
from gis.models import CANTEEN, STATION
from gis.settings import Settings

STATION_COLOUR, CANTEEN_COLOUR = "#08519c", "#a63603"
Present = Callable[[dict[str, Any]], dict[str, Any]]


def _popup(rows: list[tuple[str, Any]]) -> folium.Popup:
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    return folium.Popup(f'<table class="wg-popup">{body}</table>', max_width=320)


def _facilities(
    conn: Connection, t: dict[str, str], s: Settings, at: datetime | None, kind: str
) -> list[dict[str, Any]]:
    """Points, radii and popup rows of the facilities of ``kind`` (the page draws circles)."""
    out = []
    for f in data.facilities(conn, kind, at):
        lon, lat = shift_point(f["lon"], f["lat"], s)
        details = [(t["code"], f["code"]), (t["radius"], f"{f['service_radius_m']:.0f} m")]
        details += [(t["staff"], f["staff"])] if kind == STATION else [(t["seats"], f["seats"])]
        details.append((t["hours"], f["hours"]))
        rows = [(t["name"], f["name"]), *details]
        out.append(
            {
                "name": f["name"],
                "lon": lon,
                "lat": lat,
                "radius": f["service_radius_m"],
                "details": [[k, str(v)] for k, v in rows],
            }
        )
    return out


def coverage_page(
    conn: Connection,
    s: Settings,
    t: dict[str, str],
    chrome: Chrome,
    at: datetime | None,
    lang: str = "zh",
) -> str:
    """Communities and districts come from the vector tiles; the page holds the facilities'
    points and the uncovered area only, so its size does not grow with the city's outlines."""
    bounds = data.bounds(conn, at)
    m = new_map(
        s,
        chrome,
        bounds,
        scripts=[*VECTORGRID_JS, f"{STATIC}/coverage.js"],
        read=reading(s, lang, at, bounds),
    )
    config = {
        "at": at.isoformat() if at else None,
        "shift": "gcj02" if s.basemap_gcj02 else None,
        "text": t,
        "classColours": CLASS_COLOURS,
        "uncovered": shift_geojson(data.uncovered(conn, STATION, at), s),
        "stations": _facilities(conn, t, s, at, STATION),
        "canteens": _facilities(conn, t, s, at, CANTEEN),
        "stationColour": STATION_COLOUR,
        "canteenColour": CANTEEN_COLOUR,
    }
    m.add_child(Script("wanggeCoverage", config))
    swatch = '<i style="background:{}"></i>{}'
    items = [swatch.format(CLASS_COLOURS[c], f"{t['community_class']} {c}") for c in "ABCD"]
    items.append(swatch.format(CLASS_COLOURS["?"], t["unclassified"]))
    items += [
        f'<i class="wg-dashed"></i>{t["uncovered"]}',
        f'<i class="wg-dot" style="background:{STATION_COLOUR}"></i>{t["stations"]}',
        f'<i class="wg-dot" style="background:{CANTEEN_COLOUR}"></i>{t["canteens"]}',
    ]
    legend = "<br>".join(items)
    figure(m).html.add_child(
        Element(f'<div class="wg-legend"><b>{t["legend"]}</b><br>{legend}</div>')
    )
    return str(figure(m).render())


def grids_page(
    conn: Connection, s: Settings, t: dict[str, str], chrome: Chrome, at: datetime | None, lang: str
) -> str:
    bounds = data.bounds(conn, at)
    m = new_map(
        s,
        chrome,
        bounds,
        scripts=[*VECTORGRID_JS, f"{STATIC}/grids.js"],
        read=reading(s, lang, at, bounds),
    )
    lo, hi = s.household_band_min, s.household_band_max
    config = {
        "at": at.isoformat() if at else None,
        "shift": "gcj02" if s.basemap_gcj02 else None,
        "offset": gcj02_offset(s, bounds),
        "band": [lo, hi],
        "lang": lang,
        "text": {k: v.format(lo=lo, hi=hi) for k, v in t.items()},
    }
    m.add_child(Script("wanggeGrids", config))
    return str(figure(m).render())


def dispatch_incident(
    conn: Connection, incident_id: int, present: Present
) -> tuple[dict[str, Any], bool]:
    """The incident as its page shows it, and whether the reporter is shown in full.

    ``present`` decides what of the reporter is shown (in full, or masked)."""
    inc = data.incident(conn, incident_id)
    shown = present(
        {
            "id": inc["id"],
            "reporter_name": inc["reporter_name"],
            "reporter_phone": inc["reporter_phone"],
        }
    )
    personal = (shown["reporter_name"], shown["reporter_phone"]) == (
        inc["reporter_name"],
        inc["reporter_phone"],
    )
    inc["reporter_name"], inc["reporter_phone"] = shown["reporter_name"], shown["reporter_phone"]
    return inc, personal


def dispatch_page(
    s: Settings,
    t: dict[str, str],
    chrome: Chrome,
    inc: dict[str, Any],
    personal: bool,
    lang: str,
) -> str:
    """The page of one incident read by :func:`dispatch_incident`."""
    incident_id = inc["id"]
    m = new_map(
        s,
        chrome,
        None,
        scripts=[*VECTORGRID_JS, f"{STATIC}/dispatch.js"],
        read=reading(s, lang, None, None),
    )
    focus: list[list[float]] = []
    for key, colour, weight in (("community", "#6a51a3", 3), ("grid", "#e6550d", 3)):
        unit = inc[key]
        if unit is None:
            continue
        layer = folium.GeoJson(
            shift_geometry(unit["geometry"], s),
            name=f"{t[key]} {unit['code']}",
            style_function=lambda _, c=colour, w=weight: {
                "color": c,
                "weight": w,
                "fillColor": c,
                "fillOpacity": 0.12,
            },
            tooltip=f"{t[key]}: {unit['name']} ({unit['code']})",
        )
        layer.add_to(m)
        m.add_child(Register(key, layer))
    lon, lat = shift_point(inc["lon"], inc["lat"], s)
    focus.append([lat, lon])
    category = inc["category_zh"] if lang == "zh" else inc["category_en"]
    marker = folium.CircleMarker(
        [lat, lon],
        radius=9,
        color="#fff",
        weight=2,
        fill=True,
        fill_color="#cb181d",
        fill_opacity=1,
        popup=_popup(
            [
                (t["incident"], f"#{inc['id']}"),
                (t["category"], category),
                (t["status"], word("status", inc["status"], lang)),
                (t["received_at"], clock(inc["received_at"])),
            ]
        ),
    )
    marker.add_to(m)
    m.add_child(Register("incident", marker))
    station = inc["station"]
    if station is not None:
        slon, slat = shift_point(station["lon"], station["lat"], s)
        focus.append([slat, slon])
        if station["area"]:
            area = folium.GeoJson(
                shift_geometry(station["area"], s),
                name=t["station_circles"],
                style_function=lambda _: {
                    "color": STATION_COLOUR,
                    "weight": 1,
                    "fillColor": STATION_COLOUR,
                    "fillOpacity": 0.06,
                },
                interactive=False,
            )
            area.add_to(m)
        distance = f"{inc['station_distance_m']:.0f} m" if inc["station_distance_m"] else "?"
        folium.PolyLine(  # type: ignore[no-untyped-call]
            [[lat, lon], [slat, slon]],
            color=STATION_COLOUR,
            weight=2,
            dash_array="6 4",
            tooltip=f"{t['distance']}: {distance}",
        ).add_to(m)
        smark = folium.CircleMarker(
            [slat, slon],
            radius=8,
            color="#fff",
            weight=2,
            fill=True,
            fill_color=STATION_COLOUR,
            fill_opacity=1,
            popup=_popup(
                [
                    (t["station"], station["name"]),
                    (t["code"], station["code"]),
                    (t["distance"], distance),
                ]
            ),
        )
        smark.add_to(m)
        m.add_child(Register("station", smark))
    if inc["grid"] is not None:
        g = inc["grid"]["geometry"]
        xs, ys = _coords(shift_geometry(g, s))
        focus += [[min(ys), min(xs)], [max(ys), max(xs)]]
    m.fit_bounds(focus, padding_top_left=(380, 30), padding_bottom_right=(30, 30))
    figure(m).html.add_child(Element(_details_panel(inc, t, personal, lang)))
    m.add_child(Script("wanggeDispatch", {"incident": incident_id, "text": t}))
    return str(figure(m).render())


def _coords(geometry: dict[str, Any]) -> tuple[list[float], list[float]]:
    b = shapely.geometry.shape(geometry).bounds
    return [b[0], b[2]], [b[1], b[3]]


def _details_panel(inc: dict[str, Any], t: dict[str, str], personal: bool, lang: str) -> str:
    def unit(key: str) -> str:
        u = inc[key]
        return f"{u['name']} ({u['code']})" if u else t["unassigned"]

    station = inc["station"]
    st = "—"
    if station is not None:
        inside = t["within_radius"] if inc["station_within_radius"] else t["outside_radius"]
        st = f"{station['name']} · {inc['station_distance_m'] or 0:.0f} m · {inside}"
    branch = inc["party_branch"]
    br = (
        f"{branch['name']}"
        + (f" · {t['secretary']} {branch['secretary']}" if branch and branch["secretary"] else "")
        if branch
        else "—"
    )
    rows = [
        (t["incident"], f"#{inc['id']} {inc['external_id'] or ''}"),
        (t["category"], inc["category_zh"] if lang == "zh" else inc["category_en"]),
        (t["status"], word("status", inc["status"], lang)),
        (t["channel"], word("channel", inc["channel"], lang)),
        (t["received_at"], clock(inc["received_at"])),
        (t["due_at"], clock(inc["due_at"])),
        (t["description"], inc["description"]),
        (t["grid"], unit("grid")),
        (t["community"], unit("community")),
        (t["street"], unit("street")),
        (t["district"], unit("district")),
        (t["station"], st),
        (t["party_branch"], br),
    ]
    if personal:
        rows += [
            (t["reporter"], inc["reporter_name"] or "—"),
            (t["phone"], inc["reporter_phone"] or "—"),
        ]
    body = "".join(
        f'<tr><th>{html.escape(k)}</th><td data-field="{html.escape(k)}">{html.escape(str(v))}'
        "</td></tr>"
        for k, v in rows
    )
    token_form = (
        ""
        if personal
        else (
            f'<p class="wg-note">{t["personal_hidden"]}</p><form id="wg-token-form">'
            f'<input type="password" id="wg-token" placeholder="{t["token"]}" autocomplete="off">'
            f'<button type="submit">{t["show"]}</button></form>'
            '<table class="wg-reporter" id="wg-reporter"></table>'
        )
    )
    return f'<aside class="wg-panel" id="wg-details"><table>{body}</table>{token_form}</aside>'
