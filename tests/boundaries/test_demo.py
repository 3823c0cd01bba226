"""The boundary endpoints, validation and round trip on the Xining demo city."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pyogrio.raw
from sqlalchemy import Engine

from gis.boundaries import BOUNDARY_LEVELS
from gis.boundaries.exports import export_layer
from gis.boundaries.imports import import_file
from gis.db import make_engine, session_scope


def features(response: httpx.Response) -> list[dict[str, object]]:
    assert response.status_code == 200, response.text
    found: list[dict[str, object]] = response.json()["features"]
    return found


def test_chengzhong_and_the_classes(demo_http: httpx.Client) -> None:
    streets = features(demo_http.get("/api/v1/streets", params={"parent": "630103"}))
    assert len(streets) == 8
    communities = features(demo_http.get("/api/v1/communities", params={"parent": "630103"}))
    assert len(communities) == 29
    street_codes = {s["properties"]["code"] for s in streets}  # type: ignore[index]
    assert {c["properties"]["parent_code"] for c in communities} <= street_codes  # type: ignore[index]
    (district,) = [
        d
        for d in features(demo_http.get("/api/v1/districts"))
        if d["properties"]["code"] == "630103"  # type: ignore[index]
    ]
    households = sum(c["properties"]["households"] for c in communities)  # type: ignore[index]
    assert district["properties"]["households"] == households  # type: ignore[index]
    assert 90_000 < households < 106_000
    by_class = {
        k: len(features(demo_http.get("/api/v1/communities", params={"class": k}))) for k in "ABCD"
    }
    assert by_class == {"A": 70, "B": 66, "C": 22, "D": 20}
    grids = features(demo_http.get("/api/v1/grids"))
    kinds = Counter(g["properties"]["kind"] for g in grids)  # type: ignore[index]
    assert kinds == {"comprehensive": 2673, "dedicated": 503}
    one = grids[0]["properties"]["code"]  # type: ignore[index]
    grid = demo_http.get(f"/api/v1/grids/{one}").json()
    assert grid["properties"]["district_name"] and grid["properties"]["community_name"]


def test_demo_passes_validation_and_round_trips(
    demo_engine: Engine,
    fresh_database: Callable[..., str],
    empty_template: str,
    tmp_path: Path,
) -> None:
    """Every demo level exports, validates clean and imports into an empty database unchanged."""
    paths = {}
    with session_scope(demo_engine) as session:
        for level in BOUNDARY_LEVELS:
            paths[level] = tmp_path / f"{level}.gpkg"
            export_layer(session, level, paths[level])
    target = make_engine(fresh_database(empty_template), pool_size=1)
    try:
        started = time.perf_counter()
        for level in BOUNDARY_LEVELS:
            with session_scope(target) as session:
                result = import_file(session, level, paths[level])
            assert result.written and result.report.ok, result.report.errors[:5]
        elapsed = time.perf_counter() - started
        with session_scope(target) as session:
            export_layer(session, "grid", tmp_path / "again.gpkg")
    finally:
        target.dispose()
    _, _, geom1, data1 = pyogrio.raw.read(paths["grid"])
    _, _, geom2, data2 = pyogrio.raw.read(tmp_path / "again.gpkg")
    assert len(geom1) == 3176 and list(geom1) == list(geom2)
    assert all(list(a) == list(b) for a, b in zip(data1, data2, strict=True))
    print(f"imported the four demo levels in {elapsed:.1f} s")
