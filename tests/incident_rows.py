"""Open incidents written straight into the database, assigned "inside" a given grid.

Tests and benchmarks use it to set up many incidents at once; the assignment they get
is the grid's (callers re-assign them by the real rules when that matters).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

_INSERT = """
WITH src AS MATERIALIZED (
  SELECT nextval(pg_get_serial_sequence('incident_reports', 'id')) AS id, p.n, p.x, p.y,
         p.status, g.code, g.community_code, g.street_code, g.district_code
  FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[]), CAST(:grids AS text[]),
              CAST(:statuses AS text[])) WITH ORDINALITY AS p(x, y, grid, status, n)
  JOIN grids g ON g.code = p.grid AND g.valid_to IS NULL
), reports AS (
  INSERT INTO incident_reports (id, channel, category_code, description, input_crs, status,
                                handled_directly, geom, district_code)
  SELECT id, :channel, coalesce(:category, (SELECT min(code) FROM incident_categories)),
         :description, 'cgcs2000', status, false, ST_SetSRID(ST_MakePoint(x, y), 4490),
         district_code
  FROM src
), assignments AS (
  INSERT INTO incident_assignments (incident_id, match, distance_m, grid_code, community_code,
                                    street_code, district_code, boundary_version_id)
  SELECT id, 'inside', 0, code, community_code, street_code, district_code, :version FROM src
)
SELECT id FROM src ORDER BY n
"""


def insert_incidents(
    conn: Connection | Session,
    points: Sequence[tuple[float, float]],
    grids: Sequence[str],
    statuses: Sequence[str] | None = None,
    *,
    channel: str = "hotline_call",
    category: str | None = None,
    description: str = "",
    version: int | None = None,
) -> list[int]:
    """One incident per point, in the grid of the same position; their ids, in order.
    ``category`` None: the first category by code."""
    ids = conn.execute(
        text(_INSERT),
        {
            "xs": [float(p[0]) for p in points],
            "ys": [float(p[1]) for p in points],
            "grids": list(grids),
            "statuses": list(statuses or ["received"] * len(points)),
            "channel": channel,
            "category": category,
            "description": description,
            "version": version,
        },
    ).scalars()
    found = [int(i) for i in ids]
    assert len(found) == len(points), "every grid must be current"
    return found
