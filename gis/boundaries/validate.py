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
    code_arr = np.array(["" if c is None else str(c) for c in codes], dtype=object)
    geom_arr = np.asarray(geoms, dtype=object)
    n = len(code_arr)
    row_no = np.asarray(rows if rows is not None else np.arange(1, n + 1))
    report = ValidationReport(level=level, count=n)
    noun = level
    points = level in POINT_LEVELS
    wanted = (shapely.GeometryType.POINT,) if points else POLYGONAL

    lon, lat = locations(geom_arr)

    def at(i: Any) -> dict[str, Any]:
        return {"lon": _maybe(lon[i]), "lat": _maybe(lat[i]), "rows": (int(row_no[i]),)}

    # Geometry: present, polygonal, valid (the location of the fault from GEOS).
    missing = shapely.is_missing(geom_arr) | shapely.is_empty(geom_arr)
    polygonal = np.isin(shapely.get_type_id(geom_arr), wanted) & ~missing
    for i in _where(~polygonal):
        what = (
            "no geometry"
            if missing[i]
            else f"a {shapely.GeometryType(shapely.get_type_id(geom_arr[i])).name} geometry"
        )
        report.defects.append(
            Defect(
                "bad_geometry",
                "error",
                (code_arr[i],),
                f"{noun} {code_arr[i]} has {what}; a {'point' if points else 'polygon'} is "
                "required",
                **at(i),
            )
        )
    fixed = np.full(n, None, dtype=object)
    fixed[polygonal] = shapely.force_2d(geom_arr[polygonal])
    valid = np.zeros(n, dtype=bool)
    valid[polygonal] = shapely.is_valid(fixed[polygonal])
    for i in _where(polygonal & ~valid):
        reason = str(shapely.is_valid_reason(fixed[i]))
        match = _REASON.match(reason)
        x, y = (float(match["x"]), float(match["y"])) if match else (lon[i], lat[i])
        what = match["what"] if match else reason
        report.defects.append(
            Defect(
                "invalid_geometry",
                "error",
                (code_arr[i],),
                f"{noun} {code_arr[i]} has an invalid geometry: {what} at {x:.7f}, {y:.7f}",
                lon=_maybe(x),
                lat=_maybe(y),
                rows=(int(row_no[i]),),
            )
        )
        fixed[i] = shapely.make_valid(fixed[i], method="structure")
    usable = polygonal.copy()
    usable[polygonal] = ~shapely.is_empty(fixed[polygonal])

    # Codes: format per level, duplicates, the stated parent agreeing with the prefix.
    pattern = re.compile(rf"[0-9]{{{CODE_LENGTH[level]}}}" if level in CODE_LENGTH else r"\S{1,24}")
    well_formed = np.array([bool(pattern.fullmatch(c)) for c in code_arr], dtype=bool)
    for i in _where(~well_formed):
        report.defects.append(
            Defect(
                "malformed_code",
                "error",
                (code_arr[i],),
                f"{noun} code {code_arr[i]!r} is malformed: a {level} code has "
                + (
                    f"{CODE_LENGTH[level]} digits" if level in CODE_LENGTH else "1 to 24 characters"
                ),
                **at(i),
            )
        )
    uniq, inverse, counts = np.unique(code_arr, return_inverse=True, return_counts=True)
    for k in _where((counts > 1) & (uniq != "")):
        idx = np.flatnonzero(inverse == k)
        report.defects.append(
            Defect(
                "duplicate_code",
                "error",
                (uniq[k],),
                f"{noun} code {uniq[k]} appears {counts[k]} times (features "
                f"{', '.join(str(int(row_no[i])) for i in idx)})",
                lon=_maybe(lon[idx[0]]),
                lat=_maybe(lat[idx[0]]),
                rows=tuple(int(row_no[i]) for i in idx),
            )
        )

    if parent_of is not None:
        derived = np.array(["" if p is None else str(p) for p in parent_of], dtype=object)
    else:
        derived = np.array(
            [parent_code(c, level) if level in PARENT_LEVEL else "" for c in code_arr], dtype=object
        )
    if parent_codes is not None and level in PARENT_LEVEL:
        stated = np.array(["" if p is None else str(p) for p in parent_codes], dtype=object)
        for i in _where(well_formed & (stated != "") & (stated != derived)):
            report.defects.append(
                Defect(
                    "parent_mismatch",
                    "error",
                    (code_arr[i], stated[i]),
                    f"{noun} {code_arr[i]} names parent {stated[i]} but its code puts it in "
                    f"{derived[i]}",
                    **at(i),
                )
            )

    # Parents: present, and holding their children.
    parent_index: dict[str, int] = {}
    if parents is not None and level in PARENT_NOUN:
        parent_index = {str(c): j for j, c in enumerate(parents.codes)}
        has_parent = np.array([d in parent_index for d in derived], dtype=bool)
        for i in _where(well_formed & ~has_parent):
            whose = f"{noun} {code_arr[i]}: its {PARENT_NOUN[level]}"
            report.defects.append(
                Defect(
                    "missing_parent",
                    "error",
                    (code_arr[i], derived[i]),
                    f"{whose} {derived[i]} is neither in the file nor in the database"
                    if derived[i]
                    else f"{whose} is not given and no stored one holds it",
                    **at(i),
                )
            )
        inside = np.flatnonzero(usable & well_formed & has_parent)
        if points and len(inside):
            pgeoms = parents.geoms[[parent_index[d] for d in derived[inside]]]
            for i in inside[~shapely.covers(pgeoms, fixed[inside])].tolist():
                report.defects.append(
                    Defect(
                        "outside_parent",
                        "error",
                        (code_arr[i], derived[i]),
                        f"{noun} {code_arr[i]} lies outside its {PARENT_NOUN[level]} {derived[i]}",
                        **at(i),
                    )
                )
        elif len(inside):
            pgeoms = parents.geoms[[parent_index[d] for d in derived[inside]]]
            shapely.prepare(parents.geoms)
            # Only children not plainly covered need the (costly) difference.
            overhang = np.full(len(inside), shapely.Polygon(), dtype=object)
            loose = ~shapely.covers(pgeoms, fixed[inside])
            overhang[loose] = shapely.difference(fixed[inside][loose], pgeoms[loose])
            areas = area_m2(overhang)
            ox, oy = _located(overhang, areas)
            for k, i in enumerate(inside.tolist()):
                severity = _sized("outside_parent", areas[k], tolerance)
                if severity:
                    report.defects.append(
                        Defect(
                            "outside_parent",
                            severity,
                            (code_arr[i], derived[i]),
                            f"{noun} {code_arr[i]} reaches {_m2(areas[k])} m² outside its "
                            f"{PARENT_NOUN[level]} {derived[i]}",
                            lon=_maybe(ox[k]),
                            lat=_maybe(oy[k]),
                            area_m2=round(float(areas[k]), 3),
                            rows=(int(row_no[i]),),
                        )
                    )

    # Siblings: overlaps within the layer and with the current units it does not replace.
    others = others if others is not None else Units.empty()
    keep = ~np.isin(others.codes.astype(str), code_arr) if len(others) else np.zeros(0, bool)
    other_codes, other_geoms = others.codes[keep], others.geoms[keep]
    mine = np.flatnonzero(usable) if not points else np.zeros(0, dtype=int)
    pool_geoms = np.concatenate([fixed[mine], other_geoms]).astype(object)
    pool_codes = np.concatenate([code_arr[mine], other_codes]).astype(object)
    pool_rows = np.concatenate([row_no[mine], np.zeros(len(other_codes), dtype=int)])
    overlapping: set[int] = set()
    if len(mine):
        tree = shapely.STRtree(pool_geoms)
        a, b = tree.query(pool_geoms[: len(mine)], predicate="intersects")
        pair = b > a
        a, b = a[pair], b[pair]
        shared = shapely.intersection(pool_geoms[a], pool_geoms[b])
        areas = area_m2(shared)
        ox, oy = _located(shared, areas)
        for k in range(len(a)):
            severity = _sized("overlap", areas[k], tolerance)
            if not severity:
                continue
            i, j = int(a[k]), int(b[k])
            overlapping.update((i, j))
            where = "" if j < len(mine) else " (already stored)"
            report.defects.append(
                Defect(
                    "overlap",
                    severity,
                    (pool_codes[i], pool_codes[j]),
                    f"{PLURAL[level]} {pool_codes[i]} and {pool_codes[j]}{where} overlap by "
                    f"{_m2(areas[k])} m²",
                    lon=_maybe(ox[k]),
                    lat=_maybe(oy[k]),
                    area_m2=round(float(areas[k]), 3),
                    rows=tuple(int(r) for r in pool_rows[[i, j]] if r),
                )
            )
        # Edges that do not match vertex for vertex: harmless for areas, but worth fixing.
        # One warning for the layer: generated or digitised data often has many.
        edges = shapely.coverage_invalid_edges(pool_geoms)[: len(mine)]
        loose = [i for i in _where(~shapely.is_empty(edges)) if i not in overlapping]
        if loose:
            px, py = locations(edges[loose[0]])
            listed = ", ".join(str(c) for c in pool_codes[loose[:10]])
            more = f" and {len(loose) - 10} more" if len(loose) > 10 else ""
            report.defects.append(
                Defect(
                    "unmatched_edges",
                    "warning",
                    tuple(str(c) for c in pool_codes[loose]),
                    f"{len(loose)} {PLURAL[level]} share edges with neighbours that do not match "
                    f"vertex for vertex ({listed}{more}); areas are unaffected",
                    lon=_maybe(px[0]),
                    lat=_maybe(py[0]),
                    rows=tuple(int(r) for r in pool_rows[loose]),
                )
            )

    if parent_index and len(mine) and level in PARENT_LEVEL:
        report.extend(
            _gaps(level, derived[mine], pool_geoms, pool_codes, parents, parent_index, tolerance)
        )
    return report


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
