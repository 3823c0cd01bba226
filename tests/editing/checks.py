"""Assertions shared by the editing tests: tiling, conservation, nothing written."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from sqlalchemy import Engine, text

from gis.coords import geometry_to_local

TABLES = (
    "boundary_versions",
    "grids",
    "communities",
    "incident_reports",
    "incident_assignments",
    "incident_events",
    "incident_moves",
    "party_branches",
    "buildings",
)


def current(engine: Engine, table: str = "grids") -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT code, ST_AsBinary(geom) FROM {table} WHERE valid_to IS NULL")
        ).all()
    return {r[0]: shapely.from_wkb(bytes(r[1])) for r in rows}


def assert_tiled(engine: Engine, tolerance_m2: float = 1.0) -> None:
    """Every community is covered by its grids: a valid coverage whose union is the community."""
    grids = current(engine, "grids")
    for code, outline in current(engine, "communities").items():
        mine = np.array([g for c, g in grids.items() if c.startswith(code)], dtype=object)
        assert len(mine) > 0, code
        assert shapely.coverage_is_valid(mine), (code, shapely.coverage_invalid_edges(mine))
        diff = shapely.symmetric_difference(shapely.union_all(mine), outline)
        assert float(shapely.area(geometry_to_local(diff))) < tolerance_m2, code


def households(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        h, r = conn.execute(
            text("SELECT sum(households), sum(residents) FROM grids WHERE valid_to IS NULL")
        ).one()
    return int(h), int(r)


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES
        }


def latest(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT max(id) FROM boundary_versions")).scalar_one())
