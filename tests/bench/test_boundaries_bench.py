"""Benchmarks of the boundary layer on the demo city (run by ``make bench``).

1. ``GET /api/v1/grids`` (all 3,176 grids, GeoJSON built by PostGIS) against a peer in the
   same run: the same FeatureCollection built in Python from the rows (WKB → Shapely →
   ``__geo_interface__`` → orjson), the usual way without SQL-side GeoJSON.
2. Validating the whole demo grid layer against its communities (overlaps, gaps,
   overhangs, coverage edges) against a peer: a plain pairwise loop over the STRtree
   candidates computing each intersection one pair at a time.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import orjson
import shapely
from sqlalchemy import Engine, func, select

from gis.boundaries.queries import collection
from gis.boundaries.store import features, units
from gis.boundaries.validate import Units, validate_layer
from gis.db import session_scope
from gis.models import Grid
from tests.bench.results import pytest_command, record

ROUNDS = 5
COMMAND = pytest_command(__file__)


def _median_ms(fn: object, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def test_grids_geojson_vs_python_built(demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:

        def sql_built() -> int:
            return len(collection(conn, "grid"))

        def python_built() -> int:
            rows = conn.execute(
                select(
                    Grid.code,
                    Grid.name,
                    Grid.community_code,
                    Grid.kind,
                    Grid.households,
                    Grid.residents,
                    func.ST_AsBinary(Grid.geom),
                )
                .where(Grid.valid_to.is_(None))
                .order_by(Grid.code)
            ).all()
            shapes = shapely.from_wkb([bytes(r[6]) for r in rows])
            body = {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "id": r[0],
                        "geometry": s.__geo_interface__,
                        "properties": {
                            "code": r[0],
                            "name": r[1],
                            "parent_code": r[2],
                            "kind": r[3],
                            "households": r[4],
                            "residents": r[5],
                        },
                    }
                    for r, s in zip(rows, shapes, strict=True)
                ],
            }
            return len(orjson.dumps(body))

        ours, peer = _median_ms(sql_built), _median_ms(python_built)
    print(
        f"\nGET grids body: PostGIS-built {ours:.0f} ms, Python-built {peer:.0f} ms "
        f"(ratio {peer / ours:.2f}×; ours also computes geodesic area_km2)"
    )
    assert ours > 0 and peer > 0
    record(
        "grids_geojson",
        ours,
        "ms",
        "the same FeatureCollection built in Python from the rows (Shapely + orjson)",
        peer,
        peer / ours,
        title="`GET /api/v1/grids` body, every current grid as GeoJSON built by PostGIS (median)",
        command=COMMAND,
    )


def test_validate_demo_grids_vs_pairwise_loop(demo_engine: Engine) -> None:
    with session_scope(demo_engine) as session:
        geoms, columns = features(session, "grid")
        parents = units(session, "community", list({c[:12] for c in columns["code"]}))
    codes = columns["code"]

    def ours() -> None:
        report = validate_layer(
            "grid", codes, geoms, parents=Units.of(parents.codes, parents.geoms)
        )
        assert report.ok

    def pairwise() -> None:
        tree = shapely.STRtree(geoms)
        overlap = 0.0
        for i, g in enumerate(geoms):
            for j in tree.query(g):
                if j > i:
                    overlap += g.intersection(geoms[j]).area
        assert np.isfinite(overlap)

    mine, peer = _median_ms(ours, 3), _median_ms(pairwise, 3)
    print(
        f"\nvalidate 3,176 grids (all checks) {mine:.0f} ms; pairwise overlap loop alone "
        f"{peer:.0f} ms (ratio {peer / mine:.2f}×)"
    )
    record(
        "validate_grids",
        mine,
        "ms",
        "a pairwise overlap loop over STRtree candidates (overlaps only)",
        peer,
        peer / mine,
        title=f"validating all {len(codes):,} demo grids against their communities, every check",
        command=COMMAND,
    )
