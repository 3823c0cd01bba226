"""Coordinates: every input is normalised to CGCS2000 lon/lat (SRID 4490) on intake.

- WGS 84 is taken as equal to CGCS2000 (the difference is sub-metre).
- GCJ-02 (Amap, Tencent, WeChat ``wx.getLocation``) and BD-09 (Baidu) are the
  obfuscated Chinese datums; the forward formulas are those of PyPI ``prcoords``
  (the reference the tests compare with), written over numpy arrays because
  bulk intake converts millions of points, and inverted by fixed-point
  iteration to well under a metre.
- Projected inputs (any EPSG code, e.g. 4543) go through pyproj.
- Metric work (buffers, areas) uses EPSG:4543, the CGCS2000 3-degree
  Gauss-Kruger zone of Xining; distances are geodesic. Never degrees, never
  Web Mercator (a "2 km" circle in EPSG:3857 is 1.6 km at Xining).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Geod, Transformer
from pyproj.exceptions import CRSError

from gis.errors import InvalidInput

CRS_NAMES = ("wgs84", "cgcs2000", "gcj02", "bd09")
STORAGE_CRS = "EPSG:4490"
LOCAL_CRS = "EPSG:4543"
GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid; differs from WGS 84's by 0.1 mm.

_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON, _BD_DLAT = 0.0065, 0.006
_ITERATIONS = 6  # each step shrinks the error ~1000×; 6 leaves nanodegrees

Floats = NDArray[np.float64]
G = TypeVar("G")


def normalize_crs(name: str) -> str:
    """One of :data:`CRS_NAMES` or ``EPSG:NNNN``; anything else is an error naming ``crs``."""
    value = str(name).strip().lower()
    aliases = {
        "wgs-84": "wgs84",
        "epsg:4326": "wgs84",
        "4326": "wgs84",
        "epsg:4490": "cgcs2000",
        "4490": "cgcs2000",
        "gcj-02": "gcj02",
        "bd-09": "bd09",
    }
    value = aliases.get(value, value)
    if value in CRS_NAMES:
        return value
    match = re.fullmatch(r"(?:epsg:)?(\d{4,6})", value)
    if match:
        code = f"EPSG:{match.group(1)}"
        try:
            CRS(code)
        except CRSError as exc:
            raise InvalidInput(f"unknown EPSG code {code}", field="crs") from exc
        return code
    raise InvalidInput(
        f"unknown crs {name!r}; use one of {', '.join(CRS_NAMES)} or EPSG:<code>", field="crs"
    )


def _arrays(x: ArrayLike, y: ArrayLike) -> tuple[Floats, Floats]:
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _gcj_offset(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    x, y = lon - 105.0, lat - 35.0
    sx, pi = np.sqrt(np.abs(x)), np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - _GCJ_EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(radlat) * pi)
    return dlon, dlat


def wgs_to_gcj(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    lon_a, lat_a = _arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon_a, lat_a)
    return lon_a + dlon, lat_a + dlat


def gcj_to_bd(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    x, y = _arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def _invert(forward: Any, lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """Solve forward(p) = (lon, lat) for p; the offsets vary slowly, so iteration converges."""
    x, y = lon.copy(), lat.copy()
    for _ in range(_ITERATIONS):
        fx, fy = forward(x, y)
        x, y = x - (fx - lon), y - (fy - lat)
    return x, y


def gcj_to_wgs(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    return _invert(wgs_to_gcj, *_arrays(lon, lat))


def bd_to_gcj(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    return _invert(gcj_to_bd, *_arrays(lon, lat))


@lru_cache(maxsize=32)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def to_storage(x: ArrayLike, y: ArrayLike, crs: str) -> tuple[Floats, Floats]:
    """Vectorised conversion from ``crs`` to CGCS2000 lon/lat."""
    crs = normalize_crs(crs)
    xa, ya = _arrays(x, y)
    if crs in ("wgs84", "cgcs2000"):
        return xa, ya
    if crs == "gcj02":
        return gcj_to_wgs(xa, ya)
    if crs == "bd09":
        return gcj_to_wgs(*bd_to_gcj(xa, ya))
    lon, lat = _transformer(crs, STORAGE_CRS).transform(xa, ya)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def from_storage(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[Floats, Floats]:
    """Vectorised conversion from CGCS2000 lon/lat to ``crs`` (e.g. to draw on GCJ-02 tiles)."""
    crs = normalize_crs(crs)
    xa, ya = _arrays(lon, lat)
    if crs in ("wgs84", "cgcs2000"):
        return xa, ya
    if crs == "gcj02":
        return wgs_to_gcj(xa, ya)
    if crs == "bd09":
        return gcj_to_bd(*wgs_to_gcj(xa, ya))
    x, y = _transformer(STORAGE_CRS, crs).transform(xa, ya)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _transform_geometry(geoms: G, convert: Any) -> G:
    def fn(coords: Floats) -> Floats:
        x, y = convert(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, fn)  # type: ignore[arg-type, no-any-return]


def geometry_to_storage(geoms: G, crs: str) -> G:
    """Shapely geometry or array of geometries from ``crs`` to CGCS2000."""
    crs = normalize_crs(crs)
    return _transform_geometry(geoms, lambda x, y: to_storage(x, y, crs))


def geometry_from_storage(geoms: G, crs: str) -> G:
    crs = normalize_crs(crs)
    return _transform_geometry(geoms, lambda x, y: from_storage(x, y, crs))


def to_local(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """CGCS2000 lon/lat → EPSG:4543 metres (x east, y north)."""
    x, y = _transformer(STORAGE_CRS, LOCAL_CRS).transform(*_arrays(lon, lat))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def from_local(x: ArrayLike, y: ArrayLike) -> tuple[Floats, Floats]:
    lon, lat = _transformer(LOCAL_CRS, STORAGE_CRS).transform(*_arrays(x, y))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def geometry_to_local(geoms: G) -> G:
    return _transform_geometry(geoms, to_local)


def geometry_from_local(geoms: G) -> G:
    return _transform_geometry(geoms, from_local)


def ground_distance_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> Floats:
    """Geodesic distance in metres on the CGCS2000 ellipsoid, vectorised."""
    a1, b1 = _arrays(lon1, lat1)
    a2, b2 = _arrays(lon2, lat2)
    a1, b1, a2, b2 = np.broadcast_arrays(a1, b1, a2, b2)
    _, _, dist = GEOD.inv(a1, b1, a2, b2)
    return np.asarray(dist, dtype=np.float64)


def check_lonlat(lon: float, lat: float, field_prefix: str = "") -> None:
    """Reject NaN, infinities and values outside the lon/lat ranges, naming the field."""
    for name, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        field = f"{field_prefix}{name}"
        if not np.isfinite(value):
            raise InvalidInput(f"{field} must be a finite number, got {value}", field=field)
        if not -limit <= value <= limit:
            raise InvalidInput(f"{field} must be within ±{limit:g}, got {value}", field=field)
