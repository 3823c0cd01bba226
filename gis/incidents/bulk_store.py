"""Storing a bulk intake's assigned rows (批量入库): reports, assignments and their events.

Two ways, one transaction each:

- the normal one, beside a running service: COPY to a staging table, then one
  ``INSERT ... ON CONFLICT (external_id) DO NOTHING`` writes the reports, their
  assignment rows and their events together; the live indexes are maintained row by row;
- a first load (:mod:`gis.incidents.first_load`): the tables are locked and bare, so the
  rows whose ``external_id`` is not stored yet are COPYed straight into them, the events
  are derived from the new reports in one statement, and the indexes are built afterwards.

Both derive the events from the stored reports with the same SQL (:func:`_events_sql`).
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from psycopg import Connection, Cursor
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy.orm import Session

from gis.incidents.first_load import bare_tables
from gis.incidents.intake import REPEATED_FIELDS, SAME_POINT_DEG
from gis.models.base import SRID

Progress = Callable[[str, float], None]
IDS_UP_TO = 10_000  # return incident ids only for inputs this small
COPY_ROWS = 50_000

STAGE_COLUMNS = (
    "row_no int, external_id text, channel text, category_code text, description text, "
    "address text, lon float8, lat float8, input_crs text, reporter_name text, "
    "reporter_phone text, status text, handled_directly bool, received_at timestamptz, "
    "due_at timestamptz, closed_at timestamptz, callback_at timestamptz, rating smallint, "
    "match text, distance_m float8, district_code text, street_code text, "
    "community_code text, grid_code text, station_id int, station_distance_m float8, "
    "station_within_radius bool, party_branch_id int, boundary_version_id int"
)
STAGE_NAMES = [c.strip().split(" ")[0] for c in STAGE_COLUMNS.split(",")]
ASSIGNMENT_COLUMNS = STAGE_NAMES[STAGE_NAMES.index("match") :]
REPORT_COLUMNS = [c for c in STAGE_NAMES if c not in ("row_no", "lon", "lat", *ASSIGNMENT_COLUMNS)]
# What the events are derived from: the columns of the reports just stored.
EVENT_SOURCE = (
    "id, district_code, received_at, status, closed_at, callback_at, rating, handled_directly"
)


def _events_sql(source: str) -> str:
    """``INSERT`` of the events an imported report starts its log with, one row per report
    of ``source`` (a relation with :data:`EVENT_SOURCE`'s columns): received; the move to
    its status, unless still received; the callback, if any."""
    return f"""
INSERT INTO incident_events (incident_id, district_code, at, actor, kind, from_status,
                             to_status, detail)
SELECT id, district_code, received_at, %(actor)s, 'received', NULL, 'received', '{{}}'::jsonb
FROM {source}
UNION ALL
SELECT id, district_code, coalesce(closed_at, received_at), %(actor)s, 'transition',
       'received', status, jsonb_build_object('imported', true,
                                              'handled_directly', handled_directly)
FROM {source} WHERE status <> 'received'
UNION ALL
SELECT id, district_code, callback_at, %(actor)s, 'callback', NULL, NULL,
       CASE WHEN rating IS NULL THEN '{{}}'::jsonb ELSE jsonb_build_object('rating', rating) END
FROM {source} WHERE callback_at IS NOT NULL"""


# Ids are drawn first, so the report and its assignment row are written in one statement;
# rows whose external_id is already stored are skipped (their ids are simply not used).
_STORE = f"""
WITH src AS MATERIALIZED (
  SELECT nextval(%(ids)s::regclass) AS id, s.* FROM incident_stage s
), ins AS (
  INSERT INTO incident_reports (id, {", ".join(REPORT_COLUMNS)}, district_code, geom)
  SELECT id, {", ".join(REPORT_COLUMNS)}, district_code, ST_SetSRID(ST_MakePoint(lon, lat), {SRID})
  FROM src
  ON CONFLICT (external_id) DO NOTHING
  RETURNING {EVENT_SOURCE}
), assigned AS (
  INSERT INTO incident_assignments (incident_id, {", ".join(ASSIGNMENT_COLUMNS)})
  SELECT src.id, {", ".join("src." + c for c in ASSIGNMENT_COLUMNS)} FROM src JOIN ins USING (id)
), events AS ({_events_sql("ins")}
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM events)
"""

# A first load's new reports: the tables are locked, so every row with an id in the drawn
# range is new (an older row with such an id would fail the rebuilt primary key). Read by
# each of the events' three scans rather than materialized once: a million rows kept
# aside cost more than reading them three times.
_NEW_REPORTS = f"SELECT {EVENT_SOURCE} FROM incident_reports WHERE id BETWEEN %(lo)s AND %(hi)s"


# A replayed external_id must carry the report stored under it, as in single intake
# (:func:`gis.incidents.intake.check_same_report`): the first field that differs, per
# staged row whose external_id is stored. ``received_at`` is left out: a bulk row without
# one is stamped with the time of the run, so a re-run of the same file would differ.
_DIFFERING = f"""
SELECT row_no, external_id, field FROM (
  SELECT s.row_no, s.external_id, CASE
    {" ".join(f"WHEN nullif(s.{f}, '') IS DISTINCT FROM nullif(r.{f}, '') THEN '{f}'"
              for f in REPEATED_FIELDS)}
    WHEN abs(ST_X(r.geom) - s.lon) > {SAME_POINT_DEG} THEN 'lon'
    WHEN abs(ST_Y(r.geom) - s.lat) > {SAME_POINT_DEG} THEN 'lat'
  END AS field
  FROM incident_stage s JOIN incident_reports r USING (external_id)
) d WHERE field IS NOT NULL ORDER BY row_no
"""


def no_progress(_: str, __: float) -> None:
    return None


def _driver(session: Session) -> Connection[Any]:
    return session.connection().connection.driver_connection  # type: ignore[return-value]


def _copy(conn: Connection[Any], target: str, frames: Iterable[pl.DataFrame]) -> int:
    """``frames`` (their columns in ``target``'s order) COPYed as CSV into ``target``; the
    number of rows.

    Written in slices through a queue, so the next slice is formatted (and, when ``frames``
    is lazy, made) here while the server parses the previous one.
    """
    rows = 0
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY {target} FROM STDIN (FORMAT csv)", writer=QueuedLibpqWriter(cur)) as copy,
    ):
        for frame in frames:
            rows += frame.height
            for start in range(0, frame.height, COPY_ROWS):
                copy.write(
                    frame.slice(start, COPY_ROWS)
                    .write_csv(include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.f%z")
                    .encode()
                )
    return rows


def _sequence(cur: Cursor[Any]) -> str:
    cur.execute("SELECT pg_get_serial_sequence('incident_reports', 'id')")
    row = cur.fetchone()
    assert row is not None
    return str(row[0])


@dataclass(frozen=True)
class Stored:
    """What storing did: rows staged, rows stored (the rest were stored before) and, for
    small inputs, row number → incident id (new or already stored)."""

    staged: int
    stored: int
    incident_ids: dict[int, int] | None
    # (row number, external_id, field) of the rows replaying a stored external_id with
    # another report: not stored, and not counted as already there either.
    differing: tuple[tuple[int, str, str], ...] = ()


def store_frames(
    session: Session,
    frames: Iterable[pl.DataFrame],
    keys: pl.DataFrame,
    actor: str,
    progress: Progress = no_progress,
    first_load: bool = False,
) -> Stored:
    """Store the staged rows (:data:`STAGE_NAMES`, in ``frames``) not stored yet, with their
    events. ``keys`` holds the ``row_no`` and ``external_id`` of every row that may come."""
    if first_load:
        return _store_bare(_driver(session), frames, keys, actor, progress)
    conn = _driver(session)
    with conn.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS incident_stage ({STAGE_COLUMNS}) ON COMMIT DROP"
        )
        cur.execute("TRUNCATE incident_stage")
    staged = _copy(conn, "incident_stage", frames)
    progress("store", 0.2)
    with conn.cursor() as cur:
        cur.execute(_DIFFERING)
        differing = tuple((int(r), str(e), str(f)) for r, e, f in cur.fetchall())
        cur.execute(_STORE, {"actor": actor, "ids": _sequence(cur)})
        row = cur.fetchone()
        stored = int(row[0]) if row else 0
        progress("store", 1.0)
        ids: dict[int, int] | None = None
        if staged <= IDS_UP_TO:
            cur.execute(
                "SELECT s.row_no, i.id FROM incident_stage s"
                " JOIN incident_reports i USING (external_id)"
            )
            ids = {int(r): int(i) for r, i in cur.fetchall()}
        cur.execute("TRUNCATE incident_stage")
    return Stored(staged, stored, ids, differing)


def _already_stored(conn: Connection[Any], cur: Cursor[Any], frame: pl.DataFrame) -> dict[int, int]:
    """Row number → stored incident id, for the rows whose ``external_id`` is stored."""
    cur.execute("SELECT EXISTS (SELECT FROM incident_reports)")
    row = cur.fetchone()
    if not (row and row[0]) or not frame.height:
        return {}
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS incident_stage_keys (row_no int, external_id text)"
        " ON COMMIT DROP"
    )
    cur.execute("TRUNCATE incident_stage_keys")
    _copy(conn, "incident_stage_keys", [frame.select("row_no", "external_id")])
    cur.execute(
        "SELECT s.row_no, r.id FROM incident_stage_keys s"
        " JOIN incident_reports r USING (external_id)"
    )
    return {int(r): int(i) for r, i in cur.fetchall()}


def _draw_ids(conn: Connection[Any], sequence: str, count: int) -> np.ndarray:
    """``count`` new incident ids from the reports' sequence, in order.

    The reports are locked, so nobody else draws from their sequence: when it counts up by
    one without a cache (an identity column's default), the ids are one range, taken by
    moving the sequence once. Otherwise they are drawn one by one, and read back as a range
    when consecutive.
    """
    if not count:
        return np.empty(0, dtype=np.int64)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT seqincrement = 1 AND seqcache = 1 FROM pg_sequence"
            " WHERE seqrelid = %s::regclass",
            (sequence,),
        )
        plain = cur.fetchone()
        if plain and plain[0]:
            cur.execute(
                "SELECT setval(%(s)s::regclass, nextval(%(s)s::regclass) + %(n)s - 1)",
                {"s": sequence, "n": count},
            )
            (hi,) = cur.fetchone() or (count,)
            return np.arange(hi - count + 1, hi + 1, dtype=np.int64)
        draw = f"SELECT nextval('{sequence}'::regclass) AS v FROM generate_series(1, {int(count)})"
        cur.execute(f"CREATE TEMP TABLE incident_stage_ids ON COMMIT DROP AS {draw}")
        cur.execute("SELECT min(v), max(v) FROM incident_stage_ids")
        lo, hi = cur.fetchone() or (0, 0)
        if hi - lo + 1 == count:
            ids = np.arange(lo, hi + 1, dtype=np.int64)
        else:
            cur.execute("SELECT v FROM incident_stage_ids ORDER BY v")
            ids = np.array([v for (v,) in cur.fetchall()], dtype=np.int64)
        cur.execute("DROP TABLE incident_stage_ids")
    return ids


def _hex_ewkb(lon: np.ndarray, lat: np.ndarray) -> pl.Series:
    """Points as PostGIS hex EWKB (little-endian, with the storage SRID), built in one numpy
    pass: a twentieth of the time shapely takes to make and write a million points."""
    ewkb = np.empty(
        len(lon),
        dtype=[("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")],
    )
    ewkb["order"], ewkb["type"], ewkb["srid"] = 1, 0x20000001, SRID  # point, SRID flag set
    ewkb["x"], ewkb["y"] = lon, lat
    text = np.frombuffer(binascii.hexlify(ewkb.tobytes()), dtype=f"S{2 * ewkb.itemsize}")
    return pl.Series("geom", text).cast(pl.Utf8)


REPORT_TARGET = f"incident_reports (id, {', '.join(REPORT_COLUMNS)}, district_code, geom)"
ASSIGNMENT_TARGET = f"incident_assignments (incident_id, {', '.join(ASSIGNMENT_COLUMNS)})"


def _store_bare(
    conn: Connection[Any],
    frames: Iterable[pl.DataFrame],
    keys: pl.DataFrame,
    actor: str,
    progress: Progress,
) -> Stored:
    """A first load: the new rows COPYed straight into the locked, bare tables.

    Ids are drawn up front for every row that is not stored yet; those of rows refused
    later are simply not used.
    """
    assignments: list[pl.DataFrame] = []
    kept: list[pl.Series] = []  # row numbers staged: only for small inputs
    new_rows: list[pl.Series] = []
    taken = before = 0

    def reports(stored: dict[int, int], ids: np.ndarray) -> Iterator[pl.DataFrame]:
        nonlocal taken, before
        known = pl.Series(list(stored), dtype=keys.get_column("row_no").dtype)
        for part in frames:
            new = part.filter(~pl.col("row_no").is_in(known.implode())) if stored else part
            before += part.height - new.height
            new = new.with_columns(pl.Series("id", ids[taken : taken + new.height]))
            taken += new.height
            if keys.height <= IDS_UP_TO:
                kept.append(part.get_column("row_no"))
                new_rows.append(new.get_column("row_no"))
            assignments.append(new.select(pl.col("id").alias("incident_id"), *ASSIGNMENT_COLUMNS))
            geom = _hex_ewkb(new.get_column("lon").to_numpy(), new.get_column("lat").to_numpy())
            yield new.select("id", *REPORT_COLUMNS, "district_code").with_columns(geom)

    with conn.cursor() as cur, bare_tables(cur):
        stored = _already_stored(conn, cur, keys)
        ids = _draw_ids(conn, _sequence(cur), keys.height - len(stored))
        _copy(conn, REPORT_TARGET, reports(stored, ids))
        progress("store", 0.3)
        _copy(conn, ASSIGNMENT_TARGET, assignments)
        progress("store", 0.5)
        if taken:
            cur.execute(
                _events_sql(f"({_NEW_REPORTS}) AS new"),
                {"lo": int(ids[0]), "hi": int(ids[taken - 1]), "actor": actor},
            )
    progress("store", 1.0)
    if keys.height > IDS_UP_TO:
        return Stored(taken + before, taken, None)
    # Rows refused after the ids were drawn were never staged: no id for them.
    staged = pl.concat(kept).to_list() if kept else []
    new = pl.concat(new_rows).to_list() if new_rows else []
    ids_by_row = {r: stored[r] for r in staged if r in stored}
    ids_by_row.update(zip(new, ids[:taken].tolist(), strict=True))
    return Stored(taken + before, taken, ids_by_row)
