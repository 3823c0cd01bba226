"""The assignment epoch moves with every write to what assignment reads, under one lock."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from sqlalchemy import Connection, Engine, text

from gis.assign.epoch import INPUTS_LOCK_KEY, current_epoch, current_epochs, lock_shared
from gis.db import libpq_url


def epoch(engine: Engine) -> int:
    with engine.connect() as conn:
        return current_epoch(conn)


WRITES = {
    "a station added": (
        "INSERT INTO facilities (code, type, name, district_code, geom, service_radius_m,"
        " staff, seats, hours, active) VALUES ('ES-E', 'enforcement_station', '站', '630103',"
        " ST_SetSRID(ST_MakePoint(101.71, 36.59), 4490), 2000, 0, 0, '24h', true)"
    ),
    "a station moved": "UPDATE facilities SET service_radius_m = 2500 WHERE code = 'ES-S1'",
    "a compound redrawn": "UPDATE compounds SET name = '新家园' WHERE code = 'XQ-1'",
    "a branch renamed": "UPDATE party_branches SET name = '新支部' WHERE kind = 'grid_branch'",
    "a boundary version": (
        "INSERT INTO boundary_versions (author, reason, operation) VALUES ('t', '', 'noop')"
    ),
    "a grid renamed": "UPDATE grids SET name = name || '（新）' WHERE valid_to IS NULL",
}


BOUNDARY_WRITES = {"a boundary version", "a grid renamed"}


@pytest.mark.parametrize("write", WRITES.values(), ids=list(WRITES))
def test_every_write_to_assignment_inputs_moves_the_epoch(own_city: Engine, write: str) -> None:
    """... and a write to the boundaries moves the boundaries epoch to it; others leave it."""
    with own_city.connect() as conn:
        before, boundaries_before = current_epochs(conn)
    with own_city.begin() as conn:
        conn.execute(text(write))
    with own_city.connect() as conn:
        after, boundaries_after = current_epochs(conn)
    assert after > before
    kind = next(name for name, sql in WRITES.items() if sql == write)
    if kind in BOUNDARY_WRITES:
        assert boundaries_after == after
    else:
        assert boundaries_after == boundaries_before < after


def test_a_canteen_takes_the_lock_but_leaves_the_epoch(own_city: Engine) -> None:
    before = epoch(own_city)
    with own_city.begin() as conn:
        conn.execute(text("UPDATE facilities SET seats = 80 WHERE code = 'EC-1'"))
    assert epoch(own_city) == before
    with own_city.connect() as reader, reader.begin():
        lock_shared(reader)
        with pytest.raises(psycopg.errors.LockNotAvailable):
            _write_with_timeout(own_city, "UPDATE facilities SET seats = 90 WHERE code = 'EC-1'")


def _write_with_timeout(engine: Engine, sql: str) -> None:
    """Run ``sql`` giving up on any lock after 200 ms (the driver's error is raised)."""
    with psycopg.connect(libpq_url(engine.url.render_as_string(hide_password=False))) as conn:
        conn.execute("SET lock_timeout = '200ms'")
        conn.execute(sql)


def _in_transaction(engine: Engine, work: Callable[[Connection], object]) -> Connection:
    conn = engine.connect()
    conn.begin()
    work(conn)
    return conn


@pytest.mark.parametrize("write", WRITES.values(), ids=list(WRITES))
def test_a_write_to_assignment_inputs_waits_for_incident_writes(
    own_city: Engine, write: str
) -> None:
    """An incident write holds the lock shared until it commits: the change waits for it."""
    holder = _in_transaction(own_city, lock_shared)
    try:
        with pytest.raises(psycopg.errors.LockNotAvailable):
            _write_with_timeout(own_city, write)
    finally:
        holder.rollback()
        holder.close()
    _write_with_timeout(own_city, write)  # once the incident write is done, it goes through


def test_an_incident_write_waits_for_a_change_in_flight(own_city: Engine) -> None:
    changer = _in_transaction(own_city, lambda c: c.execute(text(WRITES["a station moved"])))
    try:
        with pytest.raises(psycopg.errors.LockNotAvailable):
            _write_with_timeout(own_city, f"SELECT pg_advisory_xact_lock_shared({INPUTS_LOCK_KEY})")
    finally:
        changer.commit()
        changer.close()
