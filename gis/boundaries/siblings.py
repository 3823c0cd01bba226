"""Checks between the units of one level (同级校验): overlaps, edges that do not match,
and gaps left inside a parent. The layer's units are checked together with the stored
units it does not replace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from gis.boundaries import PARENT_LEVEL, parent_code
from gis.boundaries.checked import (
    PLURAL,
    CheckedLayer,
    area_m2,
    coordinate,
    format_m2,
    indices,
    located,
    locations,
    severity_of,
)
from gis.boundaries.defects import Defect, Objects, Units


@dataclass(frozen=True)
class Siblings:
    """The layer's usable polygons first, then the stored units it does not replace, and
    the pairs of them that intersect with the area they share."""

    mine: NDArray[np.intp]  # the layer's units in the pool, by index into the layer
    geoms: Objects
    codes: Objects
    rows: NDArray[np.int_]  # 0 for stored units
    a: NDArray[np.intp]  # intersecting pairs (a < b), by index into the pool
    b: NDArray[np.intp]
    areas: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    severity: list[str | None]

    @classmethod
    def of(cls, layer: CheckedLayer, others: Units) -> Siblings:
        keep = ~np.isin(others.codes.astype(str), layer.codes) if len(others) else np.zeros(0, bool)
        other_codes, other_geoms = others.codes[keep], others.geoms[keep]
        mine = np.flatnonzero(layer.usable) if not layer.points else np.zeros(0, dtype=int)
        geoms = np.concatenate([layer.fixed[mine], other_geoms]).astype(object)
        codes = np.concatenate([layer.codes[mine], other_codes]).astype(object)
        rows = np.concatenate([layer.rows[mine], np.zeros(len(other_codes), dtype=int)])
        a = b = np.zeros(0, dtype=np.intp)
        areas, x, y = np.zeros(0), np.zeros(0), np.zeros(0)
        if len(mine):
            tree = shapely.STRtree(geoms)
            a, b = tree.query(geoms[: len(mine)], predicate="intersects")
            pair = b > a
            a, b = a[pair], b[pair]
            shared = shapely.intersection(geoms[a], geoms[b])
            areas = area_m2(shared)
            x, y = located(shared, areas)
        severity = [severity_of("overlap", area, layer.tolerance) for area in areas]
        return cls(mine, geoms, codes, rows, a, b, areas, x, y, severity)


def overlaps(layer: CheckedLayer, siblings: Siblings) -> list[Defect]:
    """Overlaps within the layer and with the stored units it does not replace."""
    s = siblings
    defects = []
    for k, severity in enumerate(s.severity):
        if not severity:
            continue
        i, j = int(s.a[k]), int(s.b[k])
        where = "" if j < len(s.mine) else " (already stored)"
        defects.append(
            Defect(
                "overlap",
                severity,
                (s.codes[i], s.codes[j]),
                f"{PLURAL[layer.level]} {s.codes[i]} and {s.codes[j]}{where} overlap by "
                f"{format_m2(s.areas[k])} m²",
                lon=coordinate(s.x[k]),
                lat=coordinate(s.y[k]),
                area_m2=round(float(s.areas[k]), 3),
                rows=tuple(int(r) for r in s.rows[[i, j]] if r),
            )
        )
    return defects


def unmatched_edges(layer: CheckedLayer, siblings: Siblings) -> list[Defect]:
    """Edges that do not match vertex for vertex: harmless for areas, but worth fixing.

    One warning for the layer: generated or digitised data often has many. Units that
    overlap are left out (their overlap is reported already).
    """
    s = siblings
    if not len(s.mine):
        return []
    overlapping = {int(i) for k, sev in enumerate(s.severity) if sev for i in (s.a[k], s.b[k])}
    edges = shapely.coverage_invalid_edges(s.geoms)[: len(s.mine)]
    loose = [i for i in indices(~shapely.is_empty(edges)) if i not in overlapping]
    if not loose:
        return []
    px, py = locations(edges[loose[0]])
    listed = ", ".join(str(c) for c in s.codes[loose[:10]])
    more = f" and {len(loose) - 10} more" if len(loose) > 10 else ""
    return [
        Defect(
            "unmatched_edges",
            "warning",
            tuple(str(c) for c in s.codes[loose]),
            f"{len(loose)} {PLURAL[layer.level]} share edges with neighbours that do not match "
            f"vertex for vertex ({listed}{more}); areas are unaffected",
            lon=coordinate(px[0]),
            lat=coordinate(py[0]),
            rows=tuple(int(r) for r in s.rows[loose]),
        )
    ]


def gaps(
    layer: CheckedLayer, siblings: Siblings, parents: Units, parent_index: dict[str, int]
) -> list[Defect]:
    """Parts of each touched parent that no child (in the file or stored) covers."""
    level, pool_geoms, pool_codes = layer.level, siblings.geoms, siblings.codes
    my_parents = layer.derived[siblings.mine]
    touched = np.asarray(sorted({p for p in my_parents if p in parent_index}), dtype=object)
    if not len(touched):
        return []
    pool_parent = np.array([parent_code(str(c), level) for c in pool_codes], dtype=object)
    mine = np.flatnonzero(np.isin(pool_parent, touched))
    order = mine[np.argsort(pool_parent[mine], kind="stable")]
    groups, starts = np.unique(pool_parent[order], return_index=True)
    # Per parent: small unions and differences cost far less than one of the whole layer.
    unions = np.empty(len(touched), dtype=object)
    for g, members in zip(groups, np.split(order, starts[1:]), strict=True):
        unions[np.searchsorted(touched, g)] = _union(pool_geoms[members])
    parent_geoms = parents.geoms[[parent_index[p] for p in touched]]
    pieces, owner = shapely.get_parts(shapely.difference(parent_geoms, unions), return_index=True)
    areas = area_m2(pieces)
    px, py = located(pieces, areas)
    defects = []
    for k in range(len(pieces)):
        severity = severity_of("gap", areas[k], layer.tolerance)
        if severity:
            code = str(touched[owner[k]])
            defects.append(
                Defect(
                    "gap",
                    severity,
                    (code,),
                    f"a gap of {format_m2(areas[k])} m² inside {PARENT_LEVEL[level]} {code} is not "
                    f"covered by any of its {PLURAL[level]}",
                    lon=coordinate(px[k]),
                    lat=coordinate(py[k]),
                    area_m2=round(float(areas[k]), 3),
                )
            )
    return defects


def _union(geoms: Objects) -> Any:
    if len(geoms) and shapely.coverage_is_valid(geoms):
        return shapely.coverage_union_all(geoms)
    return shapely.union_all(geoms)
