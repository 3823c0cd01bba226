"""Taking a call on the desk: the point from pasted coordinates (any order, any system), a
place search or a map click; its grid, station and party branch shown before saving; the
category picked by pinyin initials; duplicates offered and merged; Enter saves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from gis.coords import from_storage
from tests.desk.conftest import DeskCity, DeskPage


def locate(city: DeskCity, lon: float, lat: float, crs: str) -> dict[str, Any]:
    return city.get(city.tokens["viewer"], "/api/v1/locate", lon=lon, lat=lat, crs=crs)


def pick_category(p: DeskPage, typed: str, name: str) -> None:
    p.page.click("#dk-in-category")
    p.page.keyboard.type(typed)
    p.page.wait_for_selector("#dk-in-cat-list:not([hidden]) li")
    assert p.page.inner_text("#dk-in-cat-list li:first-child b") == name
    p.page.keyboard.press("Enter")
    assert p.page.input_value("#dk-in-category") == name


def located_text(p: DeskPage) -> str:
    p.page.wait_for_function("() => window.wangge.loaded.locate")
    p.page.evaluate("() => { window.wangge.loaded.locate = false; }")
    return p.page.inner_text("#dk-in-located")


def saved_id(p: DeskPage, before: str) -> int:
    """The case the desk shows after saving (its card replaces the form)."""
    p.page.wait_for_selector("#dk-intake", state="hidden")
    p.page.wait_for_function(
        f"() => (document.getElementById('dk-card').dataset.shown || '0') !== '{before}'"
    )
    return int(p.page.get_attribute("#dk-card", "data-id") or 0)


def test_pasted_gcj02_point_is_located_before_saving_and_enter_saves(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    code, lon, lat = desk_city.grid_point(50)
    glon, glat = (float(v[0]) for v in from_storage([lon], [lat], "gcj02"))
    expect = locate(desk_city, glon, glat, "gcj02")
    assert expect["grid"]["code"] == code and expect["station"] and expect["party_branch"]
    p = desk(desk_city.tokens["dispatcher"])
    page = p.open()
    page.locator("body").press("n")
    page.wait_for_selector("#dk-intake:not([hidden])")
    pick_category(p, "zyrm", "噪音扰民")
    assert "生态环境局" in page.inner_text("#dk-in-cat-unit")
    page.fill("#dk-in-description", "小区门口KTV深夜噪声")
    count = desk_city.scalar("SELECT count(*) FROM incidents")
    page.select_option("#dk-in-crs", "gcj02")
    # Pasted the way a phone shows it: latitude first.
    page.fill("#dk-in-coords", f"{glat:.6f}, {glon:.6f}")
    page.press("#dk-in-coords", "Enter")
    shown = located_text(p)
    assert expect["grid"]["name"] in shown and code in shown
    assert expect["station"]["name"] in shown and expect["party_branch"]["name"] in shown
    assert f"{round(expect['station']['distance_m'])} 米" in shown
    assert "纬度, 经度" in page.inner_text("#dk-in-coords-note")
    # Enter in the coordinates located them; it saved nothing.
    assert desk_city.scalar("SELECT count(*) FROM incidents") == count
    page.fill("#dk-in-name", "钱七")
    page.fill("#dk-in-phone", "13600002222")
    before = page.get_attribute("#dk-card", "data-shown") or "0"
    page.press("#dk-in-phone", "Enter")
    iid = saved_id(p, before)
    p.message(f"已受理 #{iid}")
    assert desk_city.scalar("SELECT count(*) FROM incidents") == count + 1
    with desk_city.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT category_code, grid_code, input_crs, reporter_name, status, channel"
                " FROM incidents WHERE id = :i"
            ),
            {"i": iid},
        ).one()
    assert tuple(row) == ("noise", code, "gcj02", "钱七", "received", "hotline_call")
    assert page.inner_text("#dk-card-status") == "待派单"
    assert p.outside == [] and p.errors == []


def test_place_search_and_map_click_and_enter_in_the_description(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    code, _, _ = desk_city.grid_point(52)
    name = desk_city.scalar("SELECT name FROM grids WHERE code = :c AND valid_to IS NULL", c=code)
    p = desk(desk_city.tokens["dispatcher"])
    page = p.open()
    page.click("#dk-new")
    pick_category(p, "环境", "环境卫生")
    page.click("#dk-in-place")
    page.keyboard.type(code)
    page.wait_for_selector("#dk-in-place-list:not([hidden]) li")
    assert page.inner_text("#dk-in-place-list li:first-child b") == name
    page.keyboard.press("Enter")
    shown = located_text(p)
    assert name in shown and code in shown
    # A click on the map takes the point under it instead.
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2 + 30)
    clicked = located_text(p)
    lon, lat = (float(v) for v in page.inner_text("#dk-in-point").split(" · ")[0].split(", "))
    assert locate(desk_city, lon, lat, "cgcs2000")["grid"]["name"] in clicked
    page.fill("#dk-in-description", "垃圾桶满溢无人清运")
    before = page.get_attribute("#dk-card", "data-shown") or "0"
    page.press("#dk-in-description", "Enter")
    iid = saved_id(p, before)
    stored = desk_city.scalar("SELECT description FROM incidents WHERE id = :i", i=iid)
    assert stored == "垃圾桶满溢无人清运"
    assert p.errors == []


def test_nothing_is_saved_without_category_or_place(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    p = desk(desk_city.tokens["dispatcher"])
    page = p.open()
    page.click("#dk-new")
    count = desk_city.scalar("SELECT count(*) FROM incidents")
    page.press("#dk-in-description", "Enter")
    p.message("类别")
    pick_category(p, "gnwt", "供暖问题")
    page.press("#dk-in-category", "Enter")
    p.message("位置")
    assert desk_city.scalar("SELECT count(*) FROM incidents") == count
    assert p.errors == []


def test_duplicate_offered_at_intake_and_merged(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    _, lon, lat = desk_city.grid_point(60)
    first = desk_city.new_incident(60, category="sanitation")
    p = desk(desk_city.tokens["dispatcher"])
    page = p.open()
    page.click("#dk-new")
    pick_category(p, "hjws", "环境卫生")
    page.select_option("#dk-in-crs", "cgcs2000")
    page.fill("#dk-in-coords", f"{lon:.7f},{lat:.7f}")
    page.click("#dk-in-coords-go")
    offer = page.locator(f"#dk-in-similar input[value='{first['id']}']")
    offer.wait_for()
    assert "可能重复" in page.inner_text("#dk-in-similar")
    assert page.is_checked("#dk-in-similar input[value='']")  # a new case unless chosen
    offer.check()
    before = page.get_attribute("#dk-card", "data-shown") or "0"
    page.press("#dk-in-phone", "Enter")
    shown = saved_id(p, before)
    assert shown == first["id"]  # the original, with the new report among its duplicates
    new_id = desk_city.scalar("SELECT max(id) FROM incidents WHERE merged_into = :i", i=first["id"])
    assert new_id is not None and new_id > first["id"]
    assert desk_city.scalar("SELECT status FROM incidents WHERE id = :i", i=new_id) == "closed"
    assert f"#{new_id}" in page.inner_text("#dk-duplicates")
    p.message("并入")
    assert p.errors == []


def test_merge_from_the_card(desk_city: DeskCity, desk: Callable[..., DeskPage]) -> None:
    first = desk_city.new_incident(62, category="street_vending")
    second = desk_city.new_incident(62, category="street_vending", description="又来摆摊")
    p = desk(desk_city.tokens["dispatcher"])
    page = p.open()
    p.show(second["id"])
    merge = page.locator(f"#dk-similar button[data-into='{first['id']}']")
    merge.wait_for()
    merge.click()
    assert merge.inner_text() == f"确认并入 #{first['id']}？"
    assert (
        desk_city.scalar("SELECT merged_into FROM incidents WHERE id = :i", i=second["id"]) is None
    )
    before = page.get_attribute("#dk-card", "data-shown") or "0"
    merge.click()
    page.wait_for_function(f"() => document.getElementById('dk-card').dataset.shown !== '{before}'")
    p.card_is(second["id"], "closed")
    assert f"#{first['id']}" in page.inner_text(".dk-banner")
    assert (
        desk_city.scalar("SELECT merged_into FROM incidents WHERE id = :i", i=second["id"])
        == first["id"]
    )
    assert p.errors == []
