"""A day's figures kept as they are written (日统计): ``incident_day_figures`` holds, per
local day of the hotline, district, unit (and, for the day's reports, category and
channel), the counts the command centre and the daily report sum. Statement triggers on
``incident_reports`` add each statement's rows and take away what they were, in the
writing statement's own transaction, so every writer (intake, workflow steps, bulk loads,
re-assignment, SQL by hand) keeps them exact; a TRUNCATE empties them. Also an index on
the open cases' due times, for today's overdue count.

Kinds of row, each dated by its own time in ``Asia/Shanghai`` (the zone the service
counts days in by default; with another zone the figures are aggregated directly):

- ``received`` (received_at): reports, handled directly, called back, per category and
  channel;
- ``callback`` (callback_at): callbacks made that day;
- ``closed`` (closed_at): closed, of them rated, satisfied (rating ≥ 4), reopened;
- ``due`` (due_at): due, of them closed by their due time;
- ``open`` (due_at, NULL when none): cases not closed.

``incident_day_grids`` counts the reports received per local day, grid (of the
assignment) and district, for the density map: kept by triggers on both
``incident_assignments`` and ``incident_reports`` (a report's delete removes its
assignment first, so the count goes with it).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZONE = "Asia/Shanghai"
KEY = "kind, day, district_code, unit_code, category_code, channel"
COUNTS = ("reports", "direct", "called_back", "on_time", "rated", "satisfied", "reopened")

# Each row of ``src`` (with its sign ``s``: +1 as it is now, -1 as it was) as the facts it
# counts; the columns follow KEY and COUNTS.
FACTS = f"""
SELECT 'received' AS kind, (received_at AT TIME ZONE '{ZONE}')::date AS day, district_code,
       unit_code, category_code, channel, s AS reports,
       CASE WHEN handled_directly THEN s ELSE 0 END AS direct,
       CASE WHEN callback_at IS NOT NULL THEN s ELSE 0 END AS called_back,
       0 AS on_time, 0 AS rated, 0 AS satisfied, 0 AS reopened
FROM src
UNION ALL
SELECT 'callback', (callback_at AT TIME ZONE '{ZONE}')::date, district_code, unit_code,
       NULL, NULL, s, 0, 0, 0, 0, 0, 0
FROM src WHERE callback_at IS NOT NULL
UNION ALL
SELECT 'closed', (closed_at AT TIME ZONE '{ZONE}')::date, district_code, unit_code, NULL, NULL,
       s, 0, 0, 0, CASE WHEN rating IS NOT NULL THEN s ELSE 0 END,
       CASE WHEN rating >= 4 THEN s ELSE 0 END, CASE WHEN reopen_count > 0 THEN s ELSE 0 END
FROM src WHERE closed_at IS NOT NULL
UNION ALL
SELECT 'due', (due_at AT TIME ZONE '{ZONE}')::date, district_code, unit_code, NULL, NULL,
       s, 0, 0, CASE WHEN closed_at <= due_at THEN s ELSE 0 END, 0, 0, 0
FROM src WHERE due_at IS NOT NULL
UNION ALL
SELECT 'open', (due_at AT TIME ZONE '{ZONE}')::date, district_code, unit_code, NULL, NULL,
       s, 0, 0, 0, 0, 0, 0
FROM src WHERE status <> 'closed'
"""
SUMS = ", ".join(f"sum({c})" for c in COUNTS)
ADD = f"""
INSERT INTO incident_day_figures AS f ({KEY}, {", ".join(COUNTS)})
SELECT {KEY}, {SUMS} FROM ({FACTS}) facts
GROUP BY {KEY}
HAVING ({SUMS}) <> ({", ".join("0" for _ in COUNTS)})
ORDER BY {KEY}
ON CONFLICT ({KEY}) DO UPDATE SET
  {", ".join(f"{c} = f.{c} + excluded.{c}" for c in COUNTS)}
"""
SOURCES = {
    "insert": "SELECT 1 AS s, * FROM new_rows",
    "update": "SELECT 1 AS s, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows",
    "delete": "SELECT -1 AS s, * FROM old_rows",
}
TRANSITIONS = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}


# The density map's counts: reports with their assignment's grid.
GRID_KEY = "day, grid_code, district_code"
GRID_FACTS = f"""
SELECT (r.received_at AT TIME ZONE '{ZONE}')::date AS day, a.grid_code, r.district_code,
       {{sign}} AS s
FROM {{pairs}}
WHERE a.grid_code IS NOT NULL
"""
ADD_GRIDS = f"""
INSERT INTO incident_day_grids AS f ({GRID_KEY}, reports)
SELECT {GRID_KEY}, sum(s) FROM ({{facts}}) facts
GROUP BY {GRID_KEY} HAVING sum(s) <> 0 ORDER BY {GRID_KEY}
ON CONFLICT ({GRID_KEY}) DO UPDATE SET reports = f.reports + excluded.reports
"""
# (table, event) → the pairs of report ``r`` and assignment ``a`` the statement added (+1)
# and took away (-1).
GRID_PAIRS = {
    ("incident_assignments", "insert"): [
        ("1", "new_rows a JOIN incident_reports r ON r.id = a.incident_id")
    ],
    ("incident_assignments", "update"): [
        ("1", "new_rows a JOIN incident_reports r ON r.id = a.incident_id"),
        ("-1", "old_rows a JOIN incident_reports r ON r.id = a.incident_id"),
    ],
    ("incident_assignments", "delete"): [
        ("-1", "old_rows a JOIN incident_reports r ON r.id = a.incident_id")
    ],
    ("incident_reports", "update"): [
        ("1", "new_rows r JOIN incident_assignments a ON a.incident_id = r.id"),
        ("-1", "old_rows r JOIN incident_assignments a ON a.incident_id = r.id"),
    ],
}


def _grid_function(table: str, event: str) -> str:
    facts = " UNION ALL ".join(
        GRID_FACTS.format(sign=sign, pairs=pairs) for sign, pairs in GRID_PAIRS[(table, event)]
    )
    return f"""
CREATE FUNCTION {table}_day_grids_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {ADD_GRIDS.format(facts=facts)};
  RETURN NULL;
END $$"""


def _function(event: str) -> str:
    return f"""
CREATE FUNCTION incident_day_figures_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH src AS ({SOURCES[event]})
  {ADD};
  RETURN NULL;
END $$"""


def upgrade() -> None:
    op.create_table(
        "incident_day_figures",
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("district_code", sa.String(6), nullable=True),
        sa.Column("unit_code", sa.String(32), nullable=True),
        sa.Column("category_code", sa.String(32), nullable=True),
        sa.Column("channel", sa.String(24), nullable=True),
        *(sa.Column(c, sa.BigInteger(), nullable=False, server_default="0") for c in COUNTS),
        sa.CheckConstraint(
            "kind IN ('received', 'callback', 'closed', 'due', 'open')",
            name="ck_incident_day_figures_kind",
        ),
    )
    op.execute(
        f"CREATE UNIQUE INDEX uq_incident_day_figures_key ON incident_day_figures ({KEY})"
        " NULLS NOT DISTINCT"
    )
    op.create_index(
        "ix_incident_reports_open_due_at",
        "incident_reports",
        ["due_at"],
        postgresql_include=["district_code", "unit_code"],
        postgresql_where=sa.text("status <> 'closed'"),
    )
    op.execute(f"WITH src AS (SELECT 1 AS s, * FROM incident_reports) {ADD}")
    for event in SOURCES:
        op.execute(_function(event))
        op.execute(
            f"CREATE TRIGGER incident_day_figures_{event} AFTER {event.upper()} ON"
            f" incident_reports REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT"
            f" EXECUTE FUNCTION incident_day_figures_{event}()"
        )
    op.execute(
        "CREATE FUNCTION incident_day_figures_truncate() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN TRUNCATE incident_day_figures, incident_day_grids; RETURN NULL; END $$"
    )
    for table in ("incident_reports", "incident_assignments"):
        op.execute(
            f"CREATE TRIGGER {table}_day_figures_truncate AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION incident_day_figures_truncate()"
        )
    _grids_upgrade()


def _grids_upgrade() -> None:
    op.create_table(
        "incident_day_grids",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("grid_code", sa.String(15), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=True),
        sa.Column("reports", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.execute(
        f"CREATE UNIQUE INDEX uq_incident_day_grids_key ON incident_day_grids ({GRID_KEY})"
        " NULLS NOT DISTINCT"
    )
    pairs = "incident_reports r JOIN incident_assignments a ON a.incident_id = r.id"
    op.execute(ADD_GRIDS.format(facts=GRID_FACTS.format(sign=1, pairs=pairs)))
    for table, event in GRID_PAIRS:
        op.execute(_grid_function(table, event))
        op.execute(
            f"CREATE TRIGGER {table}_day_grids_{event} AFTER {event.upper()} ON {table}"
            f" REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT"
            f" EXECUTE FUNCTION {table}_day_grids_{event}()"
        )
    # A report's assignment goes first, while the report is there to say its day.
    op.execute(
        "CREATE FUNCTION incident_reports_day_grids_delete() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN DELETE FROM incident_assignments WHERE incident_id = OLD.id;"
        " RETURN OLD; END $$"
    )
    op.execute(
        "CREATE TRIGGER incident_reports_day_grids_delete BEFORE DELETE ON incident_reports"
        " FOR EACH ROW EXECUTE FUNCTION incident_reports_day_grids_delete()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER incident_reports_day_grids_delete ON incident_reports")
    op.execute("DROP FUNCTION incident_reports_day_grids_delete()")
    for table, event in GRID_PAIRS:
        op.execute(f"DROP TRIGGER {table}_day_grids_{event} ON {table}")
        op.execute(f"DROP FUNCTION {table}_day_grids_{event}()")
    for table in ("incident_reports", "incident_assignments"):
        op.execute(f"DROP TRIGGER {table}_day_figures_truncate ON {table}")
    op.execute("DROP FUNCTION incident_day_figures_truncate()")
    for event in SOURCES:
        op.execute(f"DROP TRIGGER incident_day_figures_{event} ON incident_reports")
        op.execute(f"DROP FUNCTION incident_day_figures_{event}()")
    op.drop_table("incident_day_grids")
    op.drop_index("ix_incident_reports_open_due_at", table_name="incident_reports")
    op.drop_table("incident_day_figures")
