"""Validation of a layer of boundary units (边界校验) against the tiling rules.

Every defect is collected, never just the first: invalid geometry, overlaps between
siblings, gaps between siblings inside their parent, children outside their parent,
malformed, duplicate or mismatched codes and missing parents. Areas are square metres on
the ground (EPSG:4543), locations are lon/lat points a user can paste into a map.

The checks are vectorised Shapely 2 over arrays of codes and geometries, so the demo
generator, boundary edits and the importer all call :func:`validate_layer` the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from gis.boundaries import CODE_LENGTH, PARENT_LEVEL, parent_code
from gis.boundaries.defects import Defect, Objects, Units, ValidationReport
from gis.coords import geometry_to_local
from gis.settings import get_settings

__all__ = ["Defect", "Units", "ValidationReport", "area_m2", "locations", "validate_layer"]
NOISE_M2 = 1e-3  # below this an overlap, gap or overhang is floating-point noise, not a sliver
POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
PLURAL = {
    "district": "districts",
    "street": "streets",
    "community": "communities",
    "grid": "grids",
    "compound": "compounds",
    "building": "buildings",
    "facility": "facilities",
}
# The unit each level sits in; places (compounds, buildings, facilities) name theirs explicitly.
PARENT_NOUN = {
    **PARENT_LEVEL,
    "compound": "community",
    "building": "community",
    "facility": "district",
}
POINT_LEVELS = ("building", "facility")
_REASON = re.compile(r"^(?P<what>.*?)\s*\[(?P<x>[-+\d.eE]+) (?P<y>[-+\d.eE]+)\]")


def area_m2(geoms: Any) -> NDArray[np.float64]:
    """Area on the ground in square metres (EPSG:4543, the Xining Gauss-Kruger zone)."""
    return np.asarray(shapely.area(geometry_to_local(geoms)), dtype=np.float64)


def locations(geoms: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A point on each geometry (NaN for missing or empty ones)."""
    points = np.atleast_1d(np.asarray(shapely.point_on_surface(geoms), dtype=object))
    ok = ~(shapely.is_missing(points) | shapely.is_empty(points))
    x, y = np.full(len(points), np.nan), np.full(len(points), np.nan)
    x[ok], y[ok] = shapely.get_x(points[ok]), shapely.get_y(points[ok])
    return x, y


def _maybe(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 7)


def _located(geoms: Objects, areas: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """Locations of the pieces big enough to report (the others are never shown)."""
    x, y = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
    big = areas > NOISE_M2
    if big.any():
        x[big], y[big] = locations(_polygonal(np.asarray(geoms, dtype=object)[big]))
    return x, y


def _polygonal(geoms: Objects) -> Objects:
    """The polygonal part of each geometry (intersections may carry touching lines)."""
    out = geoms.copy()
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == shapely.GeometryType.GEOMETRYCOLLECTION)
    for i in mixed:  # rare: only pairs that both overlap and touch
        parts = shapely.get_parts(geoms[i])
        out[i] = shapely.union_all(parts[np.isin(shapely.get_type_id(parts), POLYGONAL)])
    return out


def _m2(area: float) -> str:
    return f"{area:,.1f}" if area >= 1 else f"{area:.4f}"


def _where(mask: Any) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)]


def _sized(kind: str, area: float, tolerance: float) -> str | None:
    """Severity of an area defect: error above the sliver tolerance, warning below, else none."""
    if area > tolerance:
        return "error"
    if area > NOISE_M2:
        return "warning"
    return None


def _union(geoms: Objects) -> Any:
    if len(geoms) and shapely.coverage_is_valid(geoms):
        return shapely.coverage_union_all(geoms)
    return shapely.union_all(geoms)


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
    layer = _Layer.of(level, codes, geoms, rows, parent_of, tolerance)
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
    siblings = _Siblings.of(layer, others if others is not None else Units.empty())
    report.extend(_overlaps(layer, siblings))
    report.extend(_unmatched_edges(layer, siblings))
    if parent_index and len(siblings.mine) and level in PARENT_LEVEL:
        report.extend(
            _gaps(
                level,
                layer.derived[siblings.mine],
                siblings.geoms,
                siblings.codes,
                parents,
                parent_index,
                tolerance,
            )
        )
    return report


@dataclass(frozen=True)
class _Layer:
    """The units being checked, with what every check needs worked out once."""

    level: str
    tolerance: float
    codes: Objects
    geoms: Objects  # as given
    rows: NDArray[np.int_]  # 1-based feature numbers
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    points: bool  # a point level (buildings, facilities)
    missing: NDArray[np.bool_]
    polygonal: NDArray[np.bool_]  # present and of the level's geometry type
    flat: Objects  # the polygonal geometries in 2-D, as given (None for the others)
    valid: NDArray[np.bool_]
    fixed: Objects  # flat, invalid ones made valid
    usable: NDArray[np.bool_]  # polygonal and not empty once made valid
    well_formed: NDArray[np.bool_]  # the code has the level's format
    derived: Objects  # the parent code each unit belongs to ("" when none)

    @classmethod
    def of(
        cls,
        level: str,
        codes: Sequence[str] | Objects,
        geoms: Sequence[Any] | Objects,
        rows: Sequence[int] | None,
        parent_of: Sequence[str] | Objects | None,
        tolerance: float,
    ) -> _Layer:
        code_arr = np.array(["" if c is None else str(c) for c in codes], dtype=object)
        geom_arr = np.asarray(geoms, dtype=object)
        n = len(code_arr)
        points = level in POINT_LEVELS
        wanted = (shapely.GeometryType.POINT,) if points else POLYGONAL
        missing = shapely.is_missing(geom_arr) | shapely.is_empty(geom_arr)
        polygonal = np.isin(shapely.get_type_id(geom_arr), wanted) & ~missing
        flat = np.full(n, None, dtype=object)
        flat[polygonal] = shapely.force_2d(geom_arr[polygonal])
        valid = np.zeros(n, dtype=bool)
        valid[polygonal] = shapely.is_valid(flat[polygonal])
        fixed = flat.copy()
        for i in _where(polygonal & ~valid):
            fixed[i] = shapely.make_valid(flat[i], method="structure")
        usable = polygonal.copy()
        usable[polygonal] = ~shapely.is_empty(fixed[polygonal])
        pattern = re.compile(
            rf"[0-9]{{{CODE_LENGTH[level]}}}" if level in CODE_LENGTH else r"\S{1,24}"
        )
        if parent_of is not None:
            derived = np.array(["" if p is None else str(p) for p in parent_of], dtype=object)
        else:
            derived = np.array(
                [parent_code(c, level) if level in PARENT_LEVEL else "" for c in code_arr],
                dtype=object,
            )
        lon, lat = locations(geom_arr)
        return cls(
            level=level,
            tolerance=tolerance,
            codes=code_arr,
            geoms=geom_arr,
            rows=np.asarray(rows if rows is not None else np.arange(1, n + 1)),
            lon=lon,
            lat=lat,
            points=points,
            missing=missing,
            polygonal=polygonal,
            flat=flat,
            valid=valid,
            fixed=fixed,
            usable=usable,
            well_formed=np.array([bool(pattern.fullmatch(c)) for c in code_arr], dtype=bool),
            derived=derived,
        )

    def at(self, i: Any) -> dict[str, Any]:
        """Where unit ``i`` is: its location and its feature number."""
        return {
            "lon": _maybe(self.lon[i]),
            "lat": _maybe(self.lat[i]),
            "rows": (int(self.rows[i]),),
        }


def _bad_geometries(layer: _Layer) -> list[Defect]:
    """Units without a geometry, or with one of the wrong type."""
    defects = []
    for i in _where(~layer.polygonal):
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


def _invalid_geometries(layer: _Layer) -> list[Defect]:
    """Invalid geometries, located where GEOS finds the fault."""
    defects = []
    for i in _where(layer.polygonal & ~layer.valid):
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
                lon=_maybe(x),
                lat=_maybe(y),
                rows=(int(layer.rows[i]),),
            )
        )
    return defects


def _malformed_codes(layer: _Layer) -> list[Defect]:
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
        for i in _where(~layer.well_formed)
    ]


def _duplicate_codes(layer: _Layer) -> list[Defect]:
    """Codes given to more than one unit, once per code with every feature that has it."""
    uniq, inverse, counts = np.unique(layer.codes, return_inverse=True, return_counts=True)
    defects = []
    for k in _where((counts > 1) & (uniq != "")):
        idx = np.flatnonzero(inverse == k)
        defects.append(
            Defect(
                "duplicate_code",
                "error",
                (uniq[k],),
                f"{layer.level} code {uniq[k]} appears {counts[k]} times (features "
                f"{', '.join(str(int(layer.rows[i])) for i in idx)})",
                lon=_maybe(layer.lon[idx[0]]),
                lat=_maybe(layer.lat[idx[0]]),
                rows=tuple(int(layer.rows[i]) for i in idx),
            )
        )
    return defects


def _parent_mismatches(layer: _Layer, parent_codes: Sequence[str | None] | Objects) -> list[Defect]:
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
        for i in _where(layer.well_formed & (stated != "") & (stated != derived))
    ]


def _has_parent(layer: _Layer, parent_index: dict[str, int]) -> NDArray[np.bool_]:
    return np.array([d in parent_index for d in layer.derived], dtype=bool)


def _missing_parents(layer: _Layer, parent_index: dict[str, int]) -> list[Defect]:
    """Units whose parent is neither in the file nor stored (or, for places, not given)."""
    defects = []
    for i in _where(layer.well_formed & ~_has_parent(layer, parent_index)):
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


def _outside_parents(layer: _Layer, parents: Units, parent_index: dict[str, int]) -> list[Defect]:
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
    layer: _Layer, parents: Units, inside: NDArray[np.intp], pgeoms: Objects
) -> list[Defect]:
    """The part of each polygon outside its parent: an error above the sliver tolerance."""
    shapely.prepare(parents.geoms)
    # Only children not plainly covered need the (costly) difference.
    overhang = np.full(len(inside), shapely.Polygon(), dtype=object)
    loose = ~shapely.covers(pgeoms, layer.fixed[inside])
    overhang[loose] = shapely.difference(layer.fixed[inside][loose], pgeoms[loose])
    areas = area_m2(overhang)
    ox, oy = _located(overhang, areas)
    defects = []
    for k, i in enumerate(inside.tolist()):
        severity = _sized("outside_parent", areas[k], layer.tolerance)
        if severity:
            defects.append(
                Defect(
                    "outside_parent",
                    severity,
                    (layer.codes[i], layer.derived[i]),
                    f"{layer.level} {layer.codes[i]} reaches {_m2(areas[k])} m² outside its "
                    f"{PARENT_NOUN[layer.level]} {layer.derived[i]}",
                    lon=_maybe(ox[k]),
                    lat=_maybe(oy[k]),
                    area_m2=round(float(areas[k]), 3),
                    rows=(int(layer.rows[i]),),
                )
            )
    return defects


@dataclass(frozen=True)
class _Siblings:
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
    def of(cls, layer: _Layer, others: Units) -> _Siblings:
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
            x, y = _located(shared, areas)
        severity = [_sized("overlap", area, layer.tolerance) for area in areas]
        return cls(mine, geoms, codes, rows, a, b, areas, x, y, severity)


def _overlaps(layer: _Layer, siblings: _Siblings) -> list[Defect]:
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
                f"{_m2(s.areas[k])} m²",
                lon=_maybe(s.x[k]),
                lat=_maybe(s.y[k]),
                area_m2=round(float(s.areas[k]), 3),
                rows=tuple(int(r) for r in s.rows[[i, j]] if r),
            )
        )
    return defects


def _unmatched_edges(layer: _Layer, siblings: _Siblings) -> list[Defect]:
    """Edges that do not match vertex for vertex: harmless for areas, but worth fixing.

    One warning for the layer: generated or digitised data often has many. Units that
    overlap are left out (their overlap is reported already).
    """
    s = siblings
    if not len(s.mine):
        return []
    overlapping = {int(i) for k, sev in enumerate(s.severity) if sev for i in (s.a[k], s.b[k])}
    edges = shapely.coverage_invalid_edges(s.geoms)[: len(s.mine)]
    loose = [i for i in _where(~shapely.is_empty(edges)) if i not in overlapping]
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
            lon=_maybe(px[0]),
            lat=_maybe(py[0]),
            rows=tuple(int(r) for r in s.rows[loose]),
        )
    ]


def _gaps(
    level: str,
    my_parents: Objects,
    pool_geoms: Objects,
    pool_codes: Objects,
    parents: Units | None,
    parent_index: dict[str, int],
    tolerance: float,
) -> list[Defect]:
    """Parts of each touched parent that no child (in the file or stored) covers."""
    assert parents is not None
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
    px, py = _located(pieces, areas)
    defects = []
    for k in range(len(pieces)):
        severity = _sized("gap", areas[k], tolerance)
        if severity:
            code = str(touched[owner[k]])
            defects.append(
                Defect(
                    "gap",
                    severity,
                    (code,),
                    f"a gap of {_m2(areas[k])} m² inside {PARENT_LEVEL[level]} {code} is not "
                    f"covered by any of its {PLURAL[level]}",
                    lon=_maybe(px[k]),
                    lat=_maybe(py[k]),
                    area_m2=round(float(areas[k]), 3),
                )
            )
    return defects
