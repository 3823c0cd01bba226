"""The command centre in headless Chromium at 1920×1080 with nothing reachable but the app:
every panel drawn, the numbers those of the API, a new incident counted live."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route

from gis.demo.hotline import HOTLINE_DAY
from tests.conftest import LiveServer, role_tokens
from tests.incidents.conftest import bearer, new_external_id

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHARTS = ("chart-channels", "chart-topics", "chart-districts", "chart-units", "chart-trend")
KPIS = {
    "total": ("day", "total"),
    "calls": ("day", "calls"),
    "handled_directly": ("day", "handled_directly"),
    "transferred": ("day", "transferred"),
    "callbacks": ("day", "callbacks"),
    "open": ("open", "total"),
    "overdue": ("open", "overdue"),
}


@dataclass(frozen=True)
class Centre:
    server: LiveServer
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def centre(demo_copy: Callable[[], str]) -> Iterator[Centre]:
    """A demo city of its own (the live test writes an incident), served over HTTP."""
    url = demo_copy()
    tokens = role_tokens(url, "dash")
    with LiveServer(url) as server:
        yield Centre(server, tokens)


@pytest.fixture
def screen(browser: Browser, centre: Centre) -> Iterator[tuple[Page, list[str], list[str]]]:
    """A 1920×1080 page signed in as a viewer; whatever is not 127.0.0.1 is refused."""
    context = browser.new_context(
        viewport={"width": 1920, "height": 1080},
        extra_http_headers=bearer(centre.tokens["viewer"]),
    )
    outside: list[str] = []
    errors: list[str] = []

    def route(r: Route) -> None:
        if urlsplit(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page, outside, errors
    context.close()


def _open(page: Page, centre: Centre, query: str) -> None:
    response = page.goto(f"{centre.server.base_url}/dashboard{query}")
    assert response is not None and response.status == 200
    page.wait_for_function("() => window.wangge && window.wangge.loaded === true")


def _api(centre: Centre, **params: str) -> dict[str, Any]:
    with centre.server.client() as http:
        r = http.get("/api/v1/dashboard", params=params, headers=bearer(centre.tokens["viewer"]))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


def test_every_panel_drawn_with_the_api_numbers(
    screen: tuple[Page, list[str], list[str]], centre: Centre
) -> None:
    page, outside, errors = screen
    _open(page, centre, f"?date={HOTLINE_DAY.isoformat()}")
    api = _api(centre, date=HOTLINE_DAY.isoformat())
    for chart in CHARTS:
        points = page.evaluate(
            """id => {
              const el = document.getElementById(id);
              const inst = echarts.getInstanceByDom(el);
              if (!inst || !el.querySelector('canvas')) return -1;
              const value = d => (d && d.value !== undefined ? d.value : d);
              return inst.getOption().series.reduce(
                (n, s) => n + s.data.filter(d => value(d) > 0).length, 0);
            }""",
            chart,
        )
        assert points > 0, chart
    for kpi, (part, key) in KPIS.items():
        element = page.locator(f"#kpi-{kpi}")
        assert element.text_content() == str(api[part][key]), kpi
        assert element.get_attribute("data-value") == str(api[part][key]), kpi
    assert page.locator("#kpi-messages").text_content() == str(api["day"]["messages"]["total"])
    for rate in ("on_time_rate", "satisfaction_rate", "reopen_rate"):
        value = api["rates"][rate]
        shown = page.locator(f"#kpi-{rate}").get_attribute("data-value") or None
        assert (shown if shown is None else float(shown)) == value, rate
    rows = page.locator("#unit-rates tbody tr")
    assert rows.count() == min(12, len(api["rates"]["units"]))
    for i in range(rows.count()):
        assert rows.nth(i).get_attribute("data-unit") == (api["rates"]["units"][i]["code"] or "")
    # The map: the period's grids coloured from the density endpoint, tiles drawn.
    page.wait_for_function(
        "() => window.wangge.mapDrawn === true"
        " && document.querySelectorAll('#dash-map canvas').length > 0"
    )
    assert (
        page.evaluate("window.wangge.density.total")
        == sum(g["count"] for g in page.evaluate("window.wangge.density.grids"))
        > 0
    )
    # Hotspots: not part of the first load; fetched when the layer is turned on.
    assert page.evaluate("window.wangge.hotspots") is None
    page.check("#hotspots-on")
    page.wait_for_function("() => window.wangge.hotspots !== undefined")
    assert page.locator("#hotspots-toggle").is_visible()
    with centre.server.client() as http:
        day = f"{HOTLINE_DAY.isoformat()}T00:00:00+08:00"
        until = f"{(HOTLINE_DAY + timedelta(days=1)).isoformat()}T00:00:00+08:00"
        r = http.get(
            "/api/v1/hotspots",
            params={"since": day, "until": until, "format": "json"},
            headers=bearer(centre.tokens["viewer"]),
        )
        assert r.status_code == 200, r.text
    hot = sorted(h["grid_code"] for h in r.json() if h["class"] == "hot")
    assert hot
    assert sorted(page.evaluate("Object.keys(window.wangge.hotspots)")) == hot
    assert page.locator("h1").text_content() == "12345热线指挥大屏"
    page.wait_for_timeout(500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"))
    assert outside == [] and errors == []


def test_a_new_incident_moves_todays_count_without_reload(
    screen: tuple[Page, list[str], list[str]], centre: Centre
) -> None:
    page, outside, errors = screen
    _open(page, centre, "?lang=en")
    assert page.locator("h1").text_content() == "12345 Hotline Command Centre"
    before = int(page.locator("#kpi-total").get_attribute("data-value") or "0")
    updates = page.evaluate("window.wangge.updates")
    page.evaluate("window.wangge.marker = 'same page'")
    page.wait_for_function("() => window.wangge.stream.readyState === 1")
    body = {
        "external_id": new_external_id("dash"),
        "channel": "hotline_call",
        "category_code": "noise",
        "description": "夜间施工噪声",
        "lon": 101.7782,
        "lat": 36.6171,
        "crs": "wgs84",
    }
    with centre.server.client() as http:
        r = http.post("/api/v1/incidents", json=body, headers=bearer(centre.tokens["dispatcher"]))
        assert r.status_code == 201, r.text
    page.wait_for_function(
        f"() => Number(document.getElementById('kpi-total').dataset.value) === {before + 1}",
        timeout=10_000,
    )
    assert page.evaluate("window.wangge.marker") == "same page"
    assert page.evaluate("window.wangge.updates") > updates
    assert _api(centre)["day"]["total"] == before + 1
    assert outside == [] and errors == []


def test_the_page_is_small(centre: Centre) -> None:
    with centre.server.client() as http:
        r = http.get("/dashboard", headers=bearer(centre.tokens["viewer"]))
        assert r.status_code == 200
        assert len(r.content) <= 300_000
        again = http.get(
            "/dashboard",
            headers={**bearer(centre.tokens["viewer"]), "If-None-Match": r.headers["etag"]},
        )
        assert again.status_code == 304
        echarts = http.get("/vendor/echarts/dist/echarts.min.js")
        assert echarts.status_code == 200


def test_the_density_map_names_the_districts(
    centre: Centre, screen: tuple[Page, list[str], list[str]]
) -> None:
    page, outside, errors = screen
    _open(page, centre, "")
    # The map frames the period's density, which earlier tests' reports may narrow to one
    # grid (framed once loaded): the whole city is looked at from district zoom.
    page.evaluate("() => window.wangge.map.setView([36.62, 101.78], 10)")
    # Shown once placed.
    page.wait_for_function(
        """() => window.wangge.labels && window.wangge.labels.ready
        && [...document.querySelectorAll('#dash-map .wg-label-districts span')].some(
            s => s.getBoundingClientRect().width > 0
            && getComputedStyle(s.parentNode).visibility !== 'hidden')""",
        polling=250,  # by the clock: animation frames of the busy page came too seldom
    )
    spans = page.locator("#dash-map .wg-label-districts span")
    seen = {spans.nth(i).inner_text() for i in range(spans.count()) if spans.nth(i).is_visible()}
    with centre.server.client() as http:
        r = http.get("/api/v1/districts", headers=bearer(centre.tokens["viewer"]))
        names = {f["properties"]["name"] for f in r.json()["features"]}
    assert seen and seen <= names
    assert len(seen) >= min(3, len(names))
    assert outside == [] and errors == []
