"""A small city to edit: one street, two communities of box grids, buildings as points.

Community 630103001001 (west) is 4 x 2 grids of 0.01 degrees, community
630103001002 (east) is 2 x 2. Every grid holds 25 buildings of 16 households
(400 households, inside the 300-500 band) and a few open incidents.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from sqlalchemy import Engine, text

from gis.assign import Assigner
from gis.db import session_scope
from gis.incidents import reassign_open
from tests.incident_rows import insert_incidents

X0, Y0, STEP = 101.70, 36.60, 0.01
DISTRICT, STREET = "630103", "630103001"
WEST, EAST = "630103001001", "630103001002"
LAYOUT = {WEST: (0, 4), EAST: (4, 6)}  # community -> columns [from, to)
ROWS = 2
HOUSEHOLDS_PER_BUILDING = 16


def cell(i: int, j: int) -> shapely.Polygon:
    x = np.round(X0 + STEP * np.array([i, i + 1]), 6)
    y = np.round(Y0 + STEP * np.array([j, j + 1]), 6)
    return shapely.box(x[0], y[0], x[1], y[1])


def grid_cells() -> dict[str, shapely.Polygon]:
    out = {}
    for community, (c0, c1) in LAYOUT.items():
        n = 1
        for i in range(c0, c1):
            for j in range(ROWS):
                out[f"{community}{n:03d}"] = cell(i, j)
                n += 1
    return out


def _multi(g: Any) -> bytes:
    return bytes(shapely.to_wkb(shapely.multipolygons([g]) if g.geom_type == "Polygon" else g))


def build_city(engine: Engine, incidents_per_grid: int = 3) -> None:
    grids = grid_cells()
    communities = {
        c: shapely.coverage_union_all([g for code, g in grids.items() if code.startswith(c)])
        for c in LAYOUT
    }
    street = shapely.coverage_union_all(list(communities.values()))
    with session_scope(engine) as s:
        v = s.execute(
            text(
                "INSERT INTO boundary_versions (author, reason, operation, district_code)"
                " VALUES ('test', 'initial load', 'initial', :d) RETURNING id"
            ),
            {"d": DISTRICT},
        ).scalar_one()
        s.execute(
            text(
                "INSERT INTO districts (code, name, district_code, geom, version_id)"
                " VALUES (:c, '城中区', :c, ST_GeomFromWKB(:g, 4490), :v)"
            ),
            {"c": DISTRICT, "g": _multi(street), "v": v},
        )
        s.execute(
            text(
                "INSERT INTO streets (code, name, district_code, kind, geom, version_id)"
                " VALUES (:c, '人民街街道', :d, 'street', ST_GeomFromWKB(:g, 4490), :v)"
            ),
            {"c": STREET, "d": DISTRICT, "g": _multi(street), "v": v},
        )
        for n, (code, geom) in enumerate(communities.items()):
            homes = sum(1 for g in grids if g.startswith(code)) * 25 * HOUSEHOLDS_PER_BUILDING
            s.execute(
                text(
                    "INSERT INTO communities (code, name, district_code, street_code, households,"
                    " residents, area_type, commercial_housing_residents,"
                    " old_compound_residents, resettlement_residents, elderly_residents,"
                    " migrant_residents, property_management, facilities_complete, class,"
                    " geom, version_id) VALUES (:c, :n, :d, :s, :h, :r, 'core', 0, 0, 0, 0, 0,"
                    " 'partial', true, 'A', ST_GeomFromWKB(:g, 4490), :v)"
                ),
                {
                    "c": code,
                    "n": f"测试{n + 1}社区",
                    "d": DISTRICT,
                    "s": STREET,
                    "h": homes,
                    "r": homes * 3,
                    "g": _multi(geom),
                    "v": v,
                },
            )
            s.execute(
                text(
                    "INSERT INTO party_branches (kind, name, district_code, community_code,"
                    " members) VALUES ('community_committee', :n, :d, :c, 0)"
                ),
                {"n": f"测试{n + 1}社区党委", "d": DISTRICT, "c": code},
            )
        for code, geom in grids.items():
            s.execute(
                text(
                    "INSERT INTO grids (code, name, district_code, community_code, street_code,"
                    " kind, households, residents, worker_name, geom, version_id) VALUES (:c,"
                    " :n, :d, :cc, :s, 'comprehensive', 400, 1200, '网格员',"
                    " ST_GeomFromWKB(:g, 4490), :v)"
                ),
                {
                    "c": code,
                    "n": f"第{code[-3:]}网格",
                    "d": DISTRICT,
                    "cc": code[:12],
                    "s": STREET,
                    "g": _multi(geom),
                    "v": v,
                },
            )
            s.execute(
                text(
                    "INSERT INTO party_branches (kind, name, district_code, community_code,"
                    " grid_code, members) VALUES ('grid_branch', :n, :d, :cc, :c, 0)"
                ),
                {"n": f"第{code[-3:]}网格党支部", "d": DISTRICT, "cc": code[:12], "c": code},
            )
            # 5 x 5 buildings per grid, off the grid edges.
            x0, y0, _, _ = geom.bounds
            offs = STEP * (np.arange(5) + 0.5) / 5
            rows = [
                {
                    "code": f"B{code[-6:]}{a}{b}",
                    "d": DISTRICT,
                    "cc": code[:12],
                    "x": x0 + offs[a],
                    "y": y0 + offs[b],
                    "h": HOUSEHOLDS_PER_BUILDING,
                }
                for a in range(5)
                for b in range(5)
            ]
            s.execute(
                text(
                    "INSERT INTO buildings (code, district_code, community_code, households,"
                    " residents, elderly_residents, geom) VALUES (:code, :d, :cc, :h, :h * 3, 0,"
                    " ST_SetSRID(ST_MakePoint(:x, :y), 4490))"
                ),
                rows,
            )
        s.execute(
            text(
                "INSERT INTO facilities (code, type, name, district_code, geom, service_radius_m,"
                " staff, seats, hours, active) VALUES ('ST01', 'enforcement_station',"
                " '人民街执法站', :d, ST_SetSRID(ST_MakePoint(101.73, 36.61), 4490), 2000,"
                " 20, 0, '24h', true)"
            ),
            {"d": DISTRICT},
        )
        s.execute(
            text(
                "INSERT INTO incident_categories (code, name_zh, name_en, handling_unit,"
                " due_working_days, active) VALUES ('noise', '噪音', 'Noise', '城管', 5, true)"
            )
        )
    add_incidents(engine, incidents_per_grid)
    # Assign them by the real rules so later re-assignments count only true moves.
    with session_scope(engine) as s:
        reassign_open(s, Assigner.load(engine), None, actor="test", reason="initial")


def add_incidents(engine: Engine, per_grid: int, grid: str | None = None, seed: int = 7) -> None:
    """Open incidents at random points inside each grid (or one grid), assigned to it."""
    rng = np.random.default_rng(seed)
    points: list[tuple[float, float]] = []
    codes: list[str] = []
    with session_scope(engine) as s:
        current = s.execute(
            text(
                "SELECT code, ST_XMin(geom) AS x0, ST_YMin(geom) AS y0, ST_XMax(geom) AS x1,"
                " ST_YMax(geom) AS y1 FROM grids WHERE valid_to IS NULL"
                " AND (CAST(:g AS text) IS NULL OR code = :g)"
            ),
            {"g": grid},
        ).all()
        for g in current:
            xs = rng.uniform(g.x0 + 1e-5, g.x1 - 1e-5, per_grid)
            ys = rng.uniform(g.y0 + 1e-5, g.y1 - 1e-5, per_grid)
            points += zip(xs.tolist(), ys.tolist(), strict=True)
            codes += [g.code] * per_grid
        insert_incidents(s, points, codes, category="noise", version=1)
