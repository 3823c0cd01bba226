"""The cached assigner follows boundary versions and station edits (its own database)."""

from __future__ import annotations

import threading
import time
from dataclasses import fields
from typing import Any

import numpy as np
import pytest
import shapely
from sqlalchemy import Engine, text

from gis.assign import Assigner, assigner_for_write, current_assigner, invalidate
from gis.assign.cache import assigner_at
from gis.assign.snapshot import load_snapshot
from gis.db import session_scope
from gis.settings import Settings
from tests.assign.city import T1, T2

SLOW = Settings(assign_refresh_ms=3_600_000)  # never re-checks on its own
EAGER = Settings(assign_refresh_ms=0)  # re-checks the epoch on every call


def add_station(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO facilities (code, type, name, district_code, geom, service_radius_m,"
                " staff, seats, hours, active) VALUES ('ES-NEW', 'enforcement_station', '新站',"
                " '630103', ST_SetSRID(ST_MakePoint(101.76, 36.556), 4490), 2000,"
                " 0, 0, '24h', true)"
            )
        )


def test_cached_until_invalidated(own_city: Engine) -> None:
    first = current_assigner(own_city, SLOW)
    assert current_assigner(own_city, SLOW) is first
    add_station(own_city)
    assert current_assigner(own_city, SLOW) is first  # not re-checked yet
    invalidate(own_city)
    fresh = current_assigner(own_city, SLOW)
    assert fresh is not first
    station = fresh.locate(101.76, 36.555).station
    assert station is not None and station.code == "ES-NEW" and station.within_radius


def test_station_change_seen_at_the_next_check(own_city: Engine) -> None:
    first = current_assigner(own_city, EAGER)
    assert current_assigner(own_city, EAGER) is first  # nothing changed: same snapshot
    add_station(own_city)
    assert current_assigner(own_city, EAGER) is not first


def _answers(assigner: Assigner) -> list[list[object]]:
    """Every column of the assigner's answers on a lattice over the city and around it."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(assigner.snapshot.grid_geom)
    dx, dy = (xmax - xmin) / 4, (ymax - ymin) / 4
    x, y = np.meshgrid(np.linspace(xmin - dx, xmax + dx, 60), np.linspace(ymin - dy, ymax + dy, 60))
    cols = assigner.locate_many(x.ravel(), y.ravel(), use_table=False)
    return [np.asarray(getattr(cols, f.name)).tolist() for f in fields(cols)]


def test_a_station_change_keeps_the_boundary_indexes(own_city: Engine) -> None:
    """Boundaries unchanged: the next assigner reads and indexes only stations, compounds and
    branches, and answers as one loaded from nothing."""
    first = current_assigner(own_city, EAGER)
    add_station(own_city)
    fresh = current_assigner(own_city, EAGER)
    assert fresh is not first and _new_station(fresh)
    assert fresh.snapshot.grid_geom is first.snapshot.grid_geom
    assert fresh.grid_segments is first.grid_segments and fresh.grid_tree is first.grid_tree
    assert _answers(fresh) == _answers(Assigner.load(own_city))
    with own_city.begin() as c:
        c.execute(text("UPDATE grids SET name = name || '（新）' WHERE valid_to IS NULL"))
    renamed = current_assigner(own_city, EAGER)
    assert renamed.grid_tree is not fresh.grid_tree
    assert renamed.snapshot.grid_name[0].endswith("（新）")
    assert _answers(renamed) == _answers(Assigner.load(own_city))


def test_new_boundary_version_seen_at_the_next_check(own_city: Engine) -> None:
    first = current_assigner(own_city, EAGER)
    with own_city.begin() as c:
        c.execute(
            text(
                "INSERT INTO boundary_versions (author, reason, operation) VALUES ('t', '', 'noop')"
            )
        )
    again = current_assigner(own_city, EAGER)
    assert again is not first and again.boundary_version_id == 3


def test_past_assigners_cached_per_time(own_city: Engine) -> None:
    mid = T1 + (T2 - T1) / 2
    a = assigner_at(own_city, mid, SLOW)
    assert assigner_at(own_city, mid, SLOW) is a and a.boundary_version_id == 1
    assert assigner_at(own_city, None, SLOW) is current_assigner(own_city, SLOW)


def _new_station(assigner: Assigner) -> bool:
    station = assigner.locate(101.76, 36.555).station
    return station is not None and station.code == "ES-NEW"


def test_a_write_never_assigns_with_a_stale_assigner(own_city: Engine) -> None:
    """Another worker's change, not yet seen by this one's cache: a write still sees it."""
    first = current_assigner(own_city, SLOW)
    add_station(own_city)
    assert current_assigner(own_city, SLOW) is first  # reads: not re-checked yet
    with session_scope(own_city) as session:
        written = assigner_for_write(session, SLOW)
    assert written is not first and _new_station(written) and not _new_station(first)
    assert current_assigner(own_city, SLOW) is written  # the cache moved on with it


def test_a_write_sees_its_own_transactions_change(own_city: Engine) -> None:
    current_assigner(own_city, SLOW)
    with session_scope(own_city) as session:
        session.execute(
            text("UPDATE facilities SET active = false WHERE type = 'enforcement_station'")
        )
        written = assigner_for_write(session, SLOW)
        assert written.locate(101.76, 36.555).station is None


class _HeldLoad:
    """Assigner loads that wait until released (a province-sized load, in slow motion)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.real = Assigner.load

    def load(self, *args: Any, **kwargs: Any) -> Assigner:
        self.started.set()
        assert self.release.wait(30)
        return self.real(*args, **kwargs)


def test_locate_answers_from_the_previous_assigner_while_the_next_loads(
    own_city: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = current_assigner(own_city, EAGER)
    held = _HeldLoad()
    monkeypatch.setattr(Assigner, "load", held.load)
    add_station(own_city)
    asked = time.monotonic()
    # The request that notices the change waits its patience, then has the previous answer.
    assert current_assigner(own_city, EAGER, patience_s=0.05) is first
    assert held.started.is_set()
    # Later ones do not wait at all while that load runs (a worker pauses once per change).
    assert current_assigner(own_city, EAGER, patience_s=60) is first
    assert time.monotonic() - asked < 30
    held.release.set()
    deadline = time.monotonic() + 30
    fresh = first
    while fresh is first and time.monotonic() < deadline:
        time.sleep(0.01)
        fresh = current_assigner(own_city, EAGER, patience_s=0.05)
    assert fresh is not first and _new_station(fresh)


def test_locate_waits_for_a_load_within_its_patience(own_city: Engine) -> None:
    first = current_assigner(own_city, EAGER)
    add_station(own_city)
    invalidate(own_city)
    fresh = current_assigner(own_city, SLOW, patience_s=30)
    assert fresh is not first and _new_station(fresh)


def test_a_single_write_after_a_change_does_not_wait_for_the_whole_load(
    own_city: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the whole new snapshot loads (held here), a write of one point inside the city
    is answered from a snapshot of its surroundings, with the change in it."""
    first = current_assigner(own_city, SLOW)
    held = _HeldLoad()
    monkeypatch.setattr(Assigner, "load", held.load)
    add_station(own_city)
    with session_scope(own_city) as session:
        local = assigner_for_write(session, SLOW, near=(101.76, 36.555))
        assert local is not first and _new_station(local)
        assert len(local.snapshot.grid_geom) < len(first.snapshot.grid_geom)
        whole = Assigner(load_snapshot(session.connection()), SLOW)
    assert local.locate(101.76, 36.555).as_dict() == whole.locate(101.76, 36.555).as_dict()
    assert held.started.wait(30)  # the whole one loads meanwhile, for the cache
    held.release.set()
