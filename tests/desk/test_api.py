"""What the desk reads besides incidents: units to dispatch to, categories with their
pinyin, who a token acts as, and a pasted point in the map's coordinate systems."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pypinyin import Style, lazy_pinyin

from gis.coords import from_storage, to_storage
from tests.desk.conftest import DeskCity


def get(city: DeskCity, path: str, token: str | None, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=city.base_url, timeout=30) as http:
        return http.get(path, params=params, headers=headers)


def test_units_by_kind_district_street_and_name(desk_city: DeskCity) -> None:
    viewer = desk_city.tokens["viewer"]
    every = get(desk_city, "/api/v1/units", viewer).json()["items"]
    assert len(every) == desk_city.scalar("SELECT count(*) FROM units WHERE active")
    kinds = [u["kind"] for u in every]
    order = ["department", "street_office", "community", "station"]
    assert kinds == sorted(kinds, key=order.index)  # departments first
    street = desk_city.scalar("SELECT street_code FROM units WHERE kind = 'community' LIMIT 1")
    mine = get(desk_city, "/api/v1/units", viewer, street=street).json()["items"]
    assert mine and {u["street_code"] for u in mine} == {street}
    assert {u["kind"] for u in mine} == {"street_office", "community"}
    district = street[:6]
    local = get(desk_city, "/api/v1/units", viewer, district=district, kind="station").json()
    assert local["items"] and {u["district_code"] for u in local["items"]} == {district}
    found = get(desk_city, "/api/v1/units", viewer, q="生态").json()["items"]
    assert [u["code"] for u in found] == ["ecology"]
    assert get(desk_city, "/api/v1/units", viewer, q="100%").json()["items"] == []
    assert len(get(desk_city, "/api/v1/units", viewer, limit=3).json()["items"]) == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "ministry"}, "kind"),
        ({"district": "6301"}, "district"),
        ({"street": "abc"}, "street"),
        ({"limit": 0}, "limit"),
    ],
)
def test_units_refuse_bad_filters_by_name(
    desk_city: DeskCity, params: dict[str, object], field: str
) -> None:
    r = get(desk_city, "/api/v1/units", desk_city.tokens["viewer"], **params)
    assert r.status_code == 422 and r.json()["field"] == field, r.text


def test_categories_carry_pinyin_and_default_unit(desk_city: DeskCity) -> None:
    items = get(desk_city, "/api/v1/categories", desk_city.tokens["ecology"]).json()["items"]
    assert len(items) == desk_city.scalar("SELECT count(*) FROM incident_categories WHERE active")
    noise = next(c for c in items if c["code"] == "noise")
    assert noise["name_zh"] == "噪音扰民" and noise["initials"] == "zyrm"
    assert noise["pinyin"] == "zaoyinraomin"
    assert noise["default_unit_code"] == "ecology" and noise["default_unit_name"] == "生态环境局"
    for c in items:
        assert c["initials"] == "".join(lazy_pinyin(c["name_zh"], style=Style.FIRST_LETTER))


def test_me_names_role_and_unit(desk_city: DeskCity) -> None:
    me = get(desk_city, "/api/v1/tokens/me", desk_city.tokens["ecology"]).json()
    assert me == {
        "role": "unit",
        "name": "staff-ecology",
        "district_code": None,
        "unit_code": "ecology",
        "grid_codes": [],
    }
    assert get(desk_city, "/api/v1/tokens/me", desk_city.tokens["dispatcher"]).json()["role"] == (
        "dispatcher"
    )
    assert get(desk_city, "/api/v1/tokens/me", None).json()["role"] == "anonymous"
    assert get(desk_city, "/api/v1/tokens/me", "wg_not_a_token").status_code == 401


def test_coords_in_every_system(desk_city: DeskCity) -> None:
    _, lon, lat = desk_city.grid_point(0)
    glon, glat = (float(v[0]) for v in from_storage([lon], [lat], "gcj02"))
    r = get(
        desk_city, "/api/v1/coords", desk_city.tokens["viewer"], lon=glon, lat=glat, crs="gcj02"
    )
    body = r.json()
    back = to_storage([glon], [glat], "gcj02")
    assert body["cgcs2000"] == pytest.approx([float(back[0][0]), float(back[1][0])], abs=1e-9)
    assert body["cgcs2000"] == pytest.approx([lon, lat], abs=1e-5)
    assert body["gcj02"] == pytest.approx([glon, glat], abs=1e-6)
    bad = get(desk_city, "/api/v1/coords", desk_city.tokens["viewer"], lon=lon, lat=lat, crs="mars")
    assert bad.status_code == 422 and bad.json()["field"] == "crs"
