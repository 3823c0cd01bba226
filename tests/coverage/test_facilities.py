"""Facilities over real HTTP: listing, planner writes, circles that follow, roles, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod
from sqlalchemy import text

from tests.coverage.conftest import DISTRICT, EMPTY_DISTRICT, City

GEOD = Geod(ellps="GRS80")
NEW = {
    "type": "enforcement_station",
    "name": "New station",
    "lon": 101.78,
    "lat": 36.57,
    "district": DISTRICT,
    "staff": 20,
}


def _circle(city: City, fid: int) -> shapely.Geometry:
    with city.engine.connect() as conn:
        wkb = conn.execute(
            text("SELECT ST_AsBinary(service_area) FROM facilities WHERE id = :i"), {"i": fid}
        ).scalar_one()
    return shapely.from_wkb(bytes(wkb))


def _vertex_distances(circle: shapely.Geometry, lon: float, lat: float) -> np.ndarray:
    ring = np.asarray(circle.exterior.coords)[:-1]
    _, _, d = GEOD.inv(np.full(len(ring), lon), np.full(len(ring), lat), ring[:, 0], ring[:, 1])
    return np.asarray(d)


def test_list_is_geojson_filtered_by_type_and_district(small_city: City) -> None:
    with small_city.client() as http:
        body = http.get("/api/v1/facilities", params={"type": "enforcement_station"}).json()
        assert body["type"] == "FeatureCollection"
        codes = sorted(f["properties"]["code"] for f in body["features"])
        assert codes == ["ES-T1", "ES-T2", "ES-T3"]
        assert body["features"][0]["geometry"]["type"] == "Point"
        canteens = http.get(
            "/api/v1/facilities", params={"type": "elderly_canteen", "district": DISTRICT}
        ).json()
        assert {f["properties"]["seats"] for f in canteens["features"]} == {40, 30}
        assert (
            http.get("/api/v1/facilities", params={"district": EMPTY_DISTRICT}).json()["features"]
            == []
        )
        bad = http.get("/api/v1/facilities", params={"district": "639999"})
        assert bad.status_code == 404 and bad.json()["field"] == "district"
        assert http.get("/api/v1/facilities", params={"type": "x"}).json()["field"] == "type"


def test_stored_circles_are_on_the_ground(small_city: City) -> None:
    with small_city.client() as http:
        one = http.get("/api/v1/facilities/ES-T3").json()
    lon, lat = one["geometry"]["coordinates"]
    circle = shapely.geometry.shape(one["properties"]["service_area"])
    d = _vertex_distances(circle, lon, lat)
    assert len(d) == 128
    assert np.allclose(d, 1500.0, atol=0.01)
    area, _ = GEOD.geometry_area_perimeter(circle)
    assert abs(area) == pytest.approx(np.pi * 1500.0**2, rel=1e-3)


def test_planner_creates_moves_resizes_and_retires(writable_city: City) -> None:
    city = writable_city
    with city.client("planner") as http:
        baseline = http.get("/api/v1/coverage", params={"district": DISTRICT}).json()
        made = http.post("/api/v1/facilities", json=NEW)
        assert made.status_code == 201, made.text
        props = made.json()["properties"]
        fid = props["id"]
        assert props["service_radius_m"] == 2000.0  # the station default
        assert props["code"].startswith(f"ES{DISTRICT}-")
        before = http.get("/api/v1/coverage", params={"district": DISTRICT}).json()
        assert before["residents"]["covered"] > baseline["residents"]["covered"]
        first = _circle(city, fid)
        # Open incidents of the district were re-assigned: the ones nearest the new station
        # (inside its circle, outside the others') now name it.
        with city.engine.connect() as conn:
            named = conn.execute(
                text("SELECT count(*) FROM incidents WHERE station_id = :i"), {"i": fid}
            ).scalar_one()
            events = conn.execute(
                text("SELECT coalesce(sum(cardinality(incident_ids)), 0) FROM incident_moves")
            ).scalar_one()
        assert named > 0 and events >= named
        assert np.allclose(_vertex_distances(first, 101.78, 36.57), 2000.0, atol=0.01)

        moved = http.patch(f"/api/v1/facilities/{fid}", json={"lon": 101.71, "lat": 36.65})
        assert moved.status_code == 200, moved.text
        second = _circle(city, fid)
        assert not second.intersects(first)
        assert np.allclose(_vertex_distances(second, 101.71, 36.65), 2000.0, atol=0.01)
        after = http.get("/api/v1/coverage", params={"district": DISTRICT}).json()
        assert after["residents"]["covered"] != before["residents"]["covered"]
        load = {row["id"]: row for row in after["load"]}
        assert load[fid]["residents"] != {r["id"]: r for r in before["load"]}[fid]["residents"]

        resized = http.patch(
            f"/api/v1/facilities/{fid}", json={"service_radius_m": 800, "staff": 5, "seats": 0}
        )
        assert resized.json()["properties"]["staff"] == 5
        assert np.allclose(_vertex_distances(_circle(city, fid), 101.71, 36.65), 800, atol=0.01)

        retired = http.post(f"/api/v1/facilities/{fid}/retire")
        assert retired.json()["properties"]["active"] is False
        assert retired.json()["properties"]["retired_at"]
        listed = http.get("/api/v1/facilities", params={"type": "enforcement_station"}).json()
        assert fid not in [f["id"] for f in listed["features"]]
        again = http.patch(f"/api/v1/facilities/{fid}", json={"staff": 3})
        assert again.status_code == 409 and again.json()["field"] == "facility"
        final = http.get("/api/v1/coverage", params={"district": DISTRICT}).json()
        assert final["residents"]["covered"] == baseline["residents"]["covered"]


def test_canteen_gets_its_default_radius(writable_city: City) -> None:
    with writable_city.client("admin") as http:
        body = {**NEW, "type": "elderly_canteen", "seats": 50}
        made = http.post("/api/v1/facilities", json=body).json()["properties"]
    assert made["service_radius_m"] == 1000.0 and made["seats"] == 50


@pytest.mark.parametrize("role", [None, "viewer", "dispatcher"])
def test_writes_need_a_planner(small_city: City, role: str | None) -> None:
    expected = 401 if role is None else 403
    with small_city.client(role) as http:
        assert http.post("/api/v1/facilities", json=NEW).status_code == expected
        assert http.patch("/api/v1/facilities/ES-T1", json={"staff": 1}).status_code == expected
        assert http.post("/api/v1/facilities/ES-T1/retire").status_code == expected
        siting = http.post("/api/v1/coverage/siting", json={"district": DISTRICT, "k": 1})
        assert siting.status_code == expected
    with small_city.client() as http:
        staff = http.get("/api/v1/facilities/ES-T1").json()["properties"]["staff"]
    assert staff == 20


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"service_radius_m": 0}, 422, "service_radius_m"),
        ({"service_radius_m": -5}, 422, "service_radius_m"),
        ({"service_radius_m": 50_001}, 422, "service_radius_m"),
        ({"district": "639999"}, 404, "district"),
        ({"lon": 101.85}, 422, "lon"),  # in the empty district, not in its own
        ({"lon": 200.0}, 422, "lon"),
        ({"lat": -91.0}, 422, "lat"),
        ({"type": "fire_station"}, 422, "type"),
        ({"staff": -1}, 422, "staff"),
        ({"crs": "nonsense"}, 422, "crs"),
        ({"name": ""}, 422, "name"),
        ({"code": "ES-T1"}, 409, "code"),
    ],
)
def test_bad_input_names_the_field(
    small_city: City, change: dict[str, object], status: int, field: str
) -> None:
    with small_city.client("planner") as http:
        response = http.post("/api/v1/facilities", json={**NEW, **change})
        assert response.status_code == status, response.text
        assert response.json()["field"] == field
        listed = http.get("/api/v1/facilities", params={"district": DISTRICT}).json()
    assert len(listed["features"]) == 5  # nothing half-written


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"service_radius_m": 0}, 422, "service_radius_m"),
        ({"service_radius_m": 1e6}, 422, "service_radius_m"),
        ({"lon": 101.9, "lat": 36.6}, 422, "lon"),
        ({"lon": 101.75}, 422, "lat"),
        ({"district": "639999", "lon": 101.75, "lat": 36.6}, 404, "district"),
    ],
)
def test_bad_changes_leave_the_facility_alone(
    small_city: City, change: dict[str, object], status: int, field: str
) -> None:
    with small_city.client("planner") as http:
        response = http.patch("/api/v1/facilities/ES-T2", json=change)
        assert response.status_code == status, response.text
        assert response.json()["field"] == field
        still = http.get("/api/v1/facilities/ES-T2").json()
    assert still["geometry"]["coordinates"] == pytest.approx([101.745, 36.600])
    assert still["properties"]["service_radius_m"] == 2000.0
    with small_city.client("planner") as http:
        missing = http.patch("/api/v1/facilities/999999", json={"staff": 1})
    assert missing.status_code == 404 and missing.json()["field"] == "facility"
