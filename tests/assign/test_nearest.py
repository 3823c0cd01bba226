"""The boundary-segment index finds the same nearest polygon as measuring every segment."""

from __future__ import annotations

from typing import Any

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
    expected, nearest = _brute_force(index, px, py, limit)
    assert (expected >= 0).sum() > 100 and (expected < 0).sum() > 10
    np.testing.assert_array_equal(best, expected)
    np.testing.assert_allclose(dist, nearest)


def _coverage(seed: int) -> np.ndarray:
    """Voronoi cells clipped to a box near Xining, sharing their edges, with every seventh
    cell left out (holes and bays in the outline)."""
    rng = np.random.default_rng(seed)
    area = shapely.box(101.6, 36.55, 101.8, 36.65)
    seeds = shapely.multipoints(
        np.column_stack([rng.uniform(101.6, 101.8, 120), rng.uniform(36.55, 36.65, 120)])
    )
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=area)), area
    )
    return np.asarray(cells[np.arange(len(cells)) % 7 != 3])


def _brute_force(index: SegmentIndex, px: np.ndarray, py: np.ndarray, limit: float) -> Any:
    """Every point against every segment, with the same ground measure: (nearest owner
    within ``limit``, ties to the smallest, or -1; its distance)."""
    n, s = len(px), len(index.a)
    ground = index._ground(np.repeat(px, s), np.repeat(py, s), np.tile(np.arange(s), n))
    key = np.where(ground.reshape(n, s) <= limit, ground.reshape(n, s), np.inf)
    nearest = key.min(axis=1)
    owner = np.broadcast_to(index.owner, (n, s))
    tied = np.where(key == nearest[:, None], owner, np.iinfo(np.int64).max).min(axis=1)
    return np.where(np.isfinite(nearest), tied, -1), nearest


@pytest.mark.parametrize("seed", [4, 5])
def test_outside_only_index_answers_outside_points_like_every_segment(seed: int) -> None:
    """Left out, the edges between two cells: for points outside every cell the answers
    (nearest cell, ties to the smallest index, and distance) are those of all segments."""
    cells = _coverage(seed)
    full = SegmentIndex(cells, 37.0)
    outline = SegmentIndex(cells, 37.0, outside_only=True)
    assert len(outline.a) < 0.6 * len(full.a)  # most edges are shared

    rng = np.random.default_rng(seed + 20)
    px, py = rng.uniform(101.58, 101.82, 3000), rng.uniform(36.53, 36.67, 3000)
    # Points on the outline's vertices too: the ties there must come out the same.
    corners = shapely.get_coordinates(shapely.boundary(cells))[::5]
    px, py = np.r_[px, corners[:, 0] + 1e-5], np.r_[py, corners[:, 1] - 1e-5]
    points = shapely.points(px, py)
    inside = np.zeros(len(px), dtype=bool)
    inside[shapely.STRtree(cells).query(points, predicate="intersects")[0]] = True
    px, py = px[~inside], py[~inside]

    limit = 1500.0
    expected, distance = _brute_force(full, px, py, limit)
    best, dist = outline.nearest(px, py, limit)
    assert (expected >= 0).sum() > 200
    np.testing.assert_array_equal(best, expected)
    np.testing.assert_allclose(dist, distance)


def test_a_cell_touching_the_outline_at_one_vertex_keeps_its_tie_there() -> None:
    """P reaches the outline at one vertex V only, between L and R, by two shared edges. A
    point right above V is as near to P as to L and R; P, the smallest index, must win."""
    x, y, d = 101.70, 36.60, 0.01
    v = (x + d, y + d)
    pinch = shapely.Polygon([(x + d / 2, y), (x + 3 * d / 2, y), v])
    left = shapely.Polygon([(x, y), (x + d / 2, y), v, (x, y + d)])
    right = shapely.Polygon([(x + 3 * d / 2, y), (x + 2 * d, y), (x + 2 * d, y + d), v])
    cells = np.array([pinch, left, right])
    outline = SegmentIndex(cells, 37.0, outside_only=True)
    px, py = np.array([v[0]]), np.array([v[1] + 1e-4])
    expected, _ = _brute_force(SegmentIndex(cells, 37.0), px, py, 100.0)
    best, _ = outline.nearest(px, py, 100.0)
    assert expected.tolist() == best.tolist() == [0]
