"""Responsible units (责任单位) and the sub-requests a unit raises on an incident."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis.models.base import Base, created_at_column, district_code_column

# department (职能部门), street office (街道办事处), community committee (社区居委会),
# enforcement station (综合执法服务站).
UNIT_KINDS = ("department", "street_office", "community", "station")
# extension (延期申请: asked by the unit, decided by a dispatcher); verification (核查:
# asked by a dispatcher or the unit, decided on the spot by the grid's worker).
REQUEST_KINDS = ("extension", "verification")
REQUEST_STATES = ("pending", "approved", "refused")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Unit(Base):
    """A responsible unit an incident is dispatched to (责任单位).

    ``district_code`` is the unit's scope: NULL for a city-wide department.
    """

    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    district_code: Mapped[str | None] = district_code_column(nullable=True)
    # What the unit stands for, where it stands for a boundary or a facility.
    street_code: Mapped[str | None] = mapped_column(String(9))
    community_code: Mapped[str | None] = mapped_column(String(12))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = created_at_column()
    __table_args__ = (
        CheckConstraint(_in("kind", UNIT_KINDS), name="kind"),
        CheckConstraint("code ~ '^[a-z0-9][a-z0-9_.-]*$'", name="code_format"),
    )


class IncidentRequest(Base):
    """A sub-request on an incident with its own approver and clock: an extension (延期申请)
    asked by the unit and decided by a dispatcher, or a verification (核查) asked by a
    dispatcher or the unit and confirmed (``approved``, with a photo when one was taken) or
    rejected (``refused``, with its note) by the grid's worker."""

    __tablename__ = "incident_requests"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident_reports.id", ondelete="CASCADE"), nullable=False, index=True
    )
    district_code: Mapped[str | None] = district_code_column(nullable=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False, default="pending")
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    days: Mapped[int | None] = mapped_column(SmallInteger)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    asked_by: Mapped[str] = mapped_column(String(120), nullable=False)
    asked_at: Mapped[datetime] = created_at_column()
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    # The photo a confirmed verification points to: its number on the incident
    # (``incident_media.n``), if any.
    photo_n: Mapped[int | None] = mapped_column(SmallInteger)
    __table_args__ = (
        CheckConstraint(_in("kind", REQUEST_KINDS), name="kind"),
        CheckConstraint(_in("state", REQUEST_STATES), name="state"),
        CheckConstraint("days IS NULL OR days > 0", name="days"),
        ForeignKeyConstraint(
            ["incident_id", "photo_n"],
            ["incident_media.incident_id", "incident_media.n"],
            name="fk_incident_requests_photo_incident_media",
        ),
    )
