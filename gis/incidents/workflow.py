"""The 12345 loop (12345 热线闭环): the one place that says which step may follow which.

received → dispatched → in_progress → replied → closed; a report the hotline
answers itself goes received → closed with ``handled_directly``. Once closed,
the resident is called back (回访) and may rate the handling (1-5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.errors import Conflict, InvalidInput, NotFound
from gis.models import Incident, IncidentEvent

# Status changes: from → the statuses it may move to.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("dispatched", "closed"),
    "dispatched": ("in_progress",),
    "in_progress": ("replied",),
    "replied": ("closed",),
    "closed": (),
}
# Follow-ups recorded after closing; they do not change the status.
FOLLOW_UPS = ("callback", "rating")
TARGETS = (*[s for s in TRANSITIONS if s != "received"], *FOLLOW_UPS)


@dataclass(frozen=True)
class Step:
    """One requested step: a new status or a follow-up."""

    to: str
    note: str | None = None
    handled_directly: bool = False
    rating: int | None = None


def check_step(status: str, step: Step) -> None:
    """Raise :class:`Conflict` naming from/to when ``step`` is not allowed from ``status``."""
    if step.to not in TARGETS:
        raise InvalidInput(f"unknown step {step.to!r}; one of {', '.join(TARGETS)}", field="to")
    if step.to in FOLLOW_UPS:
        if status != "closed":
            raise Conflict(
                f"cannot record {step.to} from {status}: only after the incident is closed",
                field="to",
                from_status=status,
                to=step.to,
            )
        if step.to == "rating" and step.rating is None:
            raise InvalidInput("a rating step needs rating 1-5", field="rating")
        return
    if step.to not in TRANSITIONS[status]:
        allowed = ", ".join(TRANSITIONS[status]) or "nothing (closed)"
        raise Conflict(
            f"cannot go from {status} to {step.to}; allowed from {status}: {allowed}",
            field="to",
            from_status=status,
            to=step.to,
        )
    if status == "received" and step.to == "closed" and not step.handled_directly:
        raise Conflict(
            "cannot go from received to closed unless handled_directly is true",
            field="handled_directly",
            from_status=status,
            to=step.to,
        )
    if step.handled_directly and not (status == "received" and step.to == "closed"):
        raise Conflict(
            f"handled_directly applies only from received to closed, not from {status} "
            f"to {step.to}",
            field="handled_directly",
            from_status=status,
            to=step.to,
        )


def apply_step(session: Session, incident_id: int, step: Step, actor: str) -> Incident:
    """Apply ``step`` to the incident under a row lock and log who and when."""
    if step.rating is not None and not 1 <= step.rating <= 5:
        raise InvalidInput("rating must be 1 to 5", field="rating")
    incident = session.scalars(
        select(Incident).where(Incident.id == incident_id).with_for_update()
    ).one_or_none()
    if incident is None:
        raise NotFound(f"no incident with id {incident_id}", field="id")
    check_step(incident.status, step)
    now = datetime.now(UTC)
    detail: dict[str, Any] = {}
    kind, before = step.to, None
    if step.to in FOLLOW_UPS:
        if step.to == "callback":
            incident.callback_at = now
        if step.rating is not None:
            incident.rating = step.rating
            detail["rating"] = step.rating
    else:
        kind, before = "transition", incident.status
        incident.status = step.to
        if step.to == "closed":
            incident.closed_at = now
            incident.handled_directly = incident.handled_directly or step.handled_directly
            detail["handled_directly"] = incident.handled_directly
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            district_code=incident.district_code,
            at=now,
            actor=actor,
            kind=kind,
            from_status=before,
            to_status=None if before is None else step.to,
            note=step.note,
            detail=detail,
        )
    )
    session.flush()
    return incident
