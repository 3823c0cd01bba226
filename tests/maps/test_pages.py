"""Map pages in headless Chromium with every request outside 127.0.0.1 refused."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from tests.maps.conftest import City, OfflinePage

EXTERNAL = re.compile(r"""(?:https?:)?//(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\.[a-z]{2,}""", re.I)


def count(page: OfflinePage, key: str) -> int:
    return int(page.page.evaluate(f"window.wangge.layers[{key!r}].getLayers().length"))


def tile_ids(page: OfflinePage, key: str) -> set[int]:
    ids = page.page.evaluate(
        f"""() => {{
        const l = window.wangge.layers[{key!r}], ids = new Set();
        for (const k in l._vectorTiles) for (const id in l._vectorTiles[k]._features) ids.add(+id);
        return [...ids];
    }}"""
    )
    return set(ids)


@pytest.mark.parametrize(
    "path", ["/maps/", "/maps/coverage", "/maps/grids", "/maps/editor", "/maps/dispatch/1", "/docs"]
)
def test_pages_name_no_external_url(city: City, path: str) -> None:
    for lang in ("zh", "en"):
        body = httpx.get(f"{city.base_url}{path}", params={"lang": lang}).text
        assert EXTERNAL.findall(body) == [], path


@pytest.mark.parametrize("path", ["/maps/coverage", "/maps/grids", "/maps/editor"])
def test_rendered_pages_name_no_external_url(
    city: City, offline: Callable[..., OfflinePage], path: str
) -> None:
    # What the scripts add at run time (attribution, popups) counts as well as the HTML sent.
    p = offline()
    page = p.goto(path)
    page.wait_for_selector(".leaflet-control-attribution")
    assert EXTERNAL.findall(page.content()) == [], path
    assert p.outside == []


def test_index_links_every_page(city: City, offline: Callable[..., OfflinePage]) -> None:
    p = offline()
    page = p.goto("/maps/")
    hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
    for name in ("coverage", "grids", "editor", "dispatch/"):
        assert any(f"/maps/{name}" in h for h in hrefs), name
    assert "服务覆盖" in page.content()
    p.goto("/maps/?lang=en")
    assert "Service coverage" in p.page.content()
    assert p.outside == []


def test_coverage_draws_what_the_database_holds(
    city: City, offline: Callable[..., OfflinePage]
) -> None:
    p = offline()
    p.goto("/maps/coverage")
    assert p.errors == []
    p.page.wait_for_function("() => window.wangge && window.wangge.layers.canteens")
    # Communities come from the vector tiles, not from the page.
    p.page.wait_for_function("() => window.wangge.loaded && window.wangge.loaded.communities")
    assert len(tile_ids(p, "communities")) == city.scalar(
        "SELECT count(*) FROM communities WHERE valid_to IS NULL"
    )
    stations = city.scalar(
        "SELECT count(*) FROM facilities WHERE type = 'enforcement_station' AND active"
    )
    assert count(p, "stations") == count(p, "stations_circles") == stations
    assert count(p, "canteens") == city.scalar(
        "SELECT count(*) FROM facilities WHERE type = 'elderly_canteen' AND active"
    )
    assert p.page.locator(".leaflet-control-layers").count() == 1
    assert "社区类别 A" in p.page.inner_text(".wg-legend")
    p.shot("coverage-zh")
    name = city.scalar("SELECT min(id) FROM facilities WHERE code = 'ST002'")
    p.page.evaluate(
        """() => window.wangge.layers.stations.eachLayer(l => {
        if (l.getPopup().getContent().textContent.includes('ST002'))
            l.fire('click', {latlng: l.getLatLng()});
    })"""
    )
    assert name
    popup = p.page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "南关综合执法服务站" in popup.inner_text()
    assert p.outside == [] and p.errors == []
    p.goto("/maps/coverage?lang=en")
    assert "Class A" in p.page.inner_text(".wg-legend")
    p.shot("coverage-en")
    assert p.outside == []


def test_grids_page_draws_every_grid_from_tiles_and_clicks_open_its_popup(
    city: City, offline: Callable[..., OfflinePage]
) -> None:
    p = offline()
    p.goto("/maps/grids")
    assert p.errors == []
    p.page.wait_for_function("() => window.wangge.loaded && window.wangge.loaded.grids")
    expected = city.scalar("SELECT count(*) FROM grids WHERE valid_to IS NULL")
    assert len(tile_ids(p, "grids")) == expected
    # Click the middle of grid 630103001002002 on the screen.
    box = p.page.evaluate(
        """() => { const m = window.wangge.map;
        const pt = m.latLngToContainerPoint([36.625, 101.785]);
        const r = m.getContainer().getBoundingClientRect();
        return [r.left + pt.x, r.top + pt.y]; }"""
    )
    p.page.mouse.move(box[0], box[1])
    p.page.mouse.click(box[0], box[1])
    popup = p.page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "630103001002002" in popup.inner_text()
    p.shot("grids-zh")
    p.page.fill("#wg-code", "630103001001003")
    p.page.click("#wg-search button")
    p.page.wait_for_function("() => window.wangge.layers.found")
    p.page.locator(".leaflet-popup-content", has_text="630103001001003").wait_for()
    # The grid's popup closes (after its fade-out): one popup at a time.
    p.page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-popup-content').length === 1"
    )
    assert p.outside == [] and p.errors == []


def test_dispatch_shows_units_and_hides_personal_data_from_viewers(
    city: City, offline: Callable[..., OfflinePage]
) -> None:
    incident = city.scalar("SELECT min(id) FROM incidents")
    p = offline()
    page = p.goto(f"/maps/dispatch/{incident}")
    panel = page.inner_text("#wg-details")
    assert "630103001001001" in panel and "人民街综合执法服务站" in panel
    assert "第一网格党支部" in panel
    assert "张三丰" not in page.content() and "13812345678" not in page.content()
    assert count(p, "grid") == 1 and count(p, "community") == 1
    p.shot("dispatch-viewer")
    page.fill("#wg-token", city.tokens["viewer"])
    page.click("#wg-token-form button")
    page.locator("#wg-reporter .wg-error").wait_for()
    assert p.errors == [
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    ]
    p.errors.clear()
    page.fill("#wg-token", city.tokens["dispatcher"])
    page.click("#wg-token-form button")
    page.get_by_text("13812345678").wait_for()
    assert "张三丰" in page.inner_text("#wg-reporter")
    assert p.outside == [] and p.errors == []

    d = offline({"Authorization": f"Bearer {city.tokens['dispatcher']}"})
    page = d.goto(f"/maps/dispatch/{incident}?lang=en")
    assert "13812345678" in page.inner_text("#wg-details")
    assert "Responsible station" in page.inner_text("#wg-details")
    d.shot("dispatch-dispatcher-en")
    assert d.outside == []


def test_missing_incident_and_bad_language_are_named(city: City) -> None:
    r = httpx.get(f"{city.base_url}/maps/dispatch/999999")
    assert r.status_code == 404 and r.json()["field"] == "incident_id"
    r = httpx.get(f"{city.base_url}/maps/coverage", params={"lang": "fr"})
    assert r.status_code == 422 and r.json()["field"] == "lang"


def test_api_docs_load_offline(city: City, offline: Callable[..., OfflinePage]) -> None:
    p = offline()
    page = p.goto("/docs")
    page.locator(".swagger-ui .info").wait_for()
    assert p.outside == [] and p.errors == []


def test_time_travel_reaches_the_data(city: City, offline: Callable[..., OfflinePage]) -> None:
    """``at=`` before the city existed: the pages draw nothing, and tiles are asked for then."""
    p = offline()
    p.goto("/maps/coverage?at=2001-01-01T00:00:00Z")
    p.page.wait_for_function("() => window.wangge.loaded && window.wangge.loaded.communities")
    assert tile_ids(p, "communities") == set() and count(p, "stations") == 0
    assert "2001-01-01" in p.page.inner_text(".wg-header")
    requested: list[str] = []
    p.page.on("request", lambda r: requested.append(r.url))
    p.goto("/maps/grids?at=2001-01-01T00:00:00Z")
    p.page.wait_for_function("() => window.wangge.loaded && window.wangge.loaded.grids")
    tiles = [u for u in requested if "/tiles/grids/" in u]
    assert tiles and all("at=2001-01-01" in u for u in tiles)
    assert tile_ids(p, "grids") == set()
    assert p.outside == [] and p.errors == []


def test_demo_city_coverage_draws_every_unit(
    demo_server: object, demo_engine: object, offline: Callable[..., OfflinePage]
) -> None:
    from sqlalchemy import Engine, text

    from tests.conftest import LiveServer

    assert isinstance(demo_server, LiveServer) and isinstance(demo_engine, Engine)
    p = offline()
    p.base_url = demo_server.base_url
    p.goto("/maps/coverage")
    p.page.wait_for_function("() => window.wangge.loaded && window.wangge.loaded.communities")
    with demo_engine.connect() as conn:

        def n(sql: str) -> int:
            return int(conn.execute(text(sql)).scalar_one())

        communities = n("SELECT count(*) FROM communities WHERE valid_to IS NULL")
        stations = n(
            "SELECT count(*) FROM facilities WHERE type = 'enforcement_station'"
            " AND active AND retired_at IS NULL"
        )
        canteens = n(
            "SELECT count(*) FROM facilities WHERE type = 'elderly_canteen'"
            " AND active AND retired_at IS NULL"
        )
    assert communities > 100 and stations > 10
    assert len(tile_ids(p, "communities")) == communities
    assert count(p, "stations") == stations and count(p, "canteens") == canteens
    p.shot("coverage-demo")
    p.goto("/maps/grids")
    p.page.wait_for_function("() => window.wangge.loaded && window.wangge.loaded.grids")
    assert len(tile_ids(p, "grids")) > 0
    p.shot("grids-demo")
    assert p.outside == [] and p.errors == []


def test_gcj02_basemap_setting_shifts_the_overlays(
    city: City, offline: Callable[..., OfflinePage]
) -> None:
    from gis.coords import from_storage
    from gis.settings import Settings
    from tests.conftest import LiveServer
    from tests.maps.conftest import LAT0, LON0, STEP

    basemap = "/basemap/{z}/{x}/{y}.png"  # an intranet tile server on this host
    settings = Settings(database_url=city.url, basemap_url=basemap, basemap_gcj02=True)
    server = LiveServer(city.url, settings).start()
    try:
        assert basemap in httpx.get(f"{server.base_url}/maps/coverage").text
        p = offline()
        p.base_url = server.base_url
        p.goto("/maps/coverage")
        p.page.wait_for_function("() => window.wangge && window.wangge.layers.stations")
        got = p.page.evaluate(
            """() => { const out = [];
            window.wangge.layers.stations.eachLayer(l => out.push([l.getLatLng().lng,
                                                                   l.getLatLng().lat]));
            return out; }"""
        )
        glon, glat = from_storage([LON0 + 0.5 * STEP], [LAT0 + 0.5 * STEP], "gcj02")
        assert min(abs(x - glon[0]) + abs(y - glat[0]) for x, y in got) < 1e-7
        p.goto("/maps/grids")
        p.page.wait_for_function("() => window.wangge.loaded && window.wangge.loaded.grids")
        assert p.outside == []
    finally:
        server.stop()
