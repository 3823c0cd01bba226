"""Coordinate intake against the reference implementation (prcoords) and pyproj."""

from __future__ import annotations

import math

import numpy as np
import prcoords
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gis import coords
from gis.errors import InvalidInput

# Around Xining and across China's extent.
lons = st.floats(min_value=73.7, max_value=134.7)
lats = st.floats(min_value=18.2, max_value=53.5)


@settings(max_examples=200, deadline=None)
@given(lons, lats)
def test_forward_gcj_and_bd_match_prcoords(lon: float, lat: float) -> None:
    ref_gcj = prcoords.wgs_gcj((lat, lon), check_china=False)
    gx, gy = coords.from_storage([lon], [lat], "gcj02")
    assert coords.ground_distance_m(gx, gy, ref_gcj.lon, ref_gcj.lat)[0] < 0.01
    ref_bd = prcoords.wgs_bd((lat, lon), check_china=False)
    bx, by = coords.from_storage([lon], [lat], "bd09")
    assert coords.ground_distance_m(bx, by, ref_bd.lon, ref_bd.lat)[0] < 0.01


@settings(max_examples=200, deadline=None)
@given(lons, lats, st.sampled_from(["gcj02", "bd09"]))
def test_inverse_lands_within_a_metre(lon: float, lat: float, crs: str) -> None:
    fx, fy = coords.from_storage([lon], [lat], crs)
    bx, by = coords.to_storage(fx, fy, crs)
    assert coords.ground_distance_m(bx, by, lon, lat)[0] < 1.0


def test_inverse_agrees_with_prcoords_precise_inverse() -> None:
    gcj = prcoords.wgs_gcj((36.6171, 101.7782))
    lon, lat = coords.to_storage([gcj.lon], [gcj.lat], "gcj02")
    ref = prcoords.gcj_wgs_bored(gcj)
    assert coords.ground_distance_m(lon, lat, ref.lon, ref.lat)[0] < 0.5


def test_projected_input_through_pyproj() -> None:
    x, y = coords.to_local([101.7782], [36.6171])
    assert 300_000 < x[0] < 700_000  # false easting 500 km on CM 102E
    lon, lat = coords.to_storage(x, y, "EPSG:4543")
    assert coords.ground_distance_m(lon, lat, 101.7782, 36.6171)[0] < 0.001


def test_two_km_is_two_km_on_the_ground() -> None:
    # 2 km east in the local Gauss-Kruger zone is 2 km geodesic (scale error near CM is tiny).
    x, y = coords.to_local([101.7782], [36.6171])
    lon, lat = coords.from_local(x + 2000.0, y)
    assert abs(coords.ground_distance_m(101.7782, 36.6171, lon, lat)[0] - 2000.0) < 1.0


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        ("WGS84", "wgs84"),
        ("epsg:4326", "wgs84"),
        ("4490", "cgcs2000"),
        ("GCJ-02", "gcj02"),
        ("bd09", "bd09"),
        ("EPSG:4543", "EPSG:4543"),
        ("3857", "EPSG:3857"),
    ],
)
def test_normalize_crs(given_name: str, expected: str) -> None:
    assert coords.normalize_crs(given_name) == expected


@pytest.mark.parametrize("bad", ["mars", "EPSG:999999", "", "gcj"])
def test_unknown_crs_names_the_field(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        coords.normalize_crs(bad)
    assert info.value.field == "crs"


@pytest.mark.parametrize(
    ("lon", "lat", "field"),
    [
        (math.nan, 36.6, "lon"),
        (101.7, math.inf, "lat"),
        (181.0, 36.6, "lon"),
        (101.7, -91.0, "lat"),
    ],
)
def test_check_lonlat_rejects(lon: float, lat: float, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        coords.check_lonlat(lon, lat)
    assert info.value.field == field


def test_geometry_transform_keeps_shape() -> None:
    import shapely

    poly = shapely.box(101.77, 36.61, 101.79, 36.63)
    gcj = coords.geometry_from_storage(poly, "gcj02")
    back = coords.geometry_to_storage(gcj, "gcj02")
    assert shapely.hausdorff_distance(back, poly) < 1e-8
    arr = coords.geometry_to_storage(np.array([gcj, gcj]), "gcj02")
    assert len(arr) == 2
