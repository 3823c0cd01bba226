"""Re-assignment (重新归属) of open incidents after a boundary edit or a facility change.

Open incidents (not closed) are located again with the given assigner; those
whose units change get their assignment row rewritten in one statement, and
each group that moved together (same old units, same new ones) is logged once
in ``incident_moves``, which every listed incident's event log includes.
Closed incidents keep the version they were assigned under.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import shapely
from psycopg import Connection
from shapely import Geometry
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.assign import Assigner
from gis.incidents.columns import codes

# The units as the move log names them (old and new), with the assignment's columns.
_LOGGED = (
    ("match", "match"),
    ("grid", "grid_code"),
    ("community", "community_code"),
    ("street", "street_code"),
    ("district", "district_code"),
    ("station_id", "station_id"),
    ("party_branch_id", "party_branch_id"),
    ("boundary_version_id", "boundary_version_id"),
)
# An incident moved when one of these changed (the version alone is not a move).
UNIT_COLUMNS = tuple(column for _, column in _LOGGED if column != "boundary_version_id")
_STAGE = (
    "id bigint, match text, distance_m float8, grid_code text, community_code text, "
    "street_code text, district_code text, station_id int, station_distance_m float8, "
    "station_within_radius bool, party_branch_id int, boundary_version_id int"
)


def _units(prefix: str) -> str:
    return ", ".join(f"'{key}', {prefix}_{column}" for key, column in _LOGGED)


_UPDATE = f"""
WITH moved AS (
  SELECT s.*, {", ".join(f"a.{c} AS old_{c}" for _, c in _LOGGED)}
  FROM incident_assignments a
  JOIN reassign_stage s ON s.id = a.incident_id
  JOIN incident_reports r ON r.id = a.incident_id
  WHERE r.status <> 'closed'
    AND ({", ".join("a." + c for c in UNIT_COLUMNS)})
        IS DISTINCT FROM ({", ".join("s." + c for c in UNIT_COLUMNS)})
  -- The report is locked too, so a close committed while this waits is seen and wins;
  -- report before assignment, the order a transition locks them in, and incidents in id
  -- order (rows are locked after the sort), so neither a transition nor another
  -- re-assignment running at once can deadlock with this one.
  ORDER BY a.incident_id
  FOR SHARE OF r FOR UPDATE OF a
), upd AS (
  UPDATE incident_assignments a SET match = m.match, distance_m = m.distance_m,
    grid_code = m.grid_code, community_code = m.community_code, street_code = m.street_code,
    district_code = m.district_code, station_id = m.station_id,
    station_distance_m = m.station_distance_m, station_within_radius = m.station_within_radius,
    party_branch_id = m.party_branch_id, boundary_version_id = m.boundary_version_id
  FROM moved m WHERE a.incident_id = m.id
  RETURNING a.incident_id
), sharded AS (
  -- The report's sharding key follows its district (rare: an edit stays in one community).
  UPDATE incident_reports r SET district_code = m.district_code
  FROM moved m WHERE r.id = m.id AND m.district_code IS DISTINCT FROM m.old_district_code
), logged AS (
  INSERT INTO incident_moves (actor, note, district_code, boundary_version_id, old, new,
                              incident_ids)
  SELECT :actor, :reason, new_district_code, :version,
         jsonb_build_object({_units("old")}), jsonb_build_object({_units("new")}),
         array_agg(id ORDER BY id)
  FROM (SELECT m.id, {", ".join(f"m.old_{c}, m.{c} AS new_{c}" for _, c in _LOGGED)}
        FROM moved m) AS g
  GROUP BY {", ".join(f"old_{c}, new_{c}" for _, c in _LOGGED)}
)
SELECT count(*) FROM upd
"""


@dataclass(frozen=True)
class NearGrids:
    """The open incidents an edit of ``codes`` may move: those of the grids, and snapped or
    unassigned ones within ``near`` degrees of ``box`` (the grids' extent)."""

    codes: list[str]
    box: BaseGeometry
    near: float


_READ = """
SELECT coalesce(array_agg(id), '{}'), array_agg(ST_X(geom)), array_agg(ST_Y(geom)),
       array_agg(match), array_agg(grid_code), array_agg(coalesce(station_id, -1)),
       array_agg(coalesce(party_branch_id, -1))
FROM incidents WHERE """


def reassign_open(
    session: Session,
    assigner: Assigner | Callable[[], Assigner],
    incident_ids: Iterable[int] | None = None,
    actor: str = "system",
    reason: str = "",
    area: Geometry | None = None,
    version: int | None = None,
    near_grids: NearGrids | None = None,
) -> int:
    """Re-assign open incidents (all, the given ids, those inside ``area`` or ``near_grids``);
    return how many moved. ``area`` (CGCS2000) limits the work to where boundaries or
    facilities changed; ``version``: the boundary version whose commit moves them (logged
    with the move). ``assigner`` may be a factory, called only if there is work to do."""
    where: list[str] = ["status <> 'closed'"]
    params: dict[str, Any] = {}
    if incident_ids is not None:
        ids = sorted({int(i) for i in incident_ids})
        if not ids:
            return 0
        where.append("id = ANY(:ids)")
        params["ids"] = ids
    if area is not None:
        where.append("ST_Intersects(geom, ST_GeomFromWKB(:area, 4490))")
        params["area"] = area.wkb
    if near_grids is not None:
        # A union, not an OR across the two tables, so each side uses its index; the match is
        # checked once the rows are joined (checking it per point in the box costs a lookup
        # for each incident there).
        where.append(
            "id IN (SELECT incident_id FROM incident_assignments WHERE grid_code = ANY(:codes)"
            " UNION SELECT id FROM incident_reports"
            " WHERE geom && ST_Expand(ST_GeomFromWKB(:box, 4490), :near))"
            " AND (grid_code = ANY(:codes) OR match IN ('snapped', 'outside'))"
        )
        params |= {
            "codes": near_grids.codes,
            "box": shapely.to_wkb(near_grids.box),
            "near": near_grids.near,
        }
    # One row of arrays: far cheaper to fetch than a row per incident.
    found_ids, *columns = session.execute(text(_READ + " AND ".join(where)), params).one()
    if not found_ids:
        return 0
    found = np.asarray(found_ids, dtype=np.int64)
    lon, lat = (np.asarray(c, dtype=np.float64) for c in columns[:2])
    old = [np.asarray(c, dtype=object) for c in columns[2:4]]
    old_station, old_branch = (np.asarray(c, dtype=np.int64) for c in columns[4:])
    if not isinstance(assigner, Assigner):
        assigner = assigner()
    cols = assigner.locate_many(lon, lat)
    # Only what moved is sent back (community, street and district follow the grid).
    moved = (
        (old[0] != cols.match)
        | (old[1] != cols.grid_code)
        | (old_station != np.asarray(cols.station_id))
        | (old_branch != np.asarray(cols.party_branch_id))
    )
    if not moved.any():
        return 0
    frame = _frame(found, cols).filter(pl.Series(moved))
    conn: Connection[Any] = session.connection().connection.driver_connection  # type: ignore[assignment]
    with conn.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS reassign_stage ({_STAGE}) ON COMMIT DROP")
        cur.execute("TRUNCATE reassign_stage")
        with cur.copy("COPY reassign_stage FROM STDIN (FORMAT csv)") as copy:
            copy.write(frame.write_csv(include_header=False))
    moved_count = session.execute(
        text(_UPDATE), {"actor": actor, "reason": reason, "version": version}
    ).scalar_one()
    session.execute(text("TRUNCATE reassign_stage"))
    return int(moved_count)


def _frame(ids: np.ndarray, cols: Any) -> pl.DataFrame:
    station = np.asarray(cols.station_id, dtype=np.int64)
    branch = np.asarray(cols.party_branch_id, dtype=np.int64)
    has_station = station >= 0
    return pl.DataFrame(
        {
            "id": ids,
            "match": pl.Series(cols.match, dtype=pl.Utf8),
            "distance_m": np.asarray(cols.distance_m, dtype=np.float64),
            "grid_code": codes("grid_code", cols.grid_code),
            "community_code": codes("community_code", cols.community_code),
            "street_code": codes("street_code", cols.street_code),
            "district_code": codes("district_code", cols.district_code),
            "station_id": pl.Series(np.where(has_station, station, 0)).set(
                pl.Series(~has_station), None
            ),
            "station_distance_m": pl.Series(
                np.where(has_station, cols.station_distance_m, np.nan)
            ).fill_nan(None),
            "station_within_radius": pl.Series(cols.station_within_radius, dtype=pl.Boolean).set(
                pl.Series(~has_station), None
            ),
            "party_branch_id": pl.Series(branch).set(pl.Series(branch < 0), None),
            "boundary_version_id": pl.Series([cols.boundary_version_id] * len(ids), dtype=pl.Int64),
        }
    )
