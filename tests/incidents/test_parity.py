"""One report, two ways in: POST /api/v1/incidents and bulk intake refuse the same records
naming the same field, and store the same rows for the good ones (the demo city)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from gis.db import session_scope
from gis.incidents import ingest
from gis.incidents.bulk import IngestResult
from tests.incidents.conftest import City, bearer, new_external_id

CATEGORY = "property_services"  # a category of the demo city

# Every stored column of an incident but its id and external_id; distances to the
# centimetre (bulk intake stores them so).
STORED = """
SELECT channel, category_code, description, address, ST_X(geom), ST_Y(geom), input_crs,
       reporter_name, reporter_phone, status, handled_directly, received_at, due_at,
       closed_at, callback_at, rating, match, round(distance_m::numeric, 2), district_code,
       street_code, community_code, grid_code, station_id,
       round(station_distance_m::numeric, 2), station_within_radius, party_branch_id,
       boundary_version_id
FROM incidents WHERE external_id = :e
"""
EVENTS = """
SELECT e.kind, e.from_status, e.to_status, e.at, e.district_code FROM incident_events e
JOIN incidents i ON i.id = e.incident_id WHERE i.external_id = :e ORDER BY e.id
"""


def good_rows(lon: float, lat: float) -> list[dict[str, Any]]:
    """Records both intakes store: optional fields present or not, each CRS form, each
    way of writing a time, text at its longest."""
    base = {"channel": "hotline_call", "category_code": CATEGORY, "lon": lon, "lat": lat}
    return [
        {**base, "received_at": "2026-03-02T09:00:00+08:00"},
        {
            **base,
            "channel": "wechat",
            "description": "楼道堆物 things piled in the stairwell",
            "address": "城中区礼让街1号",
            "crs": "cgcs2000",
            "reporter_name": "李四",
            "reporter_phone": "13912345678",
            "received_at": "2026-03-02T10:15:00",
        },
        {
            **base,
            "channel": "patrol",
            "crs": "gcj02",
            "description": "x" * 4000,
            "address": "y" * 300,
            "reporter_name": "z" * 60,
            "reporter_phone": "1" * 32,
            "received_at": "2026-03-03",
        },
        {**base, "crs": "wgs84", "received_at": "2026-03-04T01:02:03Z", "address": None},
        {
            **base,
            "description": "  路灯不亮\n",
            "address": " 城中区礼让街2号 ",
            "reporter_name": "\t王五 ",
            "received_at": "2026-03-05T08:00:00+08:00",
        },
    ]


def bad_rows(lon: float, lat: float) -> list[tuple[dict[str, Any], str]]:
    """Records both intakes refuse, each with the field the refusal must name."""
    base = {
        "channel": "wechat",
        "category_code": CATEGORY,
        "lon": lon,
        "lat": lat,
        "received_at": "2026-03-02T09:00:00+08:00",
    }
    changes: list[tuple[dict[str, Any], str]] = [
        ({"channel": "fax"}, "channel"),
        ({"channel": None}, "channel"),
        ({"category_code": "no_such_thing"}, "category_code"),
        ({"category_code": ""}, "category_code"),
        ({"category_code": "c" * 33}, "category_code"),
        ({"description": "x" * 4001}, "description"),
        ({"address": "y" * 301}, "address"),
        ({"address": {"street": "礼让街"}}, "address"),
        ({"reporter_name": "z" * 61}, "reporter_name"),
        ({"reporter_phone": "1" * 33}, "reporter_phone"),
        ({"lon": "east"}, "lon"),
        ({"lat": None}, "lat"),
        ({"lat": 95.0}, "lat"),
        ({"lon": 181.0}, "lon"),
        ({"lon": lat, "lat": lon}, "lat"),  # swapped
        ({"lon": 116.39, "lat": 39.91}, "lon"),  # Beijing: far outside the city
        ({"crs": "mars2000"}, "crs"),
        ({"received_at": "next tuesday"}, "received_at"),
        ({"priority": "high"}, "priority"),
        ({"external_id": ""}, "external_id"),
        ({"external_id": "e" * 65}, "external_id"),
    ]
    return [({**base, **change}, field) for change, field in changes]


def without_nulls(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v is not None}


def post_each(
    http: httpx.Client, token: str, records: list[dict[str, Any]]
) -> list[httpx.Response]:
    return [http.post("/api/v1/incidents", json=r, headers=bearer(token)) for r in records]


def ingest_all(city: City, records: list[dict[str, Any]]) -> IngestResult:
    with session_scope(city.engine) as session:
        return ingest(session, records, "test-dispatcher")


def stored(city: City, external_id: str) -> tuple[list[Any], list[Any]]:
    with city.engine.connect() as conn:
        row = [list(r) for r in conn.execute(text(STORED), {"e": external_id}).all()]
        events = [list(r) for r in conn.execute(text(EVENTS), {"e": external_id}).all()]
    return row, events


@pytest.fixture(scope="module")
def point(city: City) -> tuple[float, float]:
    _, lon, lat = city.grid_point(3)
    return lon, lat


def test_good_records_are_stored_alike(
    city: City, city_http: httpx.Client, point: tuple[float, float]
) -> None:
    prefix = new_external_id("parity")
    rows = good_rows(*point)
    single = [{**r, "external_id": f"{prefix}-s{i}"} for i, r in enumerate(rows)]
    many = [{**r, "external_id": f"{prefix}-b{i}"} for i, r in enumerate(rows)]
    responses = post_each(city_http, city.tokens["dispatcher"], [without_nulls(r) for r in single])
    assert [r.status_code for r in responses] == [201] * len(rows), [r.text for r in responses]
    result = ingest_all(city, many)
    assert (result.stored, result.bad_rows) == (len(rows), [])
    for i in range(len(rows)):
        one, bulk = stored(city, f"{prefix}-s{i}"), stored(city, f"{prefix}-b{i}")
        assert len(one[0]) == 1 and len(one[1]) == 1, one  # the row and its received event
        assert one == bulk, (rows[i], one, bulk)
    # The rows hold what was sent: the longest texts whole, the point in its grid.
    assert stored(city, f"{prefix}-s2")[0][0][2:4] == ["x" * 4000, "y" * 300]
    assert stored(city, f"{prefix}-s0")[0][0][16] == "inside"


def test_bad_records_are_refused_alike_naming_the_field(
    city: City, city_http: httpx.Client, point: tuple[float, float]
) -> None:
    prefix = new_external_id("parity-bad")
    cases = bad_rows(*point)
    records = [{"external_id": f"{prefix}-{i}", **r} for i, (r, _) in enumerate(cases)]
    responses = post_each(city_http, city.tokens["dispatcher"], [without_nulls(r) for r in records])
    result = ingest_all(city, records)
    assert result.stored == 0
    bulk_field = {b.row: b.field for b in result.bad_rows}
    for i, ((record, field), response) in enumerate(zip(cases, responses, strict=True)):
        assert response.status_code == 422, (record, response.text)
        assert response.json()["field"] == field, (record, response.json())
        assert bulk_field.get(i + 1) == field, (record, result.bad_rows)
    with city.engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM incidents WHERE external_id LIKE :p"), {"p": f"{prefix}-%"}
        ).scalar_one()
    assert count == 0
