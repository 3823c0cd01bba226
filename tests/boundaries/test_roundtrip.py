"""Export → import into an empty database → export gives identical features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from sqlalchemy import Engine

from gis.boundaries.exports import export_layer
from gis.boundaries.imports import import_file
from gis.boundaries.store import features
from gis.db import session_scope
from tests.boundaries import layers


def export_all(engine: Engine, folder: Path, ext: str) -> dict[str, Path]:
    folder.mkdir()
    paths = {}
    with session_scope(engine) as session:
        for level in layers.ORDER:
            paths[level] = folder / f"{level}.{ext}"
            assert export_layer(session, level, paths[level]) > 0
    return paths


@pytest.mark.parametrize("ext", ["geojson", "gpkg", "shp"])
def test_round_trip_is_identical(
    ext: str, city_engine: Engine, second_engine: Engine, tmp_path: Path
) -> None:
    first = export_all(city_engine, tmp_path / "first", ext)
    for level in layers.ORDER:
        with session_scope(second_engine) as session:
            result = import_file(session, level, first[level])
        assert result.written and result.report.ok, result.report.as_dict()
        assert len(result.created) == len(layers.city()[level])
    second = export_all(second_engine, tmp_path / "second", ext)
    for level in layers.ORDER:
        meta1, _, geom1, data1 = pyogrio.raw.read(first[level])
        meta2, _, geom2, data2 = pyogrio.raw.read(second[level])
        assert list(meta1["fields"]) == list(meta2["fields"])
        assert list(geom1) == list(geom2)  # WKB, byte for byte
        for a, b in zip(data1, data2, strict=True):
            assert list(a) == list(b)
    # And the stored rows are the same, coordinates to the last bit.
    with session_scope(city_engine) as one, session_scope(second_engine) as two:
        for level in layers.ORDER:
            g1, c1 = features(one, level)
            g2, c2 = features(two, level)
            assert shapely.equals_exact(g1, g2, tolerance=0).all()
            assert {k: list(v) for k, v in c1.items()} == {k: list(v) for k, v in c2.items()}
    # Re-importing an export into its own database changes nothing.
    with session_scope(city_engine) as session:
        result = import_file(session, "grid", first["grid"])
    assert not result.written and len(result.unchanged) == 8


def test_export_at_a_past_time(city_engine: Engine, tmp_path: Path) -> None:
    from sqlalchemy import text

    with city_engine.connect() as conn:
        before = conn.execute(text("SELECT now()")).scalar_one()
    grids = layers.city()["grid"]
    grids[0]["households"] = 1
    with session_scope(city_engine) as session:
        assert import_file(session, "grid", layers.write(tmp_path / "g.geojson", grids)).written
    with session_scope(city_engine) as session:
        export_layer(session, "grid", tmp_path / "then.gpkg", at=before)
        export_layer(session, "grid", tmp_path / "now.gpkg")
    _, _, _, then = pyogrio.raw.read(tmp_path / "then.gpkg", columns=["households"])
    _, _, _, now = pyogrio.raw.read(tmp_path / "now.gpkg", columns=["households"])
    assert then[0][0] == 400 and now[0][0] == 1
    assert np.array_equal(then[0][1:], now[0][1:])
