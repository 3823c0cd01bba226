"""Bulk intake (批量受理): records or a file in, assigned incidents out, at speed.

Read (polars) → check column-wise → convert coordinates (numpy) → assign
(``Assigner.locate_many``) → store with PostgreSQL COPY (:mod:`gis.incidents.bulk_store`).
One transaction: bad rows are reported and skipped, good rows are stored; a re-run of the
same file adds nothing. Rows are converted, assigned and staged a slice at a time, so the
server stores one slice while the next is assigned.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy.orm import Session

from gis.assign import Assigner, AssignmentColumns, assigner_for_write
from gis.assign.intake import normalize_points
from gis.coords import CRS_NAMES, to_storage
from gis.incidents.bulk_check import UTC_TIME, check
from gis.incidents.bulk_read import ROW, BadRow, from_records, read_bytes
from gis.incidents.bulk_store import STAGE_NAMES, Progress, no_progress, store_frames
from gis.incidents.columns import codes
from gis.incidents.due import due_at, local_zone
from gis.incidents.intake import replay_differs
from gis.incidents.records import categories


@dataclass
class IngestResult:
    """What a bulk intake did: rows read, stored, already there, and the bad ones."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    # Row number → incident id (new or already stored); only for small inputs.
    incident_ids: dict[int, int] | None = None

    def as_dict(self, max_bad: int = 1000) -> dict[str, Any]:
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "bad": len(self.bad_rows),
            "bad_rows": [b.as_dict() for b in self.bad_rows[:max_bad]],
            "incident_ids": (
                {str(k): v for k, v in self.incident_ids.items()}
                if self.incident_ids is not None
                else None
            ),
        }


def _storage_points(good: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input coordinates → CGCS2000 lon/lat, one vectorised conversion per input CRS.

    The third array marks points that need the full intake checks (not finite, out of
    range); they get NaN here and are judged by :func:`_judge` with the outside ones.
    """
    x = good.get_column("x").to_numpy()
    y = good.get_column("y").to_numpy()
    crs = good.get_column("crs").to_numpy()
    lon, lat = np.full(len(x), np.nan), np.full(len(x), np.nan)
    suspect = ~(np.isfinite(x) & np.isfinite(y))
    for name in np.unique(crs).tolist():
        mask = crs == name
        if name in CRS_NAMES:
            suspect[mask] |= (np.abs(x[mask]) > 180) | (np.abs(y[mask]) > 90)
        ok = mask & ~suspect
        lon[ok], lat[ok] = to_storage(x[ok], y[ok], name)
    suspect |= ~(np.isfinite(lon) & np.isfinite(lat))
    return lon, lat, suspect


def _judge(
    good: pl.DataFrame, suspect: np.ndarray, assigner: Assigner
) -> tuple[np.ndarray, list[BadRow]]:
    """The intake checks (swapped, range, far outside) on the few points that need them.

    A point inside a grid is inside the city, so only points outside every grid (and
    the broken ones) are looked at; returns which rows to keep and the refusals.
    """
    keep = np.ones(len(suspect), dtype=bool)
    bad: list[BadRow] = []
    index = np.flatnonzero(suspect)
    if not len(index):
        return keep, bad
    part = good[index.tolist()]
    rows, ids = part.get_column(ROW), part.get_column("external_id")
    x, y = part.get_column("x").to_numpy(), part.get_column("y").to_numpy()
    crs = part.get_column("crs").to_numpy()
    for name in np.unique(crs).tolist():
        mask = np.flatnonzero(crs == name)
        _, _, problems = normalize_points(x[mask], y[mask], name, assigner)
        for j, problem in zip(mask.tolist(), problems.tolist(), strict=True):
            if problem is not None:
                keep[index[j]] = False
                reason = f"{problem.field}: {problem.message}"
                bad.append(BadRow(int(rows[j]), reason, ids[j], problem.field))
    return keep, bad


def _stage_frame(
    good: pl.DataFrame, lon: np.ndarray, lat: np.ndarray, cols: AssignmentColumns, now: datetime
) -> pl.DataFrame:
    received = good.get_column("received_at_t").fill_null(now)
    frame = good.with_columns(
        received.alias("received_at"),
        pl.Series("lon", lon),
        pl.Series("lat", lat),
        pl.Series("match", cols.match, dtype=pl.Utf8),
        # Centimetres are plenty, and shorter text makes a faster COPY.
        pl.Series("distance_m", np.round(np.asarray(cols.distance_m, dtype=np.float64), 2)),
        codes("district_code", cols.district_code),
        codes("street_code", cols.street_code),
        codes("community_code", cols.community_code),
        codes("grid_code", cols.grid_code),
        pl.Series("station_id", np.asarray(cols.station_id, dtype=np.int64)),
        pl.Series(
            "station_distance_m", np.round(np.asarray(cols.station_distance_m, dtype=np.float64), 2)
        ),
        pl.Series("station_within_radius", np.asarray(cols.station_within_radius, dtype=bool)),
        pl.Series("party_branch_id", np.asarray(cols.party_branch_id, dtype=np.int64)),
    )
    frame = frame.with_columns(
        pl.when(pl.col("station_id") >= 0).then(pl.col("station_id")).alias("station_id"),
        pl.when(pl.col("station_id") >= 0)
        .then(pl.col("station_distance_m"))
        .alias("station_distance_m"),
        pl.when(pl.col("station_id") >= 0)
        .then(pl.col("station_within_radius"))
        .alias("station_within_radius"),
        pl.when(pl.col("party_branch_id") >= 0)
        .then(pl.col("party_branch_id"))
        .alias("party_branch_id"),
        pl.lit(cols.boundary_version_id, pl.Int64).alias("boundary_version_id"),
        pl.when(pl.col("status") == "closed")
        .then(pl.col("closed_at_t").fill_null(pl.col("received_at")))
        .alias("closed_at"),
        pl.col("callback_at_t").alias("callback_at"),
        pl.col("crs").str.slice(0, 16).alias("input_crs"),
    )
    return frame.with_columns(_due_dates(frame)).select(
        pl.col(ROW).alias("row_no"), *[c for c in STAGE_NAMES if c != "row_no"]
    )


def _due_dates(frame: pl.DataFrame) -> pl.Series:
    """Due time per (local day, working days): few distinct pairs, each computed once."""
    zone = str(local_zone())
    keys = frame.select(
        pl.col("received_at").dt.convert_time_zone(zone).dt.date().alias("day"), "due_days"
    )
    pairs = keys.unique()
    table = pairs.with_columns(
        pl.Series(
            "due_at",
            [
                due_at(datetime(d.year, d.month, d.day, 12, tzinfo=local_zone()), int(n))
                for d, n in pairs.iter_rows()
            ],
            dtype=UTC_TIME,
        )
    )
    return keys.join(table, on=["day", "due_days"], how="left", maintain_order="left").get_column(
        "due_at"
    )


def _outside_district(
    good: pl.DataFrame, keep: np.ndarray, districts: np.ndarray, district: str
) -> tuple[np.ndarray, list[BadRow]]:
    """Kept rows assigned to another district than ``district`` (the caller's scope):
    their mask and their refusals."""
    other = keep & (districts != district)
    if not other.any():
        return other, []
    part = good[np.flatnonzero(other).tolist()]
    return other, [
        BadRow(
            int(row), f"location: in district {code}, outside district {district}", ext, "location"
        )
        for row, code, ext in zip(
            part.get_column(ROW),
            districts[other].tolist(),
            part.get_column("external_id"),
            strict=True,
        )
    ]


SLICE_ROWS = 100_000


def _staged(
    good: pl.DataFrame,
    assigner: Assigner,
    district: str | None,
    bad: list[BadRow],
    progress: Progress,
) -> Iterator[pl.DataFrame]:
    """The good rows converted, assigned, judged and staged (:data:`STAGE_NAMES`), a slice
    of :data:`SLICE_ROWS` at a time; each slice's refusals are added to ``bad``."""
    now = datetime.now(UTC)  # one receipt time for every row that gives none
    for start in range(0, good.height, SLICE_ROWS):
        part = good.slice(start, SLICE_ROWS)
        lon, lat, suspect = _storage_points(part)
        cols = assigner.locate_many(np.where(suspect, 0.0, lon), np.where(suspect, 0.0, lat))
        suspect |= cols.match == "outside"
        keep, refused = _judge(part, suspect, assigner)
        if district is not None:
            other, elsewhere = _outside_district(
                part, keep, np.asarray(cols.district_code), district
            )
            keep &= ~other
            refused += elsewhere
        bad += refused
        staged = _stage_frame(part, lon, lat, cols, now)
        progress("assign", min(1.0, (start + SLICE_ROWS) / good.height))
        yield staged.filter(pl.Series(keep)) if refused else staged


def ingest_frame(
    session: Session,
    frame: pl.DataFrame,
    bad: list[BadRow],
    actor: str,
    assigner: Assigner | None = None,
    progress: Progress = no_progress,
    district: str | None = None,
    first_load: bool = False,
) -> IngestResult:
    """The shared tail of every bulk intake: check, convert, assign, store. With
    ``district`` (a district-scoped caller), rows assigned elsewhere are refused;
    ``first_load``: see :mod:`gis.incidents.first_load`."""
    result = IngestResult(received=frame.height + len(bad))
    good, broken = check(frame, categories(session))
    progress("check", 1.0)
    bad = bad + broken
    if good.height:
        if assigner is None:
            assigner = assigner_for_write(session)
        keys = good.select(pl.col(ROW).alias("row_no"), "external_id")
        staged = _staged(good, assigner, district, bad, progress)
        stored = store_frames(session, staged, keys, actor, progress, first_load)
        result.stored, result.incident_ids = stored.stored, stored.incident_ids
        result.duplicates = stored.staged - stored.stored - len(stored.differing)
        bad += [BadRow(row, replay_differs(ext, f), ext, f) for row, ext, f in stored.differing]
        if result.incident_ids is not None:
            for row, _, _ in stored.differing:
                result.incident_ids.pop(row, None)
    result.bad_rows = sorted(bad, key=lambda b: b.row)
    return result


def ingest(
    session: Session,
    records: Iterable[Mapping[str, Any]],
    actor: str,
    assigner: Assigner | None = None,
    district: str | None = None,
) -> IngestResult:
    """Validate, assign and store records; duplicates by external_id are not stored again."""
    frame, bad = from_records(records)
    return ingest_frame(session, frame, bad, actor, assigner, district=district)


def ingest_bytes(
    session: Session,
    data: bytes,
    fmt: str,
    actor: str,
    assigner: Assigner | None = None,
    progress: Progress = no_progress,
    district: str | None = None,
    first_load: bool = False,
) -> IngestResult:
    """A CSV or NDJSON file's bytes → stored incidents (``district``, ``first_load``: see
    ingest_frame)."""
    frame, bad = read_bytes(data, fmt)
    progress("read", 1.0)
    return ingest_frame(session, frame, bad, actor, assigner, progress, district, first_load)
