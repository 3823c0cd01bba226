"""The assignment epoch: one counter that moves whenever what assignment reads changes.

Assignment (grid, station, party branch of a point) reads the boundary tables, the
enforcement stations, compounds and party branches. A statement that writes any of them
first takes the assignment lock (a transaction-level advisory lock) and bumps
``assignment_inputs.epoch``; an incident write takes the same lock shared and compares
the epoch with its cached assigner's. So no incident is stamped with boundaries or
stations a committed change has replaced, and a worker knows its assigner is stale
from one row instead of digesting every station and compound.

The key is ``gis.assign.epoch.INPUTS_LOCK_KEY``; a migration must not import the
application, so it is repeated here (tests check that both take the same lock).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_KEY = 0x57616E67
# Every statement on these tables locks and bumps (an edit writes several; one bump would do).
BUMPED = (
    "boundary_versions",
    "districts",
    "streets",
    "communities",
    "grids",
    "compounds",
    "party_branches",
)

FUNCTIONS = f"""
CREATE FUNCTION assignment_inputs_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  RETURN NULL;
END $$;
CREATE FUNCTION assignment_inputs_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  UPDATE assignment_inputs SET epoch = epoch + 1 WHERE id = 1;
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "assignment_inputs",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_assignment_inputs_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_inputs")),
    )
    op.execute("INSERT INTO assignment_inputs (id, epoch) VALUES (1, 0)")
    op.execute(FUNCTIONS)
    for table in BUMPED:
        # BEFORE the statement: the lock is taken before any row is, so a writer never holds
        # a row an incident write (holding the lock shared) waits for.
        op.execute(
            f"CREATE TRIGGER {table}_assignment_inputs BEFORE INSERT OR UPDATE OR DELETE OR"
            f" TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION assignment_inputs_bump()"
        )
    # Facilities: any write takes the lock; only a change to a station moves the epoch.
    op.execute(
        "CREATE TRIGGER facilities_assignment_lock BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE"
        " ON facilities FOR EACH STATEMENT EXECUTE FUNCTION assignment_inputs_lock()"
    )
    station = "'enforcement_station'"
    for name, event, when in (
        ("insert", "INSERT", f"NEW.type = {station}"),
        ("update", "UPDATE", f"OLD.type = {station} OR NEW.type = {station}"),
        ("delete", "DELETE", f"OLD.type = {station}"),
    ):
        op.execute(
            f"CREATE TRIGGER facilities_assignment_{name} AFTER {event} ON facilities"
            f" FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION assignment_inputs_bump()"
        )
    op.execute(
        "CREATE TRIGGER facilities_assignment_truncate AFTER TRUNCATE ON facilities"
        " FOR EACH STATEMENT EXECUTE FUNCTION assignment_inputs_bump()"
    )


def downgrade() -> None:
    for table in BUMPED:
        op.execute(f"DROP TRIGGER {table}_assignment_inputs ON {table}")
    for name in ("lock", "insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER facilities_assignment_{name} ON facilities")
    op.execute("DROP FUNCTION assignment_inputs_bump()")
    op.execute("DROP FUNCTION assignment_inputs_lock()")
    op.drop_table("assignment_inputs")
