"""Cut a polygon into n cells that tile it exactly (Voronoi cells clipped to the parent).

Everything happens in lon/lat, the storage CRS, so the cells stored are the cells
checked: the Voronoi diagram is built in lon/lat scaled by cos(latitude) (an affine
map, so edges stay straight and shared vertices stay shared) and clipped to the parent
in lon/lat. Areas are measured on the ground (EPSG:4543) by the callers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon

# About 50 m: the longest edge a generated boundary has.
MAX_EDGE_DEG = 0.0005

Density = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]


def sample_points(
    geom: Any, n: int, rng: np.random.Generator, density: Density | None = None
) -> NDArray[np.float64]:
    """n points inside geom, drawn with probability proportional to density (uniform if None)."""
    if n <= 0:
        return np.empty((0, 2))
    xmin, ymin, xmax, ymax = shapely.bounds(geom)
    shapely.prepare(geom)
    out: list[NDArray[np.float64]] = []
    got = 0
    batch = max(64, 8 * n)
    for _ in range(200):
        x = rng.uniform(xmin, xmax, batch)
        y = rng.uniform(ymin, ymax, batch)
        keep = shapely.contains_xy(geom, x, y)
        if density is not None:
            d = density(x, y)
            keep &= rng.uniform(0.0, float(d.max()) if d.size else 1.0, batch) < d
        pts = np.column_stack([x[keep], y[keep]])
        out.append(pts)
        got += len(pts)
        if got >= n:
            break
        batch = min(batch * 2, 200_000)
    pts = np.concatenate(out)[:n]
    if len(pts) < n:
        # A sliver of a parent: fall back to points on its surface.
        extra = np.array(
            [shapely.get_coordinates(shapely.point_on_surface(geom))[0]] * (n - len(pts))
        )
        pts = np.concatenate([pts, extra + rng.normal(0, 1e-7, extra.shape)])
    return pts


def _largest_parts_merge(cells: NDArray[np.object_]) -> NDArray[np.object_]:
    """Keep each cell's largest part; hand its other parts to the neighbour sharing most edge."""
    cells = cells.copy()
    for i in range(len(cells)):
        parts = shapely.get_parts(cells[i])
        if len(parts) <= 1:
            continue
        areas = shapely.area(parts)
        order = np.argsort(-areas)
        cells[i] = parts[order[0]]
        for p in parts[order[1:]]:
            shared = shapely.length(shapely.intersection(cells, p.boundary))
            shared[i] = -1.0
            k = int(np.argmax(shared))
            if shared[k] <= 0:
                cells[i] = shapely.union(cells[i], p)
                continue
            cells[k] = shapely.union(cells[k], p)
    return cells


def as_multipolygon(geom: Any) -> MultiPolygon:
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    return MultiPolygon(parts)


def _voronoi(parent: Any, seeds: NDArray[np.float64], k: float, exact: bool) -> NDArray[np.object_]:
    """Voronoi cells of the seeds, in seed order, built in lon/lat scaled by k = cos(lat)."""
    scaled = np.column_stack([seeds[:, 0] * k, seeds[:, 1]])
    xmin, ymin, xmax, ymax = shapely.bounds(parent)
    box = shapely.box(xmin * k - 1, ymin - 1, xmax * k + 1, ymax + 1)
    vor = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(scaled), extend_to=box, ordered=True)
    )
    vor = shapely.transform(vor, lambda a: np.column_stack([a[:, 0] / k, a[:, 1]]))
    if not exact:
        return np.asarray(vor, dtype=object)
    # Short edges keep lon/lat-straight and ground-straight lines within millimetres of
    # each other, so areas summed on the ground (EPSG:4543) match the parent's. The
    # edges are cut once, as one network, so neighbours share the very same vertices.
    edges = shapely.segmentize(shapely.union_all(shapely.boundary(vor)), MAX_EDGE_DEG)
    cells = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    # polygonize returns cells in no promised order: match them to seeds.
    idx = shapely.STRtree(cells).query(shapely.points(seeds), predicate="intersects")
    order = np.full(len(seeds), -1)
    order[idx[0]] = idx[1]
    if (order < 0).any() or len(np.unique(order)) != len(seeds):
        raise RuntimeError("Voronoi cells do not match their seeds one to one")
    return np.asarray(cells[order], dtype=object)


def partition(
    parent: Any,
    n: int,
    rng: np.random.Generator,
    density: Density | None = None,
    relax: int = 1,
) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """n cells tiling parent exactly (MultiPolygons, lon/lat) and their seeds.

    Seeds are drawn by density; ``relax`` Lloyd steps move each seed to its clipped
    cell's centroid (weighted by nothing: they even out sizes locally, keeping the
    density's overall pattern when it is strong).
    """
    if n == 1:
        return np.array([as_multipolygon(parent)], dtype=object), shapely.get_coordinates(
            shapely.point_on_surface(parent)
        )
    lat0 = float(shapely.centroid(parent).y)
    k = float(np.cos(np.radians(lat0)))
    seeds = sample_points(parent, n, rng, density)
    # Ties in seeds make Voronoi cells vanish; jitter keeps them apart.
    seeds = seeds + rng.normal(0, 1e-7, seeds.shape)
    for _ in range(relax):
        cells = shapely.intersection(_voronoi(parent, seeds, k, exact=False), parent)
        c = shapely.get_coordinates(shapely.centroid(cells))
        inside = shapely.contains_xy(parent, c[:, 0], c[:, 1])
        seeds = np.where(inside[:, None], c, seeds)
    cells = shapely.intersection(_voronoi(parent, seeds, k, exact=True), parent)
    cells = _largest_parts_merge(cells)
    return np.array([as_multipolygon(c) for c in cells], dtype=object), seeds
