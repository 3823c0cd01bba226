"""Column-wise checks of bulk intake: the same rules as the JSON API, a million rows at a time.

Each record gets the reason of its first broken rule (or none); good records come
back typed, bad ones as :class:`BadRow` with their row number.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from gis.coords import normalize_crs
from gis.errors import InvalidInput
from gis.incidents.bulk_read import ROW, BadRow
from gis.incidents.due import local_zone
from gis.incidents.records import (
    MAX_ADDRESS,
    MAX_DESCRIPTION,
    MAX_EXTERNAL_ID,
    MAX_REPORTER_NAME,
    MAX_REPORTER_PHONE,
)
from gis.models import CHANNELS, STATUSES

TIME_COLUMNS = ("received_at", "closed_at", "callback_at")
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


def _too_long(column: str, limit: int) -> tuple[pl.Expr, pl.Expr]:
    return (
        pl.col(column).str.len_chars() > limit,
        pl.format(f"{column} has {{}} characters; at most {limit}", pl.col(column).str.len_chars()),
    )


def _crs_map(frame: pl.DataFrame) -> dict[str, str | None]:
    mapping: dict[str, str | None] = {"wgs84": "wgs84"}
    for value in frame.get_column("crs").drop_nulls().unique().to_list():
        try:
            mapping[value] = normalize_crs(value)
        except InvalidInput:
            mapping[value] = None
    return mapping


def check(frame: pl.DataFrame, categories: dict[str, int]) -> tuple[pl.DataFrame, list[BadRow]]:
    """Typed good records and the bad ones. ``categories``: active code → due working days."""
    crs_of = _crs_map(frame)
    times = {c: parse_times(frame.get_column(c)) for c in TIME_COLUMNS}
    typed = frame.with_columns(
        pl.col("crs")
        .fill_null("wgs84")
        .replace_strict(crs_of, default=None, return_dtype=pl.Utf8)
        .alias("crs_norm"),
        pl.col("lon").str.strip_chars().cast(pl.Float64, strict=False).alias("x"),
        pl.col("lat").str.strip_chars().cast(pl.Float64, strict=False).alias("y"),
        pl.col("category_code")
        .replace_strict(categories, default=None, return_dtype=pl.Int16)
        .alias("due_days"),
        pl.col("handled_directly")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(_BOOLS, default=None, return_dtype=pl.Boolean)
        .alias("handled"),
        pl.col("rating").str.strip_chars().cast(pl.Int16, strict=False).alias("rating_n"),
        pl.col("status").fill_null("received").alias("status_v"),
        *[times[c].alias(f"{c}_t") for c in TIME_COLUMNS],
    )
    rules: list[tuple[pl.Expr, Any]] = [
        (pl.col("external_id").is_null(), "external_id is required (re-runs are matched by it)"),
        *[
            _too_long(c, n)
            for c, n in (
                ("external_id", MAX_EXTERNAL_ID),
                ("description", MAX_DESCRIPTION),
                ("address", MAX_ADDRESS),
                ("reporter_name", MAX_REPORTER_NAME),
                ("reporter_phone", MAX_REPORTER_PHONE),
            )
        ],
        (
            ~pl.col("external_id").is_first_distinct(),
            pl.format("external_id {} repeats an earlier row", pl.col("external_id")),
        ),
        (pl.col("channel").is_null(), "channel is required"),
        (
            ~pl.col("channel").is_in(CHANNELS),
            pl.format("unknown channel '{}'; one of " + ", ".join(CHANNELS), pl.col("channel")),
        ),
        (pl.col("category_code").is_null(), "category_code is required"),
        (
            pl.col("due_days").is_null(),
            pl.format("unknown category_code '{}'", pl.col("category_code")),
        ),
        (pl.col("crs_norm").is_null(), pl.format("unknown crs '{}'", pl.col("crs"))),
    ]
    for raw, num in (("lon", "x"), ("lat", "y")):
        # Finite, range, swapped and far-outside checks follow in gis.assign.intake.
        rules += [
            (pl.col(raw).is_null(), f"{raw} is required"),
            (pl.col(num).is_null(), pl.format(f"{raw} '{{}}' is not a number", pl.col(raw))),
        ]
    for column in TIME_COLUMNS:
        rules.append(
            (
                pl.col(column).is_not_null() & pl.col(f"{column}_t").is_null(),
                pl.format(f"{column} '{{}}' is not an ISO 8601 time", pl.col(column)),
            )
        )
    rules += [
        (
            pl.col("handled_directly").is_not_null() & pl.col("handled").is_null(),
            "handled_directly must be true or false",
        ),
        (
            ~pl.col("status_v").is_in(STATUSES),
            pl.format("unknown status '{}'; one of " + ", ".join(STATUSES), pl.col("status_v")),
        ),
        (
            pl.col("rating").is_not_null()
            & (pl.col("rating_n").is_null() | ~pl.col("rating_n").is_between(1, 5)),
            "rating must be 1 to 5",
        ),
        (
            (pl.col("callback_at").is_not_null() | pl.col("rating").is_not_null())
            & (pl.col("status_v") != "closed"),
            "callback_at and rating are recorded only after closing",
        ),
    ]
    # pl.format gives null when any argument is null; a rule that fires must say why.
    fallback = pl.lit("invalid value")
    reason = pl.coalesce(
        [
            pl.when(bad).then(
                pl.coalesce(msg, fallback) if isinstance(msg, pl.Expr) else pl.lit(msg)
            )
            for bad, msg in rules
        ]
    )
    typed = typed.with_columns(reason.alias("reason"))
    broken = typed.filter(pl.col("reason").is_not_null())
    bad = [
        BadRow(row, reason, ext)
        for row, reason, ext in broken.select(ROW, "reason", "external_id").iter_rows()
    ]
    good = typed.filter(pl.col("reason").is_null()).select(
        ROW,
        "external_id",
        "channel",
        "category_code",
        pl.col("description").fill_null(""),
        "address",
        "x",
        "y",
        pl.col("crs_norm").alias("crs"),
        "reporter_name",
        "reporter_phone",
        pl.col("status_v").alias("status"),
        pl.col("handled").fill_null(False).alias("handled_directly"),
        "received_at_t",
        "closed_at_t",
        "callback_at_t",
        pl.col("rating_n").alias("rating"),
        "due_days",
    )
    return good, bad
