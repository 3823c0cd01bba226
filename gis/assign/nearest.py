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
import shapely
from numpy.typing import NDArray
from shapely import STRtree

from gis.assign.metric import degree_tolerance, local_distance_m, metres_per_degree

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


class SegmentIndex:
    """Boundary segments of ``geoms`` with the index of the geometry each belongs to."""

    def __init__(self, geoms: NDArray[Any], max_lat: float) -> None:
        parts = shapely.get_parts(shapely.boundary(geoms), return_index=True)
        lines, line_owner = shapely.get_parts(parts[0], return_index=True)
        xy, idx = shapely.get_coordinates(lines, return_index=True)
        same = idx[1:] == idx[:-1]
        self.a, self.b = xy[:-1][same], xy[1:][same]
        self.owner = parts[1][line_owner][idx[:-1][same]].astype(np.int64)
        self.segments = shapely.linestrings(np.stack([self.a, self.b], axis=1))
        self.tree = STRtree(self.segments)
        kx, ky = metres_per_degree(min(abs(max_lat), 89.0))
        # Ground/degree scale varies by at most this factor between the axes.
        self.ratio = float(max(kx, ky) / min(kx, ky)) * 1.01
        self.max_lat = max_lat

    def nearest(self, px: Floats, py: Floats, limit_m: float) -> tuple[Ints, Floats]:
        """Nearest geometry within ``limit_m`` (ties: smallest index) and its ground distance."""
        from gis.assign.rules import first_per_point

        n = len(px)
        best, dist = np.full(n, -1, dtype=np.int64), np.full(n, np.inf)
        if n == 0 or len(self.segments) == 0:
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
        pj, sj = self.tree.query(points[has], predicate="dwithin", distance=reach[has])
        pj = has[pj]
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
