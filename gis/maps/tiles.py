"""Vector tiles (矢量瓦片): one Mapbox Vector Tile per layer, zoom and tile, built by PostGIS.

Geometry is stored in CGCS2000 lon/lat (SRID 4490); tiles are Web Mercator. Polygons are
simplified to about one tile unit before encoding, incidents are aggregated into counted
cells below ``INCIDENT_POINTS_FROM_ZOOM`` and capped above it. Tiles never carry personal
data: reporter name, phone and free-text description are not selected at all.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import psycopg
from psycopg_pool import ConnectionPool
from sqlalchemy import Connection, text

from gis.coords import from_storage
from gis.db import libpq_url
from gis.errors import InvalidInput, NotFound
from gis.maps.page_cache import CONTENT_EPOCH_SQL, ByteCache, epoch_label
from gis.validity import boundary_valid, facility_in_service

EXTENT = 4096
BUFFER = 64
MARGIN = BUFFER / EXTENT
MAX_ZOOM = 22
# Below this zoom incidents are counted per cell instead of sent one by one.
INCIDENT_POINTS_FROM_ZOOM = 13
INCIDENT_CELL_PX = 64
INCIDENT_CAP = 5000
# From this zoom on, tiles are encoded from lon/lat without re-projecting (see _envelope):
# the error is under half a tile unit there, and grows fourfold each zoom below.
LONLAT_FROM_ZOOM = 10
# Layers whose tiles are kept in memory per content epoch, and how many bytes of them.
CACHED_LAYERS = frozenset(
    {"districts", "streets", "communities", "grids", "compounds", "facilities"}
)
TILE_CACHE_BYTES = 64 * 1024 * 1024
# Web Mercator world width in metres.
WORLD_M = 40075016.685578488


@dataclass(frozen=True)
class TileLayer:
    name: str
    table: str
    columns: str
    versioned: bool
    polygons: bool


BOUNDARY_COLUMNS = {
    "districts": "t.code, t.name",
    "streets": "t.code, t.name, t.district_code",
    "communities": (
        "t.code, t.name, t.street_code, t.class AS community_class, t.households, t.residents"
    ),
    "grids": "t.code, t.name, t.community_code, t.kind, t.households, t.residents",
}

LAYERS: dict[str, TileLayer] = {
    **{
        name: TileLayer(name, name, cols, versioned=True, polygons=True)
        for name, cols in BOUNDARY_COLUMNS.items()
    },
    # Residential compounds (小区): the built-up blocks of the city's own basemap.
    "compounds": TileLayer(
        "compounds", "compounds", "t.code, t.name", versioned=False, polygons=True
    ),
    "facilities": TileLayer(
        "facilities",
        "facilities",
        "t.code, t.name, t.type, t.district_code, t.service_radius_m, t.staff, t.seats, t.hours",
        versioned=False,
        polygons=False,
    ),
    "incidents": TileLayer(
        "incidents",
        "incidents",
        # No reporter_name, reporter_phone or description: tiles are public.
        "t.category_code, t.status, t.channel, t.match, t.grid_code, t.community_code,"
        " to_char(t.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        " AS received_at",
        versioned=False,
        polygons=False,
    ),
}


def _envelope(lonlat: bool) -> str:
    """The tile as ST_AsMVTGeom's bounds: Web Mercator, or its lon/lat rectangle.

    From zoom LONLAT_FROM_ZOOM on, features are encoded straight from lon/lat against the
    tile's lon/lat rectangle: x is exact (Mercator x is linear in longitude) and y is off by
    under half a tile unit in 4096 (Mercator's curvature across one tile), while no feature
    has to be re-projected.
    """
    env = "ST_Translate(ST_TileEnvelope(:z, :x, :y), :mdx, :mdy)"
    return f"ST_Transform({env}, 4490)" if lonlat else env


def _project(expr: str, lonlat: bool) -> str:
    return expr if lonlat else f"ST_Transform({expr}, 3857)"


def _bounds(lonlat: bool) -> str:
    """The tile envelope to encode against, and the (margined) query box in SRID 4490."""
    return f"""
  SELECT {_envelope(lonlat)} AS env,
         ST_Transform(ST_Translate(ST_TileEnvelope(:z, :x, :y, margin => {MARGIN}),
                                   :mdx, :mdy), 4490) AS qenv
"""


def _boundary_sql(layer: TileLayer, at: bool, lonlat: bool) -> str:
    # Compounds carry no validity interval: the same at every time.
    when = boundary_valid("t", at) if layer.versioned else "true"
    return f"""
WITH b AS ({_bounds(lonlat)}), f AS (
  SELECT t.id, {layer.columns},
         ST_AsMVTGeom({_project("ST_Simplify(t.geom, :tol, true)", lonlat)}, b.env,
                      {EXTENT}, {BUFFER}, true) AS geom
  FROM {layer.table} t, b
  WHERE t.geom && b.qenv AND {when}
)
SELECT ST_AsMVT(f, '{layer.name}', {EXTENT}, 'geom', 'id') FROM f WHERE geom IS NOT NULL
"""


def _facility_sql(layer: TileLayer, at: bool, lonlat: bool) -> str:
    when = facility_in_service("t", at)
    return f"""
WITH b AS ({_bounds(lonlat)}), f AS (
  SELECT t.id, {layer.columns},
         ST_AsMVTGeom({_project("t.geom", lonlat)}, b.env, {EXTENT}, {BUFFER}, true) AS geom
  FROM {layer.table} t, b
  WHERE t.geom && b.qenv AND {when}
)
SELECT ST_AsMVT(f, '{layer.name}', {EXTENT}, 'geom', 'id') FROM f WHERE geom IS NOT NULL
"""


def _incident_when(at: bool) -> str:
    return "t.received_at <= :at" if at else "true"


def _incident_points_sql(layer: TileLayer, at: bool, lonlat: bool) -> str:
    return f"""
WITH b AS ({_bounds(lonlat)}), f AS (
  SELECT t.id, {layer.columns},
         ST_AsMVTGeom({_project("t.geom", lonlat)}, b.env, {EXTENT}, {BUFFER}, true) AS geom
  FROM incidents t, b
  WHERE t.geom && b.qenv AND {_incident_when(at)}
  ORDER BY t.received_at DESC
  LIMIT {INCIDENT_CAP}
)
SELECT ST_AsMVT(f, 'incidents', {EXTENT}, 'geom', 'id') FROM f WHERE geom IS NOT NULL
"""


def _incident_cells_sql(at: bool) -> str:
    # One feature per occupied cell of INCIDENT_CELL_PX tile units, at the cell's mean point.
    return f"""
WITH b AS (
  SELECT ST_Translate(ST_TileEnvelope(:z, :x, :y), :mdx, :mdy) AS env,
         ST_Transform(ST_Translate(ST_TileEnvelope(:z, :x, :y), :mdx, :mdy), 4490) AS qenv
), p AS (
  SELECT ST_Transform(t.geom, 3857) AS g, t.status FROM incidents t, b
  WHERE t.geom && b.qenv AND {_incident_when(at)}
), c AS (
  SELECT ST_SnapToGrid(g, :cell) AS k, count(*) AS n,
         count(*) FILTER (WHERE status <> 'closed') AS open_n,
         ST_Centroid(ST_Collect(g)) AS centre
  FROM p GROUP BY 1
), f AS (
  SELECT row_number() OVER (ORDER BY n DESC) AS id, n::int AS count, open_n::int AS open_count,
         true AS cluster, ST_AsMVTGeom(centre, b.env, {EXTENT}, {BUFFER}, true) AS geom
  FROM c, b
)
SELECT ST_AsMVT(f, 'incidents', {EXTENT}, 'geom', 'id') FROM f WHERE geom IS NOT NULL
"""


def _sql_for(layer: TileLayer, z: int, at: bool) -> str:
    lonlat = z >= LONLAT_FROM_ZOOM
    if layer.polygons:
        return _boundary_sql(layer, at, lonlat)
    if layer.name == "facilities":
        return _facility_sql(layer, at, lonlat)
    if z < INCIDENT_POINTS_FROM_ZOOM:
        return _incident_cells_sql(at)
    return _incident_points_sql(layer, at, lonlat)


# Every statement a tile can need, built once: nothing from the request enters SQL text.
# Keyed by (layer, at given, zoom class); the zoom classes are the zooms that switch SQL.
ZOOM_CLASSES = sorted({0, LONLAT_FROM_ZOOM, INCIDENT_POINTS_FROM_ZOOM})
_STATEMENTS = {
    (name, at, zc): text(_sql_for(layer, zc, at))
    for name, layer in LAYERS.items()
    for at in (False, True)
    for zc in ZOOM_CLASSES
}


def _zoom_class(z: int) -> int:
    return max(zc for zc in ZOOM_CLASSES if zc <= z)


def check_tile(layer: str, z: int, x: int, y: int) -> TileLayer:
    if layer not in LAYERS:
        raise NotFound(f"unknown tile layer {layer!r}; one of {', '.join(LAYERS)}", field="layer")
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInput(f"zoom must be 0..{MAX_ZOOM}", field="z")
    n = 1 << z
    if not 0 <= x < n:
        raise InvalidInput(f"x must be 0..{n - 1} at zoom {z}", field="x")
    if not 0 <= y < n:
        raise InvalidInput(f"y must be 0..{n - 1} at zoom {z}", field="y")
    return LAYERS[layer]


def gcj02_offset_m(z: int, x: int, y: int) -> tuple[float, float]:
    """Web Mercator offset of GCJ-02 from CGCS2000 at the tile's centre.

    The offset drifts by well under a metre across a city tile, so moving the tile's
    window by the opposite amount shifts every feature onto Amap/Tencent basemaps.
    """
    n = 1 << z
    mx = (x + 0.5) / n * WORLD_M - WORLD_M / 2
    my = WORLD_M / 2 - (y + 0.5) / n * WORLD_M
    lon = np.array([mx / WORLD_M * 360.0])
    lat = np.degrees(2 * np.arctan(np.exp(np.array([my]) / (WORLD_M / 2) * np.pi)) - np.pi / 2)
    glon, glat = from_storage(lon, lat, "gcj02")
    gmx = glon[0] / 360.0 * WORLD_M
    gmy = np.log(np.tan(np.pi / 4 + np.radians(glat[0]) / 2)) * WORLD_M / (2 * np.pi)
    return float(mx - gmx), float(my - gmy)


def tile_statement(
    layer: str, z: int, x: int, y: int, at: datetime | None, shift: str | None
) -> tuple[tuple[str, bool, int], dict[str, object]]:
    """Which prepared statement a tile needs, and its parameters (all checked here)."""
    spec = check_tile(layer, z, x, y)
    if shift not in (None, "", "gcj02"):
        raise InvalidInput("shift must be gcj02 or empty", field="shift")
    mdx, mdy = gcj02_offset_m(z, x, y) if shift else (0.0, 0.0)
    # Simplify to about one tile unit, in degrees of longitude (storage is lon/lat).
    tol = 360.0 / (EXTENT * (1 << z)) if z < 18 else 0.0
    cell = WORLD_M / (1 << z) / EXTENT * INCIDENT_CELL_PX
    params: dict[str, object] = {
        "z": z,
        "x": x,
        "y": y,
        "tol": tol,
        "cell": cell,
        "mdx": mdx,
        "mdy": mdy,
        "at": at,
    }
    return (spec.name, at is not None, _zoom_class(z)), params


def render_tile(
    conn: Connection,
    layer: str,
    z: int,
    x: int,
    y: int,
    at: datetime | None = None,
    shift: str | None = None,
) -> bytes:
    """The MVT bytes of one tile (empty bytes when the tile holds nothing).

    ``shift="gcj02"`` draws the features where GCJ-02 basemaps (Amap, Tencent) show them.
    """
    key, params = tile_statement(layer, z, x, y, at, shift)
    data = conn.execute(_STATEMENTS[key], params).scalar()
    return bytes(data) if data else b""


# The same statements with psycopg placeholders, for the tile server's own pool.
_PARAMS = ("z", "x", "y", "tol", "cell", "mdx", "mdy", "at")
_RAW = {
    key: re.sub(r":(" + "|".join(_PARAMS) + r")\b", r"%(\1)s", str(stmt))
    for key, stmt in _STATEMENTS.items()
}


class TileServer:
    """Tiles from a small pool of autocommit connections of its own.

    One round trip per tile: no transaction to open and roll back, no liveness ping
    before each use, statements prepared by the server. A tile that meets a connection the
    server closed (a restart, a failover) has the pool's idle connections checked, the
    broken ones replaced, and is drawn again.
    """

    def __init__(self, url: str, max_size: int = 4) -> None:
        self.pool = ConnectionPool(
            libpq_url(url),
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True, "prepare_threshold": 1},
            open=True,
            timeout=5.0,
            name="tiles",
        )
        self.cache = ByteCache(TILE_CACHE_BYTES)

    def render(
        self, layer: str, z: int, x: int, y: int, at: datetime | None, shift: str | None
    ) -> bytes:
        """Boundary and facility tiles come from memory while the content epoch stands
        (see :mod:`gis.maps.page_cache`); incidents change with every report, so never."""
        key, params = tile_statement(layer, z, x, y, at, shift)
        cached = (layer, z, x, y, at, shift) if layer in CACHED_LAYERS else None
        try:
            return self._render(key, params, cached)
        except psycopg.OperationalError:
            self.pool.check()
            return self._render(key, params, cached)

    def _render(
        self,
        key: tuple[str, bool, int],
        params: dict[str, object],
        cached: tuple[object, ...] | None,
    ) -> bytes:
        with self.pool.connection() as conn:
            if cached is not None:
                label = epoch_label(*(conn.execute(CONTENT_EPOCH_SQL).fetchone() or (0, "")))
                cached = (*cached, label)
                hit = self.cache.get(cached)
                if hit is not None:
                    return hit
            row = conn.execute(_RAW[key], params).fetchone()
        data = bytes(row[0]) if row and row[0] else b""
        if cached is not None:
            self.cache.put(cached, data)
        return data

    def close(self) -> None:
        self.pool.close()


_SERVERS: dict[str, TileServer] = {}
_SERVERS_LOCK = threading.Lock()


def tile_server(url: str) -> TileServer:
    """The tile server of a database, made on first use and kept for the process."""
    with _SERVERS_LOCK:
        server = _SERVERS.get(url)
        if server is None:
            server = _SERVERS[url] = TileServer(url)
        return server


def etag_of(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'
