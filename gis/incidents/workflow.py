"""The 12345 loop (12345 热线闭环): the one place that says which step may follow which,
who may take it, and what it changes.

received → dispatched (派单, to a responsible unit) → in_progress (签收, the unit accepts)
→ replied (办理结果) → closed (办结); a report the hotline answers itself goes received →
closed with ``handled_directly``. On the way: transfer to another unit (转派), return by
the unit (退单, back to the dispatcher), an extension asked by the unit and decided by a
dispatcher (延期申请/审批), urging (催办), naming the person handling it (经办人). Once
closed, the resident is called back (回访) and rates the handling (1-5); an unsatisfied
rating (1-2) may reopen it (重办), a limited number of times. Duplicates are closed into
another incident by :func:`merge` (重复诉求).

Verification (核查): once replied, a dispatcher or the unit asks the grid's worker to check
on the spot that the case is really fixed; the worker confirms (with a photo) or rejects
with a note, which sends the case back to the unit (in progress). Categories listed in
``WANGGE_LOOP_VERIFY_CATEGORIES`` close only after a confirmed verification of their
latest reply (:mod:`gis.incidents.verification`).

Dispatchers and above take every step but the grid worker's; a unit's staff (role
``unit``) take only the unit's own steps, on cases dispatched to their unit; a grid
worker (role ``grid_worker``) only the verification, on cases in its own grids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gis.errors import Conflict, Forbidden, InvalidInput, NotFound
from gis.incidents.due import due_at, due_day, local_date, local_zone
from gis.incidents.verification import VerificationSteps, check_closing
from gis.models import (
    Incident,
    IncidentCategory,
    IncidentEvent,
    IncidentReport,
    IncidentRequest,
    Unit,
)
from gis.settings import WorkflowRules, get_settings

OPEN = ("received", "dispatched", "in_progress", "replied")

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


@dataclass(frozen=True)
class Rule:
    """Where a step may start, where it leaves the incident (None: where it was), and who
    takes it: ``unit`` steps are the responsible unit's own (dispatchers may record them
    for a unit, e.g. a reply given by phone); ``dispatcher`` steps are the hotline's;
    ``grid_worker`` steps are taken on the spot by the worker of the incident's grid, and
    by no one else."""

    sources: tuple[str, ...]
    target: str | None
    by: str


# Every step of the loop. The status steps keep the names of the statuses they reach.
RULES: dict[str, Rule] = {
    "dispatched": Rule(("received",), "dispatched", "dispatcher"),
    "transfer": Rule(("dispatched", "in_progress"), "dispatched", "dispatcher"),
    "in_progress": Rule(("dispatched",), "in_progress", "unit"),
    "return": Rule(("dispatched", "in_progress"), "received", "unit"),
    "extension_request": Rule(("dispatched", "in_progress"), None, "unit"),
    "extension_approve": Rule(("dispatched", "in_progress"), None, "dispatcher"),
    "extension_refuse": Rule(("dispatched", "in_progress"), None, "dispatcher"),
    "urge": Rule(("dispatched", "in_progress"), None, "dispatcher"),
    "handler": Rule(("dispatched", "in_progress"), None, "unit"),
    "replied": Rule(("in_progress",), "replied", "unit"),
    "closed": Rule(("received", "replied"), "closed", "dispatcher"),
    "callback": Rule(("closed",), None, "dispatcher"),
    "rating": Rule(("closed",), None, "dispatcher"),
    "reopen": Rule(("closed",), "dispatched", "dispatcher"),
    "verify_request": Rule(("replied",), None, "unit"),
    "verify_confirm": Rule(("replied",), None, "grid_worker"),
    "verify_reject": Rule(("replied",), "in_progress", "grid_worker"),
}
STAFF = ("dispatcher", "planner", "admin")
TARGETS = tuple(RULES)
UNSATISFIED = (1, 2)


@dataclass(frozen=True)
class Actor:
    """Who takes a step: a token's name and role, the unit of a unit's staff and the grids
    of a grid worker."""

    name: str
    role: str = "dispatcher"
    unit_code: str | None = None
    grid_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """One requested step of the loop."""

    to: str
    note: str | None = None
    handled_directly: bool = False
    rating: int | None = None
    unit_code: str | None = None
    days: int | None = None
    handler: str | None = None
    photo: int | None = None


def allowed_steps(
    status: str, actor: Actor, incident_unit: str | None = None, incident_grid: str | None = None
) -> list[str]:
    """The steps ``actor`` may take on an incident in ``status`` (what a page offers)."""
    return [
        name
        for name, rule in RULES.items()
        if status in rule.sources and _may(actor, rule, incident_unit, incident_grid)
    ]


def _may(actor: Actor, rule: Rule, incident_unit: str | None, incident_grid: str | None) -> bool:
    if actor.role == "unit":
        return rule.by == "unit" and incident_unit is not None and actor.unit_code == incident_unit
    if actor.role == "grid_worker":
        return rule.by == "grid_worker" and incident_grid in actor.grid_codes
    return actor.role in STAFF and rule.by != "grid_worker"


def _refusal(actor: Actor, rule: Rule, step: str, grid: str | None) -> Forbidden:
    """Why ``actor`` may not take ``step``: the role, or a grid worker's own grids."""
    if actor.role == "grid_worker" and rule.by == "grid_worker":
        where = f"grid {grid}" if grid else "no grid"
        return Forbidden(
            f"the incident is in {where}; grid_worker {actor.name} takes the step {step} on "
            f"the incidents of grid {', '.join(actor.grid_codes)} only",
            field="to",
        )
    whose = {"unit": " of its own unit", "grid_worker": " of its own grids"}.get(actor.role, "")
    return Forbidden(
        f"role {actor.role} may not take the step {step}{whose}; {step} is a {rule.by} step",
        field="to",
    )


def _conflict(message: str, status: str, to: str, field: str = "to") -> Conflict:
    return Conflict(message, field=field, from_status=status, to=to)


def check_step(
    status: str,
    step: Step,
    actor: Actor | None = None,
    unit: str | None = None,
    grid: str | None = None,
) -> None:
    """Raise naming the step and the status (409) or the role (403) when ``step`` may not
    be taken from ``status`` by ``actor``."""
    rule = RULES.get(step.to)
    if rule is None:
        raise InvalidInput(f"unknown step {step.to!r}; one of {', '.join(TARGETS)}", field="to")
    if actor is not None and not _may(actor, rule, unit, grid):
        raise _refusal(actor, rule, step.to, grid)
    if status not in rule.sources:
        if step.to in FOLLOW_UPS:
            raise _conflict(
                f"cannot record {step.to} from {status}: only after the incident is closed",
                status,
                step.to,
            )
        allowed = ", ".join(n for n, r in RULES.items() if status in r.sources)
        raise _conflict(
            f"cannot go from {status} to {step.to}; allowed from {status}: {allowed or 'nothing'}",
            status,
            step.to,
        )
    if step.to == "closed":
        if status == "received" and not step.handled_directly:
            raise _conflict(
                "cannot go from received to closed unless handled_directly is true",
                status,
                step.to,
                "handled_directly",
            )
        if status != "received" and step.handled_directly:
            raise _conflict(
                f"handled_directly applies only from received to closed, not from {status} "
                f"to {step.to}",
                status,
                step.to,
                "handled_directly",
            )
    elif step.handled_directly:
        raise _conflict(
            f"handled_directly applies only from received to closed, not from {status} "
            f"to {step.to}",
            status,
            step.to,
            "handled_directly",
        )
    if step.to == "rating" and step.rating is None:
        raise InvalidInput("a rating step needs rating 1-5", field="rating")


def _active_unit(session: Session, code: str | None, field: str = "unit_code") -> Unit:
    unit = session.get(Unit, code) if code else None
    if unit is None or not unit.active:
        raise InvalidInput(f"unknown or inactive unit {code!r}", field=field)
    return unit


def accept_due(received: datetime, accept_class: str, rules: WorkflowRules) -> datetime:
    """When a case dispatched at ``received`` must be accepted (签收时限)."""
    if accept_class == "urgent":
        return received + timedelta(minutes=rules.accept_urgent_min)
    if accept_class == "utility":
        return received + timedelta(minutes=rules.accept_utility_min)
    return due_at(received, rules.accept_normal_working_days)


def extended_due(current: datetime, days: int) -> datetime:
    """``current`` due time moved on by ``days`` Chinese working days (延期)."""
    day = due_day(local_date(current), days)
    return datetime.combine(day, current.astimezone(local_zone()).timetz()).astimezone(UTC)


class _Loop(VerificationSteps):
    """One step applied to one locked incident; each method changes the row and returns
    the event's kind, the unit it concerns and its detail."""

    step: Step

    def __init__(self, session: Session, incident: Incident, step: Step, actor: Actor) -> None:
        self.session, self.incident, self.step, self.actor = session, incident, step, actor
        self.now = datetime.now(UTC)
        self.rules = get_settings().loop

    def category(self) -> IncidentCategory:
        category = self.session.get(IncidentCategory, self.incident.category_code)
        assert category is not None  # a foreign key
        return category

    def dispatch_to(self, unit: Unit) -> None:
        inc = self.incident
        inc.unit_code = unit.code
        inc.dispatched_at = self.now
        inc.accepted_at = None
        inc.handler = None
        inc.accept_due_at = accept_due(self.now, self.category().accept_class, self.rules)

    def dispatched(self) -> tuple[str, str | None, dict[str, Any]]:
        code = self.step.unit_code or self.category().default_unit_code
        if code is None:
            raise InvalidInput(
                f"category {self.incident.category_code} has no default unit: name the "
                "unit to dispatch to (unit_code)",
                field="unit_code",
            )
        self.dispatch_to(_active_unit(self.session, code))
        return "transition", code, {"step": "dispatch"}

    def transfer(self) -> tuple[str, str | None, dict[str, Any]]:
        if self.step.unit_code is None:
            raise InvalidInput("a transfer names the unit it goes to (unit_code)", "unit_code")
        unit = _active_unit(self.session, self.step.unit_code)
        if unit.code == self.incident.unit_code:
            raise InvalidInput(
                f"the incident is already with unit {unit.code}; transfer to another unit",
                field="unit_code",
            )
        previous = self.incident.unit_code
        self.dispatch_to(unit)
        return "transition", unit.code, {"step": "transfer", "from_unit": previous}

    def in_progress(self) -> tuple[str, str | None, dict[str, Any]]:
        self.incident.accepted_at = self.now
        if self.step.handler:
            self.incident.handler = self.step.handler
        return "transition", self.incident.unit_code, {"step": "accept"}

    def return_(self) -> tuple[str, str | None, dict[str, Any]]:
        if not self.step.note:
            raise InvalidInput("a return (退单) needs its reason (note)", field="note")
        unit = self.incident.unit_code
        inc = self.incident
        inc.unit_code = inc.handler = inc.dispatched_at = inc.accepted_at = None
        inc.accept_due_at = None
        self._close_requests("refused", "the case was returned")
        return "transition", unit, {"step": "return"}

    def extension_request(self) -> tuple[str, str | None, dict[str, Any]]:
        days, most = self.step.days, self.rules.max_extension_days
        if days is None or not 1 <= days <= most:
            raise InvalidInput(f"an extension asks for 1 to {most} working days", "days")
        if not self.step.note:
            raise InvalidInput("an extension (延期申请) needs its reason (note)", "note")
        due = self.incident.due_at
        if due is not None and self.now > due:
            raise _conflict(
                f"an extension must be asked before the deadline; it passed at {due.isoformat()}",
                self.incident.status,
                self.step.to,
            )
        if self._pending("extension") is not None:
            raise _conflict(
                "an extension is already waiting for a decision",
                self.incident.status,
                self.step.to,
            )
        request = IncidentRequest(
            incident_id=self.incident.id,
            district_code=self.incident.district_code,
            kind="extension",
            state="pending",
            unit_code=self.incident.unit_code,
            days=days,
            reason=self.step.note,
            asked_by=self.actor.name,
            asked_at=self.now,
        )
        self.session.add(request)
        self.session.flush()
        return "extension_request", self.incident.unit_code, {"days": days, "request": request.id}

    def _close_requests(self, state: str, note: str) -> None:
        self.session.execute(
            update(IncidentRequest)
            .where(
                IncidentRequest.incident_id == self.incident.id,
                IncidentRequest.state == "pending",
            )
            .values(
                state=state, decided_by=self.actor.name, decided_at=self.now, decision_note=note
            )
        )

    def _decide(self, approve: bool) -> tuple[str, str | None, dict[str, Any]]:
        request = self._pending("extension")
        if request is None:
            raise _conflict(
                "no extension is waiting for a decision", self.incident.status, self.step.to
            )
        request.state = "approved" if approve else "refused"
        request.decided_by, request.decided_at = self.actor.name, self.now
        request.decision_note = self.step.note
        detail: dict[str, Any] = {"request": request.id, "approved": approve, "days": request.days}
        if approve and self.incident.due_at is not None and request.days:
            detail["from_due"] = self.incident.due_at.isoformat()
            self.incident.due_at = extended_due(self.incident.due_at, request.days)
            detail["to_due"] = self.incident.due_at.isoformat()
        return "extension_decision", request.unit_code, detail

    def extension_approve(self) -> tuple[str, str | None, dict[str, Any]]:
        return self._decide(True)

    def extension_refuse(self) -> tuple[str, str | None, dict[str, Any]]:
        return self._decide(False)

    def urge(self) -> tuple[str, str | None, dict[str, Any]]:
        self.incident.urge_count += 1
        return "urge", self.incident.unit_code, {"count": self.incident.urge_count}

    def handler(self) -> tuple[str, str | None, dict[str, Any]]:
        if not self.step.handler:
            raise InvalidInput("name the person handling the case (handler)", "handler")
        self.incident.handler = self.step.handler
        return "handler", self.incident.unit_code, {"handler": self.step.handler}

    def replied(self) -> tuple[str, str | None, dict[str, Any]]:
        self.incident.replied_at = self.now
        if self.step.note:
            self.incident.reply = self.step.note
            self._to_duplicates(reply=self.step.note, replied_at=self.now)
        return "transition", self.incident.unit_code, {"step": "reply"}

    def closed(self) -> tuple[str, str | None, dict[str, Any]]:
        inc = self.incident
        if inc.status == "replied":
            check_closing(self.session, inc, self.rules)
            self._close_requests("refused", "the case was closed")
        inc.closed_at = self.now
        inc.handled_directly = inc.handled_directly or self.step.handled_directly
        return "transition", inc.unit_code, {"handled_directly": inc.handled_directly}

    def callback(self) -> tuple[str, str | None, dict[str, Any]]:
        self.incident.callback_at = self.now
        self._to_duplicates(callback_at=self.now)
        return self.rating_detail("callback")

    def rating(self) -> tuple[str, str | None, dict[str, Any]]:
        return self.rating_detail("rating")

    def rating_detail(self, kind: str) -> tuple[str, str | None, dict[str, Any]]:
        detail: dict[str, Any] = {}
        if self.step.rating is not None:
            self.incident.rating = self.step.rating
            detail["rating"] = self.step.rating
        return kind, self.incident.unit_code, detail

    def reopen(self) -> tuple[str, str | None, dict[str, Any]]:
        inc, most = self.incident, self.rules.max_reopens
        if inc.rating not in UNSATISFIED:
            raise _conflict(
                f"only an unsatisfied case (rating 1-2) is reopened; its rating is {inc.rating}",
                inc.status,
                self.step.to,
            )
        if inc.reopen_count >= most:
            raise _conflict(
                f"the case was reopened {inc.reopen_count} times already; the limit is {most}",
                inc.status,
                self.step.to,
                field="reopen_count",
            )
        if inc.unit_code is None:
            raise _conflict(
                "the case was answered by the hotline itself and has no unit to reopen it "
                "with; take it in again",
                inc.status,
                self.step.to,
            )
        inc.reopen_count += 1
        detail = {"step": "reopen", "rating": inc.rating, "reopen_count": inc.reopen_count}
        unit = _active_unit(self.session, self.step.unit_code or inc.unit_code)
        self.dispatch_to(unit)
        inc.closed_at = inc.callback_at = inc.replied_at = inc.reply = None
        inc.rating = None
        inc.due_at = due_at(self.now, self.category().due_working_days)
        return "transition", unit.code, detail

    def _to_duplicates(self, **values: Any) -> None:
        """The original answers for the duplicates merged into it: reply and callback."""
        self.session.execute(
            update(IncidentReport)
            .where(IncidentReport.merged_into == self.incident.id)
            .values(**values)
        )


def _locked(session: Session, incident_id: int) -> Incident:
    incident = session.scalars(
        select(Incident).where(Incident.id == incident_id).with_for_update()
    ).one_or_none()
    if incident is None:
        raise NotFound(f"no incident with id {incident_id}", field="id")
    return incident


def apply_step(session: Session, incident_id: int, step: Step, actor: Actor | str) -> Incident:
    """Apply ``step`` to the incident under a row lock and log who, when, unit and note."""
    if isinstance(actor, str):
        actor = Actor(actor)
    if step.rating is not None and not 1 <= step.rating <= 5:
        raise InvalidInput("rating must be 1 to 5", field="rating")
    incident = _locked(session, incident_id)
    before = incident.status
    check_step(before, step, actor, incident.unit_code, incident.grid_code)
    loop = _Loop(session, incident, step, actor)
    method = "return_" if step.to == "return" else step.to
    kind, unit, detail = getattr(loop, method)()
    target = RULES[step.to].target
    if target is not None:
        incident.status = target
    _log(session, incident, loop.now, actor, kind, unit, step.note, detail, before, target)
    session.flush()
    return incident


def _log(
    session: Session,
    incident: Incident,
    now: datetime,
    actor: Actor,
    kind: str,
    unit: str | None,
    note: str | None,
    detail: dict[str, Any],
    before: str | None,
    target: str | None,
) -> None:
    moved = kind == "transition"
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            district_code=incident.district_code,
            at=now,
            actor=actor.name,
            kind=kind,
            from_status=before if moved else None,
            to_status=target if moved else None,
            unit_code=unit,
            note=note,
            detail=detail,
        )
    )


def merge(session: Session, duplicate_id: int, into_id: int, actor: Actor | str) -> Incident:
    """Close ``duplicate_id`` as a duplicate (重复诉求) of ``into_id``: linked both ways,
    and the original's reply and callback answer for both reporters."""
    if isinstance(actor, str):
        actor = Actor(actor)
    if actor.role == "unit":
        raise Forbidden("role unit may not merge incidents; merging is a dispatcher step", "into")
    if duplicate_id == into_id:
        raise InvalidInput("an incident cannot be merged into itself", field="into")
    # Lock both rows in id order, so two crossing merges cannot deadlock.
    first, second = sorted((duplicate_id, into_id))
    rows = {first: _locked(session, first), second: _locked(session, second)}
    duplicate, original = rows[duplicate_id], rows[into_id]
    if original.merged_into is not None:
        raise InvalidInput(
            f"incident {into_id} is itself a duplicate of {original.merged_into}; merge into "
            f"{original.merged_into}",
            field="into",
        )
    if duplicate.status == "closed":
        raise Conflict(
            f"incident {duplicate_id} is closed already; only an open incident is merged",
            field="id",
            from_status=duplicate.status,
            to="merged",
        )
    now = datetime.now(UTC)
    # Duplicates of the duplicate follow it, so a chain is never more than one link.
    session.execute(
        update(IncidentReport)
        .where(IncidentReport.merged_into == duplicate_id)
        .values(merged_into=into_id)
    )
    before = duplicate.status
    duplicate.merged_into = into_id
    duplicate.status = "closed"
    duplicate.closed_at = now
    session.execute(
        update(IncidentRequest)
        .where(IncidentRequest.incident_id == duplicate_id, IncidentRequest.state == "pending")
        .values(state="refused", decided_by=actor.name, decided_at=now, decision_note="merged")
    )
    _log(
        session,
        duplicate,
        now,
        actor,
        "transition",
        duplicate.unit_code,
        None,
        {"step": "merge", "merged_into": into_id},
        before,
        "closed",
    )
    _log(
        session,
        original,
        now,
        actor,
        "note",
        original.unit_code,
        None,
        {"step": "merge", "duplicate": duplicate_id},
        None,
        None,
    )
    session.flush()
    return duplicate
