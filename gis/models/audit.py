"""The audit log (审计日志): who did what, when, to which resource.

Rows are appended, never changed: token use on every write (accepted or refused),
reads and admin exports of residents' personal data. Boundary edits and incident
transitions keep their own logs (``boundary_versions``, ``incident_events``);
``GET /api/v1/audit`` shows them beside these rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Integer, SmallInteger, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis.models.base import Base, district_code_column

AUDIT_ACTIONS = ("write", "personal_data.read", "personal_data.export", "token")


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), index=True
    )
    # Who: the token row (kept even after the token is revoked), its role and holder's name.
    token_id: Mapped[int | None] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    # What it touched: for HTTP, "METHOD /path".
    resource: Mapped[str] = mapped_column(String(300), nullable=False)
    status: Mapped[int | None] = mapped_column(SmallInteger)
    client: Mapped[str | None] = mapped_column(String(64))
    district_code: Mapped[str | None] = district_code_column(nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
