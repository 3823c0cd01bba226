"""Reading incidents: filters, pages, the event log, the JSON shape with personal data masked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import BigInteger, ColumnElement, and_, cast, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from gis.errors import InvalidInput, NotFound
from gis.incidents.due import is_overdue, past_notice
from gis.models import CHANNELS, STATUSES, Incident, IncidentEvent, IncidentMove
from gis.settings import get_settings


@dataclass
class IncidentFilter:
    grid: str | None = None
    community: str | None = None
    station: int | None = None
    status: str | None = None
    category: str | None = None
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    overdue: bool | None = None
    unit: str | None = None
    external_id: str | None = None
    district: str | None = None
    street: str | None = None
    handler: str | None = None
    # A grid worker's own grids (its queue): only incidents in one of them.
    grids: tuple[str, ...] | None = None


# Orders of a list: newest first (the default, keyset-paged by id) or by due time.
SORTS = ("-received", "due")


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """SQL twin of :func:`gis.incidents.due.is_overdue`."""
    return and_(
        Incident.due_at.is_not(None), func.coalesce(Incident.closed_at, now) > Incident.due_at
    )


def _conditions(f: IncidentFilter, now: datetime) -> list[ColumnElement[bool]]:
    if f.status is not None and f.status not in STATUSES:
        raise InvalidInput(f"unknown status {f.status!r}; one of {', '.join(STATUSES)}", "status")
    if f.channel is not None and f.channel not in CHANNELS:
        raise InvalidInput(
            f"unknown channel {f.channel!r}; one of {', '.join(CHANNELS)}", "channel"
        )
    conds: list[ColumnElement[bool]] = []
    pairs: list[tuple[Any, Any]] = [
        (Incident.grid_code, f.grid),
        (Incident.community_code, f.community),
        (Incident.station_id, f.station),
        (Incident.status, f.status),
        (Incident.category_code, f.category),
        (Incident.channel, f.channel),
        (Incident.unit_code, f.unit),
        (Incident.external_id, f.external_id),
        (Incident.district_code, f.district),
        (Incident.street_code, f.street),
        (Incident.handler, f.handler),
    ]
    conds += [column == value for column, value in pairs if value is not None]
    if f.grids is not None:
        conds.append(Incident.grid_code.in_(f.grids))
    if f.since is not None:
        conds.append(Incident.received_at >= f.since)
    if f.until is not None:
        conds.append(Incident.received_at < f.until)
    if f.overdue is not None:
        clause = overdue_clause(now)
        conds.append(clause if f.overdue else or_(Incident.due_at.is_(None), ~clause))
    return conds


def list_incidents(
    session: Session,
    f: IncidentFilter,
    limit: int,
    offset: int = 0,
    cursor: int | None = None,
    sort: str = "-received",
) -> list[tuple[Incident, float, float]]:
    """Newest first (by id), or soonest due first (``sort="due"``, no due time last).
    ``cursor`` = the last id of the previous page (keyset paging, newest first only)."""
    if sort not in SORTS:
        raise InvalidInput(f"unknown sort {sort!r}; one of {', '.join(SORTS)}", "sort")
    now = datetime.now(UTC)
    stmt = select(Incident, func.ST_X(Incident.geom), func.ST_Y(Incident.geom)).where(
        *_conditions(f, now)
    )
    if cursor is not None:
        stmt = stmt.where(Incident.id < cursor)
    if sort == "due":
        stmt = stmt.order_by(Incident.due_at.asc().nulls_last(), Incident.id.desc())
    else:
        stmt = stmt.order_by(Incident.id.desc())
    stmt = stmt.limit(limit).offset(offset)
    return [(inc, float(x), float(y)) for inc, x, y in session.execute(stmt)]


def count_by_status(session: Session, f: IncidentFilter) -> dict[str, int]:
    """How many incidents of each status match ``f`` (its status ignored): a queue's tabs,
    with ``overdue`` counting the open ones past due."""
    now = datetime.now(UTC)
    conds = _conditions(IncidentFilter(**{**f.__dict__, "status": None, "overdue": None}), now)
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in session.execute(
        select(Incident.status, func.count())
        .select_from(Incident)
        .where(*conds)
        .group_by(Incident.status)
    ):
        counts[status] = int(n)
    overdue = session.execute(
        select(func.count())
        .select_from(Incident)
        .where(*conds, Incident.status != "closed", overdue_clause(now))
    ).scalar_one()
    return {**counts, "overdue": int(overdue)}


def get_incident(
    session: Session, incident_id: int, loaded: bool = False
) -> tuple[Incident, float, float]:
    """The incident and its point; ``loaded``: this session has just read it (as
    :func:`gis.incidents.intake.create_incident` does), so it is taken from there."""
    inc = session.get(Incident, incident_id) if loaded else None
    if inc is not None:
        point = to_shape(inc.geom)
        return inc, float(point.x), float(point.y)
    row = session.execute(
        select(Incident, func.ST_X(Incident.geom), func.ST_Y(Incident.geom)).where(
            Incident.id == incident_id
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"no incident with id {incident_id}", field="id")
    return row[0], float(row[1]), float(row[2])


def events_of(session: Session, incident_id: int, moves: bool = True) -> list[dict[str, Any]]:
    """The incident's event log, oldest first: its own events and the group moves
    (:class:`IncidentMove`) that list it, each move as a "reassigned" event (``moves=False``:
    an incident stored in this very transaction, which no move can list yet)."""
    own = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id))
    timeline = [(e.at, 0, e.id, event_dict(e)) for e in own]
    if moves:
        listing = session.scalars(
            select(IncidentMove).where(
                IncidentMove.incident_ids.contains(cast([incident_id], ARRAY(BigInteger)))
            )
        )
        timeline += [(m.at, 1, m.id, move_dict(m)) for m in listing]
    return [entry for *_, entry in sorted(timeline, key=lambda t: t[:3])]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def incident_dict(
    inc: Incident, lon: float, lat: float, now: datetime | None = None
) -> dict[str, Any]:
    """The JSON shape of an incident, personal data included: callers present it through
    ``gis.privacy.present`` (masked for whoever may not see it)."""
    now = now or datetime.now(UTC)
    return {
        "id": inc.id,
        "external_id": inc.external_id,
        "channel": inc.channel,
        "category_code": inc.category_code,
        "description": inc.description,
        "address": inc.address,
        "lon": lon,
        "lat": lat,
        "input_crs": inc.input_crs,
        "reporter_name": inc.reporter_name,
        "reporter_phone": inc.reporter_phone,
        "status": inc.status,
        "handled_directly": inc.handled_directly,
        "received_at": _iso(inc.received_at),
        "due_at": _iso(inc.due_at),
        "overdue": is_overdue(inc.due_at, inc.closed_at, now),
        "notice": past_notice(
            inc.due_at, inc.closed_at, now, get_settings().loop.notice_after_working_days
        ),
        "accept_overdue": inc.status == "dispatched"
        and inc.accept_due_at is not None
        and now > inc.accept_due_at,
        "closed_at": _iso(inc.closed_at),
        "callback_at": _iso(inc.callback_at),
        "rating": inc.rating,
        "unit_code": inc.unit_code,
        "handler": inc.handler,
        "dispatched_at": _iso(inc.dispatched_at),
        "accept_due_at": _iso(inc.accept_due_at),
        "accepted_at": _iso(inc.accepted_at),
        "replied_at": _iso(inc.replied_at),
        "reply": inc.reply,
        "urge_count": inc.urge_count,
        "reopen_count": inc.reopen_count,
        "merged_into": inc.merged_into,
        "assignment": {
            "match": inc.match,
            "distance_m": inc.distance_m,
            "grid_code": inc.grid_code,
            "community_code": inc.community_code,
            "street_code": inc.street_code,
            "district_code": inc.district_code,
            "station_id": inc.station_id,
            "station_distance_m": inc.station_distance_m,
            "station_within_radius": inc.station_within_radius,
            "party_branch_id": inc.party_branch_id,
            "boundary_version_id": inc.boundary_version_id,
        },
    }


def move_dict(move: IncidentMove) -> dict[str, Any]:
    """A group move as it reads in one incident's event log (``move_id`` names the group)."""
    return {
        "id": None,
        "move_id": move.id,
        "at": _iso(move.at),
        "actor": move.actor,
        "kind": "reassigned",
        "from_status": None,
        "to_status": None,
        "note": move.note,
        "detail": {"old": move.old, "new": move.new},
    }


def event_dict(ev: IncidentEvent) -> dict[str, Any]:
    return {
        "id": ev.id,
        "at": _iso(ev.at),
        "actor": ev.actor,
        "kind": ev.kind,
        "from_status": ev.from_status,
        "to_status": ev.to_status,
        "unit_code": ev.unit_code,
        "note": ev.note,
        "detail": ev.detail,
    }
