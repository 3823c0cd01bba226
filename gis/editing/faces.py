"""The planar faces of a community: every edit is a relabelling of them.

All grid boundaries of the community, its outline and the planner's drawn
lines are noded together and polygonised into faces; each face carries the
grid it lies in. An operation only changes labels, and each grid's new outline
is the union of its faces. Because neighbours are built from the same noded
linework they share every vertex exactly, so the grids stay a valid coverage
(no gaps, no overlaps, no T-junctions) with no tolerance games.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from gis.coords import geometry_to_local
from gis.editing.state import CommunityState

# Degrees (~1 cm): a drawn line is extended this far past a grid edge so it is noded there.
NODE_EPS = 1e-7


def area_m2(geoms: Any) -> Any:
    """Ground area in m² (local Gauss-Kruger zone), scalar or vectorised."""
    return shapely.area(geometry_to_local(geoms))


def where(geom: BaseGeometry) -> list[float]:
    """A point inside (or on) ``geom`` to name in messages: [lon, lat]."""
    p = shapely.point_on_surface(geom)
    return [round(p.x, 7), round(p.y, 7)]


def same_outline(a: BaseGeometry, b: BaseGeometry) -> bool:
    """Identical vertices, whatever the ring start, orientation or single/multi type."""
    parts_a = shapely.normalize(shapely.multipolygons(shapely.get_parts(a)))
    parts_b = shapely.normalize(shapely.multipolygons(shapely.get_parts(b)))
    return bool(shapely.equals_exact(parts_a, parts_b))


class Faces:
    """Faces of a community with their old and new grid labels (None: in no grid)."""

    def __init__(self, state: CommunityState, cutters: list[BaseGeometry] | None = None) -> None:
        self.state = state
        codes = list(state.grids)
        geoms = np.array([state.grids[c].geom for c in codes], dtype=object)
        lines = [*shapely.boundary(geoms), shapely.boundary(state.community.geom)]
        lines += [
            shapely.boundary(c) if c.geom_type.endswith("Polygon") else c for c in cutters or []
        ]
        edges = shapely.union_all(lines)
        self.faces: NDArray[Any] = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
        self.points: NDArray[Any] = shapely.point_on_surface(self.faces)
        tree = shapely.STRtree(geoms)
        face_i, grid_i = tree.query(self.points, predicate="within")
        self.old: NDArray[Any] = np.full(len(self.faces), None, dtype=object)
        self.old[face_i] = np.array(codes, dtype=object)[grid_i]
        self.new: NDArray[Any] = self.old.copy()

    def of(self, code: str, new: bool = False) -> NDArray[np.bool_]:
        labels = self.new if new else self.old
        return np.asarray(labels == code, dtype=bool)

    def inside(self, region: BaseGeometry) -> NDArray[np.bool_]:
        return np.asarray(shapely.within(self.points, region), dtype=bool)

    def union(self, mask: NDArray[np.bool_]) -> BaseGeometry:
        return shapely.union_all(self.faces[mask])

    def outlines(self) -> tuple[dict[str, BaseGeometry], list[str], list[str]]:
        """New outlines of grids that change, codes retired, codes only noded.

        A grid whose faces are unchanged but that gained a vertex where a drawn
        line meets its edge is "noded": same shape, one more shared vertex.
        """
        changed: dict[str, BaseGeometry] = {}
        noded: list[str] = []
        for code in sorted({c for c in self.new if c is not None}):
            mask = self.of(code, new=True)
            outline = self.union(mask)
            old = self.state.grids.get(code)
            if old is not None and bool(np.array_equal(mask, self.of(code))):
                if same_outline(outline, old.geom):
                    continue
                noded.append(code)
            changed[code] = outline
        retired = sorted(set(self.state.grids) - {c for c in self.new if c is not None})
        return changed, retired, noded
