"""Incidents on the demo city: assigned on intake, refused when far or swapped, re-assigned."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.assign import Assigner
from gis.coords import from_storage
from gis.db import session_scope
from gis.incidents import reassign_open
from gis.incidents.workflow import Step, apply_step
from tests.incidents.conftest import City, bearer, count_incidents, new_external_id


def _body(lon: float, lat: float, **extra: Any) -> dict[str, Any]:
    return {
        "external_id": new_external_id("city"),
        "channel": "hotline_call",
        "category_code": "property_services",
        "lon": lon,
        "lat": lat,
        "crs": "cgcs2000",
        **extra,
    }


def _another_grid(grid: str) -> str:
    """A current grid's code that is not ``grid``: as if assigned under an older outline."""
    return "630103001001001" if grid != "630103001001001" else "630103001001002"


def _post(city: City, http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return http.post("/api/v1/incidents", json=body, headers=bearer(city.tokens["dispatcher"]))


def _reassign_until_blocked(
    city: City, assigner: Assigner, ids: list[int], moved: list[int]
) -> threading.Thread:
    """Start re-assigning ``ids`` in a thread (its count appended to ``moved``) and return once
    it waits for a row lock another transaction holds."""

    def reassign() -> None:
        with session_scope(city.engine) as session:
            session.execute(text("SET LOCAL application_name = 'reassign-under-test'"))
            moved.append(reassign_open(session, assigner, ids, actor="x"))

    worker = threading.Thread(target=reassign)
    worker.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with city.engine.connect() as probe:
            waiting = probe.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND application_name = 'reassign-under-test'"
                )
            ).scalar_one()
        if waiting:
            return worker
        time.sleep(0.02)
    raise AssertionError("the re-assignment never waited for the other transaction's lock")


def test_intake_assigns_grid_station_and_branch(city: City, city_http: httpx.Client) -> None:
    grid, lon, lat = city.grid_point(10)
    # The lists below hold what came in from here on, not the demo's month of reports.
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = _post(city, city_http, _body(lon, lat))
    assert r.status_code == 201, r.text
    a = r.json()["assignment"]
    assert (a["match"], a["grid_code"]) == ("inside", grid)
    assert a["community_code"] == grid[:12] and a["district_code"] == grid[:6]
    assert a["station_id"] is not None and a["party_branch_id"] is not None
    assert a["boundary_version_id"] is not None
    # The same place sent in GCJ-02 and BD-09 lands in the same grid.
    for crs in ("gcj02", "bd09"):
        x, y = from_storage([lon], [lat], crs)
        r = _post(city, city_http, _body(float(x[0]), float(y[0]), crs=crs))
        assert r.status_code == 201, r.text
        assert r.json()["assignment"]["grid_code"] == grid
        assert abs(r.json()["lon"] - lon) < 1e-5 and abs(r.json()["lat"] - lat) < 1e-5
    listed = city_http.get(
        "/api/v1/incidents",
        params={"grid": grid, "since": since},
        headers=bearer(city.tokens["viewer"]),
    ).json()["items"]
    assert len(listed) >= 3 and all(i["assignment"]["grid_code"] == grid for i in listed)
    by_community = city_http.get(
        "/api/v1/incidents",
        params={"community": grid[:12], "since": since},
        headers=bearer(city.tokens["viewer"]),
    ).json()["items"]
    assert {i["id"] for i in listed} <= {i["id"] for i in by_community}


def test_far_outside_and_swapped_points_are_refused(city: City, city_http: httpx.Client) -> None:
    _, lon, lat = city.grid_point(10)
    before = count_incidents(city.engine)
    far = _post(city, city_http, _body(116.39, 39.91))  # Beijing
    assert far.status_code == 422 and "service area" in far.json()["error"]
    swapped = _post(city, city_http, _body(lat, lon))
    assert swapped.status_code == 422 and "swapped" in swapped.json()["error"]
    assert swapped.json()["field"] in ("lon", "lat")
    assert count_incidents(city.engine) == before


def test_bulk_on_the_city_refuses_far_and_swapped_rows(city: City, city_http: httpx.Client) -> None:
    _, lon, lat = city.grid_point(12)
    prefix = new_external_id("citybulk")
    lines = [
        "external_id,channel,category_code,lon,lat,crs",
        f"{prefix}-1,wechat,noise,{lon},{lat},cgcs2000",
        f"{prefix}-2,wechat,noise,116.39,39.91,cgcs2000",
        f"{prefix}-3,wechat,noise,{lat},{lon},cgcs2000",
    ]
    r = city_http.post(
        "/api/v1/incidents/bulk",
        content="\n".join(lines).encode(),
        headers={**bearer(city.tokens["dispatcher"]), "content-type": "text/csv"},
    )
    result = r.json()
    assert result["stored"] == 1, result
    reasons = {b["row"]: b["reason"] for b in result["bad_rows"]}
    assert "service area" in reasons[3] and "swapped" in reasons[4]


def test_reassign_open_moves_open_incidents_and_logs_it(
    city: City, city_http: httpx.Client
) -> None:
    grid, lon, lat = city.grid_point(20)
    open_one = _post(city, city_http, _body(lon, lat)).json()
    closed_one = _post(city, city_http, _body(lon, lat)).json()
    city_http.post(
        f"/api/v1/incidents/{closed_one['id']}/transitions",
        json={"to": "closed", "handled_directly": True},
        headers=bearer(city.tokens["dispatcher"]),
    )
    wrong = _another_grid(grid)
    with city.engine.begin() as conn:
        # As if they had been assigned under an older outline.
        conn.execute(
            text("UPDATE incident_assignments SET grid_code = :g WHERE incident_id = ANY(:ids)"),
            {"g": wrong, "ids": [open_one["id"], closed_one["id"]]},
        )
    assigner = Assigner.load(city.engine)
    with session_scope(city.engine) as session:
        moved = reassign_open(
            session,
            assigner,
            [open_one["id"], closed_one["id"]],
            actor="planner-li",
            reason="grid split",
        )
    assert moved == 1
    shown = city_http.get(
        f"/api/v1/incidents/{open_one['id']}", headers=bearer(city.tokens["dispatcher"])
    ).json()
    assert shown["assignment"]["grid_code"] == grid
    event = shown["events"][-1]
    assert (event["kind"], event["actor"], event["note"]) == (
        "reassigned",
        "planner-li",
        "grid split",
    )
    assert event["detail"]["old"]["grid"] == wrong and event["detail"]["new"]["grid"] == grid
    closed = city_http.get(
        f"/api/v1/incidents/{closed_one['id']}", headers=bearer(city.tokens["dispatcher"])
    ).json()
    assert closed["assignment"]["grid_code"] == wrong  # closed ones keep their assignment
    with session_scope(city.engine) as session:
        assert reassign_open(session, assigner, [open_one["id"]], actor="x", reason="") == 0


def test_an_incident_closed_while_reassignment_waits_keeps_its_assignment(
    city: City, city_http: httpx.Client
) -> None:
    """A close committed while re-assignment waits for the incident's lock wins: the
    re-assignment sees the closed status and leaves the incident alone."""
    grid, lon, lat = city.grid_point(30)
    incident = _post(city, city_http, _body(lon, lat)).json()
    wrong = _another_grid(grid)
    with city.engine.begin() as conn:
        conn.execute(
            text("UPDATE incident_assignments SET grid_code = :g WHERE incident_id = :i"),
            {"g": wrong, "i": incident["id"]},
        )
    assigner = Assigner.load(city.engine)
    moved: list[int] = []
    with Session(city.engine) as closer:
        # The transition closes the incident and holds its row locks until it commits.
        apply_step(closer, incident["id"], Step("closed", handled_directly=True), "dispatcher")
        worker = _reassign_until_blocked(city, assigner, [incident["id"]], moved)
        closer.commit()
        worker.join(30)
    assert moved == [0]
    with city.engine.connect() as conn:
        kept = conn.execute(
            text("SELECT grid_code FROM incident_assignments WHERE incident_id = :i"),
            {"i": incident["id"]},
        ).scalar_one()
    assert kept == wrong


def test_reassignment_locks_incidents_in_id_order(city: City, city_http: httpx.Client) -> None:
    """Re-assignments lock in one order (by id), whatever order the rows lie in on disk, so two
    running at once (a facility change and a boundary commit) wait for each other instead of
    deadlocking: blocked on the first incident, a re-assignment holds none of the others."""
    grid, lon, lat = city.grid_point(31)
    ids = [_post(city, city_http, _body(lon + i * 1e-6, lat)).json()["id"] for i in range(6)]
    wrong = _another_grid(grid)
    with city.engine.begin() as conn:
        conn.execute(
            text("UPDATE incident_assignments SET grid_code = :g WHERE incident_id = ANY(:i)"),
            {"g": wrong, "i": ids},
        )
        # Lay both tables out on disk newest first, the opposite of id order.
        for table, key in (("incident_reports", "id"), ("incident_assignments", "incident_id")):
            conn.execute(text(f"CREATE INDEX newest_first ON {table} ({key} DESC)"))
            conn.execute(text(f"CLUSTER {table} USING newest_first"))
            conn.execute(text("DROP INDEX newest_first"))
    assigner = Assigner.load(city.engine)
    moved: list[int] = []
    first, others = min(ids), sorted(ids)[1:]
    with Session(city.engine) as closer:
        apply_step(closer, first, Step("closed", handled_directly=True), "dispatcher")
        worker = _reassign_until_blocked(city, assigner, ids, moved)
        with city.engine.connect() as probe:
            free = probe.execute(
                text(
                    "SELECT count(*) FROM (SELECT 1 FROM incident_assignments"
                    " WHERE incident_id = ANY(:i) FOR UPDATE SKIP LOCKED) s"
                ),
                {"i": others},
            ).scalar_one()
            probe.rollback()
        closer.commit()
        worker.join(30)
    assert free == len(others), "the waiting re-assignment already held later incidents"
    assert moved == [len(others)]


def test_an_incident_posted_during_a_station_change_waits_and_gets_the_new_station(
    city: City, city_http: httpx.Client
) -> None:
    """A station change in flight (another worker, the CLI) holds the assignment lock: an
    incident posted meanwhile waits for it and is assigned with the change, not before it."""
    grid, lon, lat = city.grid_point(45)
    assert _post(city, city_http, _body(lon, lat)).status_code == 201  # the server's cache is warm
    answers: list[httpx.Response] = []
    with city.engine.connect() as changer:
        changer.begin()
        station = changer.execute(
            text(
                "INSERT INTO facilities (code, type, name, district_code, geom, service_radius_m,"
                " staff, seats, hours, active) VALUES ('ES-T45', 'enforcement_station', '测试站',"
                " :d, ST_SetSRID(ST_MakePoint(:x, :y), 4490), 2000, 0, 0, '24h', true)"
                " RETURNING id"
            ),
            {"d": grid[:6], "x": lon, "y": lat},
        ).scalar_one()

        def post_meanwhile() -> None:
            with city.client() as http:
                answers.append(_post(city, http, _body(lon, lat)))

        poster = threading.Thread(target=post_meanwhile)
        poster.start()
        deadline = time.monotonic() + 30
        while not _waiting_on_advisory_lock(city) and time.monotonic() < deadline:
            assert not answers, answers[0].text  # it must not be stored before the change
            time.sleep(0.02)
        assert _waiting_on_advisory_lock(city)
        changer.commit()
    poster.join(30)
    try:
        assert answers and answers[0].status_code == 201, answers
        assigned = answers[0].json()["assignment"]
        assert assigned["station_id"] == station and assigned["grid_code"] == grid
    finally:
        with city.engine.begin() as conn:
            conn.execute(
                text("UPDATE facilities SET active = false, retired_at = now() WHERE id = :i"),
                {"i": station},
            )


def _waiting_on_advisory_lock(city: City) -> bool:
    with city.engine.connect() as probe:
        return bool(
            probe.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
                )
            ).scalar_one()
        )


def test_reassignment_can_take_an_incident_outside_every_grid(
    city: City, city_http: httpx.Client
) -> None:
    grid, lon, lat = city.grid_point(21)
    wrong = _another_grid(grid)
    away, moved_in = (_post(city, city_http, _body(lon, lat)).json()["id"] for _ in range(2))
    with city.engine.begin() as conn:
        # As if the grid under one had been taken away and the other had moved in.
        conn.execute(
            text("UPDATE incident_reports SET geom = ST_SetSRID(ST_MakePoint(121.47, 31.23), 4490)"
                 " WHERE id = :id"),
            {"id": away},
        )  # fmt: skip
        conn.execute(
            text("UPDATE incident_assignments SET grid_code = :g WHERE incident_id = :id"),
            {"g": wrong, "id": moved_in},
        )
    with session_scope(city.engine) as session:
        moved = reassign_open(session, Assigner.load(city.engine), [away, moved_in], actor="x")
    assert moved == 2
    with city.engine.connect() as conn:
        found = conn.execute(
            text("SELECT incident_id, match, grid_code, district_code FROM incident_assignments"
                 " WHERE incident_id = ANY(:ids) ORDER BY incident_id"),
            {"ids": [away, moved_in]},
        ).all()  # fmt: skip
    assert [tuple(r) for r in found] == [
        (away, "outside", None, None),
        (moved_in, "inside", grid, grid[:6]),
    ]
