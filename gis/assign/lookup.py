"""A cell lookup table that answers most points of a bulk assignment by array indexing.

The service extent is cut into cells roughly square on the ground. A cell no
grid or compound boundary comes near (one cell of margin around every
boundary sample) lies wholly inside one grid, or wholly outside all, and
wholly inside one compound or none, so its points need no geometry test; the
others ("mixed" cells) go through the exact rules. Each cell also lists the
stations whose circle can reach it, so the station rule only measures those.
The answers are identical to the exact path by construction (tests compare).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely import STRtree

from gis.assign.metric import local_distance_m, metres_per_degree
from gis.assign.rules import covering

MIXED = -2
MAX_CELLS = 2_000_000
CELLS_PER_GRID = 256


@dataclass
class CellTable:
    x0: float
    y0: float
    dx: float  # cell width in degrees of longitude
    dy: float  # cell height in degrees of latitude
    nx: int
    ny: int
    grid: NDArray[np.int32]  # grid index, -1 outside all grids, MIXED
    compound: NDArray[np.int32]  # compound index, -1 in none, MIXED
    stations: NDArray[np.int32]  # (cells, K) station indices that may cover the cell, -1 padded

    def cells(self, px: NDArray[np.float64], py: NDArray[np.float64]) -> NDArray[np.int64]:
        """Cell index of each point; -1 off the table."""
        ix = np.floor((px - self.x0) / self.dx)
        iy = np.floor((py - self.y0) / self.dy)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        return np.where(inside, iy * self.nx + ix, -1).astype(np.int64)


def _mark_edges(
    table_shape: tuple[int, int], x0: float, y0: float, dx: float, dy: float, geoms: NDArray[Any]
) -> NDArray[np.bool_]:
    ny, nx = table_shape
    edges = np.zeros((ny + 2, nx + 2), dtype=bool)  # one cell of padding on each side
    if len(geoms):
        # Samples closer than a quarter cell: every cell a boundary touches is next to a sample.
        lines = shapely.segmentize(shapely.boundary(geoms), min(dx, dy) / 4.0)
        xy = shapely.get_coordinates(lines)
        ix = np.clip(np.floor((xy[:, 0] - x0) / dx).astype(np.int64), -1, nx) + 1
        iy = np.clip(np.floor((xy[:, 1] - y0) / dy).astype(np.int64), -1, ny) + 1
        edges[iy, ix] = True
    grown = edges.copy()
    for sy in (-1, 0, 1):
        for sx in (-1, 0, 1):
            grown[1 : ny + 1, 1 : nx + 1] |= edges[1 + sy : ny + 1 + sy, 1 + sx : nx + 1 + sx]
    return grown[1 : ny + 1, 1 : nx + 1].ravel()


def _label(
    tree: STRtree, mixed: NDArray[np.bool_], cx: NDArray[np.float64], cy: NDArray[np.float64]
) -> NDArray[np.int32]:
    label = np.full(len(mixed), MIXED, dtype=np.int32)
    clean = np.flatnonzero(~mixed)
    counts, first = covering(tree, cx[clean], cy[clean])
    # Overlapping polygons (a broken tiling) cover a clean cell twice: leave it to the exact path.
    label[clean] = np.where(counts > 1, MIXED, first)
    return label


def _station_candidates(
    table: tuple[float, float, float, float, int, int],
    s_lon: NDArray[np.float64],
    s_lat: NDArray[np.float64],
    s_radius: NDArray[np.float64],
) -> NDArray[np.int32]:
    x0, y0, dx, dy, nx, ny = table
    cells_of: list[NDArray[np.int64]] = []
    owners: list[NDArray[np.int64]] = []
    kx, ky = metres_per_degree(y0 + dy * ny / 2)
    half_diag = float(np.hypot(dx * kx, dy * ky)) / 2.0
    for s in range(len(s_lon)):
        # A cell may hold a covered point only if its centre is within radius + half a diagonal.
        reach = s_radius[s] * 1.001 + half_diag + 1.0
        kxs, kys = metres_per_degree(s_lat[s])
        rx, ry = reach / float(kxs) * 1.05, reach / float(kys) * 1.05
        i0, i1 = max(0, int((s_lon[s] - rx - x0) / dx)), min(nx, int((s_lon[s] + rx - x0) / dx) + 1)
        j0, j1 = max(0, int((s_lat[s] - ry - y0) / dy)), min(ny, int((s_lat[s] + ry - y0) / dy) + 1)
        if i0 >= i1 or j0 >= j1:
            continue
        ii, jj = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1))
        cx, cy = x0 + (ii.ravel() + 0.5) * dx, y0 + (jj.ravel() + 0.5) * dy
        near = local_distance_m(cx, cy, s_lon[s], s_lat[s]) <= reach
        cells_of.append((jj.ravel() * nx + ii.ravel())[near])
        owners.append(np.full(int(near.sum()), s, dtype=np.int64))
    if not cells_of:
        return np.full((nx * ny, 1), -1, dtype=np.int32)
    cells, owner = np.concatenate(cells_of), np.concatenate(owners)
    order = np.lexsort((owner, cells))  # by cell, then ascending station index
    cells, owner = cells[order], owner[order]
    starts = np.searchsorted(cells, cells, side="left")
    slot = np.arange(len(cells)) - starts
    out = np.full((nx * ny, max(1, int(slot.max()) + 1)), -1, dtype=np.int32)
    out[cells, slot] = owner
    return out


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
    """Build the table over the grids' extent (plus ``margin_m``); None without grids."""
    if len(grid_geom) == 0:
        return None
    xmin, ymin, xmax, ymax = shapely.total_bounds(grid_geom)
    kx, ky = metres_per_degree((ymin + ymax) / 2)
    xmin, xmax = xmin - margin_m / float(kx), xmax + margin_m / float(kx)
    ymin, ymax = ymin - margin_m / float(ky), ymax + margin_m / float(ky)
    width_m, height_m = (xmax - xmin) * float(kx), (ymax - ymin) * float(ky)
    cells = min(MAX_CELLS, CELLS_PER_GRID * len(grid_geom))
    size_m = max(np.sqrt(width_m * height_m / cells), 1.0)
    dx, dy = size_m / float(kx), size_m / float(ky)
    nx, ny = int(np.ceil((xmax - xmin) / dx)), int(np.ceil((ymax - ymin) / dy))
    ii, jj = np.meshgrid(np.arange(nx), np.arange(ny))
    cx, cy = xmin + (ii.ravel() + 0.5) * dx, ymin + (jj.ravel() + 0.5) * dy
    boundaries = np.concatenate([grid_geom, compound_geom])
    mixed = _mark_edges((ny, nx), xmin, ymin, dx, dy, boundaries)
    return CellTable(
        x0=xmin,
        y0=ymin,
        dx=dx,
        dy=dy,
        nx=nx,
        ny=ny,
        grid=_label(grid_tree, mixed, cx, cy),
        compound=_label(compound_tree, mixed, cx, cy),
        stations=_station_candidates((xmin, ymin, dx, dy, nx, ny), s_lon, s_lat, s_radius),
    )
