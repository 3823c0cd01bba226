"""Reading bulk intake (批量导入): CSV, NDJSON or records → one all-text polars frame.

Every value stays text here (checks come later, column-wise), and each record
keeps its row number: for CSV the spreadsheet row (the header is row 1), for
NDJSON the line. A file whose structure polars rejects (a ragged row, a broken
JSON line) is read again record by record, so the broken ones can be named.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
import polars as pl

from gis.errors import InvalidInput
from gis.incidents.fields import FIELDS

ROW = "__row"
REQUIRED = tuple(r.name for r in FIELDS if r.required or r.key)
OPTIONAL = tuple(r.name for r in FIELDS if r.name not in REQUIRED)
COLUMNS = REQUIRED + OPTIONAL
FORMATS = ("csv", "ndjson")


@dataclass(frozen=True)
class BadRow:
    """A refused record: its row number, why, and the field the reason names (if one)."""

    row: int
    reason: str
    external_id: str | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "reason": self.reason, "external_id": self.external_id}


def detect_format(name: str | None, content_type: str | None, head: bytes) -> str:
    """csv or ndjson, from the file name, the content type, or the first byte."""
    lowered = (name or "").lower()
    if lowered.endswith((".ndjson", ".jsonl", ".json")):
        return "ndjson"
    if lowered.endswith(".csv"):
        return "csv"
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in ("application/x-ndjson", "application/ndjson", "application/jsonl"):
        return "ndjson"
    if kind in ("text/csv", "application/csv"):
        return "csv"
    return "ndjson" if head.lstrip()[:1] == b"{" else "csv"


def _check_columns(names: Iterable[str]) -> None:
    present = [n for n in names if n != ROW]
    unknown = [n for n in present if n not in COLUMNS]
    if unknown:
        raise InvalidInput(
            f"unknown column(s) {', '.join(unknown)}; allowed: {', '.join(COLUMNS)}",
            field=unknown[0],
        )
    missing = [n for n in REQUIRED if n not in present]
    if missing:
        raise InvalidInput(f"missing column(s) {', '.join(missing)}", field=missing[0])


def _complete(frame: pl.DataFrame) -> pl.DataFrame:
    """All known columns, as text, in one order."""
    exprs = [
        pl.col(c).cast(pl.Utf8) if c in frame.columns else pl.lit(None, pl.Utf8).alias(c)
        for c in COLUMNS
    ]
    return frame.select(pl.col(ROW).cast(pl.Int64), *exprs)


def read_csv(data: bytes) -> tuple[pl.DataFrame, list[BadRow]]:
    if not data.strip():
        raise InvalidInput("the file is empty", field="file")
    try:
        frame = pl.read_csv(data, infer_schema=False, encoding="utf8")
    except (pl.exceptions.PolarsError, UnicodeDecodeError):
        return _read_csv_slowly(data)
    _check_columns(frame.columns)
    # Blank lines come back as all-null records; they are not rows of data.
    frame = frame.with_row_index(ROW, offset=2).filter(
        ~pl.all_horizontal(pl.exclude(ROW).is_null())
    )
    return _complete(frame), []


def _read_csv_slowly(data: bytes) -> tuple[pl.DataFrame, list[BadRow]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the file is not UTF-8 (byte {exc.start})", field="file") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise InvalidInput("the file is empty", field="file") from exc
    _check_columns(header)
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    bad: list[BadRow] = []
    record = 1
    try:
        for fields in reader:
            record += 1
            if not fields:
                continue
            if len(fields) != len(header):
                bad.append(
                    BadRow(record, f"{len(fields)} fields where the header has {len(header)}")
                )
                continue
            rows.append([f if f != "" else None for f in fields])
            numbers.append(record)
    except csv.Error as exc:
        bad.append(BadRow(record + 1, f"unreadable CSV: {exc}"))
    frame = pl.DataFrame(rows, schema=dict.fromkeys(header, pl.Utf8), orient="row")
    frame = frame.with_columns(pl.Series(ROW, numbers, dtype=pl.Int64))
    return _complete(frame), bad


def read_ndjson(data: bytes) -> tuple[pl.DataFrame, list[BadRow]]:
    if not data.strip():
        raise InvalidInput("the file is empty", field="file")
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    bad: list[BadRow] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            bad.append(BadRow(number, f"not valid JSON: {exc}"))
            continue
        if not isinstance(value, dict):
            bad.append(BadRow(number, "not a JSON object"))
            continue
        records.append(value)
        numbers.append(number)
    return from_records(records, numbers, bad)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        raise ValueError("a nested value")
    return str(value)


def from_records(
    records: Iterable[Mapping[str, Any]],
    numbers: list[int] | None = None,
    bad: list[BadRow] | None = None,
) -> tuple[pl.DataFrame, list[BadRow]]:
    """Records (dicts) → the text frame; unknown keys make a bad row, as in the JSON API."""
    bad = list(bad or [])
    columns: dict[str, list[str | None]] = {c: [] for c in COLUMNS}
    rows: list[int] = []
    known = set(COLUMNS)
    for index, record in enumerate(records):
        number = numbers[index] if numbers is not None else index + 1
        unknown = [k for k in record if k not in known]
        if unknown:
            names = list(map(str, unknown))
            bad.append(BadRow(number, f"unknown field(s) {', '.join(names)}", field=names[0]))
            continue
        nested = [c for c in COLUMNS if isinstance(record.get(c), dict | list)]
        if nested:
            bad.append(BadRow(number, "a field holds a nested object or list", field=nested[0]))
            continue
        values = {c: _text(record.get(c)) for c in COLUMNS}
        for c in COLUMNS:
            columns[c].append(values[c])
        rows.append(number)
    series = [pl.Series(ROW, rows, dtype=pl.Int64)]
    series += [pl.Series(c, columns[c], dtype=pl.Utf8) for c in COLUMNS]
    return pl.DataFrame(series), bad


def read_bytes(data: bytes, fmt: str) -> tuple[pl.DataFrame, list[BadRow]]:
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; csv or ndjson", field="format")
    return read_csv(data) if fmt == "csv" else read_ndjson(data)
