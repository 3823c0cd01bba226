"""Cell lookup tables that answer most points of a bulk assignment by array indexing.

The service extent is cut into cells roughly square on the ground. A cell that
no grid boundary touches (an exact segment-versus-cell test, with a hair of
margin) lies wholly inside one grid or wholly outside all, so its points need
no geometry test; the same holds, in a second array, for compounds. Points in
the other ("mixed") cells go through the exact rules. Runs of clean cells along
a row share one region, so only one centre per run is tested when building.
A coarser table lists, per cell, the stations whose circle can reach it, so
the station rule measures only those. Answers equal the exact path's by
construction (the tests compare both on edges, vertices and random points).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely import STRtree

from gis.assign.metric import local_distance_m, metres_per_degree
from gis.assign.rules import candidates_per_point, covering

MIXED = -2
MAX_CELLS = 8_000_000  # int32 per cell and layer: 32 MB each at most
MIN_CELL_M = 10.0
STATION_CELL_M = 250.0
EPS = 1e-6  # of a cell: segments this close to a cell count as touching it


@dataclass
class Raster:
    """A regular lon/lat raster: cell (i, j) spans x0 + i*dx .. x0 + (i+1)*dx."""

    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int

    def cells(self, px: NDArray[np.float64], py: NDArray[np.float64]) -> NDArray[np.int64]:
        """Cell index of each point; -1 off the raster."""
        ix = np.floor((px - self.x0) / self.dx)
        iy = np.floor((py - self.y0) / self.dy)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        return np.where(inside, iy * self.nx + ix, -1).astype(np.int64)

    def centres(self, flat: NDArray[np.int64]) -> tuple[Any, Any]:
        return self.x0 + (flat % self.nx + 0.5) * self.dx, self.y0 + (
            flat // self.nx + 0.5
        ) * self.dy


@dataclass
class CellTable:
    raster: Raster
    grid: Layer
    compound: Layer
    station_raster: Raster
    stations: NDArray[np.int32]  # (cells, K) stations that may cover the cell, -1 padded


def _unique_pairs(
    cell: NDArray[np.int64], owner: NDArray[np.int64], n_owners: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Distinct (cell, owner) pairs sorted by cell then owner (one int64 key each)."""
    key = np.unique(cell.astype(np.int64) * max(n_owners, 1) + owner)
    return key // max(n_owners, 1), key % max(n_owners, 1)


def _touched(r: Raster, geoms: NDArray[Any]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(cell, geometry) pairs where a boundary segment of the geometry touches the cell
    (exact test in cell units)."""
    cells: list[NDArray[np.int64]] = []
    owners: list[NDArray[np.int64]] = []
    if len(geoms) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    parts, part_owner = shapely.get_parts(shapely.boundary(geoms), return_index=True)
    lines, line_part = shapely.get_parts(parts, return_index=True)
    lines = shapely.transform(lines, lambda c: (c - [r.x0, r.y0]) / [r.dx, r.dy])
    # At most one cell long, a segment spans at most 3 cells per axis with the margin.
    lines = shapely.segmentize(lines, 0.9)
    xy, line = shapely.get_coordinates(lines, return_index=True)
    same = line[1:] == line[:-1]
    a, b = xy[:-1][same], xy[1:][same]
    seg_owner = part_owner[line_part[line[:-1][same]]].astype(np.int64)
    lo, hi = np.floor(np.minimum(a, b) - EPS), np.floor(np.maximum(a, b) + EPS)
    for di in range(3):
        for dj in range(3):
            i, j = lo[:, 0] + di, lo[:, 1] + dj
            ok = (i <= hi[:, 0]) & (j <= hi[:, 1]) & (i >= 0) & (i < r.nx) & (j >= 0) & (j < r.ny)
            # Separating axis: the cell (grown by EPS) is missed only if all its corners
            # lie strictly on one side of the segment's line.
            ex, ey = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
            sides = [
                ex * (cy - a[:, 1]) - ey * (cx - a[:, 0])
                for cx in (i - EPS, i + 1 + EPS)
                for cy in (j - EPS, j + 1 + EPS)
            ]
            s = np.stack(sides)
            ok &= ~((s > 0).all(axis=0) | (s < 0).all(axis=0))
            cells.append((j[ok] * r.nx + i[ok]).astype(np.int64))
            owners.append(seg_owner[ok])
    return _unique_pairs(np.concatenate(cells), np.concatenate(owners), len(geoms))


@dataclass
class Layer:
    """Per-cell answer for one polygon layer (grids or compounds).

    ``label``: the polygon index for a clean cell inside one, -1 for a clean cell
    in none, MIXED otherwise. A mixed cell's candidates (``mixed`` sorted cell ids,
    CSR ``start``/``candidate``) are every polygon whose boundary touches it or
    that holds its centre: all that can hold a point of it.
    """

    label: NDArray[np.int32]
    mixed: NDArray[np.int64]
    start: NDArray[np.int64]
    candidate: NDArray[np.int64]

    def candidates(self, cell: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(position in ``cell``, polygon index) pairs for cells that are mixed."""
        row = np.searchsorted(self.mixed, cell)
        count = self.start[row + 1] - self.start[row]
        owner = np.repeat(np.arange(len(cell)), count)
        offset = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
        return owner, self.candidate[np.repeat(self.start[row], count) + offset]


def _layer(r: Raster, tree: STRtree, geoms: NDArray[Any]) -> Layer:
    """Label clean cells (one centre per run of clean cells along a row) and list the
    candidates of mixed cells."""
    touch_cell, touch_owner = _touched(r, geoms)
    mixed_flat = np.zeros(r.nx * r.ny, dtype=bool)
    mixed_flat[touch_cell] = True
    clean = ~mixed_flat.reshape(r.ny, r.nx)
    start = clean.copy()
    start[:, 1:] &= ~clean[:, :-1]
    starts = np.flatnonzero(start)
    run = np.cumsum(start.ravel()) - 1
    counts, first = covering(tree, *r.centres(starts))
    label = np.full(r.nx * r.ny, MIXED, dtype=np.int32)
    flat = clean.ravel()
    label[flat] = first[run[flat]]
    # Overlapping polygons (a broken tiling) cover a clean run twice: treat its cells as mixed.
    doubled = flat & (counts[np.maximum(run, 0)] > 1)
    label[doubled] = MIXED
    mixed = np.flatnonzero(label == MIXED)
    centre_points = shapely.points(*r.centres(mixed))
    ci, gi = tree.query(centre_points, predicate="intersects") if len(tree) else ([], [])
    cell = np.concatenate([touch_cell, mixed[np.asarray(ci, dtype=np.int64)]])
    owner = np.concatenate([touch_owner, np.asarray(gi, dtype=np.int64)])
    cell, owner = _unique_pairs(cell, owner, len(geoms))
    bounds = np.searchsorted(cell, np.append(mixed, np.iinfo(np.int64).max))
    return Layer(label=label, mixed=mixed, start=bounds.astype(np.int64), candidate=owner)


def _stations(
    r: Raster, s_lon: NDArray[np.float64], s_lat: NDArray[np.float64], s_radius: NDArray[np.float64]
) -> NDArray[np.int32]:
    cells_of: list[NDArray[np.int64]] = []
    owners: list[NDArray[np.int64]] = []
    for s in range(len(s_lon)):
        kx, ky = metres_per_degree(s_lat[s])
        half_diag = float(np.hypot(r.dx * kx, r.dy * ky)) / 2.0
        # A cell may hold a covered point only if its centre is within radius + half a diagonal.
        reach = s_radius[s] * 1.001 + half_diag * 1.01 + 1.0
        rx, ry = reach / float(kx) * 1.05, reach / float(ky) * 1.05
        i0, i1 = (
            max(0, int((s_lon[s] - rx - r.x0) / r.dx)),
            min(r.nx, int((s_lon[s] + rx - r.x0) / r.dx) + 1),
        )
        j0, j1 = (
            max(0, int((s_lat[s] - ry - r.y0) / r.dy)),
            min(r.ny, int((s_lat[s] + ry - r.y0) / r.dy) + 1),
        )
        if i0 >= i1 or j0 >= j1:
            continue
        ii, jj = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1))
        flat = (jj.ravel() * r.nx + ii.ravel()).astype(np.int64)
        near = local_distance_m(*r.centres(flat), s_lon[s], s_lat[s]) <= reach
        cells_of.append(flat[near])
        owners.append(np.full(int(near.sum()), s, dtype=np.int64))
    empty = np.empty(0, dtype=np.int64)
    cells, owner = np.concatenate([empty, *cells_of]), np.concatenate([empty, *owners])
    return candidates_per_point(r.nx * r.ny, cells, owner).astype(np.int32)


def _raster(bounds: NDArray[np.float64], size_m: float, max_cells: int) -> Raster:
    xmin, ymin, xmax, ymax = bounds
    kx, ky = (float(v) for v in metres_per_degree((ymin + ymax) / 2))
    area = (xmax - xmin) * kx * (ymax - ymin) * ky
    size_m = max(size_m, float(np.sqrt(area / max_cells)))
    dx, dy = size_m / kx, size_m / ky
    nx, ny = int(np.ceil((xmax - xmin) / dx)) or 1, int(np.ceil((ymax - ymin) / dy)) or 1
    return Raster(float(xmin), float(ymin), dx, dy, nx, ny)


def build_table(
    grid_geom: NDArray[Any],
    grid_tree: STRtree,
    compound_geom: NDArray[Any],
    compound_tree: STRtree,
    s_lon: NDArray[np.float64],
    s_lat: NDArray[np.float64],
    s_radius: NDArray[np.float64],
    margin_m: float,
) -> CellTable | None:
    """Build the tables over the grids' extent (plus ``margin_m``); None without grids."""
    if len(grid_geom) == 0:
        return None
    xmin, ymin, xmax, ymax = shapely.total_bounds(grid_geom)
    kx, ky = (float(v) for v in metres_per_degree((ymin + ymax) / 2))
    bounds = np.array(
        [xmin - margin_m / kx, ymin - margin_m / ky, xmax + margin_m / kx, ymax + margin_m / ky]
    )
    r = _raster(bounds, MIN_CELL_M, MAX_CELLS)
    sr = _raster(bounds, STATION_CELL_M, 1_000_000)
    return CellTable(
        raster=r,
        grid=_layer(r, grid_tree, grid_geom),
        compound=_layer(r, compound_tree, compound_geom),
        station_raster=sr,
        stations=_stations(sr, s_lon, s_lat, s_radius),
    )
