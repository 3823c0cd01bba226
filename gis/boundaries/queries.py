"""GeoJSON of the boundary levels, built inside PostGIS (ST_AsGeoJSON) for speed.

Each level answers as of now or as of a past time (``at``), filtered by an ancestor code
(``parent``), a lon/lat box (``bbox``) and, for communities, the class (社区分类).
Districts and streets carry the household and resident totals of their communities.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, text

from gis.boundaries import BOUNDARY_LEVELS, CODE_LENGTH
from gis.errors import InvalidInput, NotFound
from gis.validity import boundary_valid

CHINA_TIME = timezone(timedelta(hours=8), "CST")  # a time given without offset is Beijing time
COLLECTIONS = {
    "districts": "district",
    "streets": "street",
    "communities": "community",
    "grids": "grid",
}
TABLE = {"district": "districts", "street": "streets", "community": "communities", "grid": "grids"}
PARENT_COLUMN = {
    "district": "NULL::text",
    "street": "u.district_code",
    "community": "u.street_code",
    "grid": "u.community_code",
}
CLASSES = ("A", "B", "C", "D")


def parse_at(value: str, field: str = "at") -> datetime:
    """An ISO 8601 time; without an offset it is taken as Beijing time (UTC+8)."""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(
            f"{field} must be an ISO 8601 time such as 2026-01-31T12:00:00+08:00, got {value!r}",
            field=field,
        ) from exc
    return when if when.tzinfo else when.replace(tzinfo=CHINA_TIME)


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    """``minx,miny,maxx,maxy`` in lon/lat degrees, finite, in range and not inverted."""
    parts = value.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(parts) != 4 or len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
        raise InvalidInput(
            f"bbox must be four numbers minx,miny,maxx,maxy (lon/lat), got {value!r}", field="bbox"
        )
    x0, y0, x1, y1 = numbers
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise InvalidInput("bbox is outside lon -180..180 / lat -90..90", field="bbox")
    if x0 >= x1 or y0 >= y1:
        raise InvalidInput("bbox must have minx < maxx and miny < maxy", field="bbox")
    return x0, y0, x1, y1


def check_parent(level: str, parent: str) -> str:
    """An ancestor code of ``level``: a district, street or community code above it."""
    lengths = [n for n in CODE_LENGTH.values() if n < CODE_LENGTH[level]]
    if not lengths or not re.fullmatch(r"[0-9]+", parent) or len(parent) not in lengths:
        if not lengths:
            raise InvalidInput("districts have no parent", field="parent")
        raise InvalidInput(
            f"parent must be a code of {' or '.join(map(str, lengths))} digits, got {parent!r}",
            field="parent",
        )
    return parent


def check_code(level: str, code: str) -> str:
    if not re.fullmatch(rf"[0-9]{{{CODE_LENGTH[level]}}}", code):
        raise InvalidInput(
            f"a {level} code has {CODE_LENGTH[level]} digits, got {code!r}", field="code"
        )
    return code


def _valid(alias: str, at: datetime | None) -> str:
    return boundary_valid(alias, at is not None)


def _properties(level: str, at: datetime | None) -> tuple[str, str]:
    """The json_build_object arguments of a level's properties, and the join feeding totals."""
    common = (
        f"'code', u.code, 'name', u.name, 'parent_code', {PARENT_COLUMN[level]}, "
        "'area_km2', round((ST_Area(u.geom::geography) / 1e6)::numeric, 4)"
    )
    if level in ("district", "street"):
        column = "district_code" if level == "district" else "street_code"
        join = (
            "LEFT JOIN LATERAL (SELECT coalesce(sum(c.households), 0) AS households, "
            "coalesce(sum(c.residents), 0) AS residents, count(*) AS communities "
            f"FROM communities c WHERE c.{column} = u.code AND {_valid('c', at)}) t ON true"
        )
        extra = (
            ", 'households', t.households, 'residents', t.residents, 'communities', t.communities"
        )
        if level == "street":
            extra += ", 'kind', u.kind"
        return common + extra, join
    if level == "community":
        extra = (
            ", 'class', u.class, 'households', u.households, 'residents', u.residents, "
            "'area_type', u.area_type, 'property_management', u.property_management"
        )
        return common + extra, ""
    extra = ", 'kind', u.kind, 'households', u.households, 'residents', u.residents"
    return common + extra, ""


def _feature_sql(level: str, where: str, at: datetime | None) -> str:
    properties, join = _properties(level, at)
    return (
        'SELECT u.code, \'{"type":"Feature","id":\' || to_json(u.code)::text'
        " || ',\"geometry\":' || ST_AsGeoJSON(u.geom, 9, 0)"
        f" || ',\"properties\":' || json_build_object({properties})::text || '}}' AS feature"
        f" FROM {TABLE[level]} u {join} WHERE {_valid('u', at)} {where}"
    )


def collection(
    conn: Connection,
    level: str,
    *,
    parent: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    at: datetime | None = None,
    community_class: str | None = None,
) -> str:
    """A GeoJSON FeatureCollection (text) of a level's units, ordered by code."""
    if level not in BOUNDARY_LEVELS:
        raise InvalidInput(f"unknown level {level!r}", field="level")
    where = ""
    params: dict[str, Any] = {"at": at}
    if parent is not None:
        check_parent(level, parent)
        where += " AND left(u.code, :plen) = :parent"
        params.update(parent=parent, plen=len(parent))
    if bbox is not None:
        where += (
            " AND u.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)"
            " AND ST_Intersects(u.geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490))"
        )
        params.update(zip(("x0", "y0", "x1", "y1"), bbox, strict=True))
    if community_class is not None:
        if level != "community":
            raise InvalidInput("class applies to communities only", field="class")
        if community_class not in CLASSES:
            raise InvalidInput(f"class must be one of A, B, C, D, got {community_class!r}", "class")
        where += " AND u.class = :cls"
        params["cls"] = community_class
    sql = (
        'SELECT \'{"type":"FeatureCollection","features":[\' '
        "|| coalesce(string_agg(f.feature, ',' ORDER BY f.code), '') || ']}' "
        f"FROM ({_feature_sql(level, where, at)}) f"
    )
    return str(conn.execute(text(sql), params).scalar_one())


def grid_feature(conn: Connection, code: str, at: datetime | None = None) -> str:
    """One grid as a GeoJSON Feature with its community, street and district names."""
    check_code("grid", code)
    properties, _ = _properties("grid", at)
    names = ", ".join(
        f"'{level}_name', (SELECT x.name FROM {TABLE[level]} x WHERE x.code = u.{level}_code "
        f"AND {_valid('x', at)})"
        for level in ("community", "street", "district")
    )
    sql = (
        'SELECT \'{"type":"Feature","id":\' || to_json(u.code)::text'
        " || ',\"geometry\":' || ST_AsGeoJSON(u.geom, 9, 0)"
        f" || ',\"properties\":' || json_build_object({properties}, {names}, "
        "'version_id', u.version_id, 'valid_from', u.valid_from, 'valid_to', u.valid_to)::text"
        f" || '}}' FROM grids u WHERE u.code = :code AND {_valid('u', at)}"
    )
    found: Any = conn.execute(text(sql), {"code": code, "at": at}).scalar_one_or_none()
    if found is None:
        when = f" at {at.isoformat()}" if at else ""
        raise NotFound(f"no grid {code}{when}", field="code")
    return str(found)
