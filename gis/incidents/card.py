"""What a dispatcher's card shows beside an incident's own fields: the names of its places
and unit, its party branch and station, the duplicates merged into it, and the
sub-requests (extensions) waiting or decided."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis.models import Incident, IncidentReport, IncidentRequest
from gis.validity import boundary_valid


def _places_sql() -> str:
    def name(table: str, param: str) -> str:
        return f"(SELECT name FROM {table} WHERE code = :{param} AND {boundary_valid(None, False)})"

    return (
        f"SELECT {name('grids', 'grid')}, {name('communities', 'community')},"
        f" {name('streets', 'street')}, {name('districts', 'district')},"
        " (SELECT json_build_object('id', id, 'code', code, 'name', name)"
        "  FROM facilities WHERE id = :station),"
        " (SELECT json_build_object('id', id, 'name', name, 'kind', kind)"
        "  FROM party_branches WHERE id = :branch),"
        " (SELECT json_build_object('code', code, 'name', name, 'kind', kind, 'phone', phone)"
        "  FROM units WHERE code = :unit)"
    )


# One round trip for every name on the card.
PLACES_SQL = text(_places_sql())


def places(session: Session, inc: Incident) -> dict[str, Any]:
    """The incident's grid, community, street, district, station, party branch and unit,
    each with its name."""
    grid, community, street, district, station, branch, unit = session.execute(
        PLACES_SQL,
        {
            "grid": inc.grid_code,
            "community": inc.community_code,
            "street": inc.street_code,
            "district": inc.district_code,
            "station": inc.station_id,
            "branch": inc.party_branch_id,
            "unit": inc.unit_code,
        },
    ).one()
    if station is not None:
        station |= {
            "distance_m": inc.station_distance_m,
            "within_radius": inc.station_within_radius,
        }

    def named(code: str | None, name: str | None) -> dict[str, Any] | None:
        return None if code is None else {"code": code, "name": name}

    return {
        "grid": named(inc.grid_code, grid),
        "community": named(inc.community_code, community),
        "street": named(inc.street_code, street),
        "district": named(inc.district_code, district),
        "station": station,
        "party_branch": branch,
        "unit": unit,
    }


def duplicates(session: Session, incident_id: int) -> list[dict[str, Any]]:
    """The duplicates merged into this incident, with their reporters (personal data:
    the caller masks them)."""
    rows = session.execute(
        select(
            IncidentReport.id,
            IncidentReport.received_at,
            IncidentReport.channel,
            IncidentReport.reporter_name,
            IncidentReport.reporter_phone,
        )
        .where(IncidentReport.merged_into == incident_id)
        .order_by(IncidentReport.id)
    )
    return [
        {
            "id": r.id,
            "received_at": r.received_at.isoformat(),
            "channel": r.channel,
            "reporter_name": r.reporter_name,
            "reporter_phone": r.reporter_phone,
        }
        for r in rows
    ]


def requests(session: Session, incident_id: int) -> list[dict[str, Any]]:
    """The incident's sub-requests, oldest first."""
    rows = session.scalars(
        select(IncidentRequest)
        .where(IncidentRequest.incident_id == incident_id)
        .order_by(IncidentRequest.id)
    )
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "state": r.state,
            "unit_code": r.unit_code,
            "days": r.days,
            "reason": r.reason,
            "asked_by": r.asked_by,
            "asked_at": r.asked_at.isoformat(),
            "decided_by": r.decided_by,
            "decided_at": r.decided_at.isoformat() if r.decided_at else None,
            "decision_note": r.decision_note,
            "photo": r.photo_n,
        }
        for r in rows
    ]
