"""Grid workers (网格员) and verification (核查).

Tokens of role ``grid_worker`` serve one or more grids, listed in ``api_token_grids`` by
grid code; a deferred constraint trigger checks at commit that a grid_worker token names at
least one grid and no other token names any. ``incident_requests`` gains the kind
``verification`` and the photo a confirmed verification points to (its number on the
incident, ``incident_media``); the event log gains ``verification_request`` and
``verification_decision``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = "('viewer', 'dispatcher', 'planner', 'admin', 'unit')"
NEW_ROLES = "('viewer', 'dispatcher', 'planner', 'admin', 'unit', 'grid_worker')"
OLD_EVENT_KINDS = (
    "('received', 'transition', 'reassigned', 'callback', 'rating', 'note', 'urge',"
    " 'extension_request', 'extension_decision', 'handler')"
)
NEW_EVENT_KINDS = OLD_EVENT_KINDS[:-1] + ", 'verification_request', 'verification_decision')"
OLD_REQUEST_KINDS = "('extension')"
NEW_REQUEST_KINDS = "('extension', 'verification')"

CHECK_FUNCTION = """
CREATE FUNCTION check_token_grids() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tid integer;
    trole text;
    n integer;
BEGIN
    IF TG_TABLE_NAME = 'api_tokens' THEN
        tid := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        tid := OLD.token_id;
    ELSE
        tid := NEW.token_id;
    END IF;
    SELECT role INTO trole FROM api_tokens WHERE id = tid;
    IF NOT FOUND THEN
        RETURN NULL;  -- the token itself was deleted; its grids went with it
    END IF;
    SELECT count(*) INTO n FROM api_token_grids WHERE token_id = tid;
    IF trole = 'grid_worker' AND n = 0 THEN
        RAISE EXCEPTION 'grid_worker token % must name at least one grid', tid
            USING ERRCODE = 'check_violation';
    ELSIF trole <> 'grid_worker' AND n > 0 THEN
        RAISE EXCEPTION 'only a grid_worker token names grids; token % is a % token', tid, trole
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
"""


def _recheck(table: str, name: str, allowed: str, column: str = "kind") -> None:
    op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, f"{column} IN {allowed}")


def upgrade() -> None:
    op.create_table(
        "api_token_grids",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.CheckConstraint(
            "grid_code ~ '^[0-9]{15}$'", name=op.f("ck_api_token_grids_grid_code_format")
        ),
        sa.CheckConstraint(
            "left(grid_code, 6) = district_code", name=op.f("ck_api_token_grids_grid_in_district")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name=op.f("fk_api_token_grids_token_id_api_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", "grid_code", name=op.f("pk_api_token_grids")),
    )
    op.create_index(op.f("ix_api_token_grids_grid_code"), "api_token_grids", ["grid_code"])
    op.create_index(op.f("ix_api_token_grids_district_code"), "api_token_grids", ["district_code"])
    _recheck("api_tokens", "role", NEW_ROLES, "role")
    op.execute(CHECK_FUNCTION)
    op.execute(
        "CREATE CONSTRAINT TRIGGER api_tokens_grids AFTER INSERT OR UPDATE OF role ON api_tokens"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_token_grids()"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER api_token_grids_count AFTER INSERT OR DELETE OR UPDATE"
        " ON api_token_grids DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
        " EXECUTE FUNCTION check_token_grids()"
    )
    _recheck("incident_events", "kind", NEW_EVENT_KINDS)
    _recheck("incident_requests", "kind", NEW_REQUEST_KINDS)
    op.add_column("incident_requests", sa.Column("photo_n", sa.SmallInteger(), nullable=True))
    op.create_foreign_key(
        "fk_incident_requests_photo_incident_media",
        "incident_requests",
        "incident_media",
        ["incident_id", "photo_n"],
        ["incident_id", "n"],
    )


def downgrade() -> None:
    op.drop_constraint(
        "fk_incident_requests_photo_incident_media", "incident_requests", type_="foreignkey"
    )
    op.drop_column("incident_requests", "photo_n")
    op.execute("DELETE FROM incident_requests WHERE kind = 'verification'")
    op.execute(
        "DELETE FROM incident_events"
        " WHERE kind IN ('verification_request', 'verification_decision')"
    )
    _recheck("incident_requests", "kind", OLD_REQUEST_KINDS)
    _recheck("incident_events", "kind", OLD_EVENT_KINDS)
    op.execute("DROP TRIGGER api_token_grids_count ON api_token_grids")
    op.execute("DROP TRIGGER api_tokens_grids ON api_tokens")
    op.execute("DROP FUNCTION check_token_grids()")
    op.execute("DELETE FROM api_tokens WHERE role = 'grid_worker'")
    _recheck("api_tokens", "role", OLD_ROLES, "role")
    op.drop_index(op.f("ix_api_token_grids_district_code"), table_name="api_token_grids")
    op.drop_index(op.f("ix_api_token_grids_grid_code"), table_name="api_token_grids")
    op.drop_table("api_token_grids")
