"""OGC API Features (要素服务) queries: collections, bbox, datetime and paging.

Filters come from :mod:`gis.maps.cql` (whitelisted properties, bound values). Incidents
are published without personal data (no reporter name or phone, no description).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    DateTime,
    Float,
    Integer,
    SmallInteger,
    Table,
    TextClause,
    and_,
    func,
    or_,
    select,
    text,
    true,
)

from gis.errors import InvalidInput, NotFound
from gis.maps.cql import instant
from gis.models import INCIDENTS_VIEW, Community, Facility, Grid
from gis.validity import boundary_valid, facility_in_service

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
Condition = ColumnElement[bool] | TextClause


@dataclass(frozen=True)
class Collection:
    id: str
    title_zh: str
    title_en: str
    table: Table
    properties: tuple[str, ...]  # column names published (and filterable)
    # (start, end) columns for datetime; end None for an instant.
    time: tuple[str, str | None]
    versioned: bool
    current: Callable[[Table], Condition]

    def column(self, name: str) -> Any:
        if name not in self.properties and name != "id":
            raise InvalidInput(
                f"unknown property {name!r} of {self.id}; one of {', '.join(self.properties)}",
                field="filter",
            )
        return self.table.c[name]


def _boundary_current(t: Table) -> Condition:
    return text(boundary_valid(t.name, False))


def _facility_current(t: Table) -> Condition:
    return text(facility_in_service(t.name, False))


COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection(
            "grids",
            "网格",
            "Grids",
            Grid.__table__,  # type: ignore[arg-type]
            (
                "code",
                "name",
                "community_code",
                "street_code",
                "district_code",
                "kind",
                "households",
                "residents",
                "valid_from",
                "valid_to",
            ),
            ("valid_from", "valid_to"),
            True,
            _boundary_current,
        ),
        Collection(
            "communities",
            "社区",
            "Communities",
            Community.__table__,  # type: ignore[arg-type]
            (
                "code",
                "name",
                "street_code",
                "district_code",
                "class",
                "area_type",
                "households",
                "residents",
                "valid_from",
                "valid_to",
            ),
            ("valid_from", "valid_to"),
            True,
            _boundary_current,
        ),
        Collection(
            "facilities",
            "服务设施",
            "Facilities",
            Facility.__table__,  # type: ignore[arg-type]
            (
                "code",
                "name",
                "type",
                "district_code",
                "service_radius_m",
                "staff",
                "seats",
                "hours",
                "active",
            ),
            ("created_at", "retired_at"),
            False,
            _facility_current,
        ),
        Collection(
            "incidents",
            "诉求",
            "Incidents",
            INCIDENTS_VIEW,
            (
                "category_code",
                "channel",
                "status",
                "match",
                "district_code",
                "street_code",
                "community_code",
                "grid_code",
                "received_at",
                "due_at",
                "closed_at",
            ),
            ("received_at", None),
            False,
            lambda t: true(),
        ),
    )
}


def collection(collection_id: str) -> Collection:
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(f"no collection {collection_id!r}", field="collectionId") from None


# -- parameters ---------------------------------------------------------------------------


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise InvalidInput("bbox must be four numbers minx,miny,maxx,maxy", field="bbox") from None
    if len(values) == 6:  # 3D bbox: drop the heights
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4 or values[0] > values[2] or values[1] > values[3]:
        raise InvalidInput("bbox must be minx,miny,maxx,maxy with min <= max", field="bbox")
    if not all(-180 <= v <= 180 for v in values[::2]) or not all(
        -90 <= v <= 90 for v in values[1::2]
    ):
        raise InvalidInput("bbox is outside lon/lat range", field="bbox")
    return values[0], values[1], values[2], values[3]


def parse_datetime(text: str | None) -> tuple[datetime | None, datetime | None] | None:
    """An instant ``t`` → (t, t); an interval ``a/b`` with ``..`` for open ends."""
    if not text:
        return None
    if "/" in text:
        start_text, _, end_text = text.partition("/")
        start, end = instant(start_text, "datetime"), instant(end_text, "datetime")
        if start and end and start > end:
            raise InvalidInput("datetime interval ends before it starts", field="datetime")
        return start, end
    moment = instant(text, "datetime")
    return moment, moment


def _time_filter(
    c: Collection, interval: tuple[datetime | None, datetime | None] | None
) -> Condition:
    if interval is None:
        return c.current(c.table)
    start, end = interval
    begin_col = c.table.c[c.time[0]]
    end_col = c.table.c[c.time[1]] if c.time[1] else None
    conds: list[ColumnElement[bool]] = []
    if end is not None:
        conds.append(begin_col <= end)
    if start is not None:
        if end_col is None:
            conds.append(begin_col >= start)
        else:
            # Valid through the instant (half-open [from, to)) or overlapping the interval.
            conds.append(or_(end_col.is_(None), end_col > start))
    return and_(true(), *conds)


# -- queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    features: list[dict[str, Any]]
    number_matched: int


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def query_items(
    conn: Connection,
    c: Collection,
    *,
    bbox: tuple[float, float, float, float] | None,
    interval: tuple[datetime | None, datetime | None] | None,
    where: ColumnElement[bool],
    limit: int,
    offset: int,
) -> Page:
    t = c.table
    conds = [_time_filter(c, interval), where]
    if bbox is not None:
        envelope = func.ST_MakeEnvelope(*bbox, 4490)
        conds.append(and_(t.c.geom.op("&&")(envelope), func.ST_Intersects(t.c.geom, envelope)))
    props = [t.c[p] for p in c.properties]
    stmt = (
        select(t.c.id, func.ST_AsGeoJSON(t.c.geom, 7).label("geometry"), *props)
        .where(*conds)
        .order_by(t.c.id)
        .limit(limit)
        .offset(offset)
    )
    matched = conn.execute(select(func.count()).select_from(t).where(*conds)).scalar_one()
    features = []
    for row in conn.execute(stmt):
        m = row._mapping
        features.append(
            {
                "type": "Feature",
                "id": m["id"],
                "geometry": orjson.loads(m["geometry"]),
                "properties": {p: _json_value(m[p]) for p in c.properties},
            }
        )
    return Page(features, int(matched))


def feature(conn: Connection, c: Collection, feature_id: int) -> dict[str, Any]:
    t = c.table
    props = [t.c[p] for p in c.properties]
    row = conn.execute(
        select(t.c.id, func.ST_AsGeoJSON(t.c.geom, 7).label("geometry"), *props).where(
            t.c.id == feature_id
        )
    ).first()
    if row is None:
        raise NotFound(f"no feature {feature_id} in {c.id}", field="featureId")
    m = row._mapping
    return {
        "type": "Feature",
        "id": m["id"],
        "geometry": orjson.loads(m["geometry"]),
        "properties": {p: _json_value(m[p]) for p in c.properties},
    }


def extent(conn: Connection, c: Collection) -> dict[str, Any]:
    t = c.table
    if not c.versioned and c.id == "incidents":
        # Millions of points: the planner's estimate is enough for a collection's extent.
        est = conn.execute(
            select(
                func.ST_XMin(func.ST_EstimatedExtent("incidents", "geom")),
                func.ST_YMin(func.ST_EstimatedExtent("incidents", "geom")),
                func.ST_XMax(func.ST_EstimatedExtent("incidents", "geom")),
                func.ST_YMax(func.ST_EstimatedExtent("incidents", "geom")),
            )
        ).one()
        if est[0] is not None:
            return {
                "spatial": {"bbox": [list(est)], "crs": CRS84},
                "temporal": {"interval": [[None, None]]},
            }
    row = conn.execute(
        select(
            func.ST_XMin(func.ST_Extent(t.c.geom)),
            func.ST_YMin(func.ST_Extent(t.c.geom)),
            func.ST_XMax(func.ST_Extent(t.c.geom)),
            func.ST_YMax(func.ST_Extent(t.c.geom)),
            func.min(t.c[c.time[0]]),
        ).where(c.current(t))
    ).one()
    bbox: Sequence[float] = (
        [row[0], row[1], row[2], row[3]] if row[0] is not None else [-180, -90, 180, 90]
    )
    start = row[4].isoformat() if row[4] is not None else None
    return {
        "spatial": {"bbox": [list(bbox)], "crs": CRS84},
        "temporal": {"interval": [[start, None]]},
    }


def queryables(c: Collection) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name in c.properties:
        kind = c.table.c[name].type
        if isinstance(kind, Boolean):
            props[name] = {"type": "boolean"}
        elif isinstance(kind, Integer | SmallInteger):
            props[name] = {"type": "integer"}
        elif isinstance(kind, Float):
            props[name] = {"type": "number"}
        elif isinstance(kind, DateTime):
            props[name] = {"type": "string", "format": "date-time"}
        else:
            props[name] = {"type": "string"}
    props["geometry"] = {"format": "geometry-any"}
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "type": "object",
        "title": c.title_en,
        "properties": props,
        "additionalProperties": False,
    }
