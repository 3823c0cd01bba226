"""The cached assigner follows boundary versions and station edits (its own database)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text

from gis import migrate
from gis.assign import current_assigner, forget, invalidate
from gis.assign.cache import assigner_at
from gis.db import make_engine
from gis.settings import Settings
from tests.assign.city import T1, T2, build_city

SLOW = Settings(assign_refresh_ms=3_600_000)  # never re-checks on its own
EAGER = Settings(assign_refresh_ms=0)  # re-checks the fingerprint on every call


@pytest.fixture
def own_city(fresh_database: Callable[..., str]) -> Iterator[Engine]:
    url = fresh_database()
    migrate.upgrade(url)
    eng = make_engine(url, pool_size=2)
    build_city(eng)
    yield eng
    forget(eng)
    eng.dispose()


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
