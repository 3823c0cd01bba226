"""Column-wise checks of bulk intake: the same rules as the JSON API, a million rows at a time.

The rules come from the field table of :mod:`gis.incidents.fields`, field by field in
its order, then the category and the crs, as the JSON API applies them. Each record
gets the reason of its first broken rule (or none); good records come back typed, bad
ones as :class:`BadRow` with their row number.
"""

from __future__ import annotations

from typing import TypeAlias

import polars as pl

from gis.coords import normalize_crs
from gis.errors import InvalidInput
from gis.incidents.bulk_read import ROW, BadRow
from gis.incidents.due import local_zone
from gis.incidents.fields import FIELDS, RULES, FieldRule

TIME_COLUMNS = tuple(r.name for r in FIELDS if r.kind == "time")
_AWARE = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%z")
_NAIVE = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
)
_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
UTC_TIME = pl.Datetime("us", "UTC")


def _parse_once(text: pl.Series, fmt: str, aware: bool, zone: str) -> pl.Series:
    zone_arg = "UTC" if aware else None
    parsed = text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone=zone_arg)
    if not aware:
        parsed = parsed.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    return parsed.dt.convert_time_zone("UTC")


def parse_times(values: pl.Series) -> pl.Series:
    """ISO 8601 texts → UTC datetimes; naive ones are hotline local time. Unreadable → null."""
    zone = str(local_zone())
    text = values.str.strip_chars().str.replace(r"Z$", "+00:00")
    result = pl.Series(values.name, [None] * len(values), dtype=UTC_TIME)
    attempts = [(f, True) for f in _AWARE] + [(f, False) for f in _NAIVE] + [("%Y-%m-%d", False)]
    for fmt, aware in attempts:
        todo = result.is_null() & text.is_not_null()
        if not todo.any():
            break
        if fmt == "%Y-%m-%d":
            day = text.filter(todo).str.to_date(fmt, strict=False)
            parsed = (
                day.cast(pl.Datetime("us")).dt.replace_time_zone(zone).dt.convert_time_zone("UTC")
            )
        else:
            parsed = _parse_once(text.filter(todo), fmt, aware, zone)
        result = result.scatter(todo.arg_true(), parsed)
    return result


Rule: TypeAlias = tuple[pl.Expr, pl.Expr | str, pl.Expr | str]  # broken, reason, field


def typed_name(rule: FieldRule) -> str:
    """The column holding a field's value read as its kind (null where unreadable)."""
    return f"{rule.name}_t"


def _typed(rule: FieldRule, times: dict[str, pl.Series]) -> pl.Expr | None:
    text = pl.col(rule.name).str.strip_chars()
    if rule.kind == "number":
        return text.cast(pl.Float64, strict=False)
    if rule.kind == "integer":
        return text.cast(pl.Int16, strict=False)
    if rule.kind == "bool":
        return text.str.to_lowercase().replace_strict(_BOOLS, default=None, return_dtype=pl.Boolean)
    if rule.kind == "time":
        return pl.lit(times[rule.name])
    return None


def _value(rule: FieldRule) -> pl.Expr:
    """The field's text, its default where missing."""
    column = pl.col(rule.name)
    return column if rule.default is None else column.fill_null(pl.lit(str(rule.default)))


def _length_rules(rule: FieldRule) -> list[Rule]:
    n, length = rule.name, pl.col(rule.name).str.len_chars()
    out: list[Rule] = []
    if rule.min_length is not None:
        at_least = f"{n} has {{}} characters; at least {rule.min_length}"
        out.append((length < rule.min_length, pl.format(at_least, length), n))
    if rule.max_length is not None:
        at_most = f"{n} has {{}} characters; at most {rule.max_length}"
        out.append((length > rule.max_length, pl.format(at_most, length), n))
    return out


def _value_rules(rule: FieldRule) -> list[Rule]:
    """A present value that cannot be read as the field's kind, or lies outside its range
    or its choices."""
    n, raw = rule.name, pl.col(rule.name)
    typed = pl.col(typed_name(rule))
    unreadable = raw.is_not_null() & typed.is_null()
    out: list[Rule] = []
    if rule.minimum is not None and rule.maximum is not None:
        wrong = unreadable | (typed.is_not_null() & ~typed.is_between(rule.minimum, rule.maximum))
        out.append((wrong, f"{n} must be {rule.minimum} to {rule.maximum}", n))
    elif rule.kind == "number":
        out.append((unreadable, pl.format(f"{n} '{{}}' is not a number", raw), n))
    elif rule.kind == "time":
        out.append((unreadable, pl.format(f"{n} '{{}}' is not an ISO 8601 time", raw), n))
    elif rule.kind == "bool":
        out.append((unreadable, f"{n} must be true or false", n))
    if rule.choices:
        one_of = f"unknown {n} '{{}}'; one of " + ", ".join(rule.choices)
        out.append((~_value(rule).is_in(rule.choices), pl.format(one_of, _value(rule)), n))
    return out


def field_rules(rule: FieldRule) -> list[Rule]:
    """Every rule of one field, in the order they are tried."""
    n, column = rule.name, pl.col(rule.name)
    out: list[Rule] = []
    if rule.key:
        out.append((column.is_null(), f"{n} is required (re-runs are matched by it)", n))
    elif rule.required:
        out.append((column.is_null(), f"{n} is required", n))
    out += _length_rules(rule)
    if rule.key:
        repeats = pl.format(f"{n} {{}} repeats an earlier row", column)
        out.append((~column.is_first_distinct(), repeats, n))
    if rule.kind != "text" or rule.choices:
        out += _value_rules(rule)
    return out


def _crs_map(frame: pl.DataFrame) -> dict[str, str | None]:
    mapping: dict[str, str | None] = {"wgs84": "wgs84"}
    for value in frame.get_column("crs").drop_nulls().unique().to_list():
        try:
            mapping[value] = normalize_crs(value)
        except InvalidInput:
            mapping[value] = None
    return mapping


def check(frame: pl.DataFrame, categories: dict[str, int]) -> tuple[pl.DataFrame, list[BadRow]]:
    """Typed good records and the bad ones. ``categories``: active code → due working days.

    Text is trimmed first, as the JSON API trims it, so both intakes store and measure the
    same text."""
    frame = frame.with_columns(
        pl.col(r.name).str.strip_chars() for r in FIELDS if r.kind == "text"
    )
    crs_of = _crs_map(frame)
    times = {c: parse_times(frame.get_column(c)) for c in TIME_COLUMNS}
    typed = frame.with_columns(
        *[
            expr.alias(typed_name(rule))
            for rule in FIELDS
            if (expr := _typed(rule, times)) is not None
        ],
        _value(RULES["crs"])
        .replace_strict(crs_of, default=None, return_dtype=pl.Utf8)
        .alias("crs_norm"),
        pl.col("category_code")
        .replace_strict(categories, default=None, return_dtype=pl.Int16)
        .alias("due_days"),
    )
    rules = [r for rule in FIELDS for r in field_rules(rule)]
    rules += [
        (
            pl.col("due_days").is_null(),
            pl.format("unknown category_code '{}'", pl.col("category_code")),
            "category_code",
        ),
        (pl.col("crs_norm").is_null(), pl.format("unknown crs '{}'", pl.col("crs")), "crs"),
        (
            (pl.col("callback_at").is_not_null() | pl.col("rating").is_not_null())
            & (_value(RULES["status"]) != "closed"),
            "callback_at and rating are recorded only after closing",
            pl.when(pl.col("callback_at").is_not_null())
            .then(pl.lit("callback_at"))
            .otherwise(pl.lit("rating")),
        ),
    ]
    # pl.format gives null when any argument is null; a rule that fires must say why.
    fallback = pl.lit("invalid value")
    reason = pl.coalesce(
        [pl.when(bad).then(pl.coalesce(_lit(msg), fallback)) for bad, msg, _ in rules]
    )
    field = pl.coalesce([pl.when(bad).then(_lit(name)) for bad, _, name in rules])
    typed = typed.with_columns(reason.alias("reason"), field.alias("field"))
    broken = typed.filter(pl.col("reason").is_not_null())
    bad = [
        BadRow(row, reason, ext, name)
        for row, reason, ext, name in broken.select(
            ROW, "reason", "external_id", "field"
        ).iter_rows()
    ]
    good = typed.filter(pl.col("reason").is_null()).select(
        ROW,
        "external_id",
        "channel",
        "category_code",
        _value(RULES["description"]),
        "address",
        pl.col("lon_t").alias("x"),
        pl.col("lat_t").alias("y"),
        pl.col("crs_norm").alias("crs"),
        "reporter_name",
        "reporter_phone",
        _value(RULES["status"]),
        pl.col("handled_directly_t").fill_null(False).alias("handled_directly"),
        "received_at_t",
        "closed_at_t",
        "callback_at_t",
        pl.col("rating_t").alias("rating"),
        "due_days",
    )
    return good, bad


def _lit(value: pl.Expr | str) -> pl.Expr:
    return value if isinstance(value, pl.Expr) else pl.lit(value)
