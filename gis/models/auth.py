"""API tokens; only a SHA-256 hash of each token is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Identity, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gis.models.base import Base, created_at_column, district_code_column

# Staff roles, ranked: each may do what the ones before it may.
ROLES = ("viewer", "dispatcher", "planner", "admin")
# Roles bound to one thing: ``unit`` (staff of one responsible unit, 责任单位) acts on its
# own queue only.
BOUND_ROLES = ("unit",)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # A token may be limited to one district; NULL means the whole city.
    district_code: Mapped[str | None] = district_code_column(nullable=True)
    # The responsible unit a ``unit`` token acts for.
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint(
            f"role IN ({', '.join(repr(r) for r in (*ROLES, *BOUND_ROLES))})", name="role"
        ),
        CheckConstraint("(role = 'unit') = (unit_code IS NOT NULL)", name="unit_bound"),
    )
