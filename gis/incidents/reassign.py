"""Re-assignment (重新归属) of open incidents after a boundary edit or a facility change.

Open incidents (not closed) are located again with the given assigner; those
whose units change are updated in one statement and get a "reassigned" event
with the old and new units. Closed incidents keep the version they were
assigned under.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import polars as pl
from psycopg import Connection
from shapely import Geometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.assign import Assigner

UNIT_COLUMNS = (
    "match",
    "grid_code",
    "community_code",
    "street_code",
    "district_code",
    "station_id",
    "party_branch_id",
)
_STAGE = (
    "id bigint, match text, distance_m float8, grid_code text, community_code text, "
    "street_code text, district_code text, station_id int, station_distance_m float8, "
    "station_within_radius bool, party_branch_id int, boundary_version_id int"
)
_UPDATE = """
WITH moved AS (
  SELECT i.id,
         jsonb_build_object('match', i.match, 'grid', i.grid_code,
           'community', i.community_code, 'street', i.street_code,
           'district', i.district_code, 'station_id', i.station_id,
           'party_branch_id', i.party_branch_id,
           'boundary_version_id', i.boundary_version_id) AS old_units,
         s.match, s.distance_m, s.grid_code, s.community_code, s.street_code,
         s.district_code, s.station_id, s.station_distance_m, s.station_within_radius,
         s.party_branch_id, s.boundary_version_id
  FROM incidents i JOIN reassign_stage s ON s.id = i.id
  WHERE i.status <> 'closed'
    AND (i.match, i.grid_code, i.community_code, i.street_code, i.district_code,
         i.station_id, i.party_branch_id)
        IS DISTINCT FROM
        (s.match, s.grid_code, s.community_code, s.street_code, s.district_code,
         s.station_id, s.party_branch_id)
  FOR UPDATE OF i
), upd AS (
  UPDATE incidents i SET match = m.match, distance_m = m.distance_m,
    grid_code = m.grid_code, community_code = m.community_code, street_code = m.street_code,
    district_code = m.district_code, station_id = m.station_id,
    station_distance_m = m.station_distance_m, station_within_radius = m.station_within_radius,
    party_branch_id = m.party_branch_id, boundary_version_id = m.boundary_version_id
  FROM moved m WHERE i.id = m.id
  RETURNING i.id
)
INSERT INTO incident_events (incident_id, district_code, actor, kind, note, detail)
SELECT m.id, m.district_code, :actor, 'reassigned', :reason,
       jsonb_build_object('old', m.old_units, 'new', jsonb_build_object(
         'match', m.match, 'grid', m.grid_code, 'community', m.community_code,
         'street', m.street_code, 'district', m.district_code, 'station_id', m.station_id,
         'party_branch_id', m.party_branch_id,
         'boundary_version_id', m.boundary_version_id))
FROM moved m JOIN upd u ON u.id = m.id
"""


def reassign_open(
    session: Session,
    assigner: Assigner,
    incident_ids: Iterable[int] | None = None,
    actor: str = "system",
    reason: str = "",
    area: Geometry | None = None,
) -> int:
    """Re-assign open incidents (all, the given ids, or those inside ``area``); return how many
    moved. ``area`` (CGCS2000) limits the work to where boundaries or facilities changed."""
    where, params = ["status <> 'closed'"], {}
    if incident_ids is not None:
        ids = sorted({int(i) for i in incident_ids})
        if not ids:
            return 0
        where.append("id = ANY(:ids)")
        params["ids"] = ids
    if area is not None:
        where.append("ST_Intersects(geom, ST_GeomFromWKB(:area, 4490))")
        params["area"] = area.wkb
    rows = session.execute(
        text(
            "SELECT id, ST_X(geom), ST_Y(geom), match, grid_code, station_id, party_branch_id"
            f" FROM incidents WHERE {' AND '.join(where)}"
        ),
        params,
    ).all()
    if not rows:
        return 0
    found = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    lon = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    lat = np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))
    cols = assigner.locate_many(lon, lat)
    # Only what moved is sent back (community, street and district follow the grid).
    old = [np.array([r[k] for r in rows], dtype=object) for k in (3, 4)]
    old_station = np.fromiter((r[5] or -1 for r in rows), dtype=np.int64, count=len(rows))
    old_branch = np.fromiter((r[6] or -1 for r in rows), dtype=np.int64, count=len(rows))
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
    result = session.execute(text(_UPDATE), {"actor": actor, "reason": reason})
    session.execute(text("TRUNCATE reassign_stage"))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _frame(ids: np.ndarray, cols: Any) -> pl.DataFrame:
    station = np.asarray(cols.station_id, dtype=np.int64)
    branch = np.asarray(cols.party_branch_id, dtype=np.int64)
    has_station = station >= 0
    return pl.DataFrame(
        {
            "id": ids,
            "match": pl.Series(cols.match, dtype=pl.Utf8),
            "distance_m": np.asarray(cols.distance_m, dtype=np.float64),
            "grid_code": pl.Series(cols.grid_code, dtype=pl.Utf8),
            "community_code": pl.Series(cols.community_code, dtype=pl.Utf8),
            "street_code": pl.Series(cols.street_code, dtype=pl.Utf8),
            "district_code": pl.Series(cols.district_code, dtype=pl.Utf8),
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
