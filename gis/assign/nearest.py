"""Nearest polygon on the ground, through an index of boundary segments.

Snapping (a point just outside every grid) and the district of an outside
point need the nearest polygon within a limit. Measuring to whole polygons is
slow for real district outlines (thousands of vertices), so the boundaries
are cut into segments indexed by an STRtree: the nearest segment in degrees
bounds the search, every segment that could be nearer on the ground is then
measured exactly in the point's tangent plane.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import shapely
from numpy.typing import NDArray
from shapely import STRtree

from gis.assign.metric import degree_tolerance, local_distance_m, metres_per_degree
from gis.assign.rules import first_per_point

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


# Segments per indexed run: an STRtree over runs instead of single segments builds an order of
# magnitude fewer geometries (seconds at province scale) and finds the same candidates.
RUN = 8


def _hashes(columns: Floats) -> NDArray[np.uint64]:
    """A 64-bit hash of each row's exact float bits (equal rows, equal hashes)."""
    bits = np.ascontiguousarray(columns).view(np.uint64)
    h = np.zeros(len(bits), dtype=np.uint64)
    for k in range(bits.shape[1]):
        h = (h ^ bits[:, k]) * np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
    return h


def outline(a: Floats, b: Floats) -> NDArray[np.bool_]:
    """Which segments ``a``→``b`` can be nearest to a point outside every polygon: all but
    an edge two polygons share, run in opposite directions (one on each side, so inside
    their union). Such an edge is kept when it ends on the outline, so a tie at that vertex
    is found as before. Polygons that overlap or disagree in orientation keep their edges,
    and so does an edge whose hash collides: the result is a superset of what can answer."""
    n = len(a)
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    edge = np.column_stack([np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)])
    # Sorted by hash with the direction as the lowest bit, an edge met both ways is two
    # neighbours differing in that bit only; its coordinates are then compared exactly.
    h = (_hashes(edge) & ~np.uint64(1)) | swap.astype(np.uint64)
    order = np.argsort(h)
    hs = h[order]
    pair = np.flatnonzero((hs[1:] ^ hs[:-1]) == 1)
    pair = pair[(edge[order[pair]] == edge[order[pair + 1]]).all(axis=1)]
    shared = np.zeros(n, dtype=bool)
    shared[order[pair]] = shared[order[pair + 1]] = True
    # Vertices on the outline: the ends of every edge kept so far.
    ends = _hashes(np.r_[a, b])
    kept_ends = pl.Series(ends[np.r_[~shared, ~shared]]).implode()
    on_outline = pl.Series(ends).is_in(kept_ends).to_numpy()
    return np.asarray(~shared | on_outline[:n] | on_outline[n:])


class SegmentIndex:
    """Boundary segments of ``geoms`` with the index of the geometry each belongs to, indexed
    in runs of up to RUN consecutive segments of one boundary line."""

    def __init__(self, geoms: NDArray[Any], max_lat: float, outside_only: bool = False) -> None:
        """``outside_only``: the index will only be asked about points outside every one of
        ``geoms``, so edges between two of them are left out (see :func:`outline`)."""
        parts = shapely.get_parts(shapely.boundary(geoms), return_index=True)
        lines, line_owner = shapely.get_parts(parts[0], return_index=True)
        xy, idx = shapely.get_coordinates(lines, return_index=True)
        same = np.flatnonzero(idx[1:] == idx[:-1])
        if outside_only:
            same = same[outline(xy[same], xy[same + 1])]
        self.a, self.b = xy[same], xy[same + 1]
        line = idx[same]
        self.owner = parts[1][line_owner][line].astype(np.int64)
        # Runs: a new one where a line starts, a left-out edge breaks it, or RUN segments of
        # it are done.
        n = len(line)
        starts_line = (
            np.r_[True, (line[1:] != line[:-1]) | (same[1:] != same[:-1] + 1)]
            if n
            else np.zeros(0, dtype=bool)
        )
        line_start = np.maximum.accumulate(np.where(starts_line, np.arange(n), 0))
        position = np.arange(n) - line_start
        run = np.cumsum(starts_line | (position % RUN == 0)) - 1
        self.run_start = np.flatnonzero(np.r_[True, run[1:] != run[:-1]]) if n else run
        self.run_length = np.diff(np.r_[self.run_start, n]).astype(np.int64)
        last = self.run_start + self.run_length - 1
        # Each run's vertices: the first point of each of its segments, then its last point
        # (every earlier run has one vertex more than segments, hence the shifts).
        k = np.arange(len(last))
        vertices = np.empty((n + len(last), 2))
        vertex_run = np.empty(n + len(last), dtype=np.int64)
        vertices[np.arange(n) + run], vertex_run[np.arange(n) + run] = self.a, run
        vertices[last + k + 1], vertex_run[last + k + 1] = self.b[last], k
        self.tree = STRtree(shapely.linestrings(vertices, indices=vertex_run) if n else [])
        kx, ky = metres_per_degree(min(abs(max_lat), 89.0))
        # Ground/degree scale varies by at most this factor between the axes.
        self.ratio = float(max(kx, ky) / min(kx, ky)) * 1.01
        self.max_lat = max_lat

    def nearest(self, px: Floats, py: Floats, limit_m: float) -> tuple[Ints, Floats]:
        """Nearest geometry within ``limit_m`` (ties: smallest index) and its ground distance."""
        n = len(px)
        best, dist = np.full(n, -1, dtype=np.int64), np.full(n, np.inf)
        if n == 0 or len(self.a) == 0:
            return best, dist
        points = shapely.points(px, py)
        tol = degree_tolerance(limit_m, self.max_lat)
        (pi, _), d = self.tree.query_nearest(
            points, max_distance=tol, return_distance=True, all_matches=True
        )
        if len(pi) == 0:
            return best, dist
        reach = np.zeros(n)
        reach[pi] = d * self.ratio + 1e-12
        has = np.flatnonzero(reach > 0)
        pr, rj = self.tree.query(points[has], predicate="dwithin", distance=reach[has])
        # Every segment of each run within reach: any segment nearer on the ground is among them.
        count = self.run_length[rj]
        pj = np.repeat(has[pr], count)
        first = np.repeat(self.run_start[rj] - (np.cumsum(count) - count), count)
        sj = first + np.arange(len(pj))
        ground = self._ground(px[pj], py[pj], sj)
        keep = ground <= limit_m
        pj, sj, ground = pj[keep], sj[keep], ground[keep]
        owner = self.owner[sj]
        best = first_per_point(n, pj.astype(np.int64), owner, ground)
        np.minimum.at(dist, pj, ground)
        return best, dist

    def _ground(self, px: Floats, py: Floats, seg: NDArray[np.intp]) -> Floats:
        """Ground distance from each point to its segment: the closest point found in the
        point's tangent plane, then measured on the ground."""
        kx, ky = metres_per_degree(py)
        ax, ay = (self.a[seg, 0] - px) * kx, (self.a[seg, 1] - py) * ky
        bx, by = (self.b[seg, 0] - px) * kx, (self.b[seg, 1] - py) * ky
        ex, ey = bx - ax, by - ay
        length2 = ex * ex + ey * ey
        t = np.clip(-(ax * ex + ay * ey) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
        nx, ny = px + (ax + t * ex) / kx, py + (ay + t * ey) / ky
        return local_distance_m(px, py, nx, ny)
