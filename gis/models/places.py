"""What sits inside the boundaries: compounds, buildings, party branches, facilities."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis.models.base import SRID, Base, created_at_column, district_code_column


class Compound(Base):
    """Residential compound (小区), the seat of a compound party branch."""

    __tablename__ = "compounds"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    district_code: Mapped[str] = district_code_column()
    community_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    # commercial (商品房), old (老旧小区), resettlement (安置房) or mixed.
    housing_type: Mapped[str] = mapped_column(String(16), nullable=False, default="commercial")
    property_managed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    households: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    residents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    geom: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False
    )
    __table_args__ = (
        CheckConstraint(
            "housing_type IN ('commercial', 'old', 'resettlement', 'mixed')", name="housing_type"
        ),
        CheckConstraint("left(community_code, 6) = district_code", name="in_district"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
    )


class Building(Base):
    """Residential building (楼栋) as a point with its households and residents."""

    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(24), nullable=False, unique=True)
    district_code: Mapped[str] = district_code_column()
    community_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    households: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    residents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    elderly_residents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    geom: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=True), nullable=False
    )
    __table_args__ = (CheckConstraint("households >= 0 AND residents >= 0", name="counts"),)


class PartyBranch(Base):
    """Party organisation seated on a unit (党组织).

    kind: community_committee (社区党委) on a community, grid_branch (网格党支部)
    on a grid, compound_branch (小区党支部) on a compound, building_group
    (楼院党小组) on a building.
    """

    __tablename__ = "party_branches"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    name: Mapped[str] = mapped_column(String(160), nullable=False)
    district_code: Mapped[str] = district_code_column()
    community_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    secretary: Mapped[str | None] = mapped_column(String(60))
    members: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    __table_args__ = (
        CheckConstraint(
            "kind IN ('community_committee', 'grid_branch', 'compound_branch', 'building_group')",
            name="kind",
        ),
        CheckConstraint(
            "(kind <> 'grid_branch' OR grid_code IS NOT NULL)"
            " AND (kind <> 'compound_branch' OR compound_id IS NOT NULL)"
            " AND (kind <> 'building_group' OR building_id IS NOT NULL)",
            name="seat",
        ),
        CheckConstraint("left(community_code, 6) = district_code", name="in_district"),
    )


STATION = "enforcement_station"  # 综合执法服务站
CANTEEN = "elderly_canteen"  # 爱老幸福食堂
FACILITY_TYPES = (STATION, CANTEEN)


class Facility(Base):
    """Service point: enforcement station (综合执法服务站), elderly canteen (爱老幸福食堂), ...

    ``service_area`` is the service circle kept as a polygon, computed on the
    ground (not in degrees) whenever location or radius change.
    """

    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(24), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(160), nullable=False)
    district_code: Mapped[str] = district_code_column()
    geom: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=True), nullable=False
    )
    service_radius_m: Mapped[float] = mapped_column(Float, nullable=False)
    service_area: Mapped[Any | None] = mapped_column(
        Geometry("POLYGON", srid=SRID, spatial_index=True)
    )
    staff: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    seats: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    hours: Mapped[str] = mapped_column(String(60), nullable=False, default="24h")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = created_at_column()
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint(
            "service_radius_m > 0 AND service_radius_m <= 50000", name="service_radius"
        ),
        CheckConstraint("staff >= 0 AND seats >= 0", name="capacity"),
    )
