"""API tokens; only a SHA-256 hash of each token is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Identity, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gis.models.base import Base, created_at_column, district_code_column

# Staff roles, ranked: each may do what the ones before it may.
ROLES = ("viewer", "dispatcher", "planner", "admin")
# Roles bound to what they serve: ``unit`` (staff of one responsible unit, 责任单位) acts on
# its own queue only; ``grid_worker`` (网格员) on the incidents of its own grids
# (:class:`ApiTokenGrid`, one or more).
BOUND_ROLES = ("unit", "grid_worker")


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


class ApiTokenGrid(Base):
    """A grid a ``grid_worker`` token serves (网格员的网格), by code: grid rows are versions,
    so the code, which survives reshapes, is the link. A grid_worker token names at least
    one grid and no other role names any: a deferred constraint trigger checks it at commit
    (migration 0012), and :func:`gis.tokens.create_token` says so first, naming the field."""

    __tablename__ = "api_token_grids"

    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    grid_code: Mapped[str] = mapped_column(String(15), primary_key=True, index=True)
    district_code: Mapped[str] = district_code_column()
    __table_args__ = (
        CheckConstraint("grid_code ~ '^[0-9]{15}$'", name="grid_code_format"),
        CheckConstraint("left(grid_code, 6) = district_code", name="grid_in_district"),
    )
