"""Responsible units to pick from (责任单位): what a dispatcher chooses when dispatching or
transferring a case. Units are a city-wide reference table; a unit's ``district_code`` is
its scope (NULL for a city-wide department)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.models import UNIT_KINDS, Unit

MAX_LIMIT = 5000
KIND_ORDER = {kind: i for i, kind in enumerate(UNIT_KINDS)}


@dataclass(frozen=True)
class UnitQuery:
    """Active units, narrowed by kind, district (units of that district and the city-wide
    ones), street, and a piece of their code or name."""

    kind: str | None = None
    district: str | None = None
    street: str | None = None
    q: str | None = None
    limit: int = 1000

    def check(self) -> None:
        if self.kind is not None and self.kind not in UNIT_KINDS:
            raise InvalidInput(
                f"unknown kind {self.kind!r}; one of {', '.join(UNIT_KINDS)}", "kind"
            )
        if self.district is not None and not (len(self.district) == 6 and self.district.isdigit()):
            raise InvalidInput("district is a 6-digit district code", "district")
        if self.street is not None and not (len(self.street) == 9 and self.street.isdigit()):
            raise InvalidInput("street is a 9-digit street code", "street")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be 1 to {MAX_LIMIT}", "limit")


def list_units(session: Session, query: UnitQuery) -> list[dict[str, Any]]:
    """Departments first, then street offices, communities and stations, each by code."""
    query.check()
    stmt = select(Unit).where(Unit.active)
    if query.kind is not None:
        stmt = stmt.where(Unit.kind == query.kind)
    if query.district is not None:
        stmt = stmt.where(or_(Unit.district_code == query.district, Unit.district_code.is_(None)))
    if query.street is not None:
        stmt = stmt.where(Unit.street_code == query.street)
    if query.q:
        # A literal piece of a code or name: LIKE's wildcards in it match themselves.
        piece = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Unit.code.ilike(piece, escape="\\"),
                Unit.name.ilike(piece, escape="\\"),
                func.coalesce(Unit.name_en, "").ilike(piece, escape="\\"),
            )
        )
    stmt = stmt.order_by(case(KIND_ORDER, value=Unit.kind), Unit.code).limit(query.limit)
    return [unit_dict(u) for u in session.scalars(stmt)]


def unit_dict(unit: Unit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "name_en": unit.name_en,
        "kind": unit.kind,
        "district_code": unit.district_code,
        "street_code": unit.street_code,
        "community_code": unit.community_code,
        "facility_id": unit.facility_id,
        "phone": unit.phone,
    }
