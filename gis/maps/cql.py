"""CQL2 filters (过滤条件) for OGC API Features, parsed safely.

The ``cql2`` library parses CQL2 text or JSON into CQL2-JSON; this module turns that tree
into a SQLAlchemy expression. Only whitelisted properties become columns and every literal
is a bound parameter, so no text of a request ever reaches SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Protocol

import cql2
from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    Float,
    Integer,
    SmallInteger,
    and_,
    not_,
    or_,
    true,
)

from gis.errors import InvalidInput


class Filterable(Protocol):
    """What a filter is translated against (an OGC collection): its whitelisted columns."""

    def column(self, name: str) -> Any:
        """The column of a published property; InvalidInput for any other name."""
        ...


def instant(text: str, field: str) -> datetime | None:
    if text in ("", ".."):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{text!r} is not an RFC 3339 date-time", field=field) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _literal(column: Any, value: Any) -> Any:
    """Check a literal against the column's type; it is then bound, never inlined."""
    kind = column.type
    if isinstance(value, dict):
        value = value.get("timestamp", value.get("date"))
    if isinstance(kind, Boolean):
        if isinstance(value, bool):
            return value
    elif isinstance(kind, Integer | SmallInteger | Float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
    elif isinstance(kind, DateTime):
        if isinstance(value, str):
            return instant(value, "filter")
        if isinstance(value, date):
            return value
    elif isinstance(value, str):
        return value
    raise InvalidInput(f"{value!r} does not fit property {column.name!r} ({kind})", field="filter")


def _translate(c: Filterable, node: Any) -> Any:
    if not isinstance(node, dict) or "op" not in node:
        raise InvalidInput("filter must be a boolean expression", field="filter")
    op = str(node["op"]).lower()
    args = node.get("args", [])
    if op in ("and", "or"):
        parts = [_translate(c, a) for a in args]
        return and_(*parts) if op == "and" else or_(*parts)
    if op == "not":
        return not_(_translate(c, args[0]))
    if not args or not isinstance(args[0], dict) or "property" not in args[0]:
        raise InvalidInput(f"{op}: the left side must be a property", field="filter")
    column = c.column(str(args[0]["property"]))
    if op == "isnull":
        return column.is_(None)
    if op in COMPARISONS and len(args) == 2:
        return COMPARISONS[op](column, _literal(column, args[1]))
    if op == "like" and len(args) == 2:
        return column.like(_literal(column, args[1]))
    if op == "between" and len(args) == 3:
        return column.between(_literal(column, args[1]), _literal(column, args[2]))
    if op == "in" and len(args) == 2 and isinstance(args[1], list):
        return column.in_([_literal(column, v) for v in args[1]])
    raise InvalidInput(f"filter operator {op!r} is not supported here", field="filter")


def parse_filter(c: Filterable, text: str | None, lang: str | None) -> ColumnElement[bool]:
    if not text:
        return true()
    if lang not in (None, "", "cql2-text", "cql2-json"):
        raise InvalidInput("filter-lang must be cql2-text or cql2-json", field="filter-lang")
    try:
        expr = cql2.parse_json(text) if lang == "cql2-json" else cql2.parse_text(text)
        tree = expr.to_json()
    except Exception as exc:  # the parser's own errors name the position
        raise InvalidInput(f"filter does not parse: {exc}", field="filter") from None
    result: ColumnElement[bool] = _translate(c, tree)
    return result
