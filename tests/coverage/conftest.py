"""A small city of our own near Xining: two districts, streets, communities, grids,
buildings, stations, canteens and incidents, in a private database.

District 630198 holds everything; 630199 next to it is empty (no buildings).
Facilities are inserted with ``service_area`` NULL and filled by the refresh,
as an import or the demo would leave them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pytest
from sqlalchemy import Engine

from gis.coverage.circles import refresh_service_areas
from gis.db import engine_for, make_engine, session_scope
from gis.models import (
    ROLES,
    BoundaryVersion,
    Building,
    Community,
    District,
    Facility,
    Grid,
    Incident,
    IncidentCategory,
    Street,
)
from gis.tokens import create_token
from tests.conftest import LiveServer

DISTRICT = "630198"
EMPTY_DISTRICT = "630199"
WEST, EAST, NORTH = 101.70, 101.82, 36.66
SOUTH = 36.56
MID = 101.76
STATIONS = [  # code, lon, lat, radius, staff
    ("ES-T1", 101.725, 36.585, 2000.0, 20),
    ("ES-T2", 101.745, 36.600, 2000.0, 20),  # overlaps T1
    ("ES-T3", 101.800, 36.640, 1500.0, 10),
]
CANTEENS = [("EC-T1", 101.730, 36.600, 1000.0, 40), ("EC-T2", 101.790, 36.620, 1000.0, 30)]


def _square(w: float, s: float, e: float, n: float) -> str:
    return f"SRID=4490;MULTIPOLYGON((({w} {s},{e} {s},{e} {n},{w} {n},{w} {s})))"


def build_small_city(engine: Engine, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    mid_lat = (SOUTH + NORTH) / 2
    with session_scope(engine) as s:
        version = BoundaryVersion(author="test", operation="load", reason="")
        s.add(version)
        s.flush()
        v = version.id
        s.add_all(
            [
                District(
                    code=DISTRICT,
                    name="Test district",
                    district_code=DISTRICT,
                    geom=_square(WEST, SOUTH, EAST, NORTH),
                    version_id=v,
                ),
                District(
                    code=EMPTY_DISTRICT,
                    name="Empty district",
                    district_code=EMPTY_DISTRICT,
                    geom=_square(EAST, SOUTH, EAST + 0.05, NORTH),
                    version_id=v,
                ),
            ]
        )
        for street, w, e in [(f"{DISTRICT}001", WEST, MID), (f"{DISTRICT}002", MID, EAST)]:
            comm = street + "001"
            s.add(
                Street(
                    code=street,
                    name=f"Street {street[-1]}",
                    district_code=DISTRICT,
                    geom=_square(w, SOUTH, e, NORTH),
                    version_id=v,
                    kind="street",
                )
            )
            s.add(
                Community(
                    code=comm,
                    name=f"Community {street[-1]}",
                    district_code=DISTRICT,
                    street_code=street,
                    geom=_square(w, SOUTH, e, NORTH),
                    version_id=v,
                )
            )
            for i, (lo, hi) in enumerate([(SOUTH, mid_lat), (mid_lat, NORTH)], start=1):
                s.add(
                    Grid(
                        code=f"{comm}00{i}",
                        name=f"Grid {i}",
                        district_code=DISTRICT,
                        community_code=comm,
                        street_code=street,
                        geom=_square(w, lo, e, hi),
                        version_id=v,
                    )
                )
        n = 1500
        lon = rng.uniform(WEST + 0.001, EAST - 0.001, n)
        lat = rng.uniform(SOUTH + 0.001, NORTH - 0.001, n)
        residents = rng.integers(10, 400, n)
        s.add_all(
            Building(
                code=f"B{i:05d}",
                district_code=DISTRICT,
                community_code=f"{DISTRICT}{'001' if lon[i] < MID else '002'}001",
                households=int(residents[i] // 3),
                residents=int(residents[i]),
                elderly_residents=int(residents[i] // 5),
                geom=f"SRID=4490;POINT({lon[i]} {lat[i]})",
            )
            for i in range(n)
        )
        facilities = [("enforcement_station", c, x, y, r, st, 0) for c, x, y, r, st in STATIONS]
        facilities += [("elderly_canteen", c, x, y, r, 2, seats) for c, x, y, r, seats in CANTEENS]
        s.add_all(
            Facility(
                code=c,
                type=t,
                name=c,
                district_code=DISTRICT,
                geom=f"SRID=4490;POINT({x} {y})",
                service_radius_m=r,
                staff=st,
                seats=se,
            )
            for t, c, x, y, r, st, se in facilities
        )
        s.add(
            IncidentCategory(code="noise", name_zh="噪音", name_en="Noise", handling_unit="police")
        )
        s.flush()
        refresh_service_areas(s, only_missing=True)
        m = 400
        ilon = rng.uniform(WEST + 0.001, EAST - 0.001, m)
        ilat = rng.uniform(SOUTH + 0.001, NORTH - 0.001, m)
        age_days = np.where(np.arange(m) < 300, rng.uniform(0, 9, m), rng.uniform(40, 80, m))
        now = datetime.now(UTC)
        for i in range(m):
            street = f"{DISTRICT}{'001' if ilon[i] < MID else '002'}"
            s.add(
                Incident(
                    channel="hotline_call",
                    category_code="noise",
                    match="inside",
                    geom=f"SRID=4490;POINT({ilon[i]} {ilat[i]})",
                    district_code=DISTRICT,
                    street_code=street,
                    community_code=street + "001",
                    grid_code=f"{street}00100{1 if ilat[i] < mid_lat else 2}",
                    received_at=now - timedelta(days=float(age_days[i])),
                )
            )


@pytest.fixture(scope="session")
def small_city_template(migrated_database: Callable[..., str]) -> str:
    return migrated_database(build_small_city).rsplit("/", 1)[1]


@dataclass
class City:
    url: str
    engine: Engine
    server: LiveServer
    tokens: dict[str, str]

    def client(self, role: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.server.base_url, timeout=60, headers=headers)


def _open_city(url: str) -> City:
    eng = make_engine(url, pool_size=1)
    plain: dict[str, str] = {}
    with session_scope(eng) as session:
        for role in ROLES:
            plain[role], _ = create_token(session, role, f"test-{role}")
    eng.dispose()
    return City(url, engine_for(url), LiveServer(url).start(), plain)


@pytest.fixture(scope="session")
def small_city(fresh_database: Callable[..., str], small_city_template: str) -> Iterator[City]:
    """The small city, shared by read-only tests."""
    city = _open_city(fresh_database(small_city_template))
    yield city
    city.server.stop()


@pytest.fixture
def writable_city(fresh_database: Callable[..., str], small_city_template: str) -> Iterator[City]:
    """A private copy of the small city for a test that writes."""
    city = _open_city(fresh_database(small_city_template))
    yield city
    city.server.stop()
    city.engine.dispose()
