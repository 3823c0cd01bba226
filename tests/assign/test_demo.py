"""Assignment on the Xining demo city: real district outlines, ~3,200 generated grids."""

from __future__ import annotations

import httpx
import numpy as np
import prcoords
import pytest
import shapely
from sqlalchemy import Engine, text

from gis.assign import Assigner
from gis.assign.snapshot import load_snapshot, near_deg
from gis.settings import Settings
from tests.assign.test_bulk import same


@pytest.fixture(scope="module")
def demo(demo_city_engine: Engine) -> Assigner:
    return Assigner.load(demo_city_engine)


def test_every_sampled_grid_holds_its_own_interior(demo: Assigner) -> None:
    snap = demo.snapshot
    assert len(snap.grid_geom) > 3000
    pick = np.random.default_rng(1).choice(len(snap.grid_geom), 300, replace=False)
    inner = shapely.get_coordinates(shapely.point_on_surface(snap.grid_geom[pick]))
    cols = demo.locate_many(inner[:, 0], inner[:, 1])
    assert list(cols.grid_code) == list(snap.grid_code[pick])
    assert set(cols.match) <= {"inside", "boundary"}
    for grid, community, street, district in zip(
        cols.grid_code, cols.community_code, cols.street_code, cols.district_code, strict=True
    ):
        assert grid.startswith(community) and community.startswith(street)
        assert street.startswith(district)


def test_a_station_answers_at_its_own_door(demo: Assigner, demo_city_engine: Engine) -> None:
    with demo_city_engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT id, ST_X(geom), ST_Y(geom) FROM facilities WHERE type ="
                " 'enforcement_station' AND active AND district_code = '630103' ORDER BY id"
            )
        ).all()
    assert len(rows) == 12  # Chengzhong's twelve stations
    for station_id, lon, lat in rows:
        a = demo.locate(lon, lat)
        assert a.station is not None and a.station.id == station_id
        assert a.station.within_radius and a.station.distance_m < 0.01


def test_compound_branches_answer_inside_their_compounds(
    demo: Assigner, demo_city_engine: Engine
) -> None:
    with demo_city_engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT b.id, ST_X(ST_PointOnSurface(c.geom)), ST_Y(ST_PointOnSurface(c.geom))"
                " FROM party_branches b JOIN compounds c ON c.id = b.compound_id"
                " WHERE b.kind = 'compound_branch' ORDER BY b.id LIMIT 50"
            )
        ).all()
    assert rows
    for branch_id, lon, lat in rows:
        a = demo.locate(lon, lat)
        assert a.party_branch is not None and a.party_branch.kind == "compound_branch"
        assert a.party_branch.id == branch_id


def test_table_agrees_with_exact_on_real_outlines(demo: Assigner) -> None:
    rng = np.random.default_rng(4)
    grids = demo.snapshot.grid_geom
    anchors = shapely.get_coordinates(
        shapely.point_on_surface(grids[rng.integers(0, len(grids), 30_000)])
    )
    x = anchors[:, 0] + rng.normal(0, 0.003, len(anchors))
    y = anchors[:, 1] + rng.normal(0, 0.002, len(anchors))
    table = demo.locate_many(x, y, use_table=True)
    exact = demo.locate_many(x, y, use_table=False)
    for name in ("match", "grid_code", "district_code"):
        assert list(getattr(table, name)) == list(getattr(exact, name)), name
    for name in ("station_id", "station_within_radius", "party_branch_id"):
        np.testing.assert_array_equal(getattr(table, name), getattr(exact, name))
    np.testing.assert_allclose(table.station_distance_m, exact.station_distance_m, atol=1e-6)
    assert (table.match == "snapped").any() or (table.match == "outside").any()


def test_locate_over_http_on_the_demo(
    demo: Assigner, demo_city_http: httpx.Client, demo_city_engine: Engine
) -> None:
    with demo_city_engine.connect() as c:
        lon, lat, code = c.execute(
            text(
                "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)), code"
                " FROM grids WHERE valid_to IS NULL AND district_code = '630103'"
                " ORDER BY code LIMIT 1"
            )
        ).one()
    shifted = prcoords.wgs_gcj((lat, lon))
    r = demo_city_http.get(
        "/api/v1/locate", params={"lon": shifted.lon, "lat": shifted.lat, "crs": "gcj02"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["grid"]["code"] == code and body["district"] == {"code": "630103", "name": "城中区"}
    assert body["station"]["within_radius"] in (True, False) and body["party_branch"] is not None
    far = demo_city_http.get("/api/v1/locate", params={"lon": 121.47, "lat": 31.23})  # Shanghai
    assert far.status_code == 422 and "outside the service area" in far.json()["error"]
    swapped = demo_city_http.get("/api/v1/locate", params={"lon": lat, "lat": lon})
    assert swapped.status_code == 422 and "swapped" in swapped.json()["error"]


def _grid_at(demo: Assigner, where: str) -> int:
    """A grid in the middle of a district, at a district border, or at the city's edge."""
    snap = demo.snapshot
    if where == "district border":
        left, right = demo.grid_tree.query(snap.grid_geom, predicate="dwithin", distance=0.003)
        return int(left[np.flatnonzero(snap.grid_district[left] != snap.grid_district[right])[0]])
    if where == "city edge":
        return int(np.argmax(shapely.bounds(snap.grid_geom)[:, 2]))
    return len(snap.grid_geom) // 2


@pytest.mark.parametrize("where", ["inland", "district border", "city edge"])
def test_a_snapshot_read_near_a_box_answers_like_the_whole_city(
    demo: Assigner, demo_city_engine: Engine, where: str
) -> None:
    """What an edit's re-assignment reads (the layers near the edited grids, as
    ``gis.editing.reassign`` sizes them) gives the same answers as the whole city for every
    point it checks, while reading only a part of the stations and branches."""
    settings = Settings()
    box = shapely.envelope(demo.snapshot.grid_geom[_grid_at(demo, where)])
    near = near_deg(settings.snap_tolerance_m, box)
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = box.bounds
    xs = rng.uniform(x0 - near, x1 + near, 4000)
    ys = rng.uniform(y0 - near, y1 + near, 4000)
    with demo_city_engine.connect() as conn:
        local = Assigner(load_snapshot(conn, near=shapely.buffer(box, 2 * near)), settings)
    expected = demo.locate_many(xs, ys)
    same(local.locate_many(xs, ys), expected)
    if where != "inland":  # the points meet more than one district, or leave the city
        assert len(set(expected.district_code)) > 1 or "outside" in set(expected.match)
    snap = local.snapshot
    assert 0 < len(snap.station_id) < len(demo.snapshot.station_id)
    assert 0 < len(snap.branch_id) < len(demo.snapshot.branch_id) / 10
