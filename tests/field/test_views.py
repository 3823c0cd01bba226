"""The field page's API: who am I, my area (GeoJSON) and my tasks; refused to others."""

from __future__ import annotations

from typing import Any

from tests.field.conftest import FieldCity


def test_me_names_my_grids_with_their_workers(field_city: FieldCity) -> None:
    city = field_city
    codes = sorted([city.grid_code(30), city.grid_code(31)])
    worker = city.worker_token(31, 30, name="陈网格")
    me = city.get(worker, "/api/v1/field/me").json()
    assert me["name"] == "陈网格" and me["role"] == "grid_worker"
    assert [g["code"] for g in me["grids"]] == codes
    rows = city.rows(
        "SELECT g.code, g.name, g.community_code, c.name, g.worker_name FROM grids g"
        " JOIN communities c ON c.code = g.community_code AND c.valid_to IS NULL"
        " WHERE g.code = ANY(:c) AND g.valid_to IS NULL ORDER BY g.code",
        c=codes,
    )
    assert [
        (g["code"], g["name"], g["community_code"], g["community_name"], g["worker_name"])
        for g in me["grids"]
    ] == [tuple(r) for r in rows]
    assert set(me["grids"][0]) == {"code", "name", "community_code", "community_name",
                                   "worker_name"}  # fmt: skip


def test_area_holds_my_grids_compounds_buildings_and_open_incidents(
    field_city: FieldCity,
) -> None:
    city = field_city
    code = city.grid_code(32)
    worker = city.worker_token(32)
    open_case = city.report(32)
    closed_case = city.report(32, external_id="field-closed-32")
    city.ok_step(city.tokens["dispatcher"], closed_case["id"], to="closed", handled_directly=True)
    elsewhere = city.report(33)

    area = city.get(worker, "/api/v1/field/area").json()
    assert area["type"] == "FeatureCollection"
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for f in area["features"]:
        by_kind.setdefault(f["properties"]["kind"], []).append(f)
    grids = by_kind["grid"]
    assert [g["properties"]["code"] for g in grids] == [code]
    assert grids[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")

    buildings = city.rows(
        "SELECT b.code FROM buildings b JOIN grids g ON ST_Intersects(b.geom, g.geom)"
        " WHERE g.code = :c AND g.valid_to IS NULL ORDER BY b.code",
        c=code,
    )
    assert buildings, "the demo grid holds buildings"
    assert [f["properties"]["code"] for f in by_kind["building"]] == [r[0] for r in buildings]
    compounds = city.rows(
        "SELECT p.code FROM compounds p JOIN grids g ON ST_Intersects(p.geom, g.geom)"
        " AND NOT ST_Touches(p.geom, g.geom) WHERE g.code = :c AND g.valid_to IS NULL"
        " ORDER BY p.code",
        c=code,
    )
    assert [f["properties"]["code"] for f in by_kind.get("compound", [])] == [
        r[0] for r in compounds
    ]

    incidents = {f["properties"]["id"]: f for f in by_kind["incident"]}
    assert open_case["id"] in incidents
    assert closed_case["id"] not in incidents and elsewhere["id"] not in incidents
    mine = incidents[open_case["id"]]
    assert mine["geometry"]["type"] == "Point"
    props = mine["properties"]
    assert props["category_name"] == "环境卫生" and props["status_name"] == "待派单"
    assert props["status"] == "received" and props["received_at"] == open_case["received_at"]
    assert "reporter_phone" not in props and "reporter_name" not in props
    english = city.get(worker, "/api/v1/field/area", lang="en").json()
    props_en = next(
        f["properties"]
        for f in english["features"]
        if f["properties"].get("id") == open_case["id"] and f["properties"]["kind"] == "incident"
    )
    assert props_en["category_name"] == "Sanitation and refuse"
    assert props_en["status_name"] == "to dispatch"

    # A dispatcher reads a grid's area by naming it; a worker only its own.
    dispatcher = city.get(city.tokens["dispatcher"], "/api/v1/field/area", grid=code).json()
    assert sorted(map(str, dispatcher["features"])) == sorted(map(str, area["features"]))
    refused = city.get(city.tokens["dispatcher"], "/api/v1/field/area")
    assert refused.status_code == 422 and refused.json()["field"] == "grid"
    other = city.get(worker, "/api/v1/field/area", grid=city.grid_code(33))
    assert other.status_code == 403 and other.json()["field"] == "grid"


def test_tasks_list_waiting_verifications_and_open_incidents(field_city: FieldCity) -> None:
    city = field_city
    worker = city.worker_token(34)
    asked, _ = city.replied(34)
    city.ok_step(city.tokens["dispatcher"], asked, to="verify_request", note="看看是否清运")
    newer = city.report(34, category="noise")
    city.report(35)  # another grid's

    tasks = city.get(worker, "/api/v1/field/tasks").json()
    [v] = tasks["verifications"]
    assert v["incident_id"] == asked and v["note"] == "看看是否清运"
    assert v["asked_by"] == "field-dispatcher" and v["asked_at"]
    assert v["category"] == "环境卫生" and v["category_code"] == "sanitation"
    assert v["description"] == "小区门口垃圾堆积多日无人清运"
    assert v["reply"] == "已组织清运，现场已清理干净"
    assert v["grid_code"] == city.grid_code(34) and v["lon"] and v["lat"]
    assert v["reporter_phone"] == "13600002222"
    ids = [i["id"] for i in tasks["incidents"]]
    assert ids[:2] == [newer["id"], asked]  # newest first
    assert {i["grid_code"] for i in tasks["incidents"]} == {city.grid_code(34)}
    first = tasks["incidents"][0]
    assert first["status_name"] == "待派单" and first["category_name"] == "噪音扰民"
    assert tasks["incidents"][1]["verification_pending"] is True


def test_other_roles_are_refused(field_city: FieldCity) -> None:
    city = field_city
    unit = city.unit_token("ecology")
    for path in ("/api/v1/field/me", "/api/v1/field/tasks", "/api/v1/field/area"):
        for role in ("viewer", "dispatcher", "admin"):
            r = city.get(city.tokens[role], path)
            expected = 422 if (path.endswith("area") and role != "viewer") else 403
            assert r.status_code == expected, (path, role, r.text)
        assert city.get(unit, path).status_code == 403
        with city.client() as http:
            assert http.get(path).status_code == 401
