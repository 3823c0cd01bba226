"""A day's figures as they are written (日统计): see migration 0013, whose triggers on
``incident_reports`` keep this table; nothing else writes it."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, Index, String, Table

from gis.models.base import Base

FIGURE_KINDS = ("received", "callback", "closed", "due", "open")
FIGURE_KEY = ("kind", "day", "district_code", "unit_code", "category_code", "channel")
FIGURE_COUNTS = ("reports", "direct", "called_back", "on_time", "rated", "satisfied", "reopened")

# A table without a key of its own (its key has NULLs): Core, not an ORM class.
incident_day_figures = Table(
    "incident_day_figures",
    Base.metadata,
    Column("kind", String(12), nullable=False),
    Column("day", Date),
    Column("district_code", String(6)),
    Column("unit_code", String(32)),
    Column("category_code", String(32)),
    Column("channel", String(24)),
    *(Column(c, BigInteger, nullable=False, server_default="0") for c in FIGURE_COUNTS),
    CheckConstraint("kind IN ('received', 'callback', 'closed', 'due', 'open')", name="kind"),
    Index(
        "uq_incident_day_figures_key",
        *FIGURE_KEY,
        unique=True,
        postgresql_nulls_not_distinct=True,
    ),
)

# The density map's counts: reports received per local day, grid and district.
incident_day_grids = Table(
    "incident_day_grids",
    Base.metadata,
    Column("day", Date, nullable=False),
    Column("grid_code", String(15), nullable=False),
    Column("district_code", String(6)),
    Column("reports", BigInteger, nullable=False, server_default="0"),
    Index(
        "uq_incident_day_grids_key",
        "day",
        "grid_code",
        "district_code",
        unique=True,
        postgresql_nulls_not_distinct=True,
    ),
)
