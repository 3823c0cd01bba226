"""Where a report is: the phone's GPS as WGS 84, GCJ-02 when the WeChat wrapper opens the page
(``?gcj02``, with its own position or the phone's), and a tap on the map of my grid; and the
page in English."""

from __future__ import annotations

from collections.abc import Callable

from gis.coords import wgs_to_gcj
from tests.field_page.conftest import FieldPage, PageCity

CRS_SQL = "SELECT input_crs, grid_code, channel FROM incidents WHERE external_id = :e"


def _send(p: FieldPage, category: str = "noise") -> str:
    """Pick a category, send, and wait until the report has left the outbox; its id."""
    page = p.page
    before = page.evaluate("() => window.wangge.sentExternalId || null")
    page.select_option("#fd-category", category)
    page.click("#fd-send")
    page.wait_for_function(
        "before => (window.wangge.sentExternalId || null) !== before", arg=before
    )
    p.message("已发送")
    assert p.outbox_count() == 0
    sent = page.evaluate("() => window.wangge.sentExternalId")
    assert isinstance(sent, str) and sent.startswith("field-")
    return sent


def test_wechat_positions_are_gcj02(page_city: PageCity, phone: Callable[..., FieldPage]) -> None:
    grid, lon, lat = page_city.grid_point(9)
    glon, glat = (float(v) for v in wgs_to_gcj(lon, lat))
    # Opened by the WeChat wrapper with its own position: taken as GCJ-02 and converted.
    p = phone(page_city.worker_token(9), geolocation=(glon, glat))
    page = p.open(f"?gcj02&lon={glon:.7f}&lat={glat:.7f}")
    p.tab("report")
    assert page.input_value("#fd-crs") == "gcj02"
    assert abs(float(page.input_value("#fd-lon")) - glon) < 1e-6
    first = _send(p)
    assert tuple(page_city.rows(CRS_SQL, e=first)[0]) == ("gcj02", grid, "patrol")
    # In the wrapper the phone's own fix is GCJ-02 too (wx.getLocation's answer).
    p.tab("report")
    page.click("#fd-gps")
    page.wait_for_function(
        "() => document.getElementById('fd-gps-note').textContent.includes('精度')"
    )
    assert page.input_value("#fd-crs") == "gcj02"
    second = _send(p, "sanitation")
    assert second != first
    assert tuple(page_city.rows(CRS_SQL, e=second)[0]) == ("gcj02", grid, "patrol")
    assert p.errors == []


def test_a_tap_on_my_grid_places_the_report_in_english(
    page_city: PageCity, phone: Callable[..., FieldPage]
) -> None:
    grid, lon, lat = page_city.grid_point(10)
    p = phone(page_city.worker_token(10))
    page = p.open("?lang=en")
    p.service_worker_ready()
    page.wait_for_function("() => window.wangge.loaded.kept === true")
    assert page.inner_text("h1") == "Grid worker"
    assert page.inner_text("#fd-tabs").split() == ["My", "grid", "My", "tasks", "Report", "Waiting"]
    p.tab("report")
    page.click("#fd-pick")
    page.wait_for_selector("#fd-panel-map:not([hidden])")
    assert "Tap the map" in page.inner_text("#fd-message")
    at = page.evaluate(
        "([lon, lat]) => { const m = window.wangge.map, pt = m.latLngToContainerPoint([lat, lon]);"
        " const box = m.getContainer().getBoundingClientRect();"
        " return [box.left + pt.x, box.top + pt.y]; }",
        [lon, lat],
    )
    page.mouse.click(at[0], at[1])
    page.wait_for_selector("#fd-panel-report:not([hidden])")
    assert page.input_value("#fd-crs") == "cgcs2000"
    tapped = float(page.input_value("#fd-lon")), float(page.input_value("#fd-lat"))
    assert abs(tapped[0] - lon) < 5e-5 and abs(tapped[1] - lat) < 5e-5  # a pixel or so
    page.select_option("#fd-category", "noise")
    page.click("#fd-send")
    p.message("Sent as case #")
    assert p.outbox_count() == 0
    sent = page.evaluate("() => window.wangge.sentExternalId")
    assert tuple(page_city.rows(CRS_SQL, e=sent)[0]) == ("cgcs2000", grid, "patrol")
    assert p.errors == []
