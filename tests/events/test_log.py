"""The log's floor and notifications (migration 0007), seen from the database and from
an open stream: ids committed out of order, rolled back, or written in bulk."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.db import libpq_url, session_scope
from gis.events import CHANNEL
from gis.events.hub import APPLICATION, RECENT
from gis.events.log import BATCH
from gis.incidents import ingest
from gis.incidents.workflow import Step, apply_step
from tests.events.conftest import ACTOR, Desk, bearer
from tests.events.sse import Stream

MARKER = "end-of-test"


def wait_until(condition: Callable[[], bool], within_s: float = 20.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not so within {within_s} s")
        time.sleep(0.01)


def floor(desk: Desk) -> int:
    with desk.engine.connect() as conn:
        return int(conn.execute(text("SELECT incident_events_floor()")).scalar_one())


def drawn(desk: Desk) -> int:
    with desk.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT pg_sequence_last_value('incident_events_id_seq')")
            ).scalar_one()
        )


def test_the_floor_waits_for_a_running_writer_and_the_stream_keeps_id_order(desk: Desk) -> None:
    district = desk.districts()[0]
    with desk.client() as client, Stream(client, headers=bearer(desk.tokens["viewer"])) as s:
        s.start()
        slow = Session(desk.engine)
        try:
            apply_step(slow, desk.incident(district), Step("in_progress"), ACTOR)
            slow.flush()  # its event has an id, not yet committed
            held = drawn(desk)
            later = desk.step_directly(desk.incident(district))  # drawn later, committed first
            assert later > held
            assert floor(desk) == held - 1
            hub = desk.server.app.state.events
            wait_until(lambda: hub.drawn >= later)  # the server has seen the commit of later
            assert hub.settled == held - 1  # and holds it back
            slow.commit()
        finally:
            slow.close()
        assert floor(desk) >= later
        assert [e["id"] for e in s.events(2)] == [held, later]


def test_a_rolled_back_writer_does_not_hold_the_floor(desk: Desk) -> None:
    district = desk.districts()[0]
    with pytest.raises(RuntimeError), session_scope(desk.engine) as session:
        apply_step(session, desk.incident(district), Step("in_progress"), ACTOR)
        session.flush()
        assert floor(desk) < drawn(desk)
        raise RuntimeError("roll back")
    assert floor(desk) == drawn(desk)


@pytest.fixture
def listener(desk: Desk) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(libpq_url(desk.url), autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        yield conn


def notifications_until_marker(desk: Desk, conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """How many notifications came before ours (notifications arrive in commit order)."""
    with psycopg.connect(libpq_url(desk.url), autocommit=True) as other:
        other.execute("SELECT pg_notify(%s, %s)", (CHANNEL, MARKER))
    for count, note in enumerate(conn.notifies(timeout=30)):
        if note.payload == MARKER:
            return count
    raise AssertionError("the marker never came")


def test_one_notification_per_transaction(
    desk: Desk, listener: psycopg.Connection[tuple[object, ...]]
) -> None:
    district = desk.districts()[0]
    with session_scope(desk.engine) as session:
        for _ in range(3):  # three statements writing events
            apply_step(session, desk.incident(district), Step("in_progress"), ACTOR)
            session.flush()
    with pytest.raises(RuntimeError), session_scope(desk.engine) as session:
        apply_step(session, desk.incident(district), Step("in_progress"), ACTOR)
        session.flush()
        raise RuntimeError("a rolled back transaction says nothing")
    assert notifications_until_marker(desk, listener) == 1


def _records(desk: Desk, prefix: str, n: int) -> list[dict[str, object]]:
    """``n`` new reports at the demo city's own report locations (reused in turn)."""
    with desk.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT category_code, ST_X(geom), ST_Y(geom) FROM incidents"
                " WHERE district_code IS NOT NULL ORDER BY id LIMIT 500"
            )
        ).all()
    return [
        {
            "external_id": f"{prefix}-{i}",
            "channel": "wechat",
            "category_code": category,
            "description": "bulk",
            "lon": lon,
            "lat": lat,
            "crs": "cgcs2000",
        }
        for i, (category, lon, lat) in zip(range(n), itertools.cycle(rows), strict=False)
    ]


# More than one batch a follower takes at once; and more than the hub keeps in memory,
# so followers read the rest from the log.
@pytest.mark.parametrize("size", [BATCH + 200, RECENT + 100])
def test_a_bulk_intake_notifies_once_and_streams_every_event_in_order(
    desk: Desk, listener: psycopg.Connection[tuple[object, ...]], size: int
) -> None:
    records = _records(desk, f"desk-bulk-{size}", size)
    with desk.client() as client, Stream(client, headers=bearer(desk.tokens["viewer"])) as s:
        start = s.start()
        with session_scope(desk.engine) as session:
            stored = ingest(session, records, ACTOR).stored
        assert stored == len(records)
        assert notifications_until_marker(desk, listener) == 1
        expected = desk.event_ids_after(start)
        assert len(expected) == size
        got = s.events(len(expected))
    assert [e["id"] for e in got] == expected
    assert {e["kind"] for e in got} == {"received"}


def test_a_lost_listening_connection_is_opened_again_and_nothing_is_lost(desk: Desk) -> None:
    district = desk.districts()[0]
    with desk.client() as client, Stream(client, headers=bearer(desk.tokens["viewer"])) as s:
        start = s.start()
        with psycopg.connect(libpq_url(desk.url), autocommit=True) as conn:
            ended = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = %s AND datname = current_database()",
                (APPLICATION,),
            ).fetchone()
        assert ended == (2,)  # both servers' listeners
        made = [desk.step_directly(desk.incident(district)) for _ in range(2)]
        assert desk.event_ids_after(start) == made
        assert [e["id"] for e in s.events(2)] == made
