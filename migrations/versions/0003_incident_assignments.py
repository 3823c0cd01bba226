"""Incidents split into the report and its assignment; re-assignments logged per group.

``incidents`` becomes ``incident_reports`` (what was reported, the workflow) and
``incident_assignments`` (one narrow row per incident: grid, community, street,
district, station, party branch, boundary version). A view ``incidents`` joins the
two, so readers see the same rows as before. Re-assignments are logged in
``incident_moves``, one row per group of incidents that moved together. Boundary
versions become append-only, enforced by a trigger.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORT_COLUMNS = (
    "id, external_id, channel, category_code, description, address, geom, input_crs,"
    " reporter_name, reporter_phone, status, handled_directly, received_at, due_at,"
    " closed_at, callback_at, rating"
)
ASSIGNMENT_COLUMNS = (
    "match, distance_m, district_code, street_code, community_code, grid_code, station_id,"
    " station_distance_m, station_within_radius, party_branch_id, boundary_version_id"
)
VIEW = f"""
CREATE VIEW incidents AS
SELECT {", ".join("r." + c.strip() for c in REPORT_COLUMNS.split(","))},
       {", ".join("a." + c.strip() for c in ASSIGNMENT_COLUMNS.split(","))}
FROM incident_reports r LEFT JOIN incident_assignments a ON a.incident_id = r.id
"""
# Renamed with the table (the naming convention puts the table's name in them).
RENAMED = (
    ("pk_incidents", "pk_incident_reports"),
    ("uq_incidents_external_id", "uq_incident_reports_external_id"),
    ("ck_incidents_channel", "ck_incident_reports_channel"),
    ("ck_incidents_status", "ck_incident_reports_status"),
    ("ck_incidents_description_length", "ck_incident_reports_description_length"),
    ("ck_incidents_rating", "ck_incident_reports_rating"),
    (
        "fk_incidents_category_code_incident_categories",
        "fk_incident_reports_category_code_incident_categories",
    ),
)
RENAMED_INDEXES = (
    ("ix_incidents_category_code", "ix_incident_reports_category_code"),
    ("ix_incidents_district_code", "ix_incident_reports_district_code"),
    ("idx_incidents_geom", "idx_incident_reports_geom"),
)
APPEND_ONLY = """
CREATE FUNCTION boundary_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'boundary versions are append-only: undo an edit with a new one';
END $$;
CREATE TRIGGER boundary_versions_append_only BEFORE DELETE OR TRUNCATE ON boundary_versions
  FOR EACH STATEMENT EXECUTE FUNCTION boundary_versions_append_only();
"""


def upgrade() -> None:
    op.execute(APPEND_ONLY)
    op.rename_table("incidents", "incident_reports")
    for old, new in RENAMED:
        op.execute(f"ALTER TABLE incident_reports RENAME CONSTRAINT {old} TO {new}")
    for old, new in RENAMED_INDEXES:
        op.execute(f"ALTER INDEX {old} RENAME TO {new}")
    op.execute(
        "ALTER TABLE incident_events RENAME CONSTRAINT fk_incident_events_incident_id_incidents"
        " TO fk_incident_events_incident_id_incident_reports"
    )
    op.create_table(
        "incident_assignments",
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("match", sa.String(length=12), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("station_distance_m", sa.Float(), nullable=True),
        sa.Column("station_within_radius", sa.Boolean(), nullable=True),
        sa.Column("party_branch_id", sa.Integer(), nullable=True),
        sa.Column("boundary_version_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(match = 'outside') = (grid_code IS NULL)",
            name=op.f("ck_incident_assignments_grid_iff_matched"),
        ),
        sa.CheckConstraint(
            "match IN ('inside', 'boundary', 'snapped', 'outside')",
            name=op.f("ck_incident_assignments_match"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident_reports.id"],
            name=op.f("fk_incident_assignments_incident_id_incident_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["party_branch_id"],
            ["party_branches.id"],
            name=op.f("fk_incident_assignments_party_branch_id_party_branches"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["facilities.id"],
            name=op.f("fk_incident_assignments_station_id_facilities"),
        ),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_assignments")),
    )
    op.execute(
        f"INSERT INTO incident_assignments (incident_id, {ASSIGNMENT_COLUMNS})"
        f" SELECT id, {ASSIGNMENT_COLUMNS} FROM incident_reports"
    )
    for column in ("community_code", "district_code", "grid_code", "station_id"):
        op.create_index(op.f(f"ix_incident_assignments_{column}"), "incident_assignments", [column])
    for column in ASSIGNMENT_COLUMNS.split(","):
        if column.strip() != "district_code":  # the report keeps it: the sharding key
            op.drop_column("incident_reports", column.strip())
    op.execute(VIEW)

    op.create_table(
        "incident_moves",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("boundary_version_id", sa.Integer(), nullable=True),
        sa.Column("old", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("new", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("incident_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.ForeignKeyConstraint(
            ["boundary_version_id"],
            ["boundary_versions.id"],
            name=op.f("fk_incident_moves_boundary_version_id_boundary_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_moves")),
    )
    op.create_index(op.f("ix_incident_moves_district_code"), "incident_moves", ["district_code"])
    op.create_index(
        "ix_incident_moves_incident_ids",
        "incident_moves",
        ["incident_ids"],
        postgresql_using="gin",
    )


def downgrade() -> None:
    # Each group's move goes back into the events of the incidents it moved.
    op.execute(
        "INSERT INTO incident_events (incident_id, district_code, at, actor, kind, note, detail)"
        " SELECT i, m.district_code, m.at, m.actor, 'reassigned', m.note,"
        " jsonb_build_object('old', m.old, 'new', m.new)"
        " FROM incident_moves m, unnest(m.incident_ids) AS i"
    )
    op.drop_table("incident_moves")
    op.execute("DROP VIEW incidents")
    op.add_column("incident_reports", sa.Column("match", sa.String(length=12), nullable=True))
    op.add_column(
        "incident_reports", sa.Column("distance_m", sa.Float(), nullable=False, server_default="0")
    )
    op.alter_column("incident_reports", "distance_m", server_default=None)
    for name, type_ in (
        ("street_code", sa.String(length=9)),
        ("community_code", sa.String(length=12)),
        ("grid_code", sa.String(length=15)),
        ("station_id", sa.Integer()),
        ("station_distance_m", sa.Float()),
        ("station_within_radius", sa.Boolean()),
        ("party_branch_id", sa.Integer()),
        ("boundary_version_id", sa.Integer()),
    ):
        op.add_column("incident_reports", sa.Column(name, type_, nullable=True))
    op.execute(
        f"UPDATE incident_reports r SET ({ASSIGNMENT_COLUMNS}) ="
        f" (SELECT {ASSIGNMENT_COLUMNS} FROM incident_assignments a WHERE a.incident_id = r.id)"
    )
    op.alter_column("incident_reports", "match", nullable=False)
    op.drop_table("incident_assignments")
    op.execute("ALTER TABLE incident_reports RENAME TO incidents")
    for old, new in RENAMED:
        op.execute(f"ALTER TABLE incidents RENAME CONSTRAINT {new} TO {old}")
    for old, new in RENAMED_INDEXES:
        op.execute(f"ALTER INDEX {new} RENAME TO {old}")
    op.execute(
        "ALTER TABLE incident_events RENAME CONSTRAINT"
        " fk_incident_events_incident_id_incident_reports TO"
        " fk_incident_events_incident_id_incidents"
    )
    op.create_check_constraint(
        op.f("ck_incidents_grid_iff_matched"),
        "incidents",
        "(match = 'outside') = (grid_code IS NULL)",
    )
    op.create_check_constraint(
        op.f("ck_incidents_match"),
        "incidents",
        "match IN ('inside', 'boundary', 'snapped', 'outside')",
    )
    for column, table in (
        ("boundary_version_id", "boundary_versions"),
        ("party_branch_id", "party_branches"),
        ("station_id", "facilities"),
    ):
        op.create_foreign_key(
            op.f(f"fk_incidents_{column}_{table}"), "incidents", table, [column], ["id"]
        )
    for column in ("community_code", "grid_code", "station_id"):
        op.create_index(op.f(f"ix_incidents_{column}"), "incidents", [column])
    op.execute("DROP TRIGGER boundary_versions_append_only ON boundary_versions")
    op.execute("DROP FUNCTION boundary_versions_append_only()")
