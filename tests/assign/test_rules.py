"""Every assignment rule on the small test city (tests/assign/city.py), checked on the ground."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
import shapely
from pyproj import Geod
from sqlalchemy import Engine

from gis.assign import Assigner
from gis.editing.operations import assign_points
from gis.editing.state import Points
from tests.assign.city import C31, C32, C41, D3, D4, NEW_EDGE, OLD_EDGE, STATIONS, VERTEX, YM

GEOD = Geod(ellps="GRS80")
STATION = {code: (lon, lat, radius) for code, _, lon, lat, radius, _ in STATIONS}


def geod_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def east_of(lon: float, lat: float, metres: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, 90.0, metres)
    return float(x), float(y)


def test_inside_names_every_unit(city: Assigner) -> None:
    a = city.locate(101.71, 36.57)
    assert a.match == "inside" and a.distance_m == 0
    assert a.grid is not None and a.grid.code == C31 + "001" and a.grid.name == "网格001-001"
    assert a.community is not None and (a.community.code, a.community.name) == (C31, "北大街社区")
    assert a.street is not None and (a.street.code, a.street.name) == (D3 + "001", "礼让街街道")
    assert a.district is not None and (a.district.code, a.district.name) == (D3, "城中区")
    assert a.boundary_version_id == 2
    body = a.as_dict()
    assert set(body) == {
        "match", "distance_m", "grid", "community", "street", "district", "station",
        "party_branch", "boundary_version",
    }  # fmt: skip


SHARED = [
    ((101.725, 36.57), C31 + "001"),  # edge SW | SE: smaller code on the west
    ((101.71, YM), C31 + "001"),  # edge SW | NW: smaller code to the south
    ((101.74, YM), C31 + "002"),  # edge SE | NE
    ((101.75, 36.58), C31 + "002"),  # edge between two communities
    (VERTEX, C31 + "001"),  # vertex of four grids
    ((101.75, YM), C31 + "002"),  # vertex of three grids (SE, NE, next community)
]


@pytest.mark.parametrize(("point", "expected"), SHARED)
def test_shared_edges_and_vertices_go_to_the_smallest_code(
    city: Assigner, point: tuple[float, float], expected: str
) -> None:
    a = city.locate(*point)
    assert a.match == "boundary"
    assert a.grid is not None and a.grid.code == expected
    assert a.community is not None and a.community.code == expected[:12]
    assert a.distance_m == 0


def test_edits_cover_points_by_the_same_rule(city: Assigner) -> None:
    """Grid edits count buildings and incidents per grid with the engine's covering rule."""
    snap = city.snapshot
    outlines = dict(zip(snap.grid_code.tolist(), snap.grid_geom, strict=True))
    inside = [(101.71, 36.57), (101.80, 36.58)]
    away = [east_of(101.80, 36.58, 30.0)]  # snapped by the engine, covered by no outline
    points = [p for p, _ in SHARED] + inside + away
    n = len(points)
    geoms = shapely.points(np.array(points))
    ones = np.ones(n, np.int64)
    owner = assign_points(Points(np.arange(n), geoms, ones, ones), outlines)
    assert owner.tolist() == [code for _, code in SHARED] + [C31 + "001", C32 + "002", None]
    located = [city.locate(*p) for p in points[: len(SHARED) + len(inside)]]
    assert owner.tolist()[: len(located)] == [a.grid.code if a.grid else None for a in located]


def test_outer_edge_of_a_single_grid_is_inside(city: Assigner) -> None:
    a = city.locate(101.80, 36.58)  # the city's east edge: one grid covers it
    assert a.match == "inside" and a.grid is not None and a.grid.code == C32 + "002"


@pytest.mark.parametrize("metres", [0.5, 12.0, 30.0, 49.0])
def test_snapped_within_tolerance_with_ground_distance(city: Assigner, metres: float) -> None:
    lon, lat = east_of(101.80, 36.58, metres)
    a = city.locate(lon, lat)
    assert a.match == "snapped"
    assert a.grid is not None and a.grid.code == C32 + "002"
    assert a.district is not None and a.district.code == D3
    assert a.distance_m == pytest.approx(geod_m(lon, lat, 101.80, lat), abs=0.01)


def test_snapped_to_a_corner(city: Assigner) -> None:
    x, y, _ = GEOD.fwd(101.80, 36.65, 45.0, 40.0)  # 40 m north-east of the city's corner
    a = city.locate(float(x), float(y))
    assert a.match == "snapped" and a.grid is not None and a.grid.code == C32 + "002"
    assert a.distance_m == pytest.approx(40.0, abs=0.02)


def test_beyond_tolerance_is_outside_but_keeps_the_district(city: Assigner) -> None:
    lon, lat = east_of(101.80, 36.58, 60.0)
    a = city.locate(lon, lat)
    assert a.match == "outside" and a.grid is None and a.community is None and a.street is None
    assert a.district is not None and a.district.code == D3  # its unassigned queue
    assert a.party_branch is None


def test_outside_every_grid_inside_a_district(city: Assigner) -> None:
    a = city.locate(101.67, 36.60)  # district 630104 has no grid there
    assert a.match == "outside" and a.grid is None
    assert a.district is not None and a.district.code == D4
    assert a.station is not None and a.station.code == "ES-S2" and a.station.within_radius


def test_station_of_own_district_preferred_over_a_nearer_one(city: Assigner) -> None:
    lon, lat = 101.705, 36.59
    s1, s2 = STATION["ES-S1"], STATION["ES-S2"]
    d1, d2 = geod_m(lon, lat, s1[0], s1[1]), geod_m(lon, lat, s2[0], s2[1])
    assert d2 < d1 <= s1[2] and d2 <= s2[2]  # both cover it; the other district's is nearer
    a = city.locate(lon, lat)
    assert a.district is not None and a.district.code == D3
    assert a.station is not None and a.station.code == "ES-S1" and a.station.within_radius
    assert a.station.distance_m == pytest.approx(d1, abs=0.01)


def test_station_of_another_district_when_only_it_covers(city: Assigner) -> None:
    lon, lat = 101.703, 36.615
    s1, s2 = STATION["ES-S1"], STATION["ES-S2"]
    assert geod_m(lon, lat, s1[0], s1[1]) > s1[2]
    a = city.locate(lon, lat)
    assert a.station is not None and a.station.code == "ES-S2" and a.station.within_radius
    assert a.station.distance_m == pytest.approx(geod_m(lon, lat, s2[0], s2[1]), abs=0.01)


def test_uncovered_point_gets_nearest_station_of_its_district(city: Assigner) -> None:
    lon, lat = 101.76, 36.555  # the retired 5 km station would cover it: ignored
    a = city.locate(lon, lat)
    assert a.station is not None and a.station.code == "ES-S1"
    assert a.station.within_radius is False
    s1 = STATION["ES-S1"]
    assert a.station.distance_m == pytest.approx(geod_m(lon, lat, s1[0], s1[1]), abs=0.01)
    assert a.station.distance_m > s1[2]


def test_small_radius_station_covers_only_its_circle(city: Assigner) -> None:
    lon, lat = 101.79, 36.643  # 333 m north of ES-S3 (radius 500 m)
    a = city.locate(lon, lat)
    assert a.station is not None and a.station.code == "ES-S3" and a.station.within_radius


@pytest.mark.parametrize(
    ("point", "kind", "name"),
    [
        ((101.708, 36.562), "compound_branch", "幸福家园小区党支部"),
        ((101.705, 36.560), "compound_branch", "幸福家园小区党支部"),  # the compound's corner
        ((101.715, 36.58), "grid_branch", "网格001党支部"),
        ((101.74, 36.58), "community_committee", "北大街社区党委"),
        ((101.76, 36.58), "community_committee", "南大街社区党委"),
    ],
)
def test_most_specific_party_branch(
    city: Assigner, point: tuple[float, float], kind: str, name: str
) -> None:
    a = city.locate(*point)
    assert a.party_branch is not None
    assert (a.party_branch.kind, a.party_branch.name) == (kind, name)


def test_no_branch_where_none_is_seated(city: Assigner) -> None:
    a = city.locate(101.62, 36.60)
    assert a.grid is not None and a.grid.code == C41 + "001" and a.party_branch is None


def test_at_answers_as_of_a_boundary_version(city_engine: Engine, city: Assigner) -> None:
    lon, lat = (OLD_EDGE + NEW_EDGE) / 2, 36.60  # between the old and the new edge
    before = Assigner.load(city_engine, at=datetime(2026, 3, 1, tzinfo=UTC)).locate(lon, lat)
    now = city.locate(lon, lat)
    assert before.grid is not None and before.grid.code == C32 + "002"
    assert before.boundary_version_id == 1
    assert now.grid is not None and now.grid.code == C32 + "001"
    assert now.boundary_version_id == 2
    edge_then = Assigner.load(city_engine, at=datetime(2026, 3, 1, tzinfo=UTC))
    assert edge_then.locate(OLD_EDGE, 36.60).match == "boundary"
    assert city.locate(OLD_EDGE, 36.60).match == "inside"


def test_at_before_any_boundary_has_no_units(city_engine: Engine) -> None:
    a = Assigner.load(city_engine, at=datetime(2025, 1, 1, tzinfo=UTC)).locate(101.71, 36.57)
    assert a.match == "outside" and a.grid is None and a.district is None
    assert a.boundary_version_id is None


def test_at_counts_only_stations_in_service_then(city_engine: Engine) -> None:
    """As of a time, a station counts once created and until retired (as the maps draw it)."""
    with city_engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("UPDATE facilities SET created_at = '2026-06-01T00:00:00Z'")
        before = Assigner.load(conn, at=datetime(2026, 3, 1, tzinfo=UTC)).locate(101.76, 36.555)
        after = Assigner.load(conn, at=datetime(2026, 7, 1, tzinfo=UTC)).locate(101.76, 36.555)
        now = Assigner.load(conn).locate(101.76, 36.555)
        conn.rollback()
    assert before.grid is not None and before.station is None
    assert now.station is not None and after.station == now.station


def test_load_inside_an_open_transaction(city_engine: Engine) -> None:
    with city_engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("UPDATE facilities SET service_radius_m = 12000 WHERE code = 'ES-S3'")
        a = Assigner.load(conn).locate(101.76, 36.555)  # sees the uncommitted radius
        assert a.station is not None and a.station.code == "ES-S3" and a.station.within_radius
        conn.rollback()
