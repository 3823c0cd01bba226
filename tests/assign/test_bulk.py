"""``locate_many`` (with and without its cell table) agrees with ``locate`` and with an
independent per-point reference (Shapely per point, pyproj.Geod distances)."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from pyproj import Geod

from gis.assign import Assigner, AssignmentColumns
from tests.assign.city import GRIDS_V2, STATIONS, Y0, Y1

GEOD = Geod(ellps="GRS80")
EDGES_X = sorted({b[0] for b in GRIDS_V2.values()} | {b[2] for b in GRIDS_V2.values()})
EDGES_Y = [Y0, 36.60, Y1]


def sample(seed: int, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Uniform points, points exactly on edges and vertices, and points a few metres off edges."""
    rng = np.random.default_rng(seed)
    k = n // 4
    x = rng.uniform(101.595, 101.805, n)
    y = rng.uniform(36.545, 36.655, n)
    x[:k] = rng.choice(EDGES_X, k)  # on vertical edges
    y[k : 2 * k] = rng.choice(EDGES_Y, k)  # on horizontal edges
    x[2 * k : 2 * k + k // 4] = rng.choice(EDGES_X, k // 4)  # on vertices
    y[2 * k : 2 * k + k // 4] = rng.choice(EDGES_Y, k // 4)
    off = slice(3 * k, n)  # within ±80 m of a vertical edge
    x[off] = rng.choice(EDGES_X, n - 3 * k) + rng.uniform(-0.0009, 0.0009, n - 3 * k)
    return x, y


def same(a: AssignmentColumns, b: AssignmentColumns) -> None:
    for name in ("match", "grid_code", "community_code", "street_code", "district_code"):
        assert list(getattr(a, name)) == list(getattr(b, name)), name
    for name in ("station_id", "station_within_radius", "party_branch_id"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_allclose(a.distance_m, b.distance_m, atol=1e-6)
    np.testing.assert_allclose(a.station_distance_m, b.station_distance_m, atol=1e-6)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_locate_many_agrees_with_locate(city: Assigner, seed: int) -> None:
    x, y = sample(seed, 2000)
    table = city.locate_many(x, y, use_table=True)
    exact = city.locate_many(x, y, use_table=False)
    same(table, exact)
    for i in range(len(x)):
        one = city.locate(float(x[i]), float(y[i]))
        assert one.match == table.match[i]
        assert (one.grid.code if one.grid else None) == table.grid_code[i]
        assert (one.district.code if one.district else None) == table.district_code[i]
        assert (one.station.id if one.station else -1) == table.station_id[i]
        assert (one.party_branch.id if one.party_branch else -1) == table.party_branch_id[i]
        assert abs(one.distance_m - table.distance_m[i]) < 1e-6


def test_table_and_exact_paths_agree_on_many_points(city: Assigner) -> None:
    x, y = sample(7, 200_000)
    same(city.locate_many(x, y, use_table=True), city.locate_many(x, y, use_table=False))


def test_against_an_independent_reference(city: Assigner) -> None:
    x, y = sample(11, 3000)
    cols = city.locate_many(x, y)
    codes = sorted(GRIDS_V2)
    boxes = shapely.box(*np.array([GRIDS_V2[c] for c in codes]).T)
    stations = [s for s in STATIONS if s[5]]
    for i in range(len(x)):
        covers = [
            c for c, b in zip(codes, boxes, strict=True) if b.intersects(shapely.Point(x[i], y[i]))
        ]
        if covers:
            assert cols.grid_code[i] == min(covers)
            assert cols.match[i] == ("boundary" if len(covers) > 1 else "inside")
        else:
            assert cols.match[i] in ("snapped", "outside")
        district = cols.district_code[i]
        d = [float(GEOD.inv(x[i], y[i], s[2], s[3])[2]) for s in stations]
        covering = [
            (s[1] != district, dist, k)
            for k, (s, dist) in enumerate(zip(stations, d, strict=True))
            if dist <= s[4]
        ]
        if covering:
            _, dist, k = min(covering)
            assert cols.station_within_radius[i]
        else:
            own = [
                (dist, k)
                for k, (s, dist) in enumerate(zip(stations, d, strict=True))
                if s[1] == district
            ]
            if not own:
                assert cols.station_id[i] == -1
                continue
            dist, k = min(own)
            assert not cols.station_within_radius[i]
        assert cols.station_id[i] == k + 1  # stations were inserted first, ids 1..n
        assert abs(cols.station_distance_m[i] - dist) < 0.01


def test_columns_for_an_empty_batch(city: Assigner) -> None:
    cols = city.locate_many(np.zeros(0), np.zeros(0))
    assert len(cols) == 0 and cols.boundary_version_id == 2
