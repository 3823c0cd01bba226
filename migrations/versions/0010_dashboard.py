"""Indexes for the command centre's figures: a day's reports by ``received_at`` (with the
columns its counts read, so they come from the index alone), callbacks
by ``callback_at``, the 30-day rates by ``due_at`` and ``closed_at``, and the open cases by
district and unit read from the index alone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMES = ("callback_at", "due_at", "closed_at")
# What a day's counts read beside the time, so they come from the index alone.
DAY_COLUMNS = ["channel", "handled_directly", "callback_at", "category_code", "district_code",
               "unit_code"]  # fmt: skip


def upgrade() -> None:
    op.create_index(
        "ix_incident_reports_received_at",
        "incident_reports",
        ["received_at"],
        postgresql_include=DAY_COLUMNS,
    )
    for column in TIMES:
        op.create_index(f"ix_incident_reports_{column}", "incident_reports", [column])
    op.create_index(
        "ix_incident_reports_open_district_unit",
        "incident_reports",
        ["district_code", "unit_code", "due_at"],
        postgresql_where=sa.text("status <> 'closed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_incident_reports_open_district_unit", table_name="incident_reports")
    for column in reversed(TIMES):
        op.drop_index(f"ix_incident_reports_{column}", table_name="incident_reports")
    op.drop_index("ix_incident_reports_received_at", table_name="incident_reports")
