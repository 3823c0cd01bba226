"""Open311 GeoReport v2 (开放 311 接口) in domain terms: services, requests, extended attributes.

Services are the incident categories; a service request is an incident. Reporter
name and phone never appear here: Open311 feeds are public.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.models import (
    Community,
    District,
    Facility,
    Grid,
    Incident,
    IncidentCategory,
    IncidentEvent,
    PartyBranch,
    Street,
)
from gis.validity import boundary_valid_clause

WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000
# incidents → incident id → the absolute URL of its first photo, for those the caller may see.
MediaUrls = Callable[[list[Incident]], dict[int, str]]


def services(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(IncidentCategory).where(IncidentCategory.active).order_by(IncidentCategory.code)
    )
    return [service(c) for c in rows]


def service(c: IncidentCategory) -> dict[str, Any]:
    return {
        "service_code": c.code,
        "service_name": c.name_en,
        "description": f"{c.name_zh} / {c.name_en}; handled by {c.handling_unit} "
        f"within {c.due_working_days} working days",
        "metadata": False,
        "type": "realtime",
        "keywords": c.name_zh,
        "group": c.handling_unit,
    }


def _w3c(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if at else None


def _names(session: Session, model: Any, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session.execute(
        select(model.code, model.name).where(model.code.in_(codes), boundary_valid_clause(model))
    )
    return {str(code): str(name) for code, name in rows}


def _unit(code: str | None, names: dict[str, str]) -> dict[str, Any] | None:
    return {"code": code, "name": names.get(code, "")} if code else None


def _extensions(session: Session, incidents: list[Incident]) -> list[dict[str, Any]]:
    """Grid, community, street, district, station and branch of each request, with names."""

    def codes(attr: str) -> set[str]:
        return {getattr(i, attr) for i in incidents if getattr(i, attr)}

    grids = _names(session, Grid, codes("grid_code"))
    communities = _names(session, Community, codes("community_code"))
    streets = _names(session, Street, codes("street_code"))
    districts = _names(session, District, codes("district_code"))
    station_ids = {i.station_id for i in incidents if i.station_id}
    branch_ids = {i.party_branch_id for i in incidents if i.party_branch_id}
    stations = {
        r.id: r
        for r in session.execute(
            select(Facility.id, Facility.code, Facility.name).where(Facility.id.in_(station_ids))
        )
    }
    branches = {
        r.id: r
        for r in session.execute(
            select(PartyBranch.id, PartyBranch.name, PartyBranch.kind).where(
                PartyBranch.id.in_(branch_ids)
            )
        )
    }
    out = []
    for i in incidents:
        st = stations.get(i.station_id) if i.station_id else None
        br = branches.get(i.party_branch_id) if i.party_branch_id else None
        out.append(
            {
                "match": i.match,
                "grid": _unit(i.grid_code, grids),
                "community": _unit(i.community_code, communities),
                "street": _unit(i.street_code, streets),
                "district": _unit(i.district_code, districts),
                "station": (
                    {
                        "id": st.id,
                        "code": st.code,
                        "name": st.name,
                        "distance_m": i.station_distance_m,
                    }
                    if st
                    else None
                ),
                "party_branch": {"id": br.id, "name": br.name, "kind": br.kind} if br else None,
            }
        )
    return out


def _parse_w3c(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(
            f"{field} must be a W3C datetime, e.g. 2026-01-01T00:00:00Z", field
        ) from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def find_requests(
    session: Session,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    extensions: bool = False,
    now: datetime | None = None,
    media_urls: MediaUrls | None = None,
) -> list[dict[str, Any]]:
    """The spec's query: ids override everything; else a window of at most 90 days, 1,000 rows.
    ``media_urls`` fills ``media_url`` (photos are not for every caller: see
    :mod:`gis.media.access`); without it ``media_url`` is empty."""
    stmt = select(Incident, func.ST_X(Incident.geom), func.ST_Y(Incident.geom), IncidentCategory)
    stmt = stmt.join(IncidentCategory, IncidentCategory.code == Incident.category_code)
    ids = _csv(service_request_id)
    if ids:
        if not all(i.isdigit() for i in ids):
            raise InvalidInput(
                "service_request_id must be numbers, comma separated", "service_request_id"
            )
        stmt = stmt.where(Incident.id.in_([int(i) for i in ids]))
    else:
        now = now or datetime.now(UTC)
        start, end = _parse_w3c(start_date, "start_date"), _parse_w3c(end_date, "end_date")
        if start is None and end is None:
            start, end = now - WINDOW, now
        elif start is None:
            assert end is not None
            start = end - WINDOW
        elif end is None:
            end = min(now, start + WINDOW)
        assert start is not None and end is not None
        if end < start:
            raise InvalidInput("end_date is before start_date", "end_date")
        if end - start > WINDOW:
            raise InvalidInput("start_date to end_date may not span more than 90 days", "end_date")
        stmt = stmt.where(Incident.received_at >= start, Incident.received_at <= end)
        codes = _csv(service_code)
        if codes:
            stmt = stmt.where(Incident.category_code.in_(codes))
        wanted = _csv(status)
        if any(s not in ("open", "closed") for s in wanted):
            raise InvalidInput("status must be open, closed, or both", "status")
        if wanted == ["open"]:
            stmt = stmt.where(Incident.status != "closed")
        elif wanted == ["closed"]:
            stmt = stmt.where(Incident.status == "closed")
    rows = session.execute(stmt.order_by(Incident.received_at.desc()).limit(MAX_REQUESTS)).all()
    return describe(session, [tuple(r) for r in rows], extensions, media_urls)


def describe(
    session: Session,
    rows: list[tuple[Any, ...]],
    extensions: bool,
    media_urls: MediaUrls | None = None,
) -> list[dict[str, Any]]:
    incidents = [r[0] for r in rows]
    photos = media_urls(incidents) if media_urls is not None and incidents else {}
    updated: dict[int, datetime] = {
        int(incident_id): at
        for incident_id, at in session.execute(
            select(IncidentEvent.incident_id, func.max(IncidentEvent.at))
            .where(IncidentEvent.incident_id.in_([i.id for i in incidents]))
            .group_by(IncidentEvent.incident_id)
        )
    }
    ext = _extensions(session, incidents) if extensions else [None] * len(incidents)
    out = []
    for (inc, lon, lat, cat), attrs in zip(rows, ext, strict=True):
        item: dict[str, Any] = {
            "service_request_id": str(inc.id),
            "status": "closed" if inc.status == "closed" else "open",
            "status_notes": inc.status,
            "service_name": cat.name_en,
            "service_code": cat.code,
            "description": inc.description,
            "agency_responsible": cat.handling_unit,
            "service_notice": "",
            "requested_datetime": _w3c(inc.received_at),
            "updated_datetime": _w3c(updated.get(inc.id, inc.received_at)),
            "expected_datetime": _w3c(inc.due_at),
            "address": inc.address or "",
            "address_id": "",
            "zipcode": "",
            "lat": float(lat),
            "long": float(lon),
            "media_url": photos.get(inc.id, ""),
        }
        if attrs is not None:
            item["extended_attributes"] = attrs
        out.append(item)
    return out


def one_request(
    session: Session, incident_id: int, extensions: bool, media_urls: MediaUrls | None = None
) -> list[dict[str, Any]]:
    stmt = (
        select(Incident, func.ST_X(Incident.geom), func.ST_Y(Incident.geom), IncidentCategory)
        .join(IncidentCategory, IncidentCategory.code == Incident.category_code)
        .where(Incident.id == incident_id)
    )
    return describe(session, [tuple(r) for r in session.execute(stmt)], extensions, media_urls)
