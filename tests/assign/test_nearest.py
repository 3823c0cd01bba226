"""The boundary-segment index finds the same nearest polygon as measuring every segment."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gis.assign.nearest import SegmentIndex

EAST = np.array([0.03, 0.0])  # moves the second part of a two-part polygon away


def _polygons(seed: int) -> np.ndarray:
    """Irregular polygons near Xining: many-sided, some with holes, some multi-part."""
    rng = np.random.default_rng(seed)
    centres = np.column_stack([rng.uniform(101.6, 101.8, 40), rng.uniform(36.55, 36.65, 40)])
    blobs = shapely.buffer(shapely.points(centres), rng.uniform(0.002, 0.01, 40), quad_segs=7)
    holes = shapely.buffer(shapely.points(centres), 0.001)
    shapes = np.where(np.arange(40) % 3 == 0, shapely.difference(blobs, holes), blobs)
    pairs = shapely.union(shapes[::2], shapely.transform(shapes[1::2], lambda c: c + EAST))
    return np.concatenate([shapes, pairs])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nearest_agrees_with_every_segment_measured(seed: int) -> None:
    geoms = _polygons(seed)
    index = SegmentIndex(geoms, 37.0)
    rng = np.random.default_rng(seed + 10)
    px, py = rng.uniform(101.58, 101.85, 400), rng.uniform(36.53, 36.67, 400)
    limit = 600.0
    best, dist = index.nearest(px, py, limit)

    # Every point against every segment, with the same ground measure.
    n, s = len(px), len(index.a)
    ground = index._ground(np.repeat(px, s), np.repeat(py, s), np.tile(np.arange(s), n))
    ground = ground.reshape(n, s)
    owner = np.broadcast_to(index.owner, (n, s))
    key = np.where(ground <= limit, ground, np.inf)
    nearest = key.min(axis=1)
    tied = key == nearest[:, None]
    expected = np.where(
        np.isfinite(nearest), np.where(tied, owner, np.iinfo(np.int64).max).min(axis=1), -1
    )
    assert (expected >= 0).sum() > 100 and (expected < 0).sum() > 10
    np.testing.assert_array_equal(best, expected)
    np.testing.assert_allclose(dist, nearest)
