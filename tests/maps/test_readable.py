"""Maps people can read: names by zoom, Beijing time, words for codes, the city's own basemap.

Headless Chromium, every request outside 127.0.0.1 refused and recorded.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from gis.incidents.words import WORDS
from tests.maps.conftest import LAT0, LON0, STEP, City, OfflinePage
from tests.maps.test_pages import tile_ids

GRID = "630103001001002"
# A stored moment and how Beijing reads it (computed, not typed: 01:30 UTC is 09:30 there).
STORED = datetime(2026, 11, 18, 1, 30, tzinfo=UTC)
BEIJING = STORED.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


def view(page: OfflinePage, lon: float, lat: float, zoom: int) -> None:
    """Move the map and wait until its labels are placed for that zoom."""
    page.page.wait_for_function("() => !window.wangge.map._animatingZoom")
    page.page.evaluate(
        f"() => window.wangge.map.setView([{lat}, {lon}], {zoom}, {{animate: false}})"
    )
    page.page.wait_for_function(
        f"() => window.wangge.labels && window.wangge.labels.ready"
        f" && window.wangge.labels.zoom === {zoom}"
    )


def shown(page: OfflinePage, level: str) -> list[str]:
    """The labels of ``level`` a person sees (placed, in view, not hidden by a larger one)."""
    spans = page.page.locator(f".wg-label-{level} span")
    return [spans.nth(i).inner_text() for i in range(spans.count()) if spans.nth(i).is_visible()]


@pytest.fixture
def utc_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server's process in UTC (it runs in this process), whatever the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def stored_time(city: City) -> Iterator[int]:
    """The first incident received at ``STORED`` for the test, its own time afterwards."""
    incident = city.scalar("SELECT min(id) FROM incidents")
    with city.engine.begin() as conn:
        before = conn.execute(
            text("SELECT received_at FROM incident_reports WHERE id = :i"), {"i": incident}
        ).scalar_one()
        conn.execute(
            text("UPDATE incident_reports SET received_at = :t WHERE id = :i"),
            {"t": STORED, "i": incident},
        )
    yield incident
    with city.engine.begin() as conn:
        conn.execute(
            text("UPDATE incident_reports SET received_at = :t WHERE id = :i"),
            {"t": before, "i": incident},
        )


@pytest.mark.parametrize("path", ["/maps/grids", "/maps/coverage", "/maps/editor"])
def test_names_show_by_zoom(city: City, offline: Callable[..., OfflinePage], path: str) -> None:
    p = offline()
    p.goto(path)
    middle = (LON0 + 1.5 * STEP, LAT0 + 1.0 * STEP)
    view(p, *middle, 11)
    assert shown(p, "districts") == ["城中区"]
    assert shown(p, "communities") == [] and shown(p, "grids") == []
    view(p, *middle, 13)
    assert shown(p, "streets") == ["人民街街道"] and shown(p, "districts") == []
    view(p, *middle, 15)
    assert sorted(shown(p, "communities")) == ["社区1", "社区2"]
    assert shown(p, "districts") == [] and shown(p, "grids") == []
    # Close in on one grid: its code, and no longer the community's name.
    view(p, LON0 + 1.5 * STEP, LAT0 + 0.5 * STEP, 17)
    assert GRID in shown(p, "grids")
    assert shown(p, "communities") == [] and shown(p, "districts") == []
    p.shot(f"labels-{path.rsplit('/', 1)[-1]}-z17")
    assert p.outside == [] and p.errors == []


def test_labels_do_not_overlap(city: City, offline: Callable[..., OfflinePage]) -> None:
    p = offline()
    p.goto("/maps/grids")
    # Zoom 12 holds districts and streets, whose label points coincide in the small city.
    view(p, LON0 + 1.5 * STEP, LAT0 + 1.0 * STEP, 12)
    boxes = p.page.evaluate(
        """() => [...document.querySelectorAll('.wg-label span')]
        .filter(s => getComputedStyle(s.parentNode).visibility !== 'hidden')
        .map(s => s.getBoundingClientRect()).map(r => [r.left, r.top, r.right, r.bottom])"""
    )
    assert boxes
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    # A label's halo makes it readable over any fill.
    shadow = p.page.eval_on_selector(".wg-label span", "s => getComputedStyle(s).textShadow")
    assert "255, 255, 255" in shadow


def test_label_points_lie_inside_their_units(city: City) -> None:
    for level in ("districts", "streets", "communities", "grids"):
        r = httpx.get(f"{city.base_url}/maps/labels/{level}")
        assert r.status_code == 200, level
        rows = r.json()["labels"]
        assert len(rows) == city.scalar(f"SELECT count(*) FROM {level} WHERE valid_to IS NULL")
        for code, name, lon, lat in rows:
            inside = city.scalar(
                f"SELECT count(*) FROM {level} WHERE code = :c AND name = :n"
                " AND valid_to IS NULL AND ST_Contains(geom, ST_SetSRID(ST_Point(:x, :y), 4490))",
                c=code,
                n=name,
                x=lon,
                y=lat,
            )
            assert inside == 1, (level, code)
    # A box around one grid's point holds that grid alone.
    x, y = LON0 + 1.5 * STEP, LAT0 + 0.5 * STEP
    box = f"{x - 0.001},{y - 0.001},{x + 0.001},{y + 0.001}"
    r = httpx.get(f"{city.base_url}/maps/labels/grids", params={"bbox": box})
    assert [row[0] for row in r.json()["labels"]] == [GRID]
    # Before the city existed there was nothing to name.
    r = httpx.get(f"{city.base_url}/maps/labels/districts", params={"at": "2001-01-01T00:00:00Z"})
    assert r.json()["labels"] == []


def test_labels_revalidate_and_refuse_bad_input(city: City) -> None:
    r = httpx.get(f"{city.base_url}/maps/labels/communities")
    again = httpx.get(
        f"{city.base_url}/maps/labels/communities", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    r = httpx.get(f"{city.base_url}/maps/labels/buildings")
    assert r.status_code == 422 and r.json()["field"] == "level"
    for box in ("1,2,3", "a,b,c,d", "5,5,1,1"):
        r = httpx.get(f"{city.base_url}/maps/labels/grids", params={"bbox": box})
        assert r.status_code == 422 and r.json()["field"] == "bbox", box


def test_dispatch_page_shows_beijing_time_and_words(
    city: City, offline: Callable[..., OfflinePage], utc_server: None, stored_time: int
) -> None:
    assert time.strftime("%z") == "+0000"  # the server's process is in UTC
    p = offline(timezone_id="America/New_York")
    page = p.goto(f"/maps/dispatch/{stored_time}")
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "America/New_York"
    panel = page.inner_text("#wg-details")
    assert BEIJING in panel
    status, channel = city_codes(city, stored_time)
    assert WORDS["status"]["zh"][status] in panel
    assert WORDS["channel"]["zh"][channel] in panel
    assert_no_codes(page.inner_text("body"), "zh")
    p.goto(f"/maps/dispatch/{stored_time}?lang=en")
    panel = p.page.inner_text("#wg-details")
    assert BEIJING in panel
    assert WORDS["status"]["en"][status] in panel
    assert WORDS["channel"]["en"][channel] in panel
    assert_no_codes(p.page.inner_text("body"), "en")
    assert p.outside == [] and p.errors == []


def test_index_lists_incidents_in_words_and_beijing_time(
    city: City, offline: Callable[..., OfflinePage], utc_server: None, stored_time: int
) -> None:
    status, _ = city_codes(city, stored_time)
    p = offline(timezone_id="America/New_York")
    for lang, category in (("zh", "噪声扰民"), ("en", "Noise")):
        page = p.goto(f"/maps/?lang={lang}")
        line = page.locator(f"a[href^='/maps/dispatch/{stored_time}?']").inner_text()
        assert line == f"#{stored_time} {category} · {WORDS['status'][lang][status]} · {BEIJING}"
        assert_no_codes(page.inner_text("body"), lang)
    assert p.outside == [] and p.errors == []


def test_grid_page_incident_popup_reads_in_beijing_time_and_words(
    city: City, offline: Callable[..., OfflinePage], utc_server: None, stored_time: int
) -> None:
    lon, lat = city_point(city, stored_time)
    status, channel = city_codes(city, stored_time)
    for lang in ("zh", "en"):
        p = offline(timezone_id="America/New_York")
        p.goto(f"/maps/grids?lang={lang}")
        p.page.evaluate(f"() => window.wangge.map.setView([{lat}, {lon}], 16, {{animate: false}})")
        p.page.wait_for_function("() => window.wangge.loaded && window.wangge.loaded.incidents")
        at = p.page.evaluate(
            f"""() => {{ const m = window.wangge.map;
            const pt = m.latLngToContainerPoint([{lat}, {lon}]);
            const r = m.getContainer().getBoundingClientRect();
            return [r.left + pt.x, r.top + pt.y]; }}"""
        )
        p.page.mouse.move(at[0], at[1])
        p.page.mouse.click(at[0], at[1])
        popup = p.page.locator(".leaflet-popup-content", has_text=BEIJING)
        popup.wait_for()
        words = popup.inner_text()
        assert WORDS["status"][lang][status] in words
        assert WORDS["channel"][lang][channel] in words
        assert ("噪声扰民" if lang == "zh" else "Noise") in words
        assert_no_codes(words, lang)
        assert "noise" not in words
        assert p.outside == [] and p.errors == []


def test_the_formatter_ignores_the_browser_zone(
    city: City, offline: Callable[..., OfflinePage]
) -> None:
    for zone in ("America/New_York", "Asia/Kolkata", "UTC"):
        p = offline(timezone_id=zone)
        p.goto("/maps/coverage")
        got = p.page.evaluate(f"WG.time({STORED.isoformat()!r})")
        assert got == BEIJING, zone
        # Either side of Beijing's midnight, and a time given with its own offset.
        late = datetime(2026, 12, 31, 16, 5, tzinfo=UTC)
        expected = late.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
        assert p.page.evaluate("WG.time('2026-12-31T11:05:00-05:00')") == expected


@pytest.mark.parametrize(
    "path", ["/maps/coverage", "/maps/grids", "/maps/editor", "/maps/dispatch/1", "/desk"]
)
def test_with_no_basemap_url_the_city_draws_its_own(
    city: City, offline: Callable[..., OfflinePage], path: str
) -> None:
    requested: list[str] = []
    p = offline()
    p.page.on("request", lambda r: requested.append(r.url))
    p.goto(path)
    p.page.wait_for_function(
        "() => window.wangge && window.wangge.loaded && window.wangge.loaded.basemap_districts"
        " && window.wangge.loaded.basemap_streets"
    )
    assert tile_ids(p, "basemap_districts") == ids(city, "districts")
    assert tile_ids(p, "basemap_streets") == ids(city, "streets")
    # Compounds from zoom 14 on: the built-up blocks under the overlays.
    p.page.evaluate(
        f"() => window.wangge.map.setView([{LAT0 + 0.5 * STEP}, {LON0 + 1.5 * STEP}], 16)"
    )
    p.page.wait_for_function(
        "() => window.wangge.map.getZoom() === 16 && window.wangge.loaded.basemap_compounds"
    )
    assert tile_ids(p, "basemap_compounds") == ids(city, "compounds", "true")
    # Under every overlay, and no raster tiles from anywhere.
    z = p.page.evaluate("getComputedStyle(window.wangge.map.getPane('wg-basemap')).zIndex")
    assert int(z) < 200
    assert p.page.locator("img.leaflet-tile").count() == 0
    assert any("/tiles/districts/" in u for u in requested)
    assert all(u.startswith(city.base_url) for u in requested), requested
    assert p.outside == []
    p.shot(f"own-basemap-{path.strip('/').replace('/', '-')}")


# -- helpers ------------------------------------------------------------------------------


def ids(city: City, table: str, when: str = "valid_to IS NULL") -> set[int]:
    with city.engine.connect() as conn:
        return {r[0] for r in conn.execute(text(f"SELECT id FROM {table} WHERE {when}"))}


def city_codes(city: City, incident: int) -> tuple[str, str]:
    with city.engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, channel FROM incidents WHERE id = :i"), {"i": incident}
        ).one()
    return str(row[0]), str(row[1])


def city_point(city: City, incident: int) -> tuple[float, float]:
    with city.engine.connect() as conn:
        row = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE id = :i"), {"i": incident}
        ).one()
    return float(row[0]), float(row[1])


def assert_no_codes(shown_text: str, lang: str) -> None:
    """No status or channel code a person would read as a code (in English a few words are
    spelled like their codes, ``closed``: those are words there)."""
    for kind in ("status", "channel"):
        for code, word in WORDS[kind][lang].items():
            if code == word:
                continue
            assert not re.search(rf"\b{re.escape(code)}\b", shown_text), (kind, code)


def test_a_basemap_url_replaces_the_own_basemap_and_moves_labels_onto_gcj02(
    city: City, offline: Callable[..., OfflinePage]
) -> None:
    from gis.coords import from_storage
    from gis.settings import Settings
    from tests.conftest import LiveServer

    basemap = "/basemap/{z}/{x}/{y}.png"  # an intranet tile server on this host
    settings = Settings(database_url=city.url, basemap_url=basemap, basemap_gcj02=True)
    server = LiveServer(city.url, settings).start()
    try:
        p = offline()
        p.base_url = server.base_url
        requested: list[str] = []
        p.page.on("request", lambda r: requested.append(r.url))
        p.goto("/maps/grids")
        p.page.wait_for_function("() => window.wangge.loaded && window.wangge.loaded.grids")
        assert p.page.evaluate("() => !window.wangge.layers.basemap_districts")
        assert any("/basemap/" in u for u in requested)
        assert not any("/tiles/districts/" in u or "/tiles/streets/" in u for u in requested)
        plain = httpx.get(f"{city.base_url}/maps/labels/grids").json()["labels"]
        moved = httpx.get(f"{server.base_url}/maps/labels/grids").json()["labels"]
        assert [r[0] for r in moved] == [r[0] for r in plain] and plain
        glon, glat = from_storage([r[2] for r in plain], [r[3] for r in plain], "gcj02")
        for row, x, y in zip(moved, glon, glat, strict=True):
            assert abs(row[2] - x) < 1e-6 and abs(row[3] - y) < 1e-6, row[0]
        assert p.outside == []
    finally:
        server.stop()
