"""Patrol findings (巡查上报) by a grid worker: kept to its grids, WGS 84 or GCJ-02, and
replays by external_id."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from gis.coords import ground_distance_m, wgs_to_gcj
from tests.field.conftest import FieldCity, bearer

_ids = itertools.count(1)


def patrol(city: FieldCity, offset: int, **extra: Any) -> dict[str, Any]:
    _, lon, lat = city.grid_point(offset)
    return {
        "external_id": f"patrol-{next(_ids):05d}",
        "channel": "patrol",
        "category_code": "sanitation",
        "description": "巡查发现：路边垃圾桶满溢",
        "lon": lon,
        "lat": lat,
        "crs": "wgs84",
        **extra,
    }


def post(http: httpx.Client, token: str, body: dict[str, Any]) -> httpx.Response:
    return http.post("/api/v1/incidents", json=body, headers=bearer(token))


def stored(city: FieldCity, external_id: str) -> int:
    return int(
        city.scalar("SELECT count(*) FROM incident_reports WHERE external_id = :e", e=external_id)
    )


def test_a_finding_inside_my_grids_is_stored(field_city: FieldCity) -> None:
    city = field_city
    worker = city.worker_token(20, 21, name="王巡查")
    with city.client() as http:
        for offset in (20, 21):
            body = patrol(city, offset)
            r = post(http, worker, body)
            assert r.status_code == 201, r.text
            inc = r.json()
            assert inc["channel"] == "patrol" and inc["status"] == "received"
            assert inc["assignment"]["grid_code"] == city.grid_code(offset)
            assert inc["events"][0]["actor"] == "王巡查"
            # The worker reads back its own report, reporter fields and all.
            again = http.get(f"/api/v1/incidents/{inc['id']}", headers=bearer(worker))
            assert again.status_code == 200


def test_a_finding_outside_my_grids_is_refused_and_not_stored(field_city: FieldCity) -> None:
    city = field_city
    worker = city.worker_token(22)
    before = city.scalar("SELECT count(*) FROM incident_reports")
    with city.client() as http:
        body = patrol(city, 23)  # the next grid: not mine
        r = post(http, worker, body)
        assert r.status_code == 403, r.text
        assert r.json()["field"] == "location"
        assert city.grid_code(23) in r.json()["error"]
        assert stored(city, body["external_id"]) == 0
        # Outside every grid (2 km east of them all, in the service area): no grid's.
        east, lat = city.rows(
            "SELECT ST_XMax(e) + 0.02, (ST_YMin(e) + ST_YMax(e)) / 2 FROM"
            " (SELECT ST_Extent(geom) AS e FROM grids WHERE valid_to IS NULL) s"
        )[0]
        far = {**patrol(city, 22), "lon": float(east), "lat": float(lat)}
        r = post(http, worker, far)
        assert r.status_code == 403, r.text
        assert r.json()["field"] == "location" and "no grid" in r.json()["error"]
        assert stored(city, far["external_id"]) == 0
        # Another channel than patrol.
        wrong = post(http, worker, patrol(city, 22, channel="hotline_call"))
        assert wrong.status_code == 422 and wrong.json()["field"] == "channel"
    assert city.scalar("SELECT count(*) FROM incident_reports") == before


def test_a_gcj02_position_lands_in_its_grid(field_city: FieldCity) -> None:
    """WeChat's map gives GCJ-02, about 170 m off at Xining: taken as such it lands where it
    is; the same numbers taken as WGS 84 would land outside the worker's grid."""
    city = field_city
    offset = 24
    code = city.grid_code(offset)
    # A point inside the grid whose GCJ-02 numbers, read as WGS 84, lie outside it.
    candidates = city.rows(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_Dump(ST_GeneratePoints("
        " ST_Buffer(geom::geography, -25)::geometry, 200, 7))).geom AS p"
        " FROM grids WHERE code = :c AND valid_to IS NULL) s",
        c=code,
    )
    point = None
    for lon, lat in candidates:
        glon, glat = (float(v) for v in wgs_to_gcj(lon, lat))
        inside = city.scalar(
            "SELECT ST_Intersects(geom, ST_SetSRID(ST_Point(:x, :y), 4490)) FROM grids"
            " WHERE code = :c AND valid_to IS NULL",
            x=glon, y=glat, c=code,
        )  # fmt: skip
        if not inside:
            point = (lon, lat, glon, glat)
            break
    assert point is not None, "no point of the grid moves out of it under GCJ-02"
    lon, lat, glon, glat = point
    worker = city.worker_token(offset)
    with city.client() as http:
        body = patrol(city, offset, lon=glon, lat=glat, crs="gcj02")
        r = post(http, worker, body)
        assert r.status_code == 201, r.text
        inc = r.json()
        assert inc["assignment"]["grid_code"] == code
        assert float(ground_distance_m(inc["lon"], inc["lat"], lon, lat)) < 1.0
        misread = post(
            http, worker, {**body, "external_id": body["external_id"] + "w", "crs": "wgs84"}
        )
        assert misread.status_code == 403 and misread.json()["field"] == "location"


def test_replays_by_external_id(field_city: FieldCity) -> None:
    city = field_city
    worker = city.worker_token(25)
    with city.client() as http:
        body = patrol(city, 25, crs="gcj02")
        body["lon"], body["lat"] = (float(v) for v in wgs_to_gcj(body["lon"], body["lat"]))
        first = post(http, worker, body)
        assert first.status_code == 201, first.text
        # The phone lost signal and sends again: the stored one, never a second row.
        again = post(http, worker, body)
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        for field, value in (("description", "另一件事"), ("category_code", "noise")):
            r = post(http, worker, {**body, field: value})
            assert r.status_code == 409, r.text
            assert r.json()["field"] == field
        moved = post(http, worker, {**body, "lat": body["lat"] + 0.0005})
        assert moved.status_code == 409 and moved.json()["field"] == "lat"
        assert stored(city, body["external_id"]) == 1
        # Another worker replaying it: refused by grid, whatever the body.
        other = city.worker_token(26)
        assert post(http, other, body).status_code == 403
    assert (
        city.scalar(
            "SELECT description FROM incident_reports WHERE external_id = :e", e=body["external_id"]
        )
        == body["description"]
    )


def test_lists_keep_a_worker_to_its_grids(field_city: FieldCity) -> None:
    city = field_city
    mine, theirs = city.report(27), city.report(28)
    worker = city.worker_token(27)
    listed = city.get(worker, "/api/v1/incidents").json()["items"]
    ids = [i["id"] for i in listed]
    assert mine["id"] in ids and theirs["id"] not in ids
    assert {i["assignment"]["grid_code"] for i in listed} == {city.grid_code(27)}
    # The reporter's phone is shown to the worker of the grid (they knock on the door).
    assert next(i for i in listed if i["id"] == mine["id"])["reporter_phone"] == "13600002222"
    refused = city.get(worker, "/api/v1/incidents", grid=city.grid_code(28))
    assert refused.status_code == 403 and refused.json()["field"] == "grid"
    assert city.get(worker, f"/api/v1/incidents/{theirs['id']}").status_code == 403
    viewer = city.get(city.tokens["viewer"], f"/api/v1/incidents/{mine['id']}").json()
    assert viewer["reporter_phone"] != "13600002222"  # masked for everyone else
