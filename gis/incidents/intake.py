"""One report in (受理): validate, normalise the point, assign, store with its "received" event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis.assign import Assigner, Assignment, assigner_for_write
from gis.assign.intake import normalize_point
from gis.coords import normalize_crs
from gis.errors import Conflict, InvalidInput
from gis.incidents.due import due_at, local_zone
from gis.incidents.records import IncidentIn, categories, check_category
from gis.models import SRID, Incident, IncidentAssignment, IncidentEvent, IncidentReport


def assignment_columns(a: Assignment) -> dict[str, Any]:
    """The columns of an incident's assignment row (:class:`IncidentAssignment`)."""
    return {
        "match": a.match,
        "distance_m": float(a.distance_m),
        "grid_code": a.grid.code if a.grid else None,
        "community_code": a.community.code if a.community else None,
        "street_code": a.street.code if a.street else None,
        "district_code": a.district.code if a.district else None,
        "station_id": a.station.id if a.station else None,
        "station_distance_m": a.station.distance_m if a.station else None,
        "station_within_radius": a.station.within_radius if a.station else None,
        "party_branch_id": a.party_branch.id if a.party_branch else None,
        "boundary_version_id": a.boundary_version_id,
    }


def _storage_point(lon: float, lat: float, crs: str) -> tuple[float, float] | None:
    """The point in CGCS2000 if it passes the checks that need no assigner, else None (the
    checks with one, such as a swapped lon/lat, then name the problem)."""
    try:
        return normalize_point(lon, lat, crs)
    except InvalidInput:
        return None


def aware(at: datetime | None) -> datetime:
    """Naive times are hotline local time; missing means now."""
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None:
        return at.replace(tzinfo=local_zone())
    return at


# What a retried post must repeat exactly: the report, not how it travelled.
REPEATED_FIELDS = (
    "channel",
    "category_code",
    "description",
    "address",
    "reporter_name",
    "reporter_phone",
)
SAME_POINT_DEG = 1e-6  # about 0.1 m: a retry carries the same coordinates


def replay_differs(external_id: str | None, field: str) -> str:
    """Why a replayed ``external_id`` carrying another report is refused (both intakes)."""
    return (
        f"external_id {external_id!r} is stored already with another {field}; a retry must "
        "send the same report (use a new external_id for a new report)"
    )


def check_same_report(session: Session, stored: Incident, data: IncidentIn) -> None:
    """A replayed ``external_id`` must carry the report stored under it; another body is a
    :class:`Conflict` naming the first field that differs (never a second row)."""

    def differs(field: str) -> Conflict:
        return Conflict(replay_differs(data.external_id, field), field=field)

    for field in REPEATED_FIELDS:
        if (getattr(data, field) or None) != (getattr(stored, field) or None):
            raise differs(field)
    if data.received_at is not None and aware(data.received_at) != stored.received_at:
        raise differs("received_at")
    lon, lat = normalize_point(data.lon, data.lat, normalize_crs(data.crs))
    x, y = session.execute(
        select(func.ST_X(IncidentReport.geom), func.ST_Y(IncidentReport.geom)).where(
            IncidentReport.id == stored.id
        )
    ).one()
    if abs(lon - x) > SAME_POINT_DEG or abs(lat - y) > SAME_POINT_DEG:
        raise differs("lon" if abs(lon - x) > SAME_POINT_DEG else "lat")


# One statement for every report (the values are parameters, so it is compiled once); a
# NULL external_id never conflicts, so ON CONFLICT costs the others nothing.
STORE_REPORT = (
    insert(IncidentReport)
    .values(
        geom=func.ST_SetSRID(func.ST_MakePoint(bindparam("lon"), bindparam("lat")), SRID),
        status="received",
    )
    .on_conflict_do_nothing(index_elements=["external_id"])
    .returning(IncidentReport.id)
)


def create_incident(
    session: Session, data: IncidentIn, actor: str, assigner: Assigner | None = None
) -> tuple[Incident, bool]:
    """Store a new incident, or return the one already stored under its ``external_id``.

    Returns ``(incident, created)``. Concurrent posts of one external_id are safe:
    the unique index decides, and the loser reads the winner's row. Without ``assigner``
    the current one is taken under the assignment lock (:func:`assigner_for_write`).
    """
    if data.external_id is not None:
        existing = session.scalars(
            select(Incident).where(Incident.external_id == data.external_id)
        ).one_or_none()
        if existing is not None:
            check_same_report(session, existing, data)
            return existing, False
    days = check_category(categories(session), data.category_code)
    crs = normalize_crs(data.crs)
    if assigner is None:
        assigner = assigner_for_write(session, near=_storage_point(data.lon, data.lat, crs))
    lon, lat = normalize_point(data.lon, data.lat, crs, assigner)
    received_at = aware(data.received_at)
    assigned = assignment_columns(assigner.locate(lon, lat))
    new_id = session.execute(
        STORE_REPORT,
        {
            "external_id": data.external_id,
            "channel": data.channel,
            "category_code": data.category_code,
            "description": data.description,
            "address": data.address,
            "lon": lon,
            "lat": lat,
            "input_crs": crs[:16],
            "reporter_name": data.reporter_name,
            "reporter_phone": data.reporter_phone,
            "received_at": received_at,
            "due_at": due_at(received_at, days),
            "district_code": assigned["district_code"],
        },
    ).scalar_one_or_none()
    if new_id is None:
        # Lost the race to a concurrent post of the same external_id.
        winner = session.scalars(
            select(Incident).where(Incident.external_id == data.external_id)
        ).one()
        check_same_report(session, winner, data)
        return winner, False
    session.execute(insert(IncidentAssignment), {"incident_id": new_id, **assigned})
    session.execute(
        insert(IncidentEvent),
        {
            "incident_id": new_id,
            "district_code": assigned["district_code"],
            "at": received_at,
            "actor": actor,
            "kind": "received",
            "to_status": "received",
            "detail": {"channel": data.channel, "match": assigned["match"]},
        },
    )
    incident = session.get(Incident, new_id)
    assert incident is not None
    return incident, True
