"""GET /api/v1/incidents: filters, limit/offset and cursor pages, the page-size cap."""

from __future__ import annotations

from typing import Any

import httpx

from tests.incidents.conftest import bearer, new_external_id, post


def _ids(http: httpx.Client, token: str, **params: Any) -> list[int]:
    r = http.get("/api/v1/incidents", params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["items"]]


def test_filters(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any], categories: list[str]
) -> None:
    token = tokens["dispatcher"]
    made = []
    for channel, category, when in (
        ("wechat", categories[1], "2024-03-05T10:00:00+08:00"),
        ("mayor_mailbox", categories[2], "2024-03-06T10:00:00+08:00"),
        ("wechat", categories[2], "2024-03-07T10:00:00+08:00"),
    ):
        body = {**incident_body, "external_id": new_external_id("ls"), "channel": channel}
        r = post(http, token, {**body, "category_code": category, "received_at": when})
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
    window = {"since": "2024-03-05T00:00:00+08:00", "until": "2024-03-08T00:00:00+08:00"}
    assert _ids(http, token, **window) == made[::-1]
    assert _ids(http, token, **window, channel="wechat") == [made[2], made[0]]
    assert _ids(http, token, **window, category=categories[2]) == [made[2], made[1]]
    assert _ids(http, token, **window, category=categories[2], channel="wechat") == [made[2]]
    assert _ids(http, token, since="2024-03-06T00:00:00+08:00", until=window["until"]) == [
        made[2],
        made[1],
    ]
    assert _ids(http, token, **window, status="received") == made[::-1]
    assert _ids(http, token, **window, status="closed") == []
    # No grids in this database: every point waits outside, in no grid or community.
    assert _ids(http, token, **window, grid="630103001001001") == []
    assert _ids(http, token, **window, community="630103001001") == []
    assert _ids(http, token, **window, station=1) == []
    for bad in ({"status": "lost"}, {"channel": "pigeon"}, {"since": "yesterday"}):
        r = http.get("/api/v1/incidents", params=bad, headers=bearer(token))
        assert r.status_code == 422 and r.json()["field"] == next(iter(bad))


def test_pages_by_offset_and_by_cursor(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any]
) -> None:
    token = tokens["dispatcher"]
    for _ in range(5):
        body = {**incident_body, "external_id": new_external_id("pg")}
        assert post(http, token, {**body, "received_at": "2023-01-10T08:00:00+08:00"}).is_success
    window = {"since": "2023-01-10T00:00:00+08:00", "until": "2023-01-11T00:00:00+08:00"}
    everything = _ids(http, token, **window)
    assert len(everything) >= 5 and everything == sorted(everything, reverse=True)
    by_offset = [_ids(http, token, **window, limit=2, offset=o) for o in (0, 2, 4)]
    assert [i for page in by_offset for i in page] == everything[:6]
    pages: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {**window, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = http.get("/api/v1/incidents", params=params, headers=bearer(token)).json()
        pages += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == everything


def test_page_size_is_capped(http: httpx.Client, tokens: dict[str, str]) -> None:
    page = http.get(
        "/api/v1/incidents", params={"limit": 10**6}, headers=bearer(tokens["viewer"])
    ).json()
    assert page["limit"] == 1000
    assert len(page["items"]) <= 1000
    r = http.get("/api/v1/incidents", params={"limit": 0}, headers=bearer(tokens["viewer"]))
    assert r.status_code == 422 and r.json()["field"] == "limit"


def test_one_incident_and_a_missing_one(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any]
) -> None:
    made = post(http, tokens["dispatcher"], incident_body).json()
    shown = http.get(f"/api/v1/incidents/{made['id']}", headers=bearer(tokens["viewer"]))
    assert shown.status_code == 200
    assert shown.json()["events"][0]["kind"] == "received"
    missing = http.get("/api/v1/incidents/987654321", headers=bearer(tokens["viewer"]))
    assert missing.status_code == 404 and missing.json()["field"] == "id"
