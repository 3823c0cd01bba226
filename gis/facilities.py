"""Facilities (服务设施): enforcement stations, elderly canteens, and their planner edits.

Every write keeps the facility and its service circle in one transaction; after
the commit, :func:`facility_changed` tells the assignment engine and re-assigns
the open incidents whose responsible station may have changed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from gis import assign
from gis.assign.epoch import lock_exclusive
from gis.coords import check_lonlat, to_storage
from gis.coverage.circles import refresh_service_areas
from gis.db import session_scope
from gis.errors import Conflict, InvalidInput, NotFound
from gis.facility_kinds import check_radius, check_type, default_radius_m
from gis.incidents import reassign_open
from gis.models import CANTEEN, STATION, District, Facility
from gis.settings import Settings
from gis.validity import boundary_current, boundary_valid_clause, facility_in_service_clause

CODE_PREFIX = {STATION: "ES", CANTEEN: "EC"}
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,24}$")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FacilityChange:
    """What a write touched, for the follow-up re-assignment after commit."""

    facility_id: int
    type: str
    district_codes: tuple[str, ...]


def _check_count(value: int, field: str) -> int:
    if value < 0:
        raise InvalidInput(f"{field} must be ≥ 0, got {value}", field=field)
    return int(value)


def _point(lon: float, lat: float, crs: str) -> tuple[float, float]:
    check_lonlat(lon, lat)
    x, y = to_storage([lon], [lat], crs)
    check_lonlat(float(x[0]), float(y[0]))
    return float(x[0]), float(y[0])


def _check_in_district(session: Session, district_code: str, lon: float, lat: float) -> None:
    row = session.execute(
        text(
            "SELECT ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4490))"
            f" FROM districts WHERE code = :code AND {boundary_current()}"
        ),
        {"code": district_code, "lon": lon, "lat": lat},
    ).first()
    if row is None:
        raise NotFound(f"district {district_code!r} does not exist", field="district")
    if not row[0]:
        raise InvalidInput(
            f"point ({lon:.6f}, {lat:.6f}) lies outside district {district_code}", field="lon"
        )


def _next_code(session: Session, kind: str, district_code: str) -> str:
    prefix = f"{CODE_PREFIX[kind]}{district_code}-"
    taken = session.scalars(select(Facility.code).where(Facility.code.like(prefix + "%"))).all()
    numbers = [int(c[len(prefix) :]) for c in taken if c[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def get_facility(session: Session, key: int | str, for_update: bool = False) -> Facility:
    """A facility by numeric id or by code."""
    stmt = select(Facility)
    if isinstance(key, int) or str(key).isdigit():
        stmt = stmt.where(Facility.id == int(key))
    else:
        stmt = stmt.where(Facility.code == str(key))
    if for_update:
        # The assignment lock before the row: an incident write holds the lock shared and
        # may wait for the row (its station's key), never the other way round.
        lock_exclusive(session)
        stmt = stmt.with_for_update()
    facility = session.scalars(stmt).first()
    if facility is None:
        raise NotFound(f"facility {key!r} does not exist", field="facility")
    return facility


def create_facility(
    session: Session,
    *,
    type: str,
    name: str,
    lon: float,
    lat: float,
    district: str,
    crs: str = "cgcs2000",
    code: str | None = None,
    service_radius_m: float | None = None,
    staff: int = 0,
    seats: int = 0,
    hours: str = "24h",
    settings: Settings | None = None,
) -> tuple[Facility, FacilityChange]:
    """Add a facility with its circle; the point must lie in its (current) district."""
    kind = check_type(type)
    radius = check_radius(
        default_radius_m(kind, settings) if service_radius_m is None else service_radius_m
    )
    if not name.strip():
        raise InvalidInput("name must not be empty", field="name")
    x, y = _point(lon, lat, crs)
    _check_in_district(session, district, x, y)
    if code is None:
        code = _next_code(session, kind, district)
    elif not CODE_PATTERN.match(code):
        raise InvalidInput("code must be 1-24 letters, digits, '-' or '_'", field="code")
    if session.scalar(select(func.count()).where(Facility.code == code)):
        raise Conflict(f"facility code {code!r} is taken", field="code")
    facility = Facility(
        code=code,
        type=kind,
        name=name.strip(),
        district_code=district,
        geom=f"SRID=4490;POINT({x!r} {y!r})",
        service_radius_m=radius,
        staff=_check_count(staff, "staff"),
        seats=_check_count(seats, "seats"),
        hours=hours,
        active=True,
    )
    session.add(facility)
    session.flush()
    refresh_service_areas(session, [facility.id])
    session.refresh(facility)
    return facility, FacilityChange(facility.id, kind, (district,))


def update_facility(
    session: Session,
    key: int | str,
    *,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "cgcs2000",
    district: str | None = None,
    service_radius_m: float | None = None,
    staff: int | None = None,
    seats: int | None = None,
    name: str | None = None,
    hours: str | None = None,
) -> tuple[Facility, FacilityChange]:
    """Move, re-size or re-staff an active facility; its circle follows in the same transaction."""
    facility = get_facility(session, key, for_update=True)
    if not facility.active:
        raise Conflict(f"facility {facility.code} is retired", field="facility")
    if (lon is None) != (lat is None):
        raise InvalidInput(
            "give both lon and lat to move a facility", field="lon" if lon is None else "lat"
        )
    old_district = facility.district_code
    reshape = False
    if lon is not None and lat is not None:
        x, y = _point(lon, lat, crs)
        target = district or facility.district_code
        _check_in_district(session, target, x, y)
        facility.geom = f"SRID=4490;POINT({x!r} {y!r})"
        facility.district_code = target
        reshape = True
    elif district is not None and district != facility.district_code:
        raise InvalidInput("changing the district needs a new location", field="district")
    if service_radius_m is not None:
        facility.service_radius_m = check_radius(service_radius_m)
        reshape = True
    if staff is not None:
        facility.staff = _check_count(staff, "staff")
    if seats is not None:
        facility.seats = _check_count(seats, "seats")
    if name is not None:
        if not name.strip():
            raise InvalidInput("name must not be empty", field="name")
        facility.name = name.strip()
    if hours is not None:
        facility.hours = hours
    session.flush()
    if reshape:
        refresh_service_areas(session, [facility.id])
    session.refresh(facility)
    districts = tuple(sorted({old_district, facility.district_code}))
    return facility, FacilityChange(facility.id, facility.type, districts)


def retire_facility(session: Session, key: int | str) -> tuple[Facility, FacilityChange]:
    """Take a facility out of service (active = false, retired_at = now); its row stays."""
    facility = get_facility(session, key, for_update=True)
    if not facility.active:
        raise Conflict(f"facility {facility.code} is already retired", field="facility")
    facility.active = False
    facility.retired_at = datetime.now(UTC)
    session.flush()
    return facility, FacilityChange(facility.id, facility.type, (facility.district_code,))


def list_facilities(
    session: Session,
    type: str | None = None,
    district: str | None = None,
    include_retired: bool = False,
) -> list[Facility]:
    stmt = select(Facility).order_by(Facility.code)
    if type is not None:
        stmt = stmt.where(Facility.type == check_type(type))
    if district is not None:
        if not session.scalar(
            select(func.count()).where(District.code == district, boundary_valid_clause(District))
        ):
            raise NotFound(f"district {district!r} does not exist", field="district")
        stmt = stmt.where(Facility.district_code == district)
    if not include_retired:
        stmt = stmt.where(facility_in_service_clause(Facility))
    return list(session.scalars(stmt))


def facility_changed(engine: Engine, change: FacilityChange, actor: str) -> int:
    """After commit: drop cached assignments and re-assign open incidents a station change
    affects. Returns how many incidents were re-assigned."""
    assign.invalidate(engine)
    if change.type != STATION:
        return 0
    try:
        return _reassign(engine, change, actor)
    except Exception:
        # The facility edit is committed; a failed follow-up must not turn it into an error.
        # The assignment engine re-reads stations on its next refresh.
        log.exception("re-assigning open incidents after facility %s failed", change.facility_id)
        return 0


def _reassign(engine: Engine, change: FacilityChange, actor: str) -> int:
    with session_scope(engine) as session:
        assigner = assign.assigner_for_write(session)
        ids = session.scalars(
            text(
                "SELECT i.id FROM incidents i WHERE i.status <> 'closed' AND ("
                " i.district_code = ANY(:districts) OR i.station_id = :fid"
                " OR EXISTS (SELECT 1 FROM facilities f WHERE f.id = :fid"
                "            AND ST_Intersects(f.service_area, i.geom)))"
            ),
            {"districts": list(change.district_codes), "fid": change.facility_id},
        ).all()
        if not ids:
            return 0
        return reassign_open(
            session,
            assigner,
            incident_ids=list(ids),
            actor=actor,
            reason=f"facility {change.facility_id} changed",
        )


def as_feature(facility: Facility, lon: float, lat: float) -> dict[str, Any]:
    """GeoJSON Feature of a facility (point geometry)."""
    return {
        "type": "Feature",
        "id": facility.id,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "id": facility.id,
            "code": facility.code,
            "type": facility.type,
            "name": facility.name,
            "district": facility.district_code,
            "service_radius_m": facility.service_radius_m,
            "staff": facility.staff,
            "seats": facility.seats,
            "hours": facility.hours,
            "active": facility.active,
            "created_at": facility.created_at.isoformat() if facility.created_at else None,
            "retired_at": facility.retired_at.isoformat() if facility.retired_at else None,
        },
    }


def facility_lonlat(session: Session, ids: list[int]) -> dict[int, tuple[float, float]]:
    rows = session.execute(
        text("SELECT id, ST_X(geom), ST_Y(geom) FROM facilities WHERE id = ANY(:ids)"),
        {"ids": ids},
    ).all()
    return {int(r[0]): (float(r[1]), float(r[2])) for r in rows}
