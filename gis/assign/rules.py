"""The assignment rules (归属规则), vectorised; the only place they are written.

- Grid: a point covered by one grid gets it (``inside``); covered by two or
  more (a shared edge or vertex) it gets the smallest code (``boundary``);
  covered by none but within the snap tolerance on the ground it gets the
  nearest grid, ties to the smallest code (``snapped``); beyond, no grid
  (``outside``). Community, street and district follow the grid.
- District of an ``outside`` point, for its district's unassigned queue: the
  district polygon holding it (smallest code on a shared edge), else the
  nearest district within the service-area margin, else none.
- Station: among active stations whose own service radius covers the point,
  the nearest on the ground, stations of the point's own district first; if
  none covers it, the nearest station of its district (``within_radius``
  false); ties go to the smallest station id.
- Party branch: the compound branch whose compound holds the point, else the
  grid's branch, else the community party committee.

Indices refer to a :class:`~gis.assign.snapshot.Snapshot`'s sorted arrays, so
"smallest index" means smallest grid code, station id or compound id.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely import STRtree

from gis.assign.metric import local_distance_m

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

INSIDE, BOUNDARY, SNAPPED, OUTSIDE = 0, 1, 2, 3
NO_KEY = np.inf
OTHER_DISTRICT = 1e12  # added to the distance of a station of another district


def first_per_point(n: int, point: Ints, value: Ints, *keys: Any) -> Ints:
    """For each of ``n`` points the ``value`` of its pair with the smallest ``keys``; -1 if none."""
    out = np.full(n, -1, dtype=np.int64)
    if len(point) == 0:
        return out
    order = np.lexsort((value, *reversed(keys), point)) if keys else np.lexsort((value, point))
    p = point[order]
    first = np.ones(len(p), dtype=bool)
    first[1:] = p[1:] != p[:-1]
    out[p[first]] = value[order][first]
    return out


def candidates_per_point(n: int, point: Ints, value: Ints) -> Ints:
    """The (point, value) pairs as an ``(n, k)`` array: each point's values ascending, padded
    with -1 (no column when there are no pairs), the shape ``choose_station`` takes."""
    order = np.lexsort((value, point))
    point, value = point[order], value[order]
    slot = np.arange(len(point)) - np.searchsorted(point, point, side="left")
    out = np.full((n, int(slot.max(initial=-1)) + 1), -1, dtype=np.int64)
    out[point, slot] = value
    return out


def covering(tree: STRtree, px: Floats, py: Floats) -> tuple[Ints, Ints]:
    """Per point: how many geometries cover it (boundary included) and the smallest index."""
    return covering_points(tree, shapely.points(px, py))


def covering_points(tree: STRtree, points: NDArray[Any]) -> tuple[Ints, Ints]:
    """:func:`covering` for an array of shapely points (a missing point is covered by none)."""
    n = len(points)
    if len(tree) == 0 or n == 0:
        return np.zeros(n, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    pi, gi = tree.query(points, predicate="intersects")
    counts = np.bincount(pi, minlength=n).astype(np.int64)
    return counts, first_per_point(n, pi.astype(np.int64), gi.astype(np.int64))


def choose_station(
    px: Floats,
    py: Floats,
    district: Ints,
    cand: NDArray[np.integer[Any]],
    s_lon: Floats,
    s_lat: Floats,
    s_radius: Floats,
    s_district: Ints,
) -> tuple[Ints, Floats]:
    """Nearest covering station among candidate rows (``-1`` padded, ascending), own district first.

    Returns the station index (-1 where none covers the point) and its distance.
    """
    n = len(px)
    if n == 0 or cand.shape[1] == 0:
        return np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
    valid = cand >= 0
    c = np.where(valid, cand, 0)
    d = local_distance_m(px[:, None], py[:, None], s_lon[c], s_lat[c])
    covered = valid & (d <= s_radius[c])
    key = np.where(
        covered, d + np.where(s_district[c] == district[:, None], 0.0, OTHER_DISTRICT), NO_KEY
    )
    j = np.argmin(key, axis=1)
    rows = np.arange(n)
    ok = np.isfinite(key[rows, j])
    return np.where(ok, c[rows, j], -1).astype(np.int64), np.where(ok, d[rows, j], np.nan)


def nearest_station_of_district(
    px: Floats,
    py: Floats,
    district: Ints,
    s_lon: Floats,
    s_lat: Floats,
    s_district: Ints,
    chunk: int = 200_000,
) -> tuple[Ints, Floats]:
    """The nearest station of each point's own district, whatever its radius (-1 if none)."""
    n = len(px)
    best = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    for code in np.unique(district[district >= 0]):
        stations = np.flatnonzero(s_district == code)
        if len(stations) == 0:
            continue
        points = np.flatnonzero(district == code)
        for start in range(0, len(points), chunk):
            p = points[start : start + chunk]
            d = local_distance_m(px[p, None], py[p, None], s_lon[stations], s_lat[stations])
            j = np.argmin(d, axis=1)  # first minimum = smallest station index
            best[p] = stations[j]
            dist[p] = d[np.arange(len(p)), j]
    return best, dist


def choose_branch(
    compound: Ints, grid: Ints, compound_branch: Ints, grid_branch: Ints, community_branch: Ints
) -> Ints:
    """Most specific party branch: compound's, else grid's, else the community committee.

    The lookup arrays end with a ``-1`` sentinel, so an index of -1 (no compound,
    no grid) reads "no branch".
    """
    by_compound = compound_branch[compound]
    by_grid = grid_branch[grid]
    by_community = community_branch[grid]
    return np.where(by_compound >= 0, by_compound, np.where(by_grid >= 0, by_grid, by_community))
