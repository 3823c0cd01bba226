"""Administrative units and grids, each row one version of one boundary.

Edits never overwrite: a change closes the current row (``valid_to``) and opens
a new one, both pointing at the :class:`BoundaryVersion` that made them. The
current boundary of a code is its row with ``valid_to IS NULL``; the boundary
at time *t* is the row with ``valid_from <= t < valid_to``. An exclusion
constraint keeps the intervals of one code from overlapping.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from gis.models.base import SRID, Base, created_at_column, district_code_column

CODE_LENGTH = {"district": 6, "street": 9, "community": 12, "grid": 15}


def ancestor_code(code: str, level: str) -> str:
    """The code of the ``level`` unit holding ``code``: each level adds 3 digits to its parent's."""
    return code[: CODE_LENGTH[level]]


def parent_code(code: str, level: str) -> str:
    """The code of the unit directly above ``code``, itself the code of a ``level`` unit."""
    return code[: CODE_LENGTH[level] - 3]


class BoundaryVersion(Base):
    """One commit of boundaries (边界版本): the generation it opens and its edit log entry.

    Version 1 is the initial load (demo or import); every planner edit adds one,
    recording who, when, why, the operation, and the outlines before and after.
    """

    __tablename__ = "boundary_versions"

    id: Mapped[int] = mapped_column(Integer, Identity(start=1), primary_key=True)
    created_at: Mapped[datetime] = created_at_column()
    author: Mapped[str] = mapped_column(String(120), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    operation: Mapped[str] = mapped_column(String(32), nullable=False)
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("boundary_versions.id"))
    district_code: Mapped[str | None] = district_code_column(nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )


class VersionedBoundary:
    """Columns and constraints shared by every versioned boundary table."""

    __level__: str

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(15), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    district_code: Mapped[str] = district_code_column()
    valid_from: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @declared_attr
    def geom(cls) -> Mapped[Any]:
        return mapped_column(
            Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False
        )

    # Indexed: a commit and its undo read the rows a version opened or closed.
    @declared_attr
    def version_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("boundary_versions.id"), nullable=False, index=True)

    @declared_attr
    def retired_version_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("boundary_versions.id"), index=True)


def versioning_constraints(table: str, level: str) -> tuple[Any, ...]:
    """Code format, nesting by code prefix, valid geometry, non-overlapping validity."""
    n = CODE_LENGTH[level]
    return (
        CheckConstraint(f"code ~ '^[0-9]{{{n}}}$'", name="code_format"),
        CheckConstraint("left(code, 6) = district_code", name="code_in_district"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_interval"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        ExcludeConstraint(
            ("code", "="),
            (text("tstzrange(valid_from, valid_to)"), "&&"),
            name=f"ex_{table}_code_validity",
            using="gist",
        ),
        Index(
            f"ix_{table}_current_code",
            "code",
            unique=True,
            # The current-row rule (gis.validity.boundary_current) as DDL: the tables sit
            # below every rule, so the index spells it out as the migrations do.
            postgresql_where=text("valid_to IS NULL"),
        ),
    )


class District(VersionedBoundary, Base):
    """District or county (区/县), a 6-digit GB/T 2260 code."""

    __tablename__ = "districts"
    __level__ = "district"
    __table_args__ = versioning_constraints("districts", "district")


class Street(VersionedBoundary, Base):
    """Street or town (街道/镇): district code + 3 digits."""

    __tablename__ = "streets"
    __level__ = "street"
    kind: Mapped[str] = mapped_column(String(12), nullable=False, default="street")
    __table_args__ = (
        *versioning_constraints("streets", "street"),
        CheckConstraint("kind IN ('street', 'town')", name="kind"),
    )


class Community(VersionedBoundary, Base):
    """Community (社区): street code + 3 digits, with the attributes that decide its class."""

    __tablename__ = "communities"
    __level__ = "community"
    street_code: Mapped[str] = mapped_column(String(9), nullable=False, index=True)
    # core (城市核心区), fringe (城乡结合部) or township (乡镇).
    area_type: Mapped[str] = mapped_column(String(12), nullable=False, default="core")
    households: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    residents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    commercial_housing_residents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    old_compound_residents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    resettlement_residents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    elderly_residents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    migrant_residents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # mature, partial or little (物业管理).
    property_management: Mapped[str] = mapped_column(String(12), nullable=False, default="partial")
    facilities_complete: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    community_class: Mapped[str | None] = mapped_column("class", String(1))
    __table_args__ = (
        *versioning_constraints("communities", "community"),
        CheckConstraint("left(code, 9) = street_code", name="code_in_street"),
        CheckConstraint("area_type IN ('core', 'fringe', 'township')", name="area_type"),
        CheckConstraint(
            "property_management IN ('mature', 'partial', 'little')", name="property_management"
        ),
        CheckConstraint("class IS NULL OR class IN ('A', 'B', 'C', 'D')", name="class"),
    )


class Grid(VersionedBoundary, Base):
    """Grid (网格): community code + 3 digits, comprehensive (综合) or dedicated (专属)."""

    __tablename__ = "grids"
    __level__ = "grid"
    community_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    street_code: Mapped[str] = mapped_column(String(9), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="comprehensive")
    households: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    residents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    worker_name: Mapped[str | None] = mapped_column(String(60))
    __table_args__ = (
        *versioning_constraints("grids", "grid"),
        CheckConstraint("left(code, 12) = community_code", name="code_in_community"),
        CheckConstraint("left(code, 9) = street_code", name="code_in_street"),
        CheckConstraint("kind IN ('comprehensive', 'dedicated')", name="kind"),
    )


BOUNDARY_MODELS: dict[str, type[VersionedBoundary]] = {
    "district": District,
    "street": Street,
    "community": Community,
    "grid": Grid,
}
