"""``GET /api/v1/events/stream`` over real HTTP: events from another server reach an open
stream, filters, bad input, replay after ``Last-Event-ID`` and after a server restart,
who may follow, and what followers never see."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gis.db import session_scope
from gis.incidents.workflow import Step, apply_step
from gis.tokens import create_token
from tests.conftest import LiveServer
from tests.events.conftest import Desk, bearer
from tests.events.sse import PATH, Stream, StreamEnded

# Everything an event tells a follower; nothing else (no reporter, note or actor).
FIELDS = {
    "id",
    "incident_id",
    "kind",
    "at",
    "from_status",
    "to_status",
    "district_code",
    "category_code",
    "unit_code",
    "detail",
}


def test_an_event_made_through_another_server_reaches_an_open_stream(desk: Desk) -> None:
    district = desk.districts()[0]
    incident = desk.incident(district)
    with desk.client() as client, Stream(client, headers=bearer(desk.tokens["viewer"])) as s:
        s.start()
        made = desk.step(incident)
        [event] = s.events(1)
    assert event["id"] == made["id"]
    assert (event["incident_id"], event["kind"]) == (incident, "transition")
    assert (event["from_status"], event["to_status"]) == ("dispatched", "in_progress")
    assert event["district_code"] == district
    assert set(event) == FIELDS


def test_new_reports_arrive_without_personal_data(desk: Desk) -> None:
    district = desk.districts()[0]
    with desk.engine.connect() as conn:
        category, lon, lat = conn.execute(
            text(
                "SELECT category_code, ST_X(geom), ST_Y(geom) FROM incidents"
                " WHERE district_code = :d LIMIT 1"
            ),
            {"d": district},
        ).one()
    body = {
        "external_id": "desk-events-personal",
        "channel": "hotline_call",
        "category_code": category,
        "description": "路灯不亮",
        "lon": lon,
        "lat": lat,
        "crs": "cgcs2000",
        "reporter_name": "欧阳秀英",
        "reporter_phone": "13912345678",
    }
    with desk.client() as client, Stream(client, headers=bearer(desk.tokens["viewer"])) as s:
        s.start()
        with desk.client(desk.other) as other:
            made = other.post(
                "/api/v1/incidents", json=body, headers=bearer(desk.tokens["dispatcher"])
            )
        assert made.status_code == 201, made.text
        incident = made.json()["id"]
        step = desk.step(incident, "dispatched")  # its note carries a phone number
        received, dispatched = s.events(2)
    assert (received["incident_id"], received["kind"]) == (incident, "received")
    assert (received["category_code"], received["district_code"]) == (category, district)
    assert dispatched["id"] == step["id"]
    for event in (received, dispatched):
        assert set(event) == FIELDS
        shown = str(event)
        assert "欧阳" not in shown and "13912345678" not in shown and "desk-" not in shown


def test_the_district_filter_passes_its_district_only(desk: Desk) -> None:
    mine, other = desk.districts()[:2]
    with (
        desk.client() as client,
        Stream(client, {"district": mine}, bearer(desk.tokens["viewer"])) as s,
    ):
        s.start()
        first = desk.step(desk.incident(mine))
        desk.step(desk.incident(other))
        second = desk.step(desk.incident(mine))
        got = s.events(2)
    assert [e["id"] for e in got] == [first["id"], second["id"]]
    assert {e["district_code"] for e in got} == {mine}


def test_unknown_district_and_bad_last_event_id_are_422_naming_the_field(desk: Desk) -> None:
    headers = {"Accept": "text/event-stream", **bearer(desk.tokens["viewer"])}
    with desk.client() as client:
        r = client.get(PATH, params={"district": "630199"}, headers=headers)
        assert r.status_code == 422 and r.json()["field"] == "district", r.text
        assert "630199" in r.json()["error"]
        for bad in ("abc", "-1", "²", str(2**63)):
            raw = [(k.encode(), v.encode()) for k, v in headers.items()]
            r = client.get(PATH, headers=[*raw, (b"Last-Event-ID", bad.encode("latin-1"))])
            assert r.status_code == 422 and r.json()["field"] == "last_event_id", r.text
            r = client.get(PATH, params={"last_event_id": bad}, headers=headers)
            assert r.status_code == 422 and r.json()["field"] == "last_event_id", r.text
        # A plain GET would wait for ever: the stream is for clients that accept one.
        r = client.get(PATH, headers=bearer(desk.tokens["viewer"]))
        assert r.status_code == 406 and "text/event-stream" in r.json()["error"]


@pytest.mark.parametrize("given_as", ["header", "query"])
def test_last_event_id_replays_what_a_closed_stream_missed(desk: Desk, given_as: str) -> None:
    district = desk.districts()[0]
    viewer = bearer(desk.tokens["viewer"])
    with desk.client() as client:
        with Stream(client, headers=viewer) as s:
            s.start()
            seen = desk.step(desk.incident(district))["id"]
            assert s.events(1)[0]["id"] == seen
        missed = [desk.step(desk.incident(district))["id"] for _ in range(3)]
        # EventSource sends the header; a client without it passes the query parameter.
        if given_as == "header":
            params, headers = {}, {**viewer, "Last-Event-ID": str(seen)}
        else:
            params, headers = {"last_event_id": str(seen)}, viewer
        with Stream(client, params, headers) as s:
            assert s.start() == seen
            assert [e["id"] for e in s.events(3)] == missed
            fresh = desk.step(desk.incident(district))["id"]
            assert s.events(1)[0]["id"] == fresh  # the replay repeated nothing


def test_replay_after_a_server_restart_loses_nothing(desk: Desk) -> None:
    district = desk.districts()[0]
    viewer = bearer(desk.tokens["viewer"])
    first = LiveServer(desk.url).start()
    try:
        with desk.client(first) as client, Stream(client, headers=viewer) as s:
            s.start()
            seen = desk.step(desk.incident(district))
            assert s.events(1)[0]["id"] == seen["id"]
            first.stop()
            with pytest.raises(StreamEnded):  # stopping the server ended the open stream
                s.next()
        assert not first.thread.is_alive()
    finally:
        first.stop()
    # Meanwhile, changes made without any server: steps, and one that is rolled back.
    districts = desk.districts()[:3]
    made = [desk.step_directly(desk.incident(d)) for d in districts for _ in range(4)]
    with pytest.raises(RuntimeError), session_scope(desk.engine) as session:
        apply_step(session, desk.incident(district), Step("in_progress"), "nobody")
        session.flush()
        raise RuntimeError("rolled back")
    made.append(desk.step_directly(desk.incident(district)))
    assert desk.event_ids_after(int(seen["id"])) == made
    second = LiveServer(desk.url).start()
    try:
        with (
            desk.client(second) as client,
            Stream(client, headers={**viewer, "Last-Event-ID": str(seen["id"])}) as s,
        ):
            s.start()
            assert [e["id"] for e in s.events(len(made))] == made
            fresh = desk.step(desk.incident(district))
            assert s.events(1)[0]["id"] == fresh["id"]  # and nothing twice
    finally:
        second.stop()


def test_a_session_cookie_follows_like_a_bearer_token(desk: Desk) -> None:
    district = desk.districts()[0]
    with desk.client() as client:
        signed_in = client.post("/maps/sign-in", data={"token": desk.tokens["viewer"]})
        assert signed_in.status_code == 303 and "wangge_session" in client.cookies
        with Stream(client) as s:
            assert s.response.status_code == 200
            s.start()
            made = desk.step(desk.incident(district))
            assert s.events(1)[0]["id"] == made["id"]


def test_who_may_follow(desk: Desk) -> None:
    headers = {"Accept": "text/event-stream"}
    with desk.client(desk.other) as client:  # anonymous read is off there
        r = client.get(PATH, headers=headers)
        assert r.status_code == 401, r.text
        r = client.get(PATH, headers={**headers, **bearer("wg_not-a-token")})
        assert r.status_code == 401, r.text
    mine = desk.scope
    other = next(d for d in desk.districts() if d != mine)
    scoped = bearer(desk.tokens["scoped"])
    with desk.client() as client:
        r = client.get(PATH, params={"district": other}, headers={**headers, **scoped})
        assert r.status_code == 403 and r.json()["field"] == "district", r.text
        with Stream(client, headers=scoped) as s:  # no filter asked: its district only
            s.start()
            desk.step(desk.incident(other))
            made = desk.step(desk.incident(mine))
            [event] = s.events(1)
    assert (event["id"], event["district_code"]) == (made["id"], mine)


def test_a_unit_follows_its_own_cases(desk: Desk) -> None:
    with desk.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT unit_code, array_agg(id ORDER BY id) FROM incidents"
                " WHERE status = 'dispatched' AND unit_code IS NOT NULL"
                " GROUP BY unit_code ORDER BY count(*) DESC LIMIT 2"
            )
        ).all()
    (mine, my_cases), (_, other_cases) = rows
    waiting = {i for ids in desk.waiting.values() for i in ids}
    mine_case = next(i for i in my_cases if i in waiting)
    other_case = next(i for i in other_cases if i in waiting)
    for ids in desk.waiting.values():
        for taken in (mine_case, other_case):
            if taken in ids:
                ids.remove(taken)
    with session_scope(desk.engine) as session:
        staff, _ = create_token(session, "unit", "desk-unit", unit_code=mine)
    with desk.client() as client, Stream(client, headers=bearer(staff)) as s:
        s.start()
        desk.step(other_case)
        made = desk.step(mine_case)
        [event] = s.events(1)
    assert event["id"] == made["id"] and event["unit_code"] == mine
    assert event["detail"] == {"step": "accept"}
    headers = {"Accept": "text/event-stream"}
    with desk.client() as client:
        r = client.get(PATH, params={"unit": "no_such_unit"}, headers={
            **headers, **bearer(desk.tokens["dispatcher"])})  # fmt: skip
        assert r.status_code == 422 and r.json()["field"] == "unit"
        r = client.get(PATH, params={"unit": "hotline"}, headers={**headers, **bearer(staff)})
        assert r.status_code == 403 and r.json()["field"] == "unit"
