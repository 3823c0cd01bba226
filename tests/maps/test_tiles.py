"""Vector tiles decode with the right feature ids and never carry personal data."""

from __future__ import annotations

import math
from typing import Any

import httpx
import mapbox_vector_tile
from sqlalchemy import text

from tests.maps.conftest import LAT0, LON0, STEP, City

CENTRE = (LON0 + 1.5 * STEP, LAT0 + STEP)
INCIDENTS_AT = (LON0 + 0.5 * STEP, LAT0 + 0.4 * STEP)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The slippy-map tile holding a point (Web Mercator)."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def get_tile(city: City, layer: str, z: int, x: int, y: int, **params: str) -> httpx.Response:
    return httpx.get(f"{city.base_url}/tiles/{layer}/{z}/{x}/{y}.mvt", params=params, timeout=30)


def decode(content: bytes) -> dict[str, Any]:
    return mapbox_vector_tile.decode(content)  # type: ignore[no-any-return]


def test_grid_tile_carries_every_current_grid_with_its_id(city: City) -> None:
    r = get_tile(city, "grids", *tile_of(*CENTRE, 12))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    features = decode(r.content)["grids"]["features"]
    with city.engine.connect() as conn:
        rows: dict[int, str] = dict(
            conn.execute(text("SELECT id, code FROM grids WHERE valid_to IS NULL")).all()
        )
    assert {f["id"]: f["properties"]["code"] for f in features} == rows
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)
    assert "worker_name" not in features[0]["properties"]


def test_each_layer_decodes_with_database_ids(city: City) -> None:
    where = "ST_Intersects(geom, ST_Transform(ST_TileEnvelope(:z, :x, :y), 4490))"
    current = {
        "districts": "valid_to IS NULL",
        "streets": "valid_to IS NULL",
        "communities": "valid_to IS NULL",
        "compounds": "true",
        "facilities": "active",
        "incidents": "true",
    }
    for layer, when in current.items():
        with city.engine.connect() as conn:
            lon, lat = conn.execute(
                text(
                    f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM {layer}"
                    f" WHERE {when} ORDER BY id LIMIT 1) q"
                )
            ).one()
        for zoom in (13, 15):
            z, x, y = tile_of(lon, lat, zoom)
            r = get_tile(city, layer, z, x, y)
            assert r.status_code == 200, layer
            with city.engine.connect() as conn:
                sql = f"SELECT id FROM {layer} WHERE {when} AND {where}"
                ids = {row[0] for row in conn.execute(text(sql), {"z": z, "x": x, "y": y})}
            got = {f["id"] for f in decode(r.content)[layer]["features"]}
            assert ids and got == ids, (layer, z)


def test_incident_tiles_hold_no_personal_data(city: City) -> None:
    for z in (10, 15):
        r = get_tile(city, "incidents", *tile_of(*INCIDENTS_AT, z))
        assert r.status_code == 200
        assert "张三丰".encode() not in r.content
        assert b"13812345678" not in r.content
        assert "夜间施工".encode() not in r.content
        props = [f["properties"] for f in decode(r.content)["incidents"]["features"]]
        assert props
        assert all(not {"reporter_name", "reporter_phone", "description"} & set(p) for p in props)


def test_low_zoom_incidents_are_counted_cells(city: City) -> None:
    r = get_tile(city, "incidents", *tile_of(*INCIDENTS_AT, 9))
    features = decode(r.content)["incidents"]["features"]
    total = city.scalar("SELECT count(*) FROM incidents")
    open_n = city.scalar("SELECT count(*) FROM incidents WHERE status <> 'closed'")
    assert all(f["properties"]["cluster"] for f in features)
    assert sum(f["properties"]["count"] for f in features) == total
    assert sum(f["properties"]["open_count"] for f in features) == open_n
    assert len(features) < total


def test_etag_revalidation_and_short_cache(city: City) -> None:
    z, x, y = tile_of(*CENTRE, 14)
    first = get_tile(city, "grids", z, x, y)
    assert "max-age=60" in first.headers["cache-control"]
    again = httpx.get(
        f"{city.base_url}/tiles/grids/{z}/{x}/{y}.mvt",
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304
    assert again.headers["etag"] == first.headers["etag"]


def test_time_travel_before_the_city_existed_is_empty(city: City) -> None:
    r = get_tile(city, "grids", *tile_of(*CENTRE, 12), at="2001-01-01T00:00:00Z")
    assert r.status_code == 200
    assert r.content == b""


def test_bad_tile_addresses_name_the_field(city: City) -> None:
    assert get_tile(city, "people", 1, 0, 0).json()["field"] == "layer"
    r = get_tile(city, "grids", 3, 8, 0)
    assert r.status_code == 422 and r.json()["field"] == "x"
    assert get_tile(city, "grids", 23, 0, 0).json()["field"] == "z"
    assert get_tile(city, "grids", 2, 0, 4).json()["field"] == "y"


def test_gcj02_shift_moves_features_by_the_datum_offset(city: City) -> None:
    from gis.coords import from_storage

    lon, lat = LON0 + 0.5 * STEP, LAT0 + 0.5 * STEP  # station ST001
    z, x, y = tile_of(lon, lat, 15)
    plain = decode(get_tile(city, "facilities", z, x, y).content)["facilities"]["features"]
    moved = decode(get_tile(city, "facilities", z, x, y, shift="gcj02").content)["facilities"]
    by_code = {f["properties"]["code"]: f for f in moved["features"]}
    p0 = next(f for f in plain if f["properties"]["code"] == "ST001")["geometry"]["coordinates"]
    p1 = by_code["ST001"]["geometry"]["coordinates"]
    glon, _ = from_storage([lon], [lat], "gcj02")
    units_per_degree = 4096 * (1 << z) / 360.0
    expected_dx = (glon[0] - lon) * units_per_degree
    assert abs(expected_dx) > 20  # GCJ-02 is hundreds of metres off here
    assert abs((p1[0] - p0[0]) - expected_dx) <= 2
    assert p1[1] != p0[1]
    assert get_tile(city, "grids", z, x, y, shift="bd09").json()["field"] == "shift"


def test_lonlat_encoding_matches_the_projected_one(city: City) -> None:
    """From LONLAT_FROM_ZOOM on, features skip re-projection; they land within a tile unit."""
    import numpy as np

    from gis.maps import tiles

    for zoom in (tiles.LONLAT_FROM_ZOOM, 12, 15):
        z, x, y = tile_of(*CENTRE, zoom)
        params = {"z": z, "x": x, "y": y, "tol": 0.0, "cell": 1.0, "mdx": 0.0, "mdy": 0.0}
        out = []
        for lonlat in (False, True):
            sql = tiles._boundary_sql(tiles.LAYERS["grids"], False, lonlat)
            with city.engine.connect() as conn:
                data = bytes(conn.execute(text(sql), params).scalar_one())
            feats = decode(data)["grids"]["features"]
            out.append(
                {f["id"]: np.array(f["geometry"]["coordinates"][0], dtype=float) for f in feats}
            )
        projected, lonlat_ = out
        assert projected.keys() == lonlat_.keys() and projected
        for fid, ring in projected.items():
            lo1, hi1 = ring.min(axis=0), ring.max(axis=0)
            lo2, hi2 = lonlat_[fid].min(axis=0), lonlat_[fid].max(axis=0)
            assert np.abs(lo1 - lo2).max() <= 1 and np.abs(hi1 - hi2).max() <= 1, (zoom, fid)
