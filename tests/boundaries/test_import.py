"""Import: validation before any write, one boundary version per import, versioned changes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import shapely
from shapely import box
from sqlalchemy import Engine, func, select, text

from gis.boundaries.imports import import_file
from gis.boundaries.io import read_layer
from gis.coords import geometry_from_storage, ground_distance_m
from gis.db import session_scope
from gis.models import BoundaryVersion, Community, Grid
from gis.settings import PROJECT_ROOT
from tests.boundaries import layers
from tests.boundaries.layers import H, W, X, Y


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("districts", "streets", "communities", "grids", "boundary_versions")
        }


def wangge(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WANGGE_DATABASE_URL": url, "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def broken_grids() -> list[dict[str, object]]:
    """The 8 grids with one defect of each kind."""
    grids = layers.city()["grid"]
    x0, x1 = X + W / 8, X + 2 * W / 8
    # 2nd grid: a bow tie (self-intersection) instead of its strip.
    grids[1]["geometry"] = shapely.Polygon([(x0, Y), (x1, Y + H), (x1, Y), (x0, Y + H), (x0, Y)])
    # 3rd grid reaches into the 4th (overlap, inside the same community).
    g3 = grids[2]["geometry"].bounds
    grids[2]["geometry"] = box(g3[0], g3[1], g3[2] + W / 40, g3[3])
    # 6th grid shrinks: a gap in its community.
    g6 = grids[5]["geometry"].bounds
    grids[5]["geometry"] = box(g6[0], g6[1], g6[2], g6[3] - H / 4)
    # 8th grid takes the 7th's code (duplicate); a malformed and an orphan grid join.
    grids[7]["code"] = grids[6]["code"]
    grids.append(
        {**grids[0], "code": "63010300100X", "geometry": box(X, Y - H, X + 0.001, Y - H / 2)}
    )
    grids.append(
        {
            **grids[0],
            "code": "630103009001001",
            "community_code": "630103009001",
            "geometry": box(X - 0.01, Y, X - 0.005, Y + 0.005),
        }
    )
    return grids


def test_broken_file_reports_every_defect_and_writes_nothing(
    city_engine: Engine, empty_url: str, tmp_path: Path
) -> None:
    path = layers.write(tmp_path / "broken.geojson", broken_grids())
    before = counts(city_engine)
    with session_scope(city_engine) as session:
        result = import_file(session, "grid", path)
    report = result.report
    assert not result.written
    assert counts(city_engine) == before
    by_kind = {d.kind: d for d in report.errors}
    expected = {
        "invalid_geometry",
        "overlap",
        "gap",
        "duplicate_code",
        "malformed_code",
        "missing_parent",
    }
    assert expected <= set(by_kind)
    bowtie = by_kind["invalid_geometry"]
    assert bowtie.codes == ("630103001001002",)
    assert bowtie.lon is not None and bowtie.lat is not None
    assert abs(bowtie.lon - (X + 1.5 * W / 8)) < 1e-9 and abs(bowtie.lat - (Y + H / 2)) < 1e-9
    overlaps = {frozenset(d.codes): d for d in report.errors if d.kind == "overlap"}
    overlap = overlaps[frozenset({"630103001002001", "630103001002002"})]
    # The duplicate's twin now lies on the stored grid the file no longer names.
    assert frozenset({"630103002002001", "630103002002002"}) in overlaps
    assert overlap.area_m2 is not None and 180_000 < overlap.area_m2 < 220_000  # 89 m × 2.2 km
    assert overlap.lon is not None and X + 3 * W / 8 < overlap.lon < X + 3 * W / 8 + W / 40
    gaps = [d for d in report.errors if d.kind == "gap"]
    assert {g.codes for g in gaps} >= {("630103002001",), ("630103001001",)}
    six = next(g for g in gaps if g.codes == ("630103002001",))
    assert six.area_m2 is not None and 230_000 < six.area_m2 < 270_000  # 447 m × 555 m
    assert six.lat is not None and six.lat > Y + 3 * H / 4
    assert by_kind["duplicate_code"].rows == (7, 8)
    assert by_kind["missing_parent"].codes == ("630103009001001", "630103009001")
    assert all(d.lon is not None for d in report.errors if d.kind != "malformed_code")

    # The same through the CLI: exit 1, every kind in the report, nothing written.
    done = wangge(layers_url(city_engine), "import", "grid", str(path))
    assert done.returncode == 1, done.stdout + done.stderr
    for kind in expected:
        assert kind in done.stderr
    assert "nothing written" in done.stderr
    assert counts(city_engine) == before


def layers_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_good_file_creates_one_version(empty_engine: Engine, tmp_path: Path) -> None:
    city = layers.city()
    for level in ("district", "street", "community"):
        path = layers.write(tmp_path / f"{level}.geojson", city[level])
        with session_scope(empty_engine) as session:
            assert import_file(session, level, path).written
    before = counts(empty_engine)
    path = layers.write(tmp_path / "grids.geojson", city["grid"])
    done = wangge(layers_url(empty_engine), "import", "grid", str(path), "--dry-run")
    assert done.returncode == 0 and "would write 8 new" in done.stdout, done.stdout + done.stderr
    assert counts(empty_engine) == before
    done = wangge(layers_url(empty_engine), "import", "grid", str(path), "--author", "planner")
    assert done.returncode == 0, done.stderr
    after = counts(empty_engine)
    assert after["grids"] == 8 and after["boundary_versions"] == before["boundary_versions"] + 1
    with session_scope(empty_engine) as session:
        version = session.scalars(
            select(BoundaryVersion).order_by(BoundaryVersion.id.desc())
        ).first()
        assert version is not None
        assert (version.operation, version.author, version.district_code) == (
            "import",
            "planner",
            "630103",
        )
        stamped = session.scalars(
            select(func.count()).select_from(Grid).where(Grid.version_id == version.id)
        ).one()
        assert stamped == 8
        kinds = {r[0]: r[1] for r in session.execute(select(Grid.code, Grid.kind))}
        assert kinds["630103002002002"] == "dedicated"
    # Importing the same file again changes nothing and adds no version.
    with session_scope(empty_engine) as session:
        again = import_file(session, "grid", path)
    assert not again.written and len(again.unchanged) == 8
    assert counts(empty_engine) == after


def test_changed_unit_closes_old_row_and_opens_new(city_engine: Engine, tmp_path: Path) -> None:
    communities = layers.city()["community"]
    communities[0]["households"] = 999
    communities[0]["name"] = "新社区"
    path = layers.write(tmp_path / "communities.geojson", communities)
    with session_scope(city_engine) as session:
        result = import_file(session, "community", path, author="planner", reason="rename")
    assert result.written and result.changed == ["630103001001"] and len(result.unchanged) == 3
    with session_scope(city_engine) as session:
        rows = session.scalars(
            select(Community).where(Community.code == "630103001001").order_by(Community.valid_from)
        ).all()
        assert len(rows) == 2
        old, new = rows
        assert old.valid_to == new.valid_from and new.valid_to is None
        assert old.retired_version_id == new.version_id == result.version_id
        assert (old.households, new.households, new.name) == (800, 999, "新社区")
        version = session.get(BoundaryVersion, result.version_id)
        assert version is not None and version.detail["changed"] == ["630103001001"]


def test_checks_against_stored_parents_and_siblings(city_engine: Engine, tmp_path: Path) -> None:
    """A lone new grid overlapping stored grids and leaving its community is refused."""
    grids = [
        {
            **layers.city()["grid"][0],
            "code": "630103001001009",
            "geometry": box(X + W / 16, Y - 0.002, X + W / 8 + W / 16, Y + H / 2),
        }
    ]
    path = layers.write(tmp_path / "one.geojson", grids)
    with session_scope(city_engine) as session:
        report = import_file(session, "grid", path).report
    kinds = {d.kind for d in report.errors}
    assert {"overlap", "outside_parent"} <= kinds
    stored = [d for d in report.errors if d.kind == "overlap"]
    assert {d.codes[1] for d in stored} == {"630103001001001", "630103001001002"}
    assert all("already stored" in d.message for d in stored)
    # Shrinking a street leaves its stored communities outside it.
    streets = layers.city()["street"]
    streets[0]["geometry"] = box(X, Y, X + W / 2, Y + H * 0.9)
    path = layers.write(tmp_path / "streets.geojson", streets)
    with session_scope(city_engine) as session:
        report = import_file(session, "street", path).report
    assert any(d.kind == "outside_parent" and d.message.startswith("stored") for d in report.errors)


def test_gcj02_file_lands_within_a_metre_of_its_wgs84_twin(
    city_engine: Engine, tmp_path: Path
) -> None:
    grids = layers.city()["grid"]
    wgs = layers.write(tmp_path / "wgs.geojson", grids)
    twin = [{**g, "geometry": geometry_from_storage(g["geometry"], "gcj02")} for g in grids]
    gcj = layers.write(tmp_path / "gcj.geojson", twin)
    plain = read_layer(wgs)
    converted = read_layer(gcj, crs="gcj02")
    a = shapely.get_coordinates(plain.geoms)
    b = shapely.get_coordinates(converted.geoms)
    raw = shapely.get_coordinates(read_layer(gcj).geoms)
    assert ground_distance_m(raw[:, 0], raw[:, 1], a[:, 0], a[:, 1]).min() > 100  # GCJ-02 shift
    assert ground_distance_m(a[:, 0], a[:, 1], b[:, 0], b[:, 1]).max() < 1.0
    # Imported with --crs gcj02 the grids still tile their stored communities.
    with session_scope(city_engine) as session:
        result = import_file(session, "grid", gcj, crs="gcj02", dry_run=True)
    assert result.report.ok and len(result.created) == 0


def test_projected_shapefile_is_transformed(city_engine: Engine, tmp_path: Path) -> None:
    from gis.coords import geometry_to_local

    grids = layers.city()["grid"]
    local = [
        {"code": g["code"], "name": g["name"], "geometry": geometry_to_local(g["geometry"])}
        for g in grids
    ]
    path = layers.write(tmp_path / "grids.shp", local, crs="EPSG:4543")
    layer = read_layer(path)
    assert layer.crs == "EPSG:4543"
    expected = np.asarray([g["geometry"] for g in grids], dtype=object)
    # Shapefiles store rings clockwise: compare normalised outlines.
    same = shapely.equals_exact(shapely.normalize(layer.geoms), shapely.normalize(expected), 1e-8)
    assert same.all()
