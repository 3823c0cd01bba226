"""The incident event log as a stream (事件流): what a following page may read, and how far.

Events are read in id order, never past the log's floor (``incident_events_floor()``,
migration 0007): every id up to it is committed or never will be, so a follower that has
read up to id *n* has everything up to *n*, and resuming after *n* loses nothing.

Group re-assignments by a boundary edit (``incident_moves``, one row per group) are not
incident events and are not in the stream; an incident's own log still lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from gis.errors import InvalidInput, OutOfScope, in_scope
from gis.models import District, IncidentEvent, IncidentReport, Unit

# The NOTIFY channel of migration 0007 (repeated there: a migration never imports the app).
CHANNEL = "wangge_events"
# The floor, and the last id drawn: a floor below it means writers are still running.
FLOOR_SQL = (
    "SELECT incident_events_floor(), coalesce(pg_sequence_last_value('incident_events_id_seq'), 0)"
)
# Most events one read returns: a long replay goes out in batches of this size.
BATCH = 500
# Keys of ``detail`` a follower sees: flags and unit codes, never free text.
PUBLIC_DETAIL = (
    "handled_directly",
    "rating",
    "imported",
    "old",
    "new",
    "step",
    "from_unit",
    "days",
    "approved",
    "count",
    "reopen_count",
    "merged_into",
    "duplicate",
)


@dataclass(frozen=True)
class StreamEvent:
    """One event as followers see it: which incident, what happened, its status and
    where; never the reporter, the note or the actor (viewers follow the stream too)."""

    id: int
    incident_id: int
    kind: str
    at: datetime
    from_status: str | None
    to_status: str | None
    district_code: str | None
    category_code: str
    detail: Mapping[str, Any]
    # The responsible unit the step concerns (who acted, or who the case went to).
    unit_code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "from_status": self.from_status,
            "to_status": self.to_status,
            "district_code": self.district_code,
            "category_code": self.category_code,
            "unit_code": self.unit_code,
            "detail": dict(self.detail),
        }


@dataclass(frozen=True)
class FilterField:
    """One way to narrow the stream: the column it compares (in SQL, and as the
    :class:`StreamEvent` attribute of the same name in memory) and whether a value exists."""

    column: InstrumentedAttribute[Any]
    exists: Callable[[Session, str], bool]

    @property
    def attribute(self) -> str:
        return self.column.key


def _current_district(session: Session, code: str) -> bool:
    current = exists().where(District.code == code, District.valid_to.is_(None))
    return bool(session.scalar(select(current)))


# The stream's filters by name; a new one is one entry here (its column must be on the
# events or their reports, which every read joins, and read into a StreamEvent field).
def _unit(session: Session, code: str) -> bool:
    return session.get(Unit, code) is not None


FIELDS: dict[str, FilterField] = {
    "district": FilterField(IncidentEvent.district_code, _current_district),
    "unit": FilterField(IncidentEvent.unit_code, _unit),
}


@dataclass(frozen=True)
class EventFilter:
    """Field name → value; an event passes when it matches every one."""

    values: tuple[tuple[str, str], ...] = ()

    def conditions(self) -> list[ColumnElement[bool]]:
        return [FIELDS[name].column == value for name, value in self.values]

    def matches(self, event: StreamEvent) -> bool:
        return all(getattr(event, FIELDS[name].attribute) == value for name, value in self.values)


def stream_filter(
    session: Session, scope: str | None, unit_scope: str | None = None, **asked: str | None
) -> EventFilter:
    """The filter asked for, each value checked against what exists (:class:`InvalidInput`
    naming the field otherwise); a caller limited to district ``scope`` follows that
    district only (:class:`OutOfScope` when it asks for another), and a unit's staff
    (``unit_scope``) their unit's events only."""
    values = {name: value for name, value in asked.items() if value is not None}
    if unit_scope is not None and values.setdefault("unit", unit_scope) != unit_scope:
        raise OutOfScope(f"this token follows unit {unit_scope} only", field="unit")
    for name, value in values.items():
        field = FIELDS.get(name)
        if field is None:
            raise InvalidInput(f"no filter {name!r}; one of {', '.join(FIELDS)}", field=name)
        if not field.exists(session, value):
            raise InvalidInput(f"unknown {name} {value!r}", field=name)
    if scope is not None:
        asked_district = values.setdefault("district", scope)
        if not in_scope(asked_district, scope):
            raise OutOfScope(
                f"this token follows district {scope} only, not {asked_district}",
                field="district",
            )
    return EventFilter(tuple(sorted(values.items())))


def read_events(
    session: Session, after: int, upto: int, flt: EventFilter, limit: int = BATCH
) -> list[StreamEvent]:
    """Events with ``after < id <= upto`` passing ``flt``, oldest first, at most ``limit``."""
    stmt = (
        select(
            IncidentEvent.id,
            IncidentEvent.incident_id,
            IncidentEvent.kind,
            IncidentEvent.at,
            IncidentEvent.from_status,
            IncidentEvent.to_status,
            IncidentEvent.district_code,
            IncidentReport.category_code,
            IncidentEvent.detail,
            IncidentEvent.unit_code,
        )
        .join(IncidentReport, IncidentReport.id == IncidentEvent.incident_id)
        .where(IncidentEvent.id > after, IncidentEvent.id <= upto, *flt.conditions())
        .order_by(IncidentEvent.id)
        .limit(limit)
    )
    return [
        StreamEvent(
            id=row.id,
            incident_id=row.incident_id,
            kind=row.kind,
            at=row.at,
            from_status=row.from_status,
            to_status=row.to_status,
            district_code=row.district_code,
            category_code=row.category_code,
            detail={k: v for k, v in row.detail.items() if k in PUBLIC_DETAIL},
            unit_code=row.unit_code,
        )
        for row in session.execute(stmt)
    ]
