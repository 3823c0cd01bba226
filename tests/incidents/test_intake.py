"""POST /api/v1/incidents over real HTTP: storing, idempotency, every bad input, roles."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tests.incidents.conftest import bearer, count_incidents, new_external_id, post


def test_a_report_is_stored_with_its_received_event(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any], engine: Engine
) -> None:
    r = post(http, tokens["dispatcher"], incident_body)
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"/api/v1/incidents/{body['id']}"
    assert body["status"] == "received"
    assert body["external_id"] == incident_body["external_id"]
    assert body["reporter_name"] == "张三丰"  # a dispatcher sees personal data
    assert body["assignment"]["match"] in ("inside", "boundary", "snapped", "outside")
    assert body["due_at"] > body["received_at"]
    assert [e["kind"] for e in body["events"]] == ["received"]
    assert body["events"][0]["actor"] == "test-dispatcher"
    assert count_incidents(engine, "external_id = :e", e=incident_body["external_id"]) == 1


def test_the_same_external_id_returns_the_stored_incident(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any], engine: Engine
) -> None:
    first = post(http, tokens["dispatcher"], incident_body)
    again = post(http, tokens["dispatcher"], incident_body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["description"] == incident_body["description"]
    assert count_incidents(engine, "external_id = :e", e=incident_body["external_id"]) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": "retry"}, "description"),
        ({"category_code": "noise"}, "category_code"),
        ({"reporter_phone": "13800000000"}, "reporter_phone"),
        ({"lat": 36.6271}, "lat"),
        ({"received_at": "2026-03-02T09:00:00+08:00"}, "received_at"),
    ],
)
def test_the_same_external_id_with_another_report_is_a_conflict(
    http: httpx.Client,
    tokens: dict[str, str],
    incident_body: dict[str, Any],
    engine: Engine,
    change: dict[str, Any],
    field: str,
) -> None:
    first = post(http, tokens["dispatcher"], incident_body)
    assert first.status_code == 201, first.text
    again = post(http, tokens["dispatcher"], {**incident_body, **change})
    assert again.status_code == 409 and again.json()["field"] == field, again.text
    assert incident_body["external_id"] in again.json()["error"]
    assert count_incidents(engine, "external_id = :e", e=incident_body["external_id"]) == 1
    stored = http.get(
        f"/api/v1/incidents/{first.json()['id']}", headers=bearer(tokens["dispatcher"])
    )
    assert stored.json()["description"] == incident_body["description"]


def test_concurrent_posts_of_one_external_id_store_one_row(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any], engine: Engine
) -> None:
    def send(_: int) -> httpx.Response:
        with httpx.Client(base_url=str(http.base_url), timeout=30) as client:
            return post(client, tokens["dispatcher"], incident_body)

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(send, range(6)))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert count_incidents(engine, "external_id = :e", e=incident_body["external_id"]) == 1


BAD_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("missing field", {"channel": None}, "channel"),
    ("unknown field", {"priority": "high"}, "priority"),
    ("unknown channel", {"channel": "fax"}, "channel"),
    ("unknown category", {"category_code": "no_such_thing"}, "category_code"),
    ("unknown crs", {"crs": "mars2000"}, "crs"),
    ("description too long", {"description": "x" * 4001}, "description"),
    ("lon not a number", {"lon": "east"}, "lon"),
    ("lat out of range", {"lat": 95.0}, "lat"),
    ("lon out of range", {"lon": 181.0}, "lon"),
    ("external_id too long", {"external_id": "e" * 65}, "external_id"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_input_is_refused_naming_the_field(
    http: httpx.Client,
    tokens: dict[str, str],
    incident_body: dict[str, Any],
    engine: Engine,
    case: str,
    change: dict[str, Any],
    field: str,
) -> None:
    body = {**incident_body, **change}
    body = {k: v for k, v in body.items() if v is not None}
    before = count_incidents(engine)
    r = post(http, tokens["dispatcher"], body)
    assert r.status_code == 422, (case, r.text)
    assert r.json()["field"] == field, r.json()
    assert field in r.json()["error"]
    assert count_incidents(engine) == before


def test_nan_and_infinity_are_refused(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any], engine: Engine
) -> None:
    before = count_incidents(engine)
    for field, value in (("lon", "NaN"), ("lat", "Infinity"), ("lon", "-Infinity")):
        raw = json.dumps({**incident_body, field: 0.0}).replace(
            f'"{field}": 0.0', f'"{field}": {value}'
        )
        r = http.post(
            "/api/v1/incidents",
            content=raw,
            headers={**bearer(tokens["dispatcher"]), "content-type": "application/json"},
        )
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field
    assert count_incidents(engine) == before


def test_malformed_json_and_oversized_bodies_are_refused(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any], engine: Engine
) -> None:
    before = count_incidents(engine)
    headers = {**bearer(tokens["dispatcher"]), "content-type": "application/json"}
    r = http.post("/api/v1/incidents", content=b'{"channel": "wechat",', headers=headers)
    assert r.status_code == 422
    assert "json" in r.json()["error"].lower()
    huge = {**incident_body, "address": "x" * 2_000_000}
    r = http.post("/api/v1/incidents", content=json.dumps(huge).encode(), headers=headers)
    assert r.status_code == 413
    assert count_incidents(engine) == before


def test_only_dispatchers_and_above_may_post(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any], engine: Engine
) -> None:
    assert http.post("/api/v1/incidents", json=incident_body).status_code == 401
    assert post(http, tokens["viewer"], incident_body).status_code == 403
    assert count_incidents(engine, "external_id = :e", e=incident_body["external_id"]) == 0
    for role in ("planner", "admin"):
        r = post(http, tokens[role], {**incident_body, "external_id": new_external_id(role)})
        assert r.status_code == 201, r.text


def test_viewers_see_reporters_masked(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any]
) -> None:
    created = post(http, tokens["dispatcher"], incident_body).json()
    path = f"/api/v1/incidents/{created['id']}"
    for who in (bearer(tokens["viewer"]), {}):
        shown = http.get(path, headers=who).json()
        assert shown["reporter_name"] == "张**"
        assert shown["reporter_phone"] == "138****5678"
        listed = http.get("/api/v1/incidents", params={"limit": 1000}, headers=who).json()
        assert all("13812345678" not in json.dumps(i) for i in listed["items"])
    shown = http.get(path, headers=bearer(tokens["dispatcher"])).json()
    assert shown["reporter_phone"] == "13812345678"
