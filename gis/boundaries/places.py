"""Import of what sits inside the boundaries: compounds (小区), buildings (楼栋), facilities.

These are not versioned: a row is created or updated by its code, all in the caller's one
transaction, and only when the whole file passes validation (compounds inside their
community and not overlapping, buildings inside their community and compound, facilities
inside their district with a sensible service radius).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely
from geoalchemy2 import WKBElement
from numpy.typing import NDArray
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis.boundaries import ancestor_code
from gis.boundaries.fields import FIELDS, map_attributes
from gis.boundaries.io import SourceLayer
from gis.boundaries.store import PLACE_MODELS, Progress, features, to_shapes, units
from gis.boundaries.validate import Defect, Units, locations, validate_layer
from gis.boundaries.writes import BATCH, ImportResult, as_multi, same_shape
from gis.coverage.circles import refresh_service_areas
from gis.facility_kinds import MAX_RADIUS_M, default_radius_m
from gis.models import FACILITY_TYPES, SRID, Compound


def import_places(
    session: Session,
    level: str,
    layer: SourceLayer,
    *,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    model = PLACE_MODELS[level]
    n = len(layer)
    columns, defects = map_attributes(level, layer.columns, n, mapping)
    if not dry_run:
        session.execute(text(f"LOCK TABLE {model.__tablename__} IN SHARE ROW EXCLUSIVE MODE"))
    codes = np.array(["" if c is None else str(c) for c in columns["code"]], dtype=object)
    if level == "facility":
        parent_level, parent_of = "district", _facility_districts(session, layer, columns)
        defects += _radius_defects(columns, codes)
    else:
        parent_level, parent_of = "community", columns["community_code"]
    wanted = sorted({str(p) for p in parent_of if p})
    others = _stored_compounds(session, codes, layer.geoms) if level == "compound" else None
    report = validate_layer(
        level,
        codes,
        layer.geoms,
        parents=units(session, parent_level, wanted),
        others=others,
        parent_of=parent_of,
    )
    report.extend(defects)
    if level == "building":
        report.extend(_building_compounds(session, columns, codes, layer.geoms))
    if progress:
        progress("check", n, n)
    result = ImportResult(level, str(layer.path), layer.crs, report, dry_run)
    if not report.ok:
        return result

    geoms = as_multi(layer.geoms) if level == "compound" else layer.geoms
    old_geoms, old = features(session, level, codes=list(codes))
    old_index = {str(c): i for i, c in enumerate(old["code"])}
    rows: list[dict[str, Any]] = []
    for i, code in enumerate(codes):
        row = {s.name: columns[s.name][i] for s in FIELDS[level]}
        j = old_index.get(code)
        if (
            j is not None
            and all(row[k] == old[k][j] for k in row)
            and same_shape(geoms[i : i + 1], old_geoms[j : j + 1])[0]
        ):
            result.unchanged.append(code)
        else:
            (result.created if j is None else result.changed).append(code)
        row["district_code"] = ancestor_code(str(parent_of[i]), "district")
        row["geom"] = WKBElement(shapely.to_wkb(geoms[i]), srid=SRID)
        rows.append(row)
    if dry_run:
        return result
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        ids += _upsert(session, level, rows[start : start + BATCH])
        if progress:
            progress("write", min(start + BATCH, len(rows)), len(rows))
    if level == "facility":
        refresh_service_areas(session, ids)  # the circle on the ground, as facility edits do
    session.flush()
    result.written = True
    return result


def _upsert(session: Session, level: str, rows: list[dict[str, Any]]) -> list[int]:
    model = PLACE_MODELS[level]
    if level == "building":
        codes = sorted({r["compound_code"] for r in rows if r["compound_code"]})
        found = session.execute(select(Compound.code, Compound.id).where(Compound.code.in_(codes)))
        ids = {r[0]: r[1] for r in found}
        for r in rows:
            r["compound_id"] = ids.get(r.pop("compound_code"))
    statement = insert(model).values(rows)
    keep = {k: statement.excluded[k] for k in rows[0] if k != "code"}
    upsert = statement.on_conflict_do_update(index_elements=["code"], set_=keep)
    return [int(r[0]) for r in session.execute(upsert.returning(model.id))]


def _stored_compounds(
    session: Session, codes: NDArray[np.object_], geoms: NDArray[np.object_]
) -> Units:
    present = geoms[~shapely.is_missing(geoms)]
    if not len(present):
        return Units.empty()
    x0, y0, x1, y1 = shapely.total_bounds(present)
    found = session.execute(
        select(Compound.code, func.ST_AsBinary(Compound.geom)).where(
            Compound.geom.op("&&")(func.ST_MakeEnvelope(x0, y0, x1, y1, SRID)),  # type: ignore[no-untyped-call]
            Compound.code.not_in([str(c) for c in codes]),
        )
    ).all()
    return Units.of([r[0] for r in found], to_shapes([r[1] for r in found]))


def _facility_districts(
    session: Session, layer: SourceLayer, columns: Mapping[str, NDArray[np.object_]]
) -> NDArray[np.object_]:
    """The stated district of each facility, else the district its point lies in."""
    stated = columns["district_code"]
    districts = units(session, "district", near=shapely.box(-180, -90, 180, 90))
    located = np.full(len(layer), "", dtype=object)
    points = np.flatnonzero(~shapely.is_missing(layer.geoms))
    if len(districts) and len(points):
        a, b = shapely.STRtree(districts.geoms).query(layer.geoms[points], predicate="within")
        located[points[a]] = districts.codes[b]
    return np.where([bool(s) for s in stated], stated, located)


def _radius_defects(
    columns: dict[str, NDArray[np.object_]], codes: NDArray[np.object_]
) -> list[Defect]:
    """Known types; the type's default radius when none is given; a sensible radius."""
    defects = []
    radii = columns["service_radius_m"]
    for i, kind in enumerate(columns["type"]):
        if kind not in FACILITY_TYPES:
            defects.append(
                Defect(
                    "bad_value",
                    "error",
                    (str(codes[i]),),
                    f"facility {codes[i]}: type {kind!r} is not one of {', '.join(FACILITY_TYPES)}",
                    rows=(i + 1,),
                )
            )
            continue
        if radii[i] is None:
            radii[i] = default_radius_m(str(kind))
        radius = radii[i]
        if radius is None or not 0 < float(radius) <= MAX_RADIUS_M:
            defects.append(
                Defect(
                    "bad_value",
                    "error",
                    (str(codes[i]),),
                    f"facility {codes[i]}: service_radius_m must be above 0 and at most "
                    f"{MAX_RADIUS_M:.0f} m, got {radius}",
                    rows=(i + 1,),
                )
            )
    return defects


def _building_compounds(
    session: Session,
    columns: Mapping[str, NDArray[np.object_]],
    codes: NDArray[np.object_],
    geoms: NDArray[np.object_],
) -> list[Defect]:
    """A building naming a compound must name a stored one and lie inside it."""
    named = sorted({str(c) for c in columns["compound_code"] if c})
    query = select(Compound.code, func.ST_AsBinary(Compound.geom)).where(Compound.code.in_(named))
    found: dict[str, Any] = {r[0]: r[1] for r in session.execute(query)}
    shapes = dict(zip(found, to_shapes(list(found.values())), strict=True))
    lon, lat = locations(geoms)
    defects = []
    for i, compound in enumerate(columns["compound_code"]):
        if not compound:
            continue
        shape = shapes.get(str(compound))
        if shape is None or (geoms[i] is not None and not shapely.covers(shape, geoms[i])):
            what = "is not stored" if shape is None else "does not hold it"
            defects.append(
                Defect(
                    "missing_parent" if shape is None else "outside_parent",
                    "error",
                    (str(codes[i]), str(compound)),
                    f"building {codes[i]}: its compound {compound} {what}",
                    lon=None if np.isnan(lon[i]) else float(lon[i]),
                    lat=None if np.isnan(lat[i]) else float(lat[i]),
                    rows=(i + 1,),
                )
            )
    return defects
