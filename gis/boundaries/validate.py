"""Validation of a layer of boundary units (边界校验) against the tiling rules.

Every defect is collected, never just the first: invalid geometry, overlaps between
siblings, gaps between siblings inside their parent, children outside their parent,
malformed, duplicate or mismatched codes and missing parents. Areas are square metres on
the ground (EPSG:4543), locations are lon/lat points a user can paste into a map.

The checks are vectorised Shapely 2 over arrays of codes and geometries, so the demo
generator, boundary edits and the importer all call :func:`validate_layer` the same way.
Each kind of defect has its checker; those between siblings (overlaps, unmatched edges,
gaps) are in :mod:`gis.boundaries.siblings`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from gis.boundaries import CODE_LENGTH, PARENT_LEVEL
from gis.boundaries.checked import (
    PARENT_NOUN,
    CheckedLayer,
    area_m2,
    coordinate,
    format_m2,
    indices,
    located,
    locations,
    severity_of,
)
from gis.boundaries.defects import Defect, Objects, Units, ValidationReport
from gis.boundaries.siblings import Siblings, gaps, overlaps, unmatched_edges
from gis.settings import get_settings

__all__ = ["Defect", "Units", "ValidationReport", "area_m2", "locations", "validate_layer"]
_REASON = re.compile(r"^(?P<what>.*?)\s*\[(?P<x>[-+\d.eE]+) (?P<y>[-+\d.eE]+)\]")


def validate_layer(
    level: str,
    codes: Sequence[str] | Objects,
    geoms: Sequence[Any] | Objects,
    *,
    parent_codes: Sequence[str | None] | Objects | None = None,
    parents: Units | None = None,
    others: Units | None = None,
    sliver_tolerance_m2: float | None = None,
    rows: Sequence[int] | None = None,
    parent_of: Sequence[str] | Objects | None = None,
) -> ValidationReport:
    """Check one level's units (CGCS2000 lon/lat) and return every defect found.

    ``parent_codes`` are the parent codes stated by the file (checked against the code
    prefix); ``parents`` the known units of the parent level (``None``: parents are not
    checked); ``others`` the current units of the same level that the layer does not
    replace (overlaps with them and gaps together with them count).

    Compounds (polygons, no tiling), buildings and facilities (points) are checked too:
    their parents come from ``parent_of`` instead of the code prefix.
    """
    tolerance = (
        get_settings().sliver_tolerance_m2 if sliver_tolerance_m2 is None else sliver_tolerance_m2
    )
    layer = CheckedLayer.of(level, codes, geoms, rows, parent_of, tolerance)
    report = ValidationReport(level=level, count=len(layer.codes))
    # Geometry, then codes, then parents, then siblings: the order the report lists them in.
    report.extend(_bad_geometries(layer))
    report.extend(_invalid_geometries(layer))
    report.extend(_malformed_codes(layer))
    report.extend(_duplicate_codes(layer))
    if parent_codes is not None and level in PARENT_LEVEL:
        report.extend(_parent_mismatches(layer, parent_codes))
    parent_index: dict[str, int] = {}
    if parents is not None and level in PARENT_NOUN:
        parent_index = {str(c): j for j, c in enumerate(parents.codes)}
        report.extend(_missing_parents(layer, parent_index))
        report.extend(_outside_parents(layer, parents, parent_index))
    siblings = Siblings.of(layer, others if others is not None else Units.empty())
    report.extend(overlaps(layer, siblings))
    report.extend(unmatched_edges(layer, siblings))
    if parents is not None and parent_index and len(siblings.mine) and level in PARENT_LEVEL:
        report.extend(gaps(layer, siblings, parents, parent_index))
    return report


def _bad_geometries(layer: CheckedLayer) -> list[Defect]:
    """Units without a geometry, or with one of the wrong type."""
    defects = []
    for i in indices(~layer.polygonal):
        what = (
            "no geometry"
            if layer.missing[i]
            else f"a {shapely.GeometryType(shapely.get_type_id(layer.geoms[i])).name} geometry"
        )
        defects.append(
            Defect(
                "bad_geometry",
                "error",
                (layer.codes[i],),
                f"{layer.level} {layer.codes[i]} has {what}; a "
                f"{'point' if layer.points else 'polygon'} is required",
                **layer.at(i),
            )
        )
    return defects


def _invalid_geometries(layer: CheckedLayer) -> list[Defect]:
    """Invalid geometries, located where GEOS finds the fault."""
    defects = []
    for i in indices(layer.polygonal & ~layer.valid):
        reason = str(shapely.is_valid_reason(layer.flat[i]))
        match = _REASON.match(reason)
        x, y = (float(match["x"]), float(match["y"])) if match else (layer.lon[i], layer.lat[i])
        what = match["what"] if match else reason
        defects.append(
            Defect(
                "invalid_geometry",
                "error",
                (layer.codes[i],),
                f"{layer.level} {layer.codes[i]} has an invalid geometry: {what} at "
                f"{x:.7f}, {y:.7f}",
                lon=coordinate(x),
                lat=coordinate(y),
                rows=(int(layer.rows[i]),),
            )
        )
    return defects


def _malformed_codes(layer: CheckedLayer) -> list[Defect]:
    """Codes not in the level's format (digits of its length, else 1 to 24 characters)."""
    level = layer.level
    form = f"{CODE_LENGTH[level]} digits" if level in CODE_LENGTH else "1 to 24 characters"
    return [
        Defect(
            "malformed_code",
            "error",
            (layer.codes[i],),
            f"{level} code {layer.codes[i]!r} is malformed: a {level} code has {form}",
            **layer.at(i),
        )
        for i in indices(~layer.well_formed)
    ]


def _duplicate_codes(layer: CheckedLayer) -> list[Defect]:
    """Codes given to more than one unit, once per code with every feature that has it."""
    uniq, inverse, counts = np.unique(layer.codes, return_inverse=True, return_counts=True)
    defects = []
    for k in indices((counts > 1) & (uniq != "")):
        idx = np.flatnonzero(inverse == k)
        defects.append(
            Defect(
                "duplicate_code",
                "error",
                (uniq[k],),
                f"{layer.level} code {uniq[k]} appears {counts[k]} times (features "
                f"{', '.join(str(int(layer.rows[i])) for i in idx)})",
                lon=coordinate(layer.lon[idx[0]]),
                lat=coordinate(layer.lat[idx[0]]),
                rows=tuple(int(layer.rows[i]) for i in idx),
            )
        )
    return defects


def _parent_mismatches(
    layer: CheckedLayer, parent_codes: Sequence[str | None] | Objects
) -> list[Defect]:
    """A parent stated in the file that is not the one the unit's code puts it in."""
    stated = np.array(["" if p is None else str(p) for p in parent_codes], dtype=object)
    derived = layer.derived
    return [
        Defect(
            "parent_mismatch",
            "error",
            (layer.codes[i], stated[i]),
            f"{layer.level} {layer.codes[i]} names parent {stated[i]} but its code puts it in "
            f"{derived[i]}",
            **layer.at(i),
        )
        for i in indices(layer.well_formed & (stated != "") & (stated != derived))
    ]


def _has_parent(layer: CheckedLayer, parent_index: dict[str, int]) -> NDArray[np.bool_]:
    return np.array([d in parent_index for d in layer.derived], dtype=bool)


def _missing_parents(layer: CheckedLayer, parent_index: dict[str, int]) -> list[Defect]:
    """Units whose parent is neither in the file nor stored (or, for places, not given)."""
    defects = []
    for i in indices(layer.well_formed & ~_has_parent(layer, parent_index)):
        whose = f"{layer.level} {layer.codes[i]}: its {PARENT_NOUN[layer.level]}"
        parent = layer.derived[i]
        defects.append(
            Defect(
                "missing_parent",
                "error",
                (layer.codes[i], parent),
                f"{whose} {parent} is neither in the file nor in the database"
                if parent
                else f"{whose} is not given and no stored one holds it",
                **layer.at(i),
            )
        )
    return defects


def _outside_parents(
    layer: CheckedLayer, parents: Units, parent_index: dict[str, int]
) -> list[Defect]:
    """Points outside their parent; polygons reaching out of it by more than noise."""
    inside = np.flatnonzero(layer.usable & layer.well_formed & _has_parent(layer, parent_index))
    if not len(inside):
        return []
    pgeoms = parents.geoms[[parent_index[d] for d in layer.derived[inside]]]
    if layer.points:
        return [
            Defect(
                "outside_parent",
                "error",
                (layer.codes[i], layer.derived[i]),
                f"{layer.level} {layer.codes[i]} lies outside its {PARENT_NOUN[layer.level]} "
                f"{layer.derived[i]}",
                **layer.at(i),
            )
            for i in inside[~shapely.covers(pgeoms, layer.fixed[inside])].tolist()
        ]
    return _overhangs(layer, parents, inside, pgeoms)


def _overhangs(
    layer: CheckedLayer, parents: Units, inside: NDArray[np.intp], pgeoms: Objects
) -> list[Defect]:
    """The part of each polygon outside its parent: an error above the sliver tolerance."""
    shapely.prepare(parents.geoms)
    # Only children not plainly covered need the (costly) difference.
    overhang = np.full(len(inside), shapely.Polygon(), dtype=object)
    loose = ~shapely.covers(pgeoms, layer.fixed[inside])
    overhang[loose] = shapely.difference(layer.fixed[inside][loose], pgeoms[loose])
    areas = area_m2(overhang)
    ox, oy = located(overhang, areas)
    defects = []
    for k, i in enumerate(inside.tolist()):
        severity = severity_of("outside_parent", areas[k], layer.tolerance)
        if severity:
            defects.append(
                Defect(
                    "outside_parent",
                    severity,
                    (layer.codes[i], layer.derived[i]),
                    f"{layer.level} {layer.codes[i]} reaches {format_m2(areas[k])} m² outside its "
                    f"{PARENT_NOUN[layer.level]} {layer.derived[i]}",
                    lon=coordinate(ox[k]),
                    lat=coordinate(oy[k]),
                    area_m2=round(float(areas[k]), 3),
                    rows=(int(layer.rows[i]),),
                )
            )
    return defects
