"""Place search (地名检索): the ``place_names`` index and its per-district epochs.

``place_names`` holds one row per current boundary, compound and facility in service,
with trigram (pg_trgm) indexes on the normalised name, the pinyin initials and the
spelling. Pinyin comes from Python (pypinyin), so the rows are written by
``gis.places.index``, not by SQL. What keeps them current: every statement on a source
table moves ``place_name_epochs.epoch`` of each district it touched (triggers below, so
no writer can forget, whatever the path); a search that finds a district's epoch past the
``built_epoch`` its rows were built at rebuilds that district first.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = ("districts", "streets", "communities", "grids", "compounds", "facilities")

# One function for every source and operation: plpgsql plans each statement when it first
# runs, so a branch naming a transition table the trigger lacks is never planned.
TOUCH = """
CREATE FUNCTION place_name_epochs_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    UPDATE place_name_epochs SET epoch = epoch + 1;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO place_name_epochs AS e (district_code)
      SELECT DISTINCT district_code FROM new_rows
      ON CONFLICT (district_code) DO UPDATE SET epoch = e.epoch + 1;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO place_name_epochs AS e (district_code)
      SELECT DISTINCT district_code FROM old_rows
      ON CONFLICT (district_code) DO UPDATE SET epoch = e.epoch + 1;
  ELSE
    INSERT INTO place_name_epochs AS e (district_code)
      SELECT district_code FROM new_rows UNION SELECT district_code FROM old_rows
      ON CONFLICT (district_code) DO UPDATE SET epoch = e.epoch + 1;
  END IF;
  RETURN NULL;
END $$;
"""
TRIGGERS = {
    "insert": "AFTER INSERT ON {t} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "update": "AFTER UPDATE ON {t} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT",
    "delete": "AFTER DELETE ON {t} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "truncate": "AFTER TRUNCATE ON {t} FOR EACH STATEMENT",
}


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "place_names",
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("initials", sa.Text(), nullable=False),
        sa.Column("spell", sa.Text(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("district", sa.String(length=120), nullable=True),
        sa.Column("street", sa.String(length=120), nullable=True),
        sa.Column("community", sa.String(length=120), nullable=True),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "code", name=op.f("pk_place_names")),
    )
    op.create_index(op.f("ix_place_names_district_code"), "place_names", ["district_code"])
    op.create_index(
        "ix_place_names_code", "place_names", ["code"], postgresql_ops={"code": "text_pattern_ops"}
    )
    for column in ("key", "initials", "spell"):
        op.create_index(
            f"ix_place_names_{column}",
            "place_names",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )
    op.create_table(
        "place_name_epochs",
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("epoch", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("built_epoch", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("district_code", name=op.f("pk_place_name_epochs")),
    )
    # Every district already holding places starts stale: the first search builds it.
    op.execute(
        "INSERT INTO place_name_epochs (district_code) "
        + " UNION ".join(f"SELECT district_code FROM {t}" for t in SOURCES)
    )
    op.execute(TOUCH)
    for table in SOURCES:
        for event, clause in TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {table}_place_names_{event} {clause.format(t=table)}"
                " EXECUTE FUNCTION place_name_epochs_touch()"
            )


def downgrade() -> None:
    # pg_trgm stays, as PostGIS does: an extension may serve more than this schema.
    for table in SOURCES:
        for event in TRIGGERS:
            op.execute(f"DROP TRIGGER {table}_place_names_{event} ON {table}")
    op.execute("DROP FUNCTION place_name_epochs_touch()")
    op.drop_table("place_name_epochs")
    op.drop_table("place_names")
