"""Photos on incidents (附件): the cleaned image and its thumbnail, in the database itself,
so one backup holds everything."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from gis.models.base import Base, created_at_column, district_code_column

MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")


class IncidentMedia(Base):
    """One photo of an incident, numbered 1, 2, ... per incident in the order they came.

    ``data`` holds the re-encoded image with no metadata (no EXIF, XMP, ICC, text);
    ``upload_sha256`` is the hash of the bytes as uploaded, so a photo sent again after a
    lost connection is recognised without decoding it.
    """

    __tablename__ = "incident_media"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident_reports.id", ondelete="CASCADE"), nullable=False
    )
    n: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    content_type: Mapped[str] = mapped_column(String(16), nullable=False)
    # The bytes are read only when a photo is served (deferred), never by a listing.
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    thumbnail: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    upload_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    district_code: Mapped[str | None] = district_code_column(nullable=True)

    __table_args__ = (
        UniqueConstraint("incident_id", "n", name="uq_incident_media_incident_n"),
        UniqueConstraint("incident_id", "upload_sha256", name="uq_incident_media_upload"),
        CheckConstraint("n >= 1", name="n_positive"),
        CheckConstraint(
            f"content_type IN ({', '.join(repr(t) for t in MEDIA_TYPES)})", name="content_type"
        ),
        CheckConstraint("width > 0 AND height > 0 AND bytes > 0", name="sizes"),
    )
