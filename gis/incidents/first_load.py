"""First loads (首次导入): the incident tables locked, their indexes rebuilt once at the end.

Loading a city's archive of reports before it goes live is the one bulk intake where nobody
else needs the incident tables. PostgreSQL then stores rows several times faster when the
tables' indexes and constraints are dropped, the rows COPYed in bare
(:mod:`gis.incidents.bulk_store`), and everything built again in bulk afterwards
("Populating a Database" in its manual). All of it runs in the
caller's transaction: if anything fails, the rollback brings every index and constraint back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg import Cursor, errors

from gis.errors import Conflict

# incident_requests and incident_media only because their foreign keys point at the reports.
TABLES = (
    "incident_reports",
    "incident_assignments",
    "incident_events",
    "incident_requests",
    "incident_media",
)
LOCK_TIMEOUT = "10s"

# Keys and unique constraints first (foreign keys point at them), the foreign keys last;
# dropped in the opposite order.
_CONSTRAINTS = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
FROM pg_constraint
WHERE contype IN ('p', 'u', 'f') AND conrelid = ANY(%(tables)s::regclass[])
ORDER BY contype = 'f', conrelid::regclass::text, conname
"""
_INDEXES = """
SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
FROM pg_index i
WHERE indrelid = ANY(%(tables)s::regclass[])
  AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY 1
"""


@contextmanager
def bare_tables(cur: Cursor[Any]) -> Iterator[None]:
    """Lock the incident tables, drop their indexes and constraints (checks stay), and
    build them again when the block ends without error."""
    try:
        cur.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cur.execute(f"LOCK TABLE {', '.join(TABLES)} IN ACCESS EXCLUSIVE MODE")
    except errors.LockNotAvailable as exc:
        raise Conflict(
            f"the incident tables stayed busy for {LOCK_TIMEOUT}; a first load needs them "
            "to itself (stop the service, or import without --first-load)",
            field="first_load",
        ) from exc
    cur.execute("SET LOCAL lock_timeout TO DEFAULT")
    params = {"tables": list(TABLES)}
    constraints = cur.execute(_CONSTRAINTS, params).fetchall()
    indexes = cur.execute(_INDEXES, params).fetchall()
    try:
        for table, name, _ in reversed(constraints):
            cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _ in indexes:
            cur.execute(f"DROP INDEX {name}")
    except errors.InsufficientPrivilege as exc:
        raise Conflict(
            "a first load rebuilds the incident tables' indexes, which only their owner "
            "may do; import without --first-load",
            field="first_load",
        ) from exc
    yield
    for _, definition in indexes:
        cur.execute(definition)
    for table, name, definition in constraints:
        cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
