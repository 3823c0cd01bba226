"""Keeping ``place_names`` current: rebuild the districts whose epoch has moved.

Triggers of migration 0007 move a district's ``place_name_epochs.epoch`` with every write
to its boundaries, compounds or facilities, by any path (edits, import, the demo, psql).
:func:`refresh` rebuilds the rows of each district whose ``built_epoch`` lags, writing
only the rows that differ, in one transaction of its own. It holds the assignment lock
shared while it works (as an incident write does), so no writer of a source table is
half-way through a change: what it reads and the epoch it records belong together, and
a writer waits for it (tenths of a second) rather than the other way round.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import insert

from gis.assign.epoch import lock_shared
from gis.models import PlaceName
from gis.places.spelling import spelling
from gis.validity import boundary_valid, facility_in_service

PLACES_LOCK_KEY = 0x506C6163  # "Plac": one refresher at a time
COORD_DIGITS = 7  # about a centimetre
ANALYZE_AFTER = 1000  # rows written by one refresh


def _cur(alias: str) -> str:
    return boundary_valid(alias, dated=False)


STALE = text("SELECT district_code FROM place_name_epochs WHERE built_epoch < epoch")

# Every current place of the given districts: what it is, the names above it, a point
# inside it and its bounding box.
SOURCES = text(
    f"""
WITH places AS (
  SELECT 'district' AS kind, u.code, u.name, u.district_code,
         NULL AS district, NULL AS street, NULL AS community, u.geom
    FROM districts u
   WHERE {_cur("u")} AND u.district_code = ANY(:districts)
  UNION ALL
  SELECT 'street', u.code, u.name, u.district_code, d.name, NULL, NULL, u.geom
    FROM streets u
    LEFT JOIN districts d ON d.code = u.district_code AND {_cur("d")}
   WHERE {_cur("u")} AND u.district_code = ANY(:districts)
  UNION ALL
  SELECT 'community', u.code, u.name, u.district_code, d.name, s.name, NULL, u.geom
    FROM communities u
    LEFT JOIN districts d ON d.code = u.district_code AND {_cur("d")}
    LEFT JOIN streets s ON s.code = u.street_code AND {_cur("s")}
   WHERE {_cur("u")} AND u.district_code = ANY(:districts)
  UNION ALL
  SELECT 'grid', u.code, u.name, u.district_code, d.name, s.name, c.name, u.geom
    FROM grids u
    LEFT JOIN districts d ON d.code = u.district_code AND {_cur("d")}
    LEFT JOIN streets s ON s.code = u.street_code AND {_cur("s")}
    LEFT JOIN communities c ON c.code = u.community_code AND {_cur("c")}
   WHERE {_cur("u")} AND u.district_code = ANY(:districts)
  UNION ALL
  SELECT 'compound', u.code, u.name, u.district_code, d.name, s.name, c.name, u.geom
    FROM compounds u
    LEFT JOIN districts d ON d.code = u.district_code AND {_cur("d")}
    LEFT JOIN communities c ON c.code = u.community_code AND {_cur("c")}
    LEFT JOIN streets s ON s.code = c.street_code AND {_cur("s")}
   WHERE u.district_code = ANY(:districts)
  UNION ALL
  -- A facility has no community column: the community of its district holding it.
  SELECT 'facility', u.code, u.name, u.district_code, d.name, s.name, c.name, u.geom
    FROM facilities u
    LEFT JOIN districts d ON d.code = u.district_code AND {_cur("d")}
    LEFT JOIN LATERAL (
      SELECT x.name, x.street_code FROM communities x
       WHERE {_cur("x")} AND x.district_code = u.district_code
         AND ST_Intersects(x.geom, u.geom)
       ORDER BY x.code LIMIT 1
    ) c ON true
    LEFT JOIN streets s ON s.code = c.street_code AND {_cur("s")}
   WHERE {facility_in_service("u", False)} AND u.district_code = ANY(:districts)
)
SELECT kind, code, name, district_code, district, street, community,
       round(ST_X(p)::numeric, {COORD_DIGITS})::float8,
       round(ST_Y(p)::numeric, {COORD_DIGITS})::float8,
       round(ST_XMin(geom)::numeric, {COORD_DIGITS})::float8,
       round(ST_YMin(geom)::numeric, {COORD_DIGITS})::float8,
       round(ST_XMax(geom)::numeric, {COORD_DIGITS})::float8,
       round(ST_YMax(geom)::numeric, {COORD_DIGITS})::float8
  FROM (
    SELECT *, CASE WHEN GeometryType(geom) = 'POINT' THEN geom
                   ELSE ST_PointOnSurface(geom) END AS p
      FROM places
  ) placed
"""
).bindparams(bindparam("districts"))

# The stored rows, in the column order of SOURCES (the spellings follow from the name).
STORED = text(
    "SELECT kind, code, name, district_code, district, street, community,"
    " lon, lat, min_lon, min_lat, max_lon, max_lat"
    " FROM place_names WHERE district_code = ANY(:districts)"
)
DELETE = text("DELETE FROM place_names WHERE kind = :kind AND code = :code")
COLUMNS = (
    "kind", "code", "name", "district_code", "district", "street", "community",
    "lon", "lat", "min_lon", "min_lat", "max_lon", "max_lat",
)  # fmt: skip
SPELLING = ("key", "initials", "spell")
_INSERT = insert(PlaceName)
UPSERT = _INSERT.on_conflict_do_update(
    index_elements=["kind", "code"],
    set_={c: _INSERT.excluded[c] for c in (*COLUMNS[2:], *SPELLING)},
)
BUILT = text(
    "UPDATE place_name_epochs SET built_epoch = epoch WHERE district_code = ANY(:districts)"
)

Row = tuple[object, ...]


def stale_districts(conn: Connection) -> list[str]:
    """Districts whose place names lag behind their sources."""
    return list(conn.execute(STALE).scalars())


def refresh(conn: Connection) -> int:
    """Rebuild the stale districts in a transaction of its own (``conn`` must have none
    open); returns the rows deleted and inserted.

    A refresher waits for one already running and then finds nothing left to do."""
    with conn.begin():
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PLACES_LOCK_KEY})
        lock_shared(conn)
        districts = stale_districts(conn)
        if not districts:
            return 0
        written = _rebuild(conn, districts)
        conn.execute(BUILT, {"districts": districts})
        if written >= ANALYZE_AFTER:
            # Without statistics the planner guesses the trigram conditions wrong and scans
            # every row; a first build would otherwise wait for autovacuum to notice it.
            conn.execute(text("ANALYZE place_names"))
        return written


def _rebuild(conn: Connection, districts: list[str]) -> int:
    """Write what differs between the sources and the stored rows of ``districts``."""
    fresh = {(r[0], r[1]): tuple(r) for r in conn.execute(SOURCES, {"districts": districts})}
    stored = {(r[0], r[1]): tuple(r) for r in conn.execute(STORED, {"districts": districts})}
    gone = [{"kind": k, "code": c} for (k, c), row in stored.items() if fresh.get((k, c)) != row]
    new = [_values(row) for key, row in fresh.items() if stored.get(key) != row]
    if gone:
        conn.execute(DELETE, gone)
    if new:
        # A place that changed district is deleted above as well, so a clash is not expected;
        # should one occur (an epoch set by hand), the fresh row wins.
        conn.execute(UPSERT, new)
    return len(gone) + len(new)


def _values(row: Row) -> dict[str, object]:
    values = dict(zip(COLUMNS, row, strict=True))
    spelled = spelling(str(values["name"]))
    values.update(key=spelled.key, initials=spelled.initials, spell=spelled.spell)
    return values
