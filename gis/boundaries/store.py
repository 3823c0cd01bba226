"""Reading units from the database the way import, export and validation need them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from geoalchemy2 import WKBElement
from numpy.typing import NDArray
from sqlalchemy import TextClause, func, or_, select, text
from sqlalchemy.orm import Session

from gis.boundaries import BOUNDARY_LEVELS
from gis.boundaries.fields import FIELDS, Field
from gis.boundaries.validate import Units
from gis.models import BOUNDARY_MODELS, SRID, Building, Compound, Facility
from gis.validity import boundary_valid, boundary_valid_clause

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total) as a long step advances."""

PLACE_MODELS: dict[str, Any] = {"compound": Compound, "building": Building, "facility": Facility}


def model_for(level: str) -> Any:
    return BOUNDARY_MODELS.get(level) or PLACE_MODELS[level]


def attribute(field: Field) -> str:
    """The model attribute behind a field (community ``class`` is ``community_class``)."""
    return "community_class" if field.name == "class" else field.name


def valid_at(model: Any, at: datetime | None) -> TextClause:
    """Rows current now (``at`` None) or valid at ``at``."""
    clause = text(boundary_valid(model.__tablename__, at is not None))
    return clause if at is None else clause.bindparams(at=at)


def to_shapes(wkbs: Sequence[Any]) -> NDArray[np.object_]:
    data = [bytes(w.data) if isinstance(w, WKBElement) else bytes(w) for w in wkbs]
    return np.asarray(shapely.from_wkb(data), dtype=object).reshape(len(data))


def units(
    session: Session,
    level: str,
    codes: Sequence[str] | None = None,
    *,
    exclude: Sequence[str] = (),
    under: Sequence[str] = (),
    near: Any = None,
) -> Units:
    """Current units of a level: those with ``codes``, or those under a parent code in
    ``under`` or whose box meets geometry ``near``; ``exclude`` drops codes."""
    model = BOUNDARY_MODELS[level]
    query = select(model.code, func.ST_AsBinary(model.geom)).where(boundary_valid_clause(model))
    if codes is not None:
        query = query.where(model.code.in_(list(codes)))
    else:
        reach = []
        if under:
            prefix = len(next(iter(under)))
            reach.append(func.left(model.code, prefix).in_(list(under)))
        if near is not None and not shapely.is_empty(near):
            x0, y0, x1, y1 = shapely.bounds(near)
            reach.append(
                model.geom.op("&&")(func.ST_MakeEnvelope(x0, y0, x1, y1, SRID))  # type: ignore[no-untyped-call]
            )
        if not reach:
            return Units.empty()
        query = query.where(or_(*reach))
    if exclude:
        query = query.where(model.code.not_in(list(exclude)))
    rows = session.execute(query.order_by(model.code)).all()
    return Units.of([r[0] for r in rows], to_shapes([r[1] for r in rows]))


def features(
    session: Session, level: str, at: datetime | None = None, codes: Sequence[str] | None = None
) -> tuple[NDArray[np.object_], dict[str, NDArray[np.object_]]]:
    """Geometries and canonical columns of a level (ordered by code), as of ``at``."""
    model = model_for(level)
    specs = FIELDS[level]
    cols: list[Any] = []
    for spec in specs:
        if level == "building" and spec.name == "compound_code":
            cols.append(
                select(Compound.code)
                .where(Compound.id == Building.compound_id)
                .scalar_subquery()
                .label("compound_code")
            )
        else:
            cols.append(getattr(model, attribute(spec)))
    query = select(func.ST_AsBinary(model.geom), *cols)
    if level in BOUNDARY_LEVELS:
        query = query.where(valid_at(model, at))
    if codes is not None:
        query = query.where(model.code.in_(list(codes)))
    rows = session.execute(query.order_by(model.code)).all()
    geoms = to_shapes([r[0] for r in rows])
    columns = {
        spec.name: np.asarray([r[k + 1] for r in rows], dtype=object)
        for k, spec in enumerate(specs)
    }
    return geoms, columns
