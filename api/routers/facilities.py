"""Facilities (服务设施): ``GET /api/v1/facilities`` for viewers, writes for planners."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, text

from api.auth import Planner, Viewer
from api.deps import EngineDep, SessionDep, SettingsDep
from gis import facilities as fac
from gis.coverage.stats import warm
from gis.models import Facility

router = APIRouter(prefix="/api/v1/facilities", tags=["facilities"])


class FacilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="enforcement_station or elderly_canteen")
    name: str = Field(min_length=1, max_length=160)
    lon: float
    lat: float
    crs: str = "cgcs2000"
    district: str = Field(description="6-digit district code; the point must lie in it")
    code: str | None = None
    service_radius_m: float | None = Field(
        default=None, description="Metres on the ground; default by type (2,000 / 1,000)"
    )
    staff: int = 0
    seats: int = 0
    hours: str = Field(default="24h", max_length=60)


class FacilityPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lon: float | None = None
    lat: float | None = None
    crs: str = "cgcs2000"
    district: str | None = None
    service_radius_m: float | None = None
    staff: int | None = None
    seats: int | None = None
    name: str | None = Field(default=None, max_length=160)
    hours: str | None = Field(default=None, max_length=60)


def _feature(session: SessionDep, facility: Facility) -> dict[str, Any]:
    lon, lat = fac.facility_lonlat(session, [facility.id])[facility.id]
    return fac.as_feature(facility, lon, lat)


@router.get("")
def list_facilities(
    session: SessionDep,
    _: Viewer,
    type: str | None = Query(None, description="enforcement_station or elderly_canteen"),
    district: str | None = Query(None, description="6-digit district code"),
    include_retired: bool = False,
) -> dict[str, Any]:
    """Facilities as a GeoJSON FeatureCollection of points."""
    rows = fac.list_facilities(session, type, district, include_retired)
    where = fac.facility_lonlat(session, [f.id for f in rows])
    return {
        "type": "FeatureCollection",
        "features": [fac.as_feature(f, *where[f.id]) for f in rows],
    }


@router.get("/{key}")
def get_facility(key: str, session: SessionDep, _: Viewer) -> dict[str, Any]:
    """One facility by id or code, with its service circle."""
    facility = fac.get_facility(session, key)
    feature = _feature(session, facility)
    circle = session.execute(
        text("SELECT ST_AsGeoJSON(service_area, 7)::json FROM facilities WHERE id = :i"),
        {"i": facility.id},
    ).scalar_one()
    feature["properties"]["service_area"] = circle
    return feature


def _after_change(
    engine: Engine, change: fac.FacilityChange, actor: str, later: BackgroundTasks
) -> None:
    """After the commit: incidents re-assigned; coverage figures warmed before the planner asks."""
    fac.facility_changed(engine, change, actor)
    later.add_task(warm, engine)


@router.post("", status_code=201)
def create_facility(
    body: FacilityIn,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    who: Planner,
    later: BackgroundTasks,
) -> dict[str, Any]:
    """Add a facility; its service circle is computed in the same transaction."""
    with session.begin():
        facility, change = fac.create_facility(session, **body.model_dump(), settings=settings)
        who.check_district(facility.district_code, "the facility")  # raising stores nothing
        feature = _feature(session, facility)
    _after_change(engine, change, who.name, later)
    return feature


@router.patch("/{key}")
def update_facility(
    key: str,
    body: FacilityPatch,
    session: SessionDep,
    engine: EngineDep,
    who: Planner,
    later: BackgroundTasks,
) -> dict[str, Any]:
    """Move it, change its radius, capacity, name or hours; the circle follows."""
    with session.begin():
        who.check_district(fac.get_facility(session, key).district_code, f"facility {key}")
        facility, change = fac.update_facility(session, key, **body.model_dump())
        who.check_district(facility.district_code, "the facility's new place")
        feature = _feature(session, facility)
    _after_change(engine, change, who.name, later)
    return feature


@router.post("/{key}/retire")
def retire_facility(
    key: str, session: SessionDep, engine: EngineDep, who: Planner, later: BackgroundTasks
) -> dict[str, Any]:
    """Take it out of service (active = false, retired_at = now); the row stays for history."""
    with session.begin():
        who.check_district(fac.get_facility(session, key).district_code, f"facility {key}")
        facility, change = fac.retire_facility(session, key)
        feature = _feature(session, facility)
    _after_change(engine, change, who.name, later)
    return feature
