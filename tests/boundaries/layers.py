"""A small test city near Xining built from boxes: 1 district, 2 streets, 4 communities, 8 grids.

Every level tiles its parent exactly (the boxes share their corner coordinates), so the
layers import cleanly; tests break them on purpose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import shapely
from shapely import box

X, Y = 101.78, 36.62
W, H = 0.04, 0.02  # the district: about 3.6 km × 2.2 km
DISTRICT = "630103"


def xs(n: int) -> list[float]:
    return [X + W * k / n for k in range(n + 1)]


def cell(i: int, n: int) -> shapely.Polygon:
    """The i-th of n vertical strips of the district."""
    edges = xs(n)
    return box(edges[i], Y, edges[i + 1], Y + H)


def city() -> dict[str, list[dict[str, Any]]]:
    """Features per level: dicts with ``geometry`` and the attribute columns."""
    streets = [
        {
            "code": f"{DISTRICT}00{s + 1}",
            "name": f"街道{s + 1}",
            "kind": "street",
            "geometry": cell(s, 2),
        }
        for s in range(2)
    ]
    communities = []
    for c in range(4):
        street = f"{DISTRICT}00{c // 2 + 1}"
        communities.append(
            {
                "code": f"{street}00{c % 2 + 1}",
                "name": f"社区{c + 1}",
                "street_code": street,
                "households": 800 + c,
                "residents": 2400 + c,
                "class": "ABCD"[c],
                "area_type": "core",
                "geometry": cell(c, 4),
            }
        )
    grids = []
    for g in range(8):
        community = communities[g // 2]["code"]
        grids.append(
            {
                "code": f"{community}00{g % 2 + 1}",
                "name": f"网格{g + 1}",
                "community_code": community,
                "kind": "dedicated" if g == 7 else "comprehensive",
                "households": 400,
                "residents": 1200,
                "geometry": cell(g, 8),
            }
        )
    community = communities[0]["code"]
    compounds = [
        {
            "code": f"XQ{k}",
            "name": f"小区{k}",
            "community_code": community,
            "housing_type": ("old", "commercial")[k],
            "property_managed": bool(k),
            "households": 300 + k,
            "residents": 900 + k,
            "geometry": box(X + 0.001 + 0.003 * k, Y + 0.001, X + 0.003 + 0.003 * k, Y + 0.004),
        }
        for k in range(2)
    ]
    buildings = [
        {
            "code": f"LD{k}",
            "community_code": community,
            "compound_code": "XQ0" if k < 2 else None,
            "households": 40 + k,
            "residents": 120 + k,
            "elderly_residents": 10 + k,
            "geometry": shapely.Point(X + 0.0015 + 0.0001 * k, Y + 0.002),
        }
        for k in range(3)
    ]
    facilities = [
        {
            "code": f"ZF{k}",
            "type": "enforcement_station" if k < 2 else "elderly_canteen",
            "name": f"综合执法服务站{k}",
            "staff": 20 if k < 2 else 0,
            "seats": 0 if k < 2 else 60,
            "geometry": shapely.Point(X + 0.01 * (k + 1), Y + 0.01),
        }
        for k in range(3)
    ]
    return {
        "compound": compounds,
        "building": buildings,
        "facility": facilities,
        "district": [{"code": DISTRICT, "name": "城中区", "geometry": box(X, Y, X + W, Y + H)}],
        "street": streets,
        "community": communities,
        "grid": grids,
    }


ORDER = ("district", "street", "community", "grid", "compound", "building", "facility")


def write(path: Path, features: list[dict[str, Any]], crs: str = "EPSG:4326") -> Path:
    """Write features (dicts with ``geometry``) to GeoJSON/GPKG/Shapefile by extension."""
    names = [k for k in features[0] if k != "geometry"]
    data = [np.asarray([f.get(k) for f in features], dtype=object) for k in names]
    for k, column in enumerate(data):
        if all(isinstance(v, int) for v in column):
            data[k] = column.astype(np.int64)
    driver = {".geojson": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}[path.suffix]
    geoms = [f["geometry"] for f in features]
    types = {g.geom_type for g in geoms if g is not None}
    pyogrio.raw.write(
        path,
        shapely.to_wkb(np.asarray(geoms, dtype=object)),
        data,
        fields=names,
        driver=driver,
        crs=crs,
        geometry_type="Unknown" if len(types) != 1 else types.pop(),
    )
    return path
