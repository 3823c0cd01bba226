"""Resident reports (诉求) and their workflow events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

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
MATCHES = ("inside", "boundary", "snapped", "outside")


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
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    __table_args__ = (
        CheckConstraint("code ~ '^[a-z][a-z0-9_]*$'", name="code_format"),
        CheckConstraint("due_working_days BETWEEN 1 AND 60", name="due_working_days"),
    )


class Incident(Base):
    """One resident report with its location, assignment and workflow state."""

    __tablename__ = "incidents"

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

    # Assignment (see gis.assign): the units as of boundary_version_id.
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
    boundary_version_id: Mapped[int | None] = mapped_column(ForeignKey("boundary_versions.id"))

    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("match", MATCHES), name="match"),
        CheckConstraint("char_length(description) <= 4000", name="description_length"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        CheckConstraint("(match = 'outside') = (grid_code IS NULL)", name="grid_iff_matched"),
    )


class IncidentEvent(Base):
    """Every change to an incident: intake, transitions, re-assignments, callbacks."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    district_code: Mapped[str | None] = district_code_column(nullable=True)
    at: Mapped[datetime] = created_at_column()
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    __table_args__ = (
        CheckConstraint(
            "kind IN ('received', 'transition', 'reassigned', 'callback', 'rating', 'note')",
            name="kind",
        ),
    )
