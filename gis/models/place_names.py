"""The place-name index (地名检索) and the epochs that say when it is stale.

``place_names`` is derived data: one row per current district, street, community, grid,
compound and facility in service, with its name as typed by users (normalised), the
pinyin initials and spelling, the names of the units above it, a point inside it and its
bounding box. ``gis.places.index`` rebuilds a district's rows when triggers of migration
0007 have moved that district's ``epoch`` past the ``built_epoch`` it was built at.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from gis.models.base import Base, district_code_column

PLACE_KINDS = ("district", "street", "community", "grid", "compound", "facility")


class PlaceName(Base):
    """One searchable place; ``initials`` and ``spell`` hold space-separated readings,
    the most likely first (a name with polyphones has several)."""

    __tablename__ = "place_names"

    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(String(160), nullable=False)
    key: Mapped[str] = mapped_column(String(160), nullable=False)
    initials: Mapped[str] = mapped_column(Text, nullable=False)
    spell: Mapped[str] = mapped_column(Text, nullable=False)
    district_code: Mapped[str] = district_code_column()
    district: Mapped[str | None] = mapped_column(String(120))
    street: Mapped[str | None] = mapped_column(String(120))
    community: Mapped[str | None] = mapped_column(String(120))
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    min_lon: Mapped[float] = mapped_column(Float, nullable=False)
    min_lat: Mapped[float] = mapped_column(Float, nullable=False)
    max_lon: Mapped[float] = mapped_column(Float, nullable=False)
    max_lat: Mapped[float] = mapped_column(Float, nullable=False)
    __table_args__ = (
        Index(
            "ix_place_names_key",
            "key",
            postgresql_using="gin",
            postgresql_ops={"key": "gin_trgm_ops"},
        ),
        Index(
            "ix_place_names_initials",
            "initials",
            postgresql_using="gin",
            postgresql_ops={"initials": "gin_trgm_ops"},
        ),
        Index(
            "ix_place_names_spell",
            "spell",
            postgresql_using="gin",
            postgresql_ops={"spell": "gin_trgm_ops"},
        ),
        Index("ix_place_names_code", "code", postgresql_ops={"code": "text_pattern_ops"}),
    )


class PlaceNameEpoch(Base):
    """Per district: ``epoch`` moves (by trigger) with every write to a source table;
    ``built_epoch`` is the epoch its ``place_names`` rows were built at."""

    __tablename__ = "place_name_epochs"

    district_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("1"))
    built_epoch: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
