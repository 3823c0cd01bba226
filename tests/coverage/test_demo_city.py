"""Coverage planning on the Xining demo city: stored circles, figures checked independently,
siting against random placement, and a moved station whose circle and incidents follow."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import numpy as np
import pytest
import shapely
from sqlalchemy import Engine, text

from tests.coverage import independent
from tests.coverage.conftest import City, _open_city

CHENGZHONG = "630103"


@pytest.fixture
def demo_city(demo_copy: Callable[[], str]) -> Iterator[City]:
    city = _open_city(demo_copy())
    yield city
    city.server.stop()
    city.engine.dispose()


def test_every_demo_facility_has_its_circle(demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT ST_X(geom), ST_Y(geom), service_radius_m, ST_AsBinary(service_area)"
                " FROM facilities"
            )
        ).all()
    assert len(rows) >= 12 + 29
    for lon, lat, radius, wkb in rows:
        ring = np.asarray(shapely.from_wkb(bytes(wkb)).exterior.coords)[:-1]
        _, _, d = independent.GEOD.inv(
            np.full(len(ring), lon), np.full(len(ring), lat), ring[:, 0], ring[:, 1]
        )
        assert np.allclose(d, radius, rtol=1e-4)


@pytest.mark.parametrize("kind", ["enforcement_station", "elderly_canteen"])
def test_chengzhong_figures_match_an_independent_computation(
    demo_http: httpx.Client, demo_engine: Engine, kind: str
) -> None:
    body = demo_http.get(
        "/api/v1/coverage", params={"type": kind, "district": CHENGZHONG, "days": 30}
    ).json()
    ref = independent.reference(demo_engine, kind, "districts", CHENGZHONG, 30)
    for name in ("area", "residents", "households", "elderly_residents"):
        ours = body["area"]["share"] if name == "area" else body[name]["share"]
        assert ours == pytest.approx(ref[name], rel=0.005), name
    if ref["incident_count"]:
        assert body["incidents"]["share"] == pytest.approx(ref["incidents"], rel=0.005)
    own = [r for r in body["load"] if r["district"] == CHENGZHONG]
    if kind == "enforcement_station":
        assert len(own) == 12 and all(r["staff"] == 20 for r in own)
    else:
        assert len(own) == 29 and body["population_basis"] == "elderly_residents"


def test_whole_city_uncovered_areas(demo_http: httpx.Client) -> None:
    body = demo_http.get("/api/v1/coverage").json()
    assert body["scope"]["level"] == "city"
    gaps = sum(f["properties"]["area_m2"] for f in body["uncovered"]["features"])
    assert gaps == pytest.approx(body["area"]["total_m2"] - body["area"]["covered_m2"], rel=1e-6)


def test_siting_beats_random_stations(
    demo_http: httpx.Client, demo_tokens: dict[str, str], demo_engine: Engine
) -> None:
    planner = {"Authorization": f"Bearer {demo_tokens['planner']}"}
    body = {"district": CHENGZHONG, "k": 3, "spacing_m": 300}
    plan = demo_http.post("/api/v1/coverage/siting", json=body, headers=planner).json()
    after = plan["greedy"]["after"]["covered"]
    with demo_engine.connect() as conn:
        b = np.asarray(
            conn.execute(
                text(
                    "SELECT ST_X(geom), ST_Y(geom), residents FROM buildings"
                    " WHERE district_code = :d"
                ),
                {"d": CHENGZHONG},
            ).all(),
            dtype=float,
        )
    fac = independent.facilities(demo_engine, "enforcement_station")
    rng = np.random.default_rng(11)
    for _ in range(30):  # three stations at random buildings of the district
        pick = b[rng.choice(len(b), 3, replace=False)]
        sites = np.column_stack([pick[:, :2], np.full(3, 2000.0)])
        hit = independent.hits(np.vstack([fac, sites]), b[:, 0], b[:, 1]) >= 1
        assert after >= b[hit, 2].sum()


def test_moved_station_takes_its_circle_and_incidents(demo_city: City) -> None:
    with demo_city.engine.connect() as conn:
        fid, code, old_area = conn.execute(
            text(
                "SELECT id, code, ST_AsBinary(service_area) FROM facilities"
                " WHERE district_code = :d AND type = 'enforcement_station' ORDER BY code LIMIT 1"
            ),
            {"d": CHENGZHONG},
        ).one()
        target = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM districts"
                " WHERE code = :d AND valid_to IS NULL) s"
            ),
            {"d": CHENGZHONG},
        ).one()
    with demo_city.client("planner") as http:
        before = http.get("/api/v1/coverage", params={"district": CHENGZHONG}).json()
        moved = http.patch(f"/api/v1/facilities/{code}", json={"lon": target[0], "lat": target[1]})
        assert moved.status_code == 200, moved.text
        after = http.get("/api/v1/coverage", params={"district": CHENGZHONG}).json()
    load_before = {r["id"]: r for r in before["load"]}[fid]
    load_after = {r["id"]: r for r in after["load"]}[fid]
    assert load_after["residents"] != load_before["residents"]
    with demo_city.engine.connect() as conn:
        new_area = conn.execute(
            text("SELECT ST_AsBinary(service_area) FROM facilities WHERE id = :i"), {"i": fid}
        ).scalar_one()
        # Open incidents said to be within this station's radius really lie in its new circle.
        stale = conn.execute(
            text(
                "SELECT count(*) FROM incidents i JOIN facilities f ON f.id = i.station_id"
                " WHERE f.id = :i AND i.status <> 'closed' AND i.station_within_radius"
                " AND NOT ST_DWithin(i.geom::geography, f.geom::geography, f.service_radius_m + 1)"
            ),
            {"i": fid},
        ).scalar_one()
    assert not shapely.from_wkb(bytes(new_area)).equals(shapely.from_wkb(bytes(old_area)))
    assert stale == 0
