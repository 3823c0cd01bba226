"""Coordinate intake checks, one point and vectorised."""

from __future__ import annotations

import numpy as np
import prcoords
import pytest
from pyproj import Geod

from gis.assign import Assigner
from gis.assign.intake import normalize_point, normalize_points, parse_at
from gis.errors import InvalidInput

GEOD = Geod(ellps="GRS80")


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_chinese_datums_convert_within_a_metre(crs: str) -> None:
    rng = np.random.default_rng(5)
    for lon, lat in zip(rng.uniform(101.5, 102.0, 50), rng.uniform(36.4, 36.8, 50), strict=True):
        c = prcoords.wgs_gcj((lat, lon)) if crs == "gcj02" else prcoords.wgs_bd((lat, lon))
        x, y = normalize_point(c.lon, c.lat, crs)
        assert GEOD.inv(x, y, lon, lat)[2] < 1.0


def test_vectorised_intake_reports_each_bad_point(city: Assigner) -> None:
    lon = np.array([101.71, np.nan, 200.0, 36.57, 116.4, 101.72])
    lat = np.array([36.57, 36.57, 36.57, 101.71, 39.9, np.inf])
    x, y, problems = normalize_points(lon, lat, "wgs84", city)
    assert problems[0] is None and (x[0], y[0]) == (101.71, 36.57)
    fields = [p.field if p is not None else None for p in problems]
    assert fields == [None, "lon", "lon", "lat", "lon", "lat"]
    assert "swapped" in problems[3].message and "service area" in problems[4].message
    assert np.isnan(x[1:]).all()


def test_projected_input(city: Assigner) -> None:
    from pyproj import Transformer

    ex, ny = Transformer.from_crs(4490, 4543, always_xy=True).transform(101.71, 36.57)
    x, y = normalize_point(ex, ny, "EPSG:4543", city)
    assert GEOD.inv(x, y, 101.71, 36.57)[2] < 0.01


def test_without_an_assigner_only_values_are_checked() -> None:
    assert normalize_point(116.4, 39.9, "wgs84") == (116.4, 39.9)
    with pytest.raises(InvalidInput) as err:
        normalize_point(116.4, 95.0, "wgs84")
    assert err.value.field == "lat"


def test_parse_at() -> None:
    assert parse_at(None) is None and parse_at("  ") is None
    at = parse_at("2026-03-01T08:00:00")
    offset = at.utcoffset() if at is not None else None
    assert offset is not None and offset.total_seconds() == 8 * 3600  # hotline local time
    with pytest.raises(InvalidInput) as err:
        parse_at("soon")
    assert err.value.field == "at"
