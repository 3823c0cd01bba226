"""The demo city as stored: exact tiling at every level, nesting codes, sums, the Xining figures."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import shapely
from sqlalchemy import Engine, text

from gis.coords import geometry_to_local, to_local
from gis.demo import plan

LEVELS = (("districts", None), ("streets", 6), ("communities", 9), ("grids", 12))


def _current(engine: Engine, table: str) -> list[tuple[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT code, ST_AsBinary(geom) FROM {table} WHERE valid_to IS NULL ORDER BY code"
            )
        ).all()
    return [(str(code), shapely.from_wkb(bytes(wkb))) for code, wkb in rows]


def test_every_level_tiles_its_parent_exactly(demo_engine: Engine) -> None:
    levels = {table: _current(demo_engine, table) for table, _ in LEVELS}
    districts = np.array([g for _, g in levels["districts"]], dtype=object)
    assert len(districts) == 7
    assert shapely.coverage_is_valid(districts)
    for (parent_table, _), (child_table, prefix) in itertools.pairwise(LEVELS):
        assert prefix is not None
        children: dict[str, list[object]] = defaultdict(list)
        for code, geom in levels[child_table]:
            children[code[:prefix]].append(geom)
        parents = dict(levels[parent_table])
        assert set(children) == set(parents), f"{child_table} without parent or parent empty"
        for code, parent in parents.items():
            kids = np.array(children[code], dtype=object)
            assert shapely.coverage_is_valid(kids), f"{child_table} of {code} overlap"
            assert shapely.is_valid(kids).all()
            kid_area = float(shapely.area(geometry_to_local(kids)).sum())
            parent_area = float(shapely.area(geometry_to_local(parent)))
            assert abs(kid_area - parent_area) < 1.0, (code, kid_area - parent_area)
            # No gap: the children's union is the parent (differences only as slivers).
            gap = shapely.difference(parent, shapely.coverage_union_all(kids))
            assert shapely.area(geometry_to_local(gap)) < 1.0, code


def test_codes_nest_and_counts_match_xining(demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:

        def one(q: str) -> int:
            return int(conn.execute(text(q)).scalar_one())

        assert one("SELECT count(*) FROM communities WHERE valid_to IS NULL") == 178
        assert one("SELECT count(*) FROM grids WHERE kind = 'comprehensive'") == 2673
        assert one("SELECT count(*) FROM grids WHERE kind = 'dedicated'") == 503
        assert one("SELECT count(*) FROM streets WHERE district_code = '630103'") == 8
        assert one("SELECT count(*) FROM communities WHERE district_code = '630103'") == 29
        orphans = one(
            "SELECT count(*) FROM grids g LEFT JOIN communities c ON c.code = g.community_code"
            " WHERE c.id IS NULL"
        )
        assert orphans == 0
        assert one("SELECT count(*) FROM streets WHERE kind NOT IN ('street', 'town')") == 0
        households = one("SELECT sum(households) FROM buildings WHERE district_code = '630103'")
        residents = one("SELECT sum(residents) FROM buildings WHERE district_code = '630103'")
    assert abs(households - 98_194) / 98_194 < 0.03
    assert abs(residents - 369_000) / 369_000 < 0.03


def test_grid_and_community_totals_are_sums_of_buildings(demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        grids = conn.execute(
            text(
                "SELECT g.code, g.kind, g.households, g.residents,"
                " coalesce(sum(b.households), 0), coalesce(sum(b.residents), 0)"
                " FROM grids g LEFT JOIN buildings b ON ST_Covers(g.geom, b.geom)"
                " WHERE g.valid_to IS NULL GROUP BY g.code, g.kind, g.households, g.residents"
            )
        ).all()
        communities = conn.execute(
            text(
                "SELECT c.code, c.households, c.residents, c.elderly_residents,"
                " (SELECT sum(households) FROM buildings b WHERE b.community_code = c.code),"
                " (SELECT sum(residents) FROM buildings b WHERE b.community_code = c.code),"
                " (SELECT sum(elderly_residents) FROM buildings b"
                "   WHERE b.community_code = c.code),"
                " (SELECT sum(households) FROM grids g WHERE g.community_code = c.code)"
                " FROM communities c WHERE c.valid_to IS NULL"
            )
        ).all()
        located = conn.execute(text("SELECT count(*) FROM buildings")).scalar_one()
    assert sum(1 for g in grids for _ in [0]) == 3176
    for code, kind, hh, res, bhh, bres in grids:
        assert (hh, res) == (bhh, bres), code
        if kind == "dedicated":
            assert hh == 0
    assert sum(int(g[4]) for g in grids) == sum(int(c[4]) for c in communities)
    # Every building inside exactly one grid: the grid sums above add up to all buildings.
    assert located > 15_000
    for code, hh, res, eld, bhh, bres, beld, ghh in communities:
        assert (hh, res, eld) == (bhh, bres, beld), code
        assert hh == ghh, code
    comp = np.array([g[2] for g in grids if g[1] == "comprehensive"])
    assert ((comp >= 300) & (comp <= 500)).mean() > 0.85


def test_compounds_sit_inside_one_grid_of_their_community(demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        bad = conn.execute(
            text(
                "SELECT c.code FROM compounds c WHERE 1 <> (SELECT count(*) FROM grids g"
                " WHERE g.valid_to IS NULL AND g.community_code = c.community_code"
                " AND ST_CoveredBy(c.geom, g.geom))"
            )
        ).all()
        types: dict[str, int] = dict(
            conn.execute(text("SELECT housing_type, count(*) FROM compounds GROUP BY 1")).all()
        )
        mismatched = conn.execute(
            text(
                "SELECT c.code FROM compounds c JOIN buildings b ON b.compound_id = c.id"
                " GROUP BY c.code, c.households, c.residents, c.geom"
                " HAVING sum(b.households) <> c.households OR sum(b.residents) <> c.residents"
                " OR NOT bool_and(ST_Covers(c.geom, b.geom))"
            )
        ).all()
    assert bad == []
    assert mismatched == []
    assert set(types) == {"commercial", "old", "resettlement", "mixed"}


def test_party_branches_facilities_and_version(demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        kinds: dict[str, int] = dict(
            conn.execute(text("SELECT kind, count(*) FROM party_branches GROUP BY kind")).all()
        )
        stations = conn.execute(
            text(
                "SELECT district_code, service_radius_m, staff, hours, service_area IS NOT NULL,"
                " ST_X(geom), ST_Y(geom) FROM facilities WHERE type = 'enforcement_station'"
            )
        ).all()
        canteens = conn.execute(
            text(
                "SELECT service_radius_m, seats FROM facilities"
                " WHERE type = 'elderly_canteen' AND district_code = '630103'"
            )
        ).all()
        versions = conn.execute(text("SELECT id, operation, author FROM boundary_versions")).all()
        foreign = sum(
            conn.execute(
                text(f"SELECT count(*) FROM {t} WHERE version_id <> :v"), {"v": versions[0][0]}
            ).scalar_one()
            for t in ("districts", "streets", "communities", "grids")
        )
        homes = conn.execute(
            text(
                "SELECT district_code, ST_X(geom), ST_Y(geom), residents FROM buildings"
                " WHERE district_code IN ('630102', '630103', '630104', '630105')"
            )
        ).all()
    assert kinds == {
        "community_committee": 178,
        "grid_branch": 2673,
        "compound_branch": plan.COMPOUND_BRANCHES,
        "building_group": plan.BUILDING_GROUPS,
    }
    assert [(v[1], v[2]) for v in versions] == [("demo", "wangge demo")]
    assert foreign == 0
    cz = [s for s in stations if s[0] == "630103"]
    assert len(cz) == 12
    assert {(s[1], s[2], s[3]) for s in cz} == {(2000.0, 20, "24h")}
    assert all(s[4] for s in stations)
    assert {s[0] for s in stations} == {d.code for d in plan.PLANS}
    assert len(canteens) == 29
    assert all(r == 1000.0 and seats > 0 for r, seats in canteens)
    # Most urban residents live within 2 km of a station.
    sx, sy = to_local(np.array([s[5] for s in stations]), np.array([s[6] for s in stations]))
    hx, hy = to_local(np.array([h[1] for h in homes]), np.array([h[2] for h in homes]))
    w = np.array([h[3] for h in homes], dtype=float)
    d = np.hypot(hx[:, None] - sx[None, :], hy[:, None] - sy[None, :]).min(axis=1)
    assert (w * (d <= 2000)).sum() / w.sum() > 0.9
