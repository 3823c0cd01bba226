"""``GET /api/v1/locate`` over real HTTP on the test city: the answer and every refusal."""

from __future__ import annotations

import httpx
import prcoords
import pytest

from tests.assign.city import C31, C32, D3, VERTEX

INSIDE: dict[str, str | float] = {"lon": 101.71, "lat": 36.57}


def test_locate_answers_every_unit(city_http: httpx.Client) -> None:
    r = city_http.get("/api/v1/locate", params=INSIDE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["match"] == "inside" and body["distance_m"] == 0
    assert body["grid"] == {"code": C31 + "001", "name": "网格001-001"}
    assert body["community"] == {"code": C31, "name": "北大街社区"}
    assert body["street"]["code"] == D3 + "001" and body["district"]["code"] == D3
    station = body["station"]
    assert set(station) == {"id", "code", "name", "distance_m", "within_radius"}
    assert station["code"] == "ES-S1" and station["within_radius"] is True
    assert body["party_branch"] == {"id": body["party_branch"]["id"], "name": "网格001党支部",
                                    "kind": "grid_branch"}  # fmt: skip
    assert body["boundary_version"] == 2


def test_vertex_over_http(city_http: httpx.Client) -> None:
    body = city_http.get("/api/v1/locate", params={"lon": VERTEX[0], "lat": VERTEX[1]}).json()
    assert body["match"] == "boundary" and body["grid"]["code"] == C31 + "001"


def test_at_over_http(city_http: httpx.Client) -> None:
    point: dict[str, str | float] = {"lon": 101.78, "lat": 36.60, "crs": "wgs84"}
    then = city_http.get("/api/v1/locate", params={**point, "at": "2026-03-01T08:00:00+08:00"})
    now = city_http.get("/api/v1/locate", params=point)
    assert then.json()["grid"]["code"] == C32 + "002" and then.json()["boundary_version"] == 1
    assert now.json()["grid"]["code"] == C32 + "001"
    naive = city_http.get("/api/v1/locate", params={**point, "at": "2026-03-01T08:00:00"})
    assert naive.json()["boundary_version"] == 1


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_chinese_datums_land_in_the_right_grid(city_http: httpx.Client, crs: str) -> None:
    # 15 m west of the edge x = 101.75: the datum offset (~200 m east) would cross it.
    lon, lat = 101.75 - 15 / 89_500, 36.58
    shifted = prcoords.wgs_gcj((lat, lon)) if crs == "gcj02" else prcoords.wgs_bd((lat, lon))
    assert abs(shifted.lon - lon) > 0.001  # the raw input lies far from the true point
    r = city_http.get("/api/v1/locate", params={"lon": shifted.lon, "lat": shifted.lat, "crs": crs})
    assert r.status_code == 200, r.text
    assert r.json()["grid"]["code"] == C31 + "002" and r.json()["match"] == "inside"
    raw = city_http.get("/api/v1/locate", params={"lon": shifted.lon, "lat": shifted.lat})
    assert raw.json()["grid"]["code"] == C32 + "001"  # taken as CGCS2000 it would be wrong


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"lon": "abc", "lat": 36.57}, "lon", ""),
        ({"lat": 36.57}, "lon", ""),
        ({"lon": 101.71}, "lat", ""),
        ({"lon": "nan", "lat": 36.57}, "lon", "finite"),
        ({"lon": 101.71, "lat": "inf"}, "lat", "finite"),
        ({"lon": "-Infinity", "lat": 36.57}, "lon", "finite"),
        ({"lon": 200, "lat": 36.57}, "lon", "180"),
        ({"lon": 101.71, "lat": -91}, "lat", "90"),
        ({**INSIDE, "crs": "mars"}, "crs", "crs"),
        ({**INSIDE, "at": "yesterday"}, "at", "ISO 8601"),
        ({**INSIDE, "at": "2026-13-40"}, "at", "ISO 8601"),
        ({"lon": 116.40, "lat": 39.90}, "lon", "outside the service area"),
        ({"lon": 36.57, "lat": 101.71}, "lat", "swapped"),
        ({"lon": 36.57, "lat": 101.71, "crs": "gcj02"}, "lat", "swapped"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    city_http: httpx.Client, params: dict[str, object], field: str, says: str
) -> None:
    r = city_http.get("/api/v1/locate", params=params)  # type: ignore[arg-type]
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["field"] == field
    assert says in body["error"]


def test_near_the_city_is_accepted_and_outside(city_http: httpx.Client) -> None:
    r = city_http.get("/api/v1/locate", params={"lon": 101.85, "lat": 36.60})  # ~4.5 km east
    assert r.status_code == 200
    assert r.json()["match"] == "outside" and r.json()["district"]["code"] == D3


def test_documented_in_openapi(city_http: httpx.Client) -> None:
    spec = city_http.get("/openapi.json").json()
    op = spec["paths"]["/api/v1/locate"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"lon", "lat", "crs", "at"}
