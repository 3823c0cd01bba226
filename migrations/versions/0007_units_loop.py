"""Responsible units and the whole 12345 loop.

``units`` (责任单位: departments, street offices, community committees, stations);
each category names its default unit, how soon a dispatched case must be accepted and
how near and how recent a duplicate may be. An incident records its unit, the person
handling it there, the time of every stage, the handling result, how often it was
urged and reopened, and the incident it was merged into. ``incident_requests`` holds
sub-requests with their own approver and clock (extensions). Tokens of role ``unit``
are bound to one unit. The ``incidents`` view gains the new columns.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORT_COLUMNS = (
    "id, external_id, channel, category_code, description, address, geom, input_crs,"
    " reporter_name, reporter_phone, status, handled_directly, received_at, due_at,"
    " closed_at, callback_at, rating"
)
LOOP_COLUMNS = (
    "unit_code, handler, dispatched_at, accept_due_at, accepted_at, replied_at, reply,"
    " urge_count, reopen_count, merged_into"
)
ASSIGNMENT_COLUMNS = (
    "match, distance_m, district_code, street_code, community_code, grid_code, station_id,"
    " station_distance_m, station_within_radius, party_branch_id, boundary_version_id"
)


def _view(report_columns: str) -> str:
    return f"""
CREATE VIEW incidents AS
SELECT {", ".join("r." + c.strip() for c in report_columns.split(","))},
       {", ".join("a." + c.strip() for c in ASSIGNMENT_COLUMNS.split(","))}
FROM incident_reports r LEFT JOIN incident_assignments a ON a.incident_id = r.id
"""


OLD_KINDS = "('received', 'transition', 'reassigned', 'callback', 'rating', 'note')"
NEW_KINDS = (
    "('received', 'transition', 'reassigned', 'callback', 'rating', 'note', 'urge',"
    " 'extension_request', 'extension_decision', 'handler')"
)


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=160), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("facility_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('department', 'street_office', 'community', 'station')",
            name=op.f("ck_units_kind"),
        ),
        sa.CheckConstraint("code ~ '^[a-z0-9][a-z0-9_.-]*$'", name=op.f("ck_units_code_format")),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_units_facility_id_facilities")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_units")),
    )
    op.create_index(op.f("ix_units_district_code"), "units", ["district_code"])

    op.add_column(
        "incident_categories", sa.Column("default_unit_code", sa.String(32), nullable=True)
    )
    op.add_column(
        "incident_categories",
        sa.Column("accept_class", sa.String(8), nullable=False, server_default="normal"),
    )
    op.add_column(
        "incident_categories",
        sa.Column("similar_radius_m", sa.Float(), nullable=False, server_default="250"),
    )
    op.add_column(
        "incident_categories",
        sa.Column("similar_days", sa.SmallInteger(), nullable=False, server_default="7"),
    )
    op.create_foreign_key(
        op.f("fk_incident_categories_default_unit_code_units"),
        "incident_categories",
        "units",
        ["default_unit_code"],
        ["code"],
    )
    op.create_check_constraint(
        op.f("ck_incident_categories_accept_class"),
        "incident_categories",
        "accept_class IN ('urgent', 'utility', 'normal')",
    )
    op.create_check_constraint(
        op.f("ck_incident_categories_similar_radius"),
        "incident_categories",
        "similar_radius_m > 0 AND similar_radius_m <= 5000",
    )
    op.create_check_constraint(
        op.f("ck_incident_categories_similar_days"),
        "incident_categories",
        "similar_days BETWEEN 1 AND 90",
    )

    op.execute("DROP VIEW incidents")
    reports = "incident_reports"
    op.add_column(reports, sa.Column("unit_code", sa.String(32), nullable=True))
    op.add_column(reports, sa.Column("handler", sa.String(60), nullable=True))
    for name in ("dispatched_at", "accept_due_at", "accepted_at", "replied_at"):
        op.add_column(reports, sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.add_column(reports, sa.Column("reply", sa.Text(), nullable=True))
    for name in ("urge_count", "reopen_count"):
        op.add_column(
            reports, sa.Column(name, sa.SmallInteger(), nullable=False, server_default="0")
        )
    op.add_column(reports, sa.Column("merged_into", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_incident_reports_unit_code_units"), reports, "units", ["unit_code"], ["code"]
    )
    op.create_foreign_key(
        op.f("fk_incident_reports_merged_into_incident_reports"),
        reports,
        reports,
        ["merged_into"],
        ["id"],
    )
    op.create_index(op.f("ix_incident_reports_unit_code"), reports, ["unit_code"])
    op.create_index(op.f("ix_incident_reports_merged_into"), reports, ["merged_into"])
    open_only = sa.text("status <> 'closed'")
    op.create_index(
        "ix_incident_reports_open_due", reports, ["status", "due_at"], postgresql_where=open_only
    )
    op.create_index(
        "ix_incident_reports_open_unit_due",
        reports,
        ["unit_code", "status", "due_at"],
        postgresql_where=open_only,
    )
    op.execute(_view(REPORT_COLUMNS + ", " + LOOP_COLUMNS))

    op.add_column("incident_events", sa.Column("unit_code", sa.String(32), nullable=True))
    op.drop_constraint(op.f("ck_incident_events_kind"), "incident_events", type_="check")
    op.create_check_constraint(
        op.f("ck_incident_events_kind"), "incident_events", f"kind IN {NEW_KINDS}"
    )

    op.create_table(
        "incident_requests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=True),
        sa.Column("days", sa.SmallInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("asked_by", sa.String(length=120), nullable=False),
        sa.Column(
            "asked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('extension')", name=op.f("ck_incident_requests_kind")),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'refused')", name=op.f("ck_incident_requests_state")
        ),
        sa.CheckConstraint("days IS NULL OR days > 0", name=op.f("ck_incident_requests_days")),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident_reports.id"],
            name=op.f("fk_incident_requests_incident_id_incident_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"], ["units.code"], name=op.f("fk_incident_requests_unit_code_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_requests")),
    )
    op.create_index(op.f("ix_incident_requests_incident_id"), "incident_requests", ["incident_id"])
    op.create_index(
        op.f("ix_incident_requests_district_code"), "incident_requests", ["district_code"]
    )

    op.add_column("api_tokens", sa.Column("unit_code", sa.String(32), nullable=True))
    op.create_foreign_key(
        op.f("fk_api_tokens_unit_code_units"), "api_tokens", "units", ["unit_code"], ["code"]
    )
    op.drop_constraint(op.f("ck_api_tokens_role"), "api_tokens", type_="check")
    op.create_check_constraint(
        op.f("ck_api_tokens_role"),
        "api_tokens",
        "role IN ('viewer', 'dispatcher', 'planner', 'admin', 'unit')",
    )
    op.create_check_constraint(
        op.f("ck_api_tokens_unit_bound"), "api_tokens", "(role = 'unit') = (unit_code IS NOT NULL)"
    )


def downgrade() -> None:
    op.execute("DELETE FROM api_tokens WHERE role = 'unit'")
    op.drop_constraint(op.f("ck_api_tokens_unit_bound"), "api_tokens", type_="check")
    op.drop_constraint(op.f("ck_api_tokens_role"), "api_tokens", type_="check")
    op.create_check_constraint(
        op.f("ck_api_tokens_role"),
        "api_tokens",
        "role IN ('viewer', 'dispatcher', 'planner', 'admin')",
    )
    op.drop_constraint(op.f("fk_api_tokens_unit_code_units"), "api_tokens", type_="foreignkey")
    op.drop_column("api_tokens", "unit_code")

    op.drop_table("incident_requests")

    op.execute(f"DELETE FROM incident_events WHERE kind NOT IN {OLD_KINDS}")
    op.drop_constraint(op.f("ck_incident_events_kind"), "incident_events", type_="check")
    op.create_check_constraint(
        op.f("ck_incident_events_kind"), "incident_events", f"kind IN {OLD_KINDS}"
    )
    op.drop_column("incident_events", "unit_code")

    op.execute("DROP VIEW incidents")
    reports = "incident_reports"
    op.drop_index("ix_incident_reports_open_unit_due", reports)
    op.drop_index("ix_incident_reports_open_due", reports)
    op.drop_constraint(
        op.f("fk_incident_reports_merged_into_incident_reports"), reports, type_="foreignkey"
    )
    op.drop_constraint(op.f("fk_incident_reports_unit_code_units"), reports, type_="foreignkey")
    for name in LOOP_COLUMNS.split(","):
        op.drop_column(reports, name.strip())
    op.execute(_view(REPORT_COLUMNS))

    op.drop_constraint(
        op.f("fk_incident_categories_default_unit_code_units"),
        "incident_categories",
        type_="foreignkey",
    )
    for name in ("accept_class", "similar_radius", "similar_days"):
        op.drop_constraint(
            op.f(f"ck_incident_categories_{name}"), "incident_categories", type_="check"
        )
    for name in ("default_unit_code", "accept_class", "similar_radius_m", "similar_days"):
        op.drop_column("incident_categories", name)
    op.drop_table("units")
