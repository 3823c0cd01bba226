"""The whole 12345 loop with responsible units, over HTTP on a copy of the demo city."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from gis.db import session_scope
from gis.incidents.due import due_day, local_date
from gis.tokens import create_token
from tests.incidents.conftest import City, bearer, new_external_id


def unit_token(city: City, unit_code: str) -> str:
    with session_scope(city.engine) as session:
        plain, _ = create_token(session, "unit", f"staff-{unit_code}", unit_code=unit_code)
    return plain


def new_incident(http: httpx.Client, city: City, offset: int = 0, **extra: Any) -> dict[str, Any]:
    _, lon, lat = city.grid_point(offset)
    body = {
        "external_id": new_external_id("loop"),
        "channel": "hotline_call",
        "category_code": "noise",
        "description": "广场舞音响太吵",
        "lon": lon,
        "lat": lat,
        "crs": "cgcs2000",
        "reporter_name": "李四",
        "reporter_phone": "13912345678",
        **extra,
    }
    r = http.post("/api/v1/incidents", json=body, headers=bearer(city.tokens["dispatcher"]))
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def step(http: httpx.Client, token: str, incident_id: int, **body: Any) -> httpx.Response:
    return http.post(
        f"/api/v1/incidents/{incident_id}/transitions", json=body, headers=bearer(token)
    )


def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def event_count(city: City, incident_id: int) -> int:
    with city.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM incident_events WHERE incident_id = :i"),
                {"i": incident_id},
            ).scalar_one()
        )


def test_demo_units_and_default_units(demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        kinds = {
            kind: n
            for kind, n in conn.execute(text("SELECT kind, count(*) FROM units GROUP BY kind"))
        }
        streets = conn.execute(text("SELECT count(*) FROM streets WHERE valid_to IS NULL"))
        communities = conn.execute(
            text("SELECT count(*) FROM communities WHERE valid_to IS NULL")
        ).scalar_one()
        stations = conn.execute(
            text("SELECT count(*) FROM facilities WHERE type = 'enforcement_station'")
        ).scalar_one()
        missing = conn.execute(
            text("SELECT count(*) FROM incident_categories WHERE default_unit_code IS NULL")
        ).scalar_one()
        noise_unit = conn.execute(
            text(
                "SELECT u.name FROM incident_categories c JOIN units u"
                " ON u.code = c.default_unit_code WHERE c.code = 'noise'"
            )
        ).scalar_one()
    assert kinds["street_office"] == streets.scalar_one()
    assert kinds["community"] == communities == 178
    assert kinds["station"] == stations
    assert kinds["department"] >= 20
    assert missing == 0
    assert noise_unit == "生态环境局"


def test_the_whole_loop_with_a_unit(city: City, city_http: httpx.Client) -> None:
    dispatcher = city.tokens["dispatcher"]
    ecology = unit_token(city, "ecology")
    inc = new_incident(city_http, city)
    iid = inc["id"]
    assert inc["allowed_steps"][:2] == ["dispatched", "closed"]

    sent = ok(step(city_http, dispatcher, iid, to="dispatched"))
    assert sent["unit_code"] == "ecology" and sent["status"] == "dispatched"
    assert sent["places"]["unit"]["name"] == "生态环境局"
    assert sent["accept_due_at"] is not None

    # The unit's own queue holds it, with the reporter's phone (they call back).
    queue = ok(city_http.get("/api/v1/incidents", headers=bearer(ecology)))["items"]
    assert iid in [i["id"] for i in queue]
    assert all(i["unit_code"] == "ecology" for i in queue)
    mine = ok(city_http.get(f"/api/v1/incidents/{iid}", headers=bearer(ecology)))
    assert mine["reporter_phone"] == "13912345678"
    assert set(mine["allowed_steps"]) == {
        "in_progress", "return", "extension_request", "handler"
    }  # fmt: skip

    refused = step(city_http, ecology, iid, to="return")
    assert refused.status_code == 422 and refused.json()["field"] == "note"
    back = ok(step(city_http, ecology, iid, to="return", note="不属于本单位职责"))
    assert back["status"] == "received" and back["unit_code"] is None
    assert city_http.get(f"/api/v1/incidents/{iid}", headers=bearer(ecology)).status_code == 403

    again = ok(step(city_http, dispatcher, iid, to="dispatched", unit_code="ecology"))
    assert again["status"] == "dispatched"
    accepted = ok(step(city_http, ecology, iid, to="in_progress", handler="王工"))
    assert accepted["handler"] == "王工" and accepted["accepted_at"] is not None

    due_before = datetime.fromisoformat(accepted["due_at"])
    asked = ok(step(city_http, ecology, iid, to="extension_request", days=3, note="需协调物业"))
    assert asked["requests"][-1]["state"] == "pending" and asked["due_at"] == accepted["due_at"]
    urged = ok(step(city_http, dispatcher, iid, to="urge", note="请尽快办理"))
    assert urged["urge_count"] == 1
    approved = ok(step(city_http, dispatcher, iid, to="extension_approve", note="同意"))
    assert approved["requests"][-1]["state"] == "approved"
    due_after = datetime.fromisoformat(approved["due_at"])
    assert local_date(due_after) == due_day(local_date(due_before), 3)

    replied = ok(step(city_http, ecology, iid, to="replied", note="已约谈广场舞队，调低音量"))
    assert replied["reply"] == "已约谈广场舞队，调低音量"
    assert step(city_http, ecology, iid, to="closed").status_code == 403
    closed = ok(step(city_http, dispatcher, iid, to="closed"))
    assert closed["closed_at"] is not None
    called = ok(step(city_http, dispatcher, iid, to="callback", rating=2, note="仍然很吵"))
    assert called["rating"] == 2 and "reopen" in called["allowed_steps"]
    reopened = ok(step(city_http, dispatcher, iid, to="reopen", note="群众不满意，重办"))
    assert reopened["status"] == "dispatched" and reopened["reopen_count"] == 1
    assert reopened["unit_code"] == "ecology" and reopened["closed_at"] is None
    assert reopened["rating"] is None

    steps = [(e["kind"], e["detail"].get("step"), e["unit_code"]) for e in reopened["events"]]
    assert steps == [
        ("received", None, None),
        ("transition", "dispatch", "ecology"),
        ("transition", "return", "ecology"),
        ("transition", "dispatch", "ecology"),
        ("transition", "accept", "ecology"),
        ("extension_request", None, "ecology"),
        ("urge", None, "ecology"),
        ("extension_decision", None, "ecology"),
        ("transition", "reply", "ecology"),
        ("transition", None, "ecology"),
        ("callback", None, "ecology"),
        ("transition", "reopen", "ecology"),
    ]
    actors = {e["actor"] for e in reopened["events"]}
    assert actors == {"city-dispatcher", "staff-ecology"}


def test_roles_and_queues(city: City, city_http: httpx.Client) -> None:
    dispatcher, viewer = city.tokens["dispatcher"], city.tokens["viewer"]
    ecology, housing = unit_token(city, "ecology"), unit_token(city, "housing")
    inc = new_incident(city_http, city, 1)
    iid = inc["id"]
    r = step(city_http, viewer, iid, to="dispatched")
    assert r.status_code == 403 and "viewer" in r.json()["error"]
    r = step(city_http, ecology, iid, to="dispatched")
    assert (
        r.status_code == 403 and "unit" in r.json()["error"] and "dispatched" in r.json()["error"]
    )
    ok(step(city_http, dispatcher, iid, to="dispatched"))
    # Another unit neither sees nor touches it.
    assert city_http.get(f"/api/v1/incidents/{iid}", headers=bearer(housing)).status_code == 403
    r = step(city_http, housing, iid, to="in_progress")
    assert r.status_code == 403 and "unit" in r.json()["error"]
    other = city_http.get("/api/v1/incidents", params={"unit": "ecology"}, headers=bearer(housing))
    assert other.status_code == 403
    housing_queue = ok(city_http.get("/api/v1/incidents", headers=bearer(housing)))["items"]
    assert iid not in [i["id"] for i in housing_queue]
    # The owning unit may not dispatch, urge or close: those are the hotline's steps.
    for to in ("urge", "transfer", "extension_approve"):
        r = step(city_http, ecology, iid, to=to, unit_code="housing")
        assert r.status_code == 403, (to, r.text)
        assert "unit" in r.json()["error"] and to in r.json()["error"]
    # Wrong state names from and to.
    r = step(city_http, dispatcher, iid, to="replied")
    assert r.status_code == 409
    assert "dispatched" in r.json()["error"] and "replied" in r.json()["error"]
    # A viewer reads the incident with personal data masked.
    shown = ok(city_http.get(f"/api/v1/incidents/{iid}", headers=bearer(viewer)))
    assert shown["reporter_phone"] == "139****5678"
    counts = ok(city_http.get("/api/v1/incidents/counts", headers=bearer(ecology)))
    assert counts["dispatched"] >= 1 and set(counts) >= {"received", "closed", "overdue"}


def test_bad_input_names_the_field_and_writes_nothing(city: City, city_http: httpx.Client) -> None:
    dispatcher = city.tokens["dispatcher"]
    ecology = unit_token(city, "ecology")
    iid = new_incident(city_http, city, 2)["id"]
    before = event_count(city, iid)
    r = step(city_http, dispatcher, iid, to="dispatched", unit_code="no_such_unit")
    assert r.status_code == 422 and r.json()["field"] == "unit_code"
    assert event_count(city, iid) == before
    ok(step(city_http, dispatcher, iid, to="dispatched"))
    r = step(city_http, dispatcher, iid, to="transfer", unit_code="ecology")
    assert r.status_code == 422 and r.json()["field"] == "unit_code"
    r = step(city_http, dispatcher, iid, to="transfer")
    assert r.status_code == 422 and r.json()["field"] == "unit_code"
    moved = ok(step(city_http, dispatcher, iid, to="transfer", unit_code="urban"))
    assert moved["unit_code"] == "urban" and moved["events"][-1]["detail"]["from_unit"] == "ecology"
    urban = unit_token(city, "urban")
    ok(step(city_http, urban, iid, to="in_progress"))
    for days in (0, 31, None):
        r = step(city_http, urban, iid, to="extension_request", days=days, note="x")
        assert r.status_code == 422 and r.json()["field"] == "days", (days, r.text)
    r = step(city_http, dispatcher, iid, to="extension_approve")
    assert r.status_code == 409  # nothing waits for a decision
    count = event_count(city, iid)
    ok(step(city_http, urban, iid, to="extension_request", days=2, note="待采购"))
    r = step(city_http, urban, iid, to="extension_request", days=2, note="again")
    assert r.status_code == 409
    refused = ok(step(city_http, dispatcher, iid, to="extension_refuse", note="不同意"))
    assert refused["requests"][-1]["state"] == "refused"
    assert event_count(city, iid) == count + 2
    # The first unit no longer holds it.
    assert city_http.get(f"/api/v1/incidents/{iid}", headers=bearer(ecology)).status_code == 403


def test_reopen_limit(city: City, city_http: httpx.Client) -> None:
    dispatcher = city.tokens["dispatcher"]
    iid = new_incident(city_http, city, 3)["id"]
    ok(step(city_http, dispatcher, iid, to="dispatched"))

    def round_trip(rating: int) -> dict[str, Any]:
        for to in ("in_progress", "replied", "closed"):
            ok(step(city_http, dispatcher, iid, to=to, note="办理"))
        return ok(step(city_http, dispatcher, iid, to="callback", rating=rating))

    round_trip(1)
    ok(step(city_http, dispatcher, iid, to="reopen"))
    round_trip(2)
    ok(step(city_http, dispatcher, iid, to="reopen"))
    done = round_trip(1)
    assert done["reopen_count"] == 2
    before = event_count(city, iid)
    r = step(city_http, dispatcher, iid, to="reopen")
    assert r.status_code == 409 and r.json()["field"] == "reopen_count"
    assert "limit" in r.json()["error"]
    assert event_count(city, iid) == before
    satisfied = new_incident(city_http, city, 4)["id"]
    ok(step(city_http, dispatcher, satisfied, to="closed", handled_directly=True))
    ok(step(city_http, dispatcher, satisfied, to="rating", rating=5))
    r = step(city_http, dispatcher, satisfied, to="reopen")
    assert r.status_code == 409 and "rating" in r.json()["error"]


def test_similar_and_merge(city: City, city_http: httpx.Client) -> None:
    dispatcher = city.tokens["dispatcher"]
    _, lon, lat = city.grid_point(5)
    first = new_incident(city_http, city, 5)
    second = new_incident(city_http, city, 5, description="又吵起来了")
    elsewhere = new_incident(city_http, city, 400)
    other_kind = new_incident(city_http, city, 5, category_code="sanitation")

    found = ok(
        city_http.get(
            "/api/v1/incidents/similar",
            params={"lon": lon, "lat": lat + 0.001, "category_code": "noise", "crs": "cgcs2000"},
            headers=bearer(dispatcher),
        )
    )["items"]
    ids = [i["id"] for i in found]
    assert first["id"] in ids and second["id"] in ids
    assert elsewhere["id"] not in ids and other_kind["id"] not in ids
    assert all(80 < i["distance_m"] < 250 for i in found if i["id"] in (first["id"], second["id"]))
    assert [i["distance_m"] for i in found] == sorted(i["distance_m"] for i in found)
    # Same place, same distance: the newer first.
    assert ids.index(second["id"]) < ids.index(first["id"])
    r = city_http.get(
        "/api/v1/incidents/similar",
        params={"lon": lon, "lat": lat, "category_code": "nope"},
        headers=bearer(dispatcher),
    )
    assert r.status_code == 422 and r.json()["field"] == "category_code"

    of_second = ok(
        city_http.get(f"/api/v1/incidents/{second['id']}/similar", headers=bearer(dispatcher))
    )["items"]
    assert first["id"] in [i["id"] for i in of_second]
    assert second["id"] not in [i["id"] for i in of_second]

    r = city_http.post(
        f"/api/v1/incidents/{second['id']}/merge", json={"into": second["id"]},
        headers=bearer(dispatcher),
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["field"] == "into"
    merged = city_http.post(
        f"/api/v1/incidents/{second['id']}/merge", json={"into": first["id"]},
        headers=bearer(dispatcher),
    )  # fmt: skip
    body = ok(merged)
    assert body["status"] == "closed" and body["merged_into"] == first["id"]
    assert body["events"][-1]["detail"] == {"step": "merge", "merged_into": first["id"]}
    original = ok(city_http.get(f"/api/v1/incidents/{first['id']}", headers=bearer(dispatcher)))
    assert [d["id"] for d in original["duplicates"]] == [second["id"]]
    assert original["duplicates"][0]["reporter_phone"] == "13912345678"
    # A merged duplicate is no longer offered, and nothing merges into it.
    assert second["id"] not in [
        i["id"]
        for i in ok(
            city_http.get(f"/api/v1/incidents/{first['id']}/similar", headers=bearer(dispatcher))
        )["items"]
    ]
    third = new_incident(city_http, city, 5)
    r = city_http.post(
        f"/api/v1/incidents/{third['id']}/merge", json={"into": second["id"]},
        headers=bearer(dispatcher),
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["field"] == "into"
    r = city_http.post(
        f"/api/v1/incidents/{second['id']}/merge", json={"into": third["id"]},
        headers=bearer(dispatcher),
    )  # fmt: skip
    assert r.status_code == 409

    # The original's reply and callback answer for the duplicate's reporter too.
    for to in ("dispatched", "in_progress"):
        ok(step(city_http, dispatcher, first["id"], to=to))
    ok(step(city_http, dispatcher, first["id"], to="replied", note="已处理噪音"))
    ok(step(city_http, dispatcher, first["id"], to="closed"))
    ok(step(city_http, dispatcher, first["id"], to="callback", rating=5))
    dup = ok(city_http.get(f"/api/v1/incidents/{second['id']}", headers=bearer(dispatcher)))
    assert dup["reply"] == "已处理噪音" and dup["callback_at"] is not None


@pytest.mark.parametrize("role", ["dispatcher", "viewer"])
def test_csv_export(city: City, city_http: httpx.Client, role: str) -> None:
    dispatcher = city.tokens["dispatcher"]
    inc = new_incident(city_http, city, 6)
    ok(step(city_http, dispatcher, inc["id"], to="dispatched"))
    r = city_http.get(
        "/api/v1/incidents.csv",
        params={"external_id": inc["external_id"]},
        headers=bearer(city.tokens[role]),
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header, rows = table[0], table[1:]
    assert header[:5] == ["编号", "热线工单号", "渠道", "类别", "状态"]
    assert {"派单时间", "办结期限", "是否超期", "责任单位", "网格", "负责服务站"} <= set(header)
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["编号"] == str(inc["id"]) and row["状态"] == "待签收"
    assert row["渠道"] == "12345来电" and row["责任单位"] == "生态环境局"
    assert row["网格"] == inc["assignment"]["grid_code"] and row["社区"]
    assert row["派单时间"] and row["受理时间"].startswith("20")
    phone = row["联系电话"]
    assert phone == ("13912345678" if role == "dispatcher" else "139****5678")
    english = city_http.get(
        "/api/v1/incidents.csv",
        params={"external_id": inc["external_id"], "lang": "en"},
        headers=bearer(dispatcher),
    )
    assert english.content.decode("utf-8-sig").splitlines()[0].startswith("id,external id,")


def test_list_filters_by_unit_external_id_and_sorts_by_due(
    city: City, city_http: httpx.Client
) -> None:
    dispatcher = city.tokens["dispatcher"]
    inc = new_incident(city_http, city, 7)
    by_external = ok(
        city_http.get(
            "/api/v1/incidents",
            params={"external_id": inc["external_id"]},
            headers=bearer(dispatcher),
        )
    )["items"]
    assert [i["id"] for i in by_external] == [inc["id"]]
    ok(step(city_http, dispatcher, inc["id"], to="dispatched", unit_code="urban"))
    listed = ok(
        city_http.get(
            "/api/v1/incidents",
            params={"unit": "urban", "status": "dispatched", "sort": "due", "limit": 50},
            headers=bearer(dispatcher),
        )
    )["items"]
    assert inc["id"] in [i["id"] for i in listed]
    dues = [i["due_at"] for i in listed]
    assert dues == sorted(dues)
    r = city_http.get("/api/v1/incidents", params={"sort": "sideways"}, headers=bearer(dispatcher))
    assert r.status_code == 422 and r.json()["field"] == "sort"


def test_counts_match_the_list(city: City, city_http: httpx.Client) -> None:
    dispatcher = city.tokens["dispatcher"]
    inc = new_incident(city_http, city, 8)
    ok(step(city_http, dispatcher, inc["id"], to="dispatched"))
    grid = inc["assignment"]["grid_code"]
    params = {"grid": grid, "limit": 1000}
    listed = ok(city_http.get("/api/v1/incidents", params=params, headers=bearer(dispatcher)))
    counts = ok(
        city_http.get("/api/v1/incidents/counts", params={"grid": grid}, headers=bearer(dispatcher))
    )
    by_status: dict[str, int] = {}
    for item in listed["items"]:
        by_status[item["status"]] = by_status.get(item["status"], 0) + 1
    assert {k: v for k, v in counts.items() if k != "overdue" and v} == by_status
    open_overdue = sum(1 for i in listed["items"] if i["overdue"] and i["status"] != "closed")
    assert counts["overdue"] == open_overdue
