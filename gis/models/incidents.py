"""Resident reports (诉求) and their workflow events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, column_property, mapped_column

from gis.models.base import SRID, Base, created_at_column, district_code_column

CHANNELS = (
    "hotline_call",  # 12345 电话
    "wechat",  # 微信
    "mayor_mailbox",  # 市长信箱
    "provincial_site",  # 省政府网站
    "peoples_daily",  # 人民网留言板
    "patrol",  # 巡查发现
    "open311",
    "app",
)
STATUSES = ("received", "dispatched", "in_progress", "replied", "closed")
# How soon a dispatched case must be accepted (签收时限): life or property at risk,
# utilities (water, power, gas, heat), everything else; the limits are settings.
ACCEPT_CLASSES = ("urgent", "utility", "normal")
EVENT_KINDS = (
    "received",
    "transition",
    "reassigned",
    "callback",
    "rating",
    "note",
    "urge",
    "extension_request",
    "extension_decision",
    "handler",
    "verification_request",
    "verification_decision",
)
MATCHES = ("inside", "boundary", "snapped", "outside")
REPORT_TIMES = ("callback_at", "due_at", "closed_at")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class IncidentCategory(Base):
    """Configurable category table: who handles it and how many working days it may take.

    A city-wide reference table, so it carries no district code.
    """

    __tablename__ = "incident_categories"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60), nullable=False)
    name_en: Mapped[str] = mapped_column(String(80), nullable=False)
    handling_unit: Mapped[str] = mapped_column(String(120), nullable=False)
    due_working_days: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=5)
    default_unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    accept_class: Mapped[str] = mapped_column(
        String(8), nullable=False, default="normal", server_default="normal"
    )
    # Duplicates (重复诉求): same category within this radius on the ground and window.
    similar_radius_m: Mapped[float] = mapped_column(
        Float, nullable=False, default=250.0, server_default="250"
    )
    similar_days: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, default=7, server_default="7"
    )
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    __table_args__ = (
        CheckConstraint("code ~ '^[a-z][a-z0-9_]*$'", name="code_format"),
        CheckConstraint("due_working_days BETWEEN 1 AND 60", name="due_working_days"),
        CheckConstraint(_in("accept_class", ACCEPT_CLASSES), name="accept_class"),
        CheckConstraint("similar_radius_m > 0 AND similar_radius_m <= 5000", name="similar_radius"),
        CheckConstraint("similar_days BETWEEN 1 AND 90", name="similar_days"),
    )


class IncidentReport(Base):
    """What a resident reported and where its workflow stands (诉求): written at intake,
    changed by transitions. Its assignment lives in :class:`IncidentAssignment`, so a
    boundary edit that moves thousands of open incidents rewrites narrow rows only."""

    __tablename__ = "incident_reports"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(24), nullable=False)
    category_code: Mapped[str] = mapped_column(
        ForeignKey("incident_categories.code"), nullable=False, index=True
    )
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    address: Mapped[str | None] = mapped_column(String(300))
    geom: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=True), nullable=False
    )
    input_crs: Mapped[str] = mapped_column(String(16), nullable=False, default="cgcs2000")
    # Personal data (个人信息): shown to dispatchers and above only.
    reporter_name: Mapped[str | None] = mapped_column(String(60))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))

    status: Mapped[str] = mapped_column(String(16), nullable=False, default="received")
    handled_directly: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    received_at: Mapped[datetime] = created_at_column()
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    callback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    # The responsible unit (责任单位) it is dispatched to, and the person there (经办人).
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    handler: Mapped[str | None] = mapped_column(String(60))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accept_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reply: Mapped[str | None] = mapped_column(Text)
    urge_count: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, default=0, server_default="0"
    )
    reopen_count: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, default=0, server_default="0"
    )
    # A duplicate (重复诉求) closed into another incident, which answers for both.
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("incident_reports.id"), index=True)
    # The sharding key, kept equal to the assignment's district by every writer.
    district_code: Mapped[str | None] = district_code_column(nullable=True)

    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint("char_length(description) <= 4000", name="description_length"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        # The desk's queues: open cases by status (and unit), soonest due first.
        Index(
            "ix_incident_reports_open_due",
            "status",
            "due_at",
            postgresql_where=text("status <> 'closed'"),
        ),
        Index(
            "ix_incident_reports_open_unit_due",
            "unit_code",
            "status",
            "due_at",
            postgresql_where=text("status <> 'closed'"),
        ),
        # The command centre: a day's reports and callbacks, the 30-day rates, and the
        # open cases by district and unit from the index alone.
        Index(
            "ix_incident_reports_received_at",
            "received_at",
            postgresql_include=[
                "channel",
                "handled_directly",
                "callback_at",
                "category_code",
                "district_code",
                "unit_code",
            ],
        ),
        *(Index(f"ix_incident_reports_{c}", c) for c in REPORT_TIMES),
        Index(
            "ix_incident_reports_open_district_unit",
            "district_code",
            "unit_code",
            "due_at",
            postgresql_where=text("status <> 'closed'"),
        ),
        # Today's overdue count: the open cases whose due time is between midnight and now.
        Index(
            "ix_incident_reports_open_due_at",
            "due_at",
            postgresql_include=["district_code", "unit_code"],
            postgresql_where=text("status <> 'closed'"),
        ),
    )


class IncidentAssignment(Base):
    """Where an incident belongs (归属) under the rules of :mod:`gis.assign`: its units as
    of ``boundary_version_id``. One narrow row per incident, rewritten on re-assignment."""

    __tablename__ = "incident_assignments"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident_reports.id", ondelete="CASCADE"), primary_key=True
    )
    match: Mapped[str] = mapped_column(String(12), nullable=False)
    distance_m: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    district_code: Mapped[str | None] = district_code_column(nullable=True)
    street_code: Mapped[str | None] = mapped_column(String(9))
    community_code: Mapped[str | None] = mapped_column(String(12), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"), index=True)
    station_distance_m: Mapped[float | None] = mapped_column(Float)
    station_within_radius: Mapped[bool | None] = mapped_column(Boolean)
    party_branch_id: Mapped[int | None] = mapped_column(ForeignKey("party_branches.id"))
    # No foreign key: boundary versions are append-only (a trigger refuses deletes), and a
    # per-row key check would dominate the re-assignment of a large edit.
    boundary_version_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(_in("match", MATCHES), name="match"),
        CheckConstraint("(match = 'outside') = (grid_code IS NULL)", name="grid_iff_matched"),
    )


_reports = IncidentReport.__table__
_assignments = IncidentAssignment.__table__


class Incident(Base):
    """One resident report with its assignment: a report row joined to its assignment row,
    read and written as one object (the database view ``incidents`` is the same join)."""

    __table__ = _reports.join(_assignments, _reports.c.id == _assignments.c.incident_id)

    id: Mapped[int] = column_property(_reports.c.id, _assignments.c.incident_id)
    district_code: Mapped[str | None] = column_property(
        _assignments.c.district_code, _reports.c.district_code
    )
    external_id: Mapped[str | None]
    channel: Mapped[str]
    category_code: Mapped[str]
    description: Mapped[str]
    address: Mapped[str | None]
    geom: Mapped[Any]
    input_crs: Mapped[str]
    reporter_name: Mapped[str | None]
    reporter_phone: Mapped[str | None]
    status: Mapped[str]
    handled_directly: Mapped[bool]
    received_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    callback_at: Mapped[datetime | None]
    rating: Mapped[int | None]
    unit_code: Mapped[str | None]
    handler: Mapped[str | None]
    dispatched_at: Mapped[datetime | None]
    accept_due_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    reply: Mapped[str | None]
    urge_count: Mapped[int]
    reopen_count: Mapped[int]
    merged_into: Mapped[int | None]
    match: Mapped[str]
    distance_m: Mapped[float]
    street_code: Mapped[str | None]
    community_code: Mapped[str | None]
    grid_code: Mapped[str | None]
    station_id: Mapped[int | None]
    station_distance_m: Mapped[float | None]
    station_within_radius: Mapped[bool | None]
    party_branch_id: Mapped[int | None]
    boundary_version_id: Mapped[int | None]


class IncidentEvent(Base):
    """Every change to an incident: intake, transitions, re-assignments, callbacks."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident_reports.id", ondelete="CASCADE"), nullable=False, index=True
    )
    district_code: Mapped[str | None] = district_code_column(nullable=True)
    at: Mapped[datetime] = created_at_column()
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    # The unit the step concerns (who acted, or who the case went to).
    unit_code: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    __table_args__ = (CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),)


# The database view ``incidents`` (the same join): for readers that select columns by name.
# Kept out of Base.metadata, since migrations create it as a view, not as a table.
INCIDENTS_VIEW = Table(
    "incidents",
    MetaData(),
    *[Column(c.name, c.type) for c in _reports.c if c.name != "district_code"],
    *[Column(c.name, c.type) for c in _assignments.c if c.name != "incident_id"],
)


class IncidentMove(Base):
    """One group of incidents re-assigned together (重新归属记录): by a boundary edit or a
    facility change, from the same old units to the same new ones. Part of each listed
    incident's event log; one row per group, not per incident, keeps a large edit cheap."""

    __tablename__ = "incident_moves"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = created_at_column()
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    # The district the incidents moved to (None: to no grid).
    district_code: Mapped[str | None] = district_code_column(nullable=True)
    boundary_version_id: Mapped[int | None] = mapped_column(ForeignKey("boundary_versions.id"))
    old: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    new: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    incident_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False)

    __table_args__ = (
        Index("ix_incident_moves_incident_ids", "incident_ids", postgresql_using="gin"),
    )
