"""Import of a boundary level (边界导入): validate everything, then write one boundary version.

Nothing is written unless the whole layer passes: its own rules and its fit with what is
stored (children inside the current parents, no overlap with current siblings the file
does not replace, stored children still inside the units the file changes). A write is one
:class:`BoundaryVersion` (operation ``import``): new codes are opened; a changed code has
its current row closed and a new one opened; unchanged codes are left alone; codes absent
from the file are kept as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from geoalchemy2 import WKBElement
from numpy.typing import NDArray
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from gis.boundaries import BOUNDARY_LEVELS, LEVELS, PARENT_LEVEL, ancestor_code, parent_code
from gis.boundaries.fields import FIELDS, PARENT_FIELD, map_attributes
from gis.boundaries.io import SourceLayer, read_layer
from gis.boundaries.places import import_places
from gis.boundaries.store import Progress, attribute, features, units
from gis.boundaries.validate import Units, ValidationReport, validate_layer
from gis.boundaries.writes import BATCH, ImportResult, as_multi, same_shape
from gis.errors import InvalidInput
from gis.models import BOUNDARY_MODELS, SRID, BoundaryVersion
from gis.validity import boundary_valid_clause

CHILD_LEVEL = {parent: child for child, parent in PARENT_LEVEL.items()}


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise InvalidInput(f"unknown level {level!r}; use one of {', '.join(LEVELS)}", "level")
    return level


def import_file(
    session: Session,
    level: str,
    path: str | Path,
    *,
    crs: str | None = None,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
    author: str = "import",
    reason: str = "",
    progress: Progress | None = None,
) -> ImportResult:
    """Read, validate and (unless ``dry_run`` or invalid) write one level from a file."""
    check_level(level)
    layer = read_layer(path, crs)
    if progress:
        progress("read", len(layer), len(layer))
    if level in BOUNDARY_LEVELS:
        return import_boundaries(
            session,
            level,
            layer,
            mapping=mapping,
            dry_run=dry_run,
            author=author,
            reason=reason,
            progress=progress,
        )
    return import_places(session, level, layer, mapping=mapping, dry_run=dry_run, progress=progress)


def import_boundaries(
    session: Session,
    level: str,
    layer: SourceLayer,
    *,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
    author: str = "import",
    reason: str = "",
    progress: Progress | None = None,
) -> ImportResult:
    model = BOUNDARY_MODELS[level]
    n = len(layer)
    columns, attribute_defects = map_attributes(level, layer.columns, n, mapping)
    if not dry_run:
        # Validation and write must see the same state: no other writer on this level meanwhile.
        table = model.__table__.name  # type: ignore[attr-defined]
        session.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
    codes = np.array(["" if c is None else str(c) for c in columns["code"]], dtype=object)
    report = _validate(session, level, layer, columns, codes)
    report.extend(attribute_defects)
    if level in CHILD_LEVEL:
        report.extend(_stored_children(session, level, codes, layer.geoms))
    if progress:
        progress("check", n, n)
    result = ImportResult(level, str(layer.path), layer.crs, report, dry_run)
    if not report.ok:
        return result

    geoms = as_multi(layer.geoms)
    _sort_codes(session, level, columns, codes, geoms, result)
    if dry_run or not (result.created or result.changed):
        return result
    _write_version(session, level, layer, columns, codes, geoms, result, author, reason, progress)
    return result


def _validate(
    session: Session,
    level: str,
    layer: SourceLayer,
    columns: Mapping[str, NDArray[np.object_]],
    codes: NDArray[np.object_],
) -> ValidationReport:
    """The layer's own rules and its fit with the stored parents and the siblings it keeps."""
    file_codes = sorted({c for c in codes if c})
    parent_units = None
    touched: list[str] = []
    if level in PARENT_LEVEL:
        touched = sorted({parent_code(c, level) for c in file_codes})
        parent_units = units(session, PARENT_LEVEL[level], touched)
    polygonal = ~shapely.is_missing(layer.geoms)
    extent = shapely.envelope(shapely.union_all(shapely.envelope(layer.geoms[polygonal])))
    others = units(session, level, exclude=file_codes, under=touched, near=extent)
    return validate_layer(
        level,
        codes,
        layer.geoms,
        parent_codes=columns.get(PARENT_FIELD.get(level, ""), None),
        parents=parent_units,
        others=others,
    )


def _sort_codes(
    session: Session,
    level: str,
    columns: Mapping[str, NDArray[np.object_]],
    codes: NDArray[np.object_],
    geoms: NDArray[np.object_],
    result: ImportResult,
) -> None:
    """Each code of the file as created, changed or unchanged against its current row."""
    old_geoms, old_columns = features(session, level, codes=sorted({c for c in codes if c}))
    old_index = {str(c): i for i, c in enumerate(old_columns["code"])}
    specs = FIELDS[level]
    for i, code in enumerate(codes):
        j = old_index.get(code)
        if j is None:
            result.created.append(code)
        elif same_shape(geoms[i : i + 1], old_geoms[j : j + 1])[0] and all(
            columns[s.name][i] == old_columns[s.name][j] for s in specs
        ):
            result.unchanged.append(code)
        else:
            result.changed.append(code)


def _write_version(
    session: Session,
    level: str,
    layer: SourceLayer,
    columns: Mapping[str, NDArray[np.object_]],
    codes: NDArray[np.object_],
    geoms: NDArray[np.object_],
    result: ImportResult,
    author: str,
    reason: str,
    progress: Progress | None,
) -> None:
    """One boundary version: changed codes' current rows closed, new rows for them and the
    created codes opened."""
    model = BOUNDARY_MODELS[level]
    now = session.execute(select(func.now())).scalar_one()
    districts = {ancestor_code(c, "district") for c in result.created + result.changed}
    version = BoundaryVersion(
        author=author,
        reason=reason or f"import of {Path(layer.path).name}",
        operation="import",
        district_code=next(iter(districts)) if len(districts) == 1 else None,
        detail={
            "level": level,
            "file": Path(layer.path).name,
            "crs": layer.crs,
            "created": result.created,
            "changed": result.changed,
        },
    )
    session.add(version)
    session.flush()
    if result.changed:
        session.execute(
            update(model)
            .where(boundary_valid_clause(model), model.code.in_(result.changed))
            .values(valid_to=now, retired_version_id=version.id)
        )
    write = set(result.created + result.changed)
    rows = [
        _row(level, columns, i, geoms[i], version.id, now)
        for i, code in enumerate(codes)
        if code in write
    ]
    for start in range(0, len(rows), BATCH):
        session.execute(insert(model), rows[start : start + BATCH])
        if progress:
            progress("write", min(start + BATCH, len(rows)), len(rows))
    session.flush()
    result.version_id = version.id
    result.written = True


def _row(
    level: str,
    columns: Mapping[str, NDArray[np.object_]],
    i: int,
    geom: Any,
    version_id: int,
    now: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {attribute(spec): columns[spec.name][i] for spec in FIELDS[level]}
    code = str(columns["code"][i])
    row["district_code"] = ancestor_code(code, "district")
    if level in PARENT_FIELD:
        row[PARENT_FIELD[level]] = parent_code(code, level)
    if level == "grid":
        row["street_code"] = ancestor_code(code, "street")
    row["geom"] = WKBElement(shapely.to_wkb(geom), srid=SRID)
    row.update(version_id=version_id, valid_from=now)
    return row


def _stored_children(
    session: Session, level: str, codes: NDArray[np.object_], geoms: NDArray[np.object_]
) -> list[Any]:
    """Stored children of the units in the file that the new outlines would no longer hold."""
    child = CHILD_LEVEL[level]
    valid = ~shapely.is_missing(geoms)
    valid[valid] = shapely.is_valid(geoms[valid])
    new_parents = Units.of(codes[valid], geoms[valid])
    stored = units(session, child, under=[str(c) for c in new_parents.codes])
    if not len(stored):
        return []
    check = validate_layer(
        child, stored.codes, stored.geoms, parents=new_parents, rows=[0] * len(stored)
    )
    return [
        dataclasses.replace(d, message=f"stored {d.message}", rows=())
        for d in check.errors
        if d.kind in ("outside_parent", "gap")
    ]
