"""Index the boundary tables by the version that opened and the one that closed each row.

A commit, its undo and a grid's history read the rows of one version; without these
indexes each read scans the whole table, which at province scale (100,000 grids) costs
tens of milliseconds per read.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("districts", "streets", "communities", "grids")
COLUMNS = ("version_id", "retired_version_id")


def upgrade() -> None:
    for table in TABLES:
        for column in COLUMNS:
            op.create_index(f"ix_{table}_{column}", table, [column])


def downgrade() -> None:
    for table in TABLES:
        for column in COLUMNS:
            op.drop_index(f"ix_{table}_{column}", table_name=table)
