"""Photos on incidents (附件): ``incident_media``, the cleaned image and its thumbnail kept
in the database (one backup holds everything), numbered per incident, one row per upload
(the hash of the uploaded bytes is unique per incident, so a resent photo is not stored
twice). The images are compressed already: stored out of line without compression.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_media",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.SmallInteger(), nullable=False),
        sa.Column("content_type", sa.String(16), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("upload_sha256", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=True),
        sa.CheckConstraint("n >= 1", name="ck_incident_media_n_positive"),
        sa.CheckConstraint(
            "content_type IN ('image/jpeg', 'image/png', 'image/webp')",
            name="ck_incident_media_content_type",
        ),
        sa.CheckConstraint(
            "width > 0 AND height > 0 AND bytes > 0", name="ck_incident_media_sizes"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident_reports.id"],
            name="fk_incident_media_incident_id_incident_reports",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_incident_media"),
        sa.UniqueConstraint("incident_id", "n", name="uq_incident_media_incident_n"),
        sa.UniqueConstraint("incident_id", "upload_sha256", name="uq_incident_media_upload"),
    )
    op.create_index("ix_incident_media_district_code", "incident_media", ["district_code"])
    op.execute("ALTER TABLE incident_media ALTER COLUMN data SET STORAGE EXTERNAL")
    op.execute("ALTER TABLE incident_media ALTER COLUMN thumbnail SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_index("ix_incident_media_district_code", table_name="incident_media")
    op.drop_table("incident_media")
