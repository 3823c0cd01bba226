"""Assignment's ground distances against pyproj.Geod."""

from __future__ import annotations

import numpy as np
from pyproj import Geod

from gis.assign.metric import local_distance_m

GEOD = Geod(ellps="GRS80")


def test_local_distance_matches_the_geodesic() -> None:
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(100.8, 102.2, 5000), rng.uniform(36.0, 37.6, 5000)
    az, dist = rng.uniform(0, 360, 5000), rng.uniform(1, 5000, 5000)
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, dist)
    got = local_distance_m(lon, lat, lon2, lat2)
    assert np.max(np.abs(got - dist)) < 0.001  # under a millimetre up to 5 km
    far = rng.uniform(5000, 50_000, 5000)
    lon3, lat3, _ = GEOD.fwd(lon, lat, az, far)
    assert np.max(np.abs(local_distance_m(lon, lat, lon3, lat3) - far) / far) < 2e-5
