"""One demo case's way through the 12345 loop (案件办理记录), step by step.

:class:`Life` takes the steps of :mod:`gis.incidents.workflow` at given times and leaves
what the workflow would leave: the report's columns (:class:`Row`), its events (same kinds,
same detail keys) and its extension requests. A step after ``end`` (the moment the demo
stands at) is not taken, and nothing after it: the case stays where it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from gis.incidents.due import due_at, local_zone
from gis.incidents.workflow import accept_due, extended_due
from gis.settings import WorkflowRules

STEP_GAP = timedelta(seconds=1)  # two steps of one case never share a time


@lru_cache(maxsize=4096)
def _due(day: date, days: int, zone: tzinfo) -> datetime:
    """:func:`due_at` of a case received on ``day``, in ``zone``."""
    return due_at(datetime.combine(day, time(12), tzinfo=zone), days).astimezone(zone)


@dataclass(frozen=True)
class Case:
    """A stored report as it came in, with where it lies and how the hotline answered it."""

    id: int
    external_id: str
    district_code: str | None
    received_at: datetime
    channel: str
    category: str
    match: str
    street_code: str | None
    community_code: str | None
    handled_directly: bool = False
    closed_at: datetime | None = None
    callback_at: datetime | None = None
    rating: int | None = None


@dataclass(frozen=True)
class Clock:
    """A category's clocks: working days to answer, how soon to accept, its default unit."""

    due_days: int
    accept_class: str
    unit: str


@dataclass(slots=True)
class Row:
    """The report's workflow columns (``incident_reports``)."""

    due_at: datetime
    handled_directly: bool
    status: str = "received"
    unit_code: str | None = None
    handler: str | None = None
    dispatched_at: datetime | None = None
    accept_due_at: datetime | None = None
    accepted_at: datetime | None = None
    replied_at: datetime | None = None
    reply: str | None = None
    urge_count: int = 0
    reopen_count: int = 0
    closed_at: datetime | None = None
    callback_at: datetime | None = None
    rating: int | None = None


@dataclass(slots=True)
class Request:
    """An extension request (延期申请, ``incident_requests``); ``id`` is drawn on storing."""

    unit_code: str | None
    days: int
    reason: str
    asked_by: str
    asked_at: datetime
    state: str = "pending"
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    id: int = 0


@dataclass(slots=True)
class Event:
    """One ``incident_events`` row; a ``request`` key in ``detail`` holds its Request."""

    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    unit_code: str | None
    note: str | None
    detail: dict[str, Any]


@dataclass
class Life:
    """A case's steps so far and what they left. Times are kept in the hotline's zone (one
    zone: comparing and subtracting them needs no conversion)."""

    case: Case
    clock: Clock
    rules: WorkflowRules
    end: datetime
    row: Row = field(init=False)
    events: list[Event] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    stopped: bool = False
    last: datetime = field(init=False)  # when the last step was taken
    zone: tzinfo = field(init=False)

    def __post_init__(self) -> None:
        self.zone = local_zone()
        self.end = self.local(self.end)
        received = self.local(self.case.received_at)
        due = _due(received.date(), self.clock.due_days, self.zone)
        self.row = Row(due, self.case.handled_directly)
        self.last = received - STEP_GAP

    def local(self, at: datetime) -> datetime:
        return at if at.tzinfo is self.zone else at.astimezone(self.zone)

    def _when(self, at: datetime) -> datetime | None:
        """The time of the next step (after the last one), or None from ``end`` on."""
        if self.stopped:
            return None
        at = max(self.local(at).replace(microsecond=0), self.last + STEP_GAP)
        if at > self.end:
            self.stopped = True
            return None
        self.last = at
        return at

    def _log(
        self,
        at: datetime,
        actor: str,
        kind: str,
        unit: str | None,
        note: str | None,
        detail: dict[str, Any],
        to: str | None = None,
    ) -> bool:
        moved = kind == "transition"
        before = self.row.status if moved else None
        self.events.append(Event(at, actor, kind, before, to, unit, note, detail))
        if to is not None:
            self.row.status = to
        return True

    def received(self, actor: str) -> None:
        at = self._when(self.case.received_at)
        assert at is not None, "a case is received before the demo's end"
        detail = {"channel": self.case.channel, "match": self.case.match}
        self.events.append(Event(at, actor, "received", None, "received", None, None, detail))

    def _dispatch_to(self, at: datetime, unit: str) -> None:
        r = self.row
        r.unit_code, r.dispatched_at, r.accepted_at, r.handler = unit, at, None, None
        r.accept_due_at = self.local(accept_due(at, self.clock.accept_class, self.rules))

    def dispatch(self, at: datetime, actor: str, unit: str) -> bool:
        if (t := self._when(at)) is None:
            return False
        self._dispatch_to(t, unit)
        return self._log(t, actor, "transition", unit, None, {"step": "dispatch"}, "dispatched")

    def transfer(self, at: datetime, actor: str, unit: str) -> bool:
        if (t := self._when(at)) is None:
            return False
        previous = self.row.unit_code
        self._dispatch_to(t, unit)
        detail = {"step": "transfer", "from_unit": previous}
        return self._log(t, actor, "transition", unit, None, detail, "dispatched")

    def accept(self, at: datetime, actor: str) -> bool:
        if (t := self._when(at)) is None:
            return False
        self.row.accepted_at = t
        return self._log(
            t, actor, "transition", self.row.unit_code, None, {"step": "accept"}, "in_progress"
        )

    def return_(self, at: datetime, actor: str, reason: str) -> bool:
        if (t := self._when(at)) is None:
            return False
        r = self.row
        unit = r.unit_code
        r.unit_code = r.handler = r.dispatched_at = r.accepted_at = r.accept_due_at = None
        return self._log(t, actor, "transition", unit, reason, {"step": "return"}, "received")

    def ask_extension(self, at: datetime, actor: str, days: int, reason: str) -> bool:
        """Asked only before the deadline, as the workflow requires."""
        if at > self.row.due_at or (t := self._when(at)) is None:
            return False
        request = Request(self.row.unit_code, days, reason, actor, t)
        self.requests.append(request)
        detail = {"days": days, "request": request}
        return self._log(t, actor, "extension_request", self.row.unit_code, reason, detail)

    def decide(self, at: datetime, actor: str, approve: bool, note: str) -> bool:
        if (t := self._when(at)) is None:
            return False
        request = self.requests[-1]
        request.state = "approved" if approve else "refused"
        request.decided_by, request.decided_at, request.decision_note = actor, t, note
        detail: dict[str, Any] = {"request": request, "approved": approve, "days": request.days}
        if approve:
            detail["from_due"] = self.row.due_at.astimezone(UTC).isoformat()
            self.row.due_at = self.local(extended_due(self.row.due_at, request.days))
            detail["to_due"] = self.row.due_at.astimezone(UTC).isoformat()
        return self._log(t, actor, "extension_decision", request.unit_code, note, detail)

    def urge(self, at: datetime, actor: str, note: str) -> bool:
        if (t := self._when(at)) is None:
            return False
        self.row.urge_count += 1
        return self._log(t, actor, "urge", self.row.unit_code, note, {"count": self.row.urge_count})

    def name_handler(self, at: datetime, actor: str, handler: str) -> bool:
        if (t := self._when(at)) is None:
            return False
        self.row.handler = handler
        return self._log(t, actor, "handler", self.row.unit_code, None, {"handler": handler})

    def reply(self, at: datetime, actor: str, text: str) -> bool:
        if (t := self._when(at)) is None:
            return False
        self.row.replied_at, self.row.reply = t, text
        return self._log(
            t, actor, "transition", self.row.unit_code, text, {"step": "reply"}, "replied"
        )

    def close(self, at: datetime, actor: str, directly: bool = False) -> bool:
        if (t := self._when(at)) is None:
            return False
        r = self.row
        r.closed_at = t
        r.handled_directly = r.handled_directly or directly
        detail = {"handled_directly": r.handled_directly}
        return self._log(t, actor, "transition", r.unit_code, None, detail, "closed")

    def callback(self, at: datetime, actor: str, rating: int | None, note: str) -> bool:
        if (t := self._when(at)) is None:
            return False
        self.row.callback_at = t
        detail: dict[str, Any] = {}
        if rating is not None:
            self.row.rating = detail["rating"] = rating
        return self._log(t, actor, "callback", self.row.unit_code, note, detail)

    def rate(self, at: datetime, actor: str, rating: int) -> bool:
        if (t := self._when(at)) is None:
            return False
        self.row.rating = rating
        return self._log(t, actor, "rating", self.row.unit_code, None, {"rating": rating})

    def reopen(self, at: datetime, actor: str, note: str) -> bool:
        if (t := self._when(at)) is None:
            return False
        r = self.row
        assert r.unit_code is not None, "only a case a unit handled is reopened"
        r.reopen_count += 1
        detail = {"step": "reopen", "rating": r.rating, "reopen_count": r.reopen_count}
        self._dispatch_to(t, r.unit_code)
        r.closed_at = r.callback_at = r.replied_at = r.reply = None
        r.rating = None
        r.due_at = self.local(due_at(t, self.clock.due_days))
        return self._log(t, actor, "transition", r.unit_code, note, detail, "dispatched")
