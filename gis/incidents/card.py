"""What a dispatcher's card shows beside an incident's own fields: the names of its places
and unit, its party branch and station, the duplicates merged into it, and the
sub-requests (extensions) waiting or decided."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis.models import Incident, IncidentReport, IncidentRequest
from gis.validity import boundary_valid


def _name(session: Session, table: str, code: str | None) -> dict[str, Any] | None:
    if code is None:
        return None
    name = session.execute(
        text(f"SELECT name FROM {table} WHERE code = :code AND {boundary_valid(None, False)}"),
        {"code": code},
    ).scalar_one_or_none()
    return {"code": code, "name": name}


def places(session: Session, inc: Incident) -> dict[str, Any]:
    """The incident's grid, community, street, district, station, party branch and unit,
    each with its name."""
    station = None
    if inc.station_id is not None:
        row = session.execute(
            text("SELECT id, code, name FROM facilities WHERE id = :id"), {"id": inc.station_id}
        ).one_or_none()
        if row is not None:
            station = {
                "id": row.id,
                "code": row.code,
                "name": row.name,
                "distance_m": inc.station_distance_m,
                "within_radius": inc.station_within_radius,
            }
    branch = None
    if inc.party_branch_id is not None:
        row = session.execute(
            text("SELECT id, name, kind FROM party_branches WHERE id = :id"),
            {"id": inc.party_branch_id},
        ).one_or_none()
        if row is not None:
            branch = {"id": row.id, "name": row.name, "kind": row.kind}
    unit = None
    if inc.unit_code is not None:
        row = session.execute(
            text("SELECT code, name, kind, phone FROM units WHERE code = :code"),
            {"code": inc.unit_code},
        ).one_or_none()
        if row is not None:
            unit = {"code": row.code, "name": row.name, "kind": row.kind, "phone": row.phone}
    return {
        "grid": _name(session, "grids", inc.grid_code),
        "community": _name(session, "communities", inc.community_code),
        "street": _name(session, "streets", inc.street_code),
        "district": _name(session, "districts", inc.district_code),
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
