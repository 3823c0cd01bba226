"""Incident events announce themselves, and the log says up to where it is final.

A statement-level trigger on ``incident_events`` runs once per writing transaction,
before its first row draws an id:

- it queues ``pg_notify('wangge_events', '')``: delivered when the transaction commits,
  never when it rolls back, and one per transaction however many statements or rows it
  writes (a bulk intake of a million events sends one, and pays no per-row cost);
- it takes a shared transaction-level advisory lock whose key records a lower bound of
  the ids the transaction will draw (the identity's last value, as the negative key
  ``-1 - bound``; the application's own advisory locks use positive keys).

Ids are drawn in one order and committed in another, so a reader that follows the log by
id must not pass an id a running transaction may still commit. ``incident_events_floor()``
gives the largest id up to which the log is final: every smaller id is committed or never
will be. It reads the last id drawn first and the held bounds second: an id drawn after
the first read is larger than it, and one drawn before it belongs to a transaction that
either still holds its lock (so its bound caps the floor) or has ended. The notification
carries no payload: listeners read the rows up to the floor from the table.

The channel is ``gis.events.log.CHANNEL``; a migration must not import the application,
so it is repeated here (tests check that both agree).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "wangge_events"
SEQUENCE = "incident_events_id_seq"

ANNOUNCE = f"""
CREATE FUNCTION incident_events_announce() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  xact text := pg_current_xact_id()::text;
BEGIN
  -- Once per transaction: its later statements draw larger ids than the first one's bound.
  IF current_setting('wangge.events_announced', true) IS DISTINCT FROM xact THEN
    PERFORM pg_advisory_xact_lock_shared(
      -1 - coalesce(pg_sequence_last_value('{SEQUENCE}'), 0));
    PERFORM pg_notify('{CHANNEL}', '');
    PERFORM set_config('wangge.events_announced', xact, true);
  END IF;
  RETURN NULL;
END $$;
"""

FLOOR = f"""
CREATE FUNCTION incident_events_floor() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  drawn bigint := coalesce(pg_sequence_last_value('{SEQUENCE}'), 0);
  held bigint;
BEGIN
  -- A negative bigint key k shows as classid >= 2^31 (its high half) and objid (its low).
  SELECT min(-1 - ((classid::bigint - 4294967296) * 4294967296 + objid::bigint)) INTO held
  FROM pg_locks
  WHERE locktype = 'advisory' AND objsubid = 1 AND classid::bigint >= 2147483648
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database());
  RETURN least(drawn, held);
END $$;
"""


def upgrade() -> None:
    op.execute(ANNOUNCE)
    op.execute(FLOOR)
    op.execute(
        "CREATE TRIGGER incident_events_announce BEFORE INSERT ON incident_events"
        " FOR EACH STATEMENT EXECUTE FUNCTION incident_events_announce()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER incident_events_announce ON incident_events")
    op.execute("DROP FUNCTION incident_events_announce()")
    op.execute("DROP FUNCTION incident_events_floor()")
