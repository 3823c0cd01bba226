"""The boundaries' own epoch: what a station, compound or branch change leaves alone.

``assignment_inputs.boundaries_epoch`` is the epoch of the last change to the boundary
tables or ``boundary_versions``. A worker whose assigner has the same boundaries epoch
reloads only the stations, compounds and party branches after a change and keeps its
grid and district indexes (seconds at province scale). Writes to the boundary tables
now move both epochs; the other triggers of migration 0005 stay as they are.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_KEY = 0x57616E67  # gis.assign.epoch.INPUTS_LOCK_KEY, as in migration 0005
BOUNDARY_TABLES = ("boundary_versions", "districts", "streets", "communities", "grids")


def _triggers(function: str) -> None:
    for table in BOUNDARY_TABLES:
        op.execute(f"DROP TRIGGER {table}_assignment_inputs ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_assignment_inputs BEFORE INSERT OR UPDATE OR DELETE OR"
            f" TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )


def upgrade() -> None:
    op.add_column(
        "assignment_inputs",
        sa.Column("boundaries_epoch", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.execute("UPDATE assignment_inputs SET boundaries_epoch = epoch")
    op.execute(
        f"""
CREATE FUNCTION assignment_inputs_bump_boundaries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  UPDATE assignment_inputs SET epoch = epoch + 1, boundaries_epoch = epoch + 1 WHERE id = 1;
  RETURN NULL;
END $$;
"""
    )
    _triggers("assignment_inputs_bump_boundaries")


def downgrade() -> None:
    _triggers("assignment_inputs_bump")
    op.execute("DROP FUNCTION assignment_inputs_bump_boundaries()")
    op.drop_column("assignment_inputs", "boundaries_epoch")
