"""Replaying an incident's event log: the columns the workflow's steps leave, step by step.

Written from the rules of ``gis.incidents.workflow`` (which step may follow which status,
what each step sets and clears) and nothing of the demo's own, so that a demo case whose
columns differ from its replayed log is caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gis.demo.history import ROW_COLUMNS
from gis.incidents.due import due_at
from gis.incidents.workflow import RULES, accept_due
from gis.settings import get_settings

# The workflow's step named by a transition event's ``detail.step`` (a close has none).
STEP_OF = {
    "dispatch": "dispatched",
    "transfer": "transfer",
    "accept": "in_progress",
    "return": "return",
    "reply": "replied",
    "reopen": "reopen",
    None: "closed",
}
KIND_STEP = {"urge": "urge", "handler": "handler", "callback": "callback", "rating": "rating"}
# The workflow columns the loader writes: the replay must arrive at each of them.
COLUMNS = ROW_COLUMNS


@dataclass(frozen=True)
class Logged:
    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    unit_code: str | None
    note: str | None
    detail: dict[str, Any]


def step_of(e: Logged) -> str:
    """The workflow step (a key of RULES) that wrote ``e``."""
    if e.kind == "transition":
        return STEP_OF[e.detail.get("step")]
    if e.kind == "extension_decision":
        return "extension_approve" if e.detail["approved"] else "extension_refuse"
    return "extension_request" if e.kind == "extension_request" else KIND_STEP[e.kind]


class _Replay:
    """The row as the events so far leave it; one method per kind of step."""

    def __init__(self, received_at: datetime, due_days: int, accept_class: str) -> None:
        self.rules = get_settings().loop
        self.due_days, self.accept_class = due_days, accept_class
        self.row: dict[str, Any] = dict.fromkeys(COLUMNS)
        self.row.update(urge_count=0, reopen_count=0, handled_directly=False, status="received")
        self.row["due_at"] = due_at(received_at, due_days)
        self.pending: int | None = None

    def check(self, step: str, e: Logged) -> None:
        row, rule = self.row, RULES[step]
        assert row["status"] in rule.sources, (step, row["status"])
        if step not in ("dispatched", "transfer", "reopen") and e.kind != "extension_decision":
            assert e.unit_code == row["unit_code"], e
        if e.kind == "transition":
            assert e.from_status == row["status"] and e.to_status == rule.target, e
            row["status"] = rule.target
        else:
            assert e.from_status is None and e.to_status is None, e

    def dispatch(self, e: Logged) -> None:
        self.row.update(unit_code=e.unit_code, dispatched_at=e.at, accepted_at=None, handler=None)
        self.row["accept_due_at"] = accept_due(e.at, self.accept_class, self.rules)

    def transfer(self, e: Logged) -> None:
        assert e.detail["from_unit"] == self.row["unit_code"] != e.unit_code
        self.dispatch(e)

    def return_(self, e: Logged) -> None:
        assert e.note
        self.row.update(unit_code=None, handler=None, dispatched_at=None, accepted_at=None)
        self.row["accept_due_at"] = None

    def extension_request(self, e: Logged) -> None:
        assert self.pending is None and e.at <= self.row["due_at"] and e.note
        self.pending = e.detail["request"]

    def decision(self, e: Logged) -> None:
        assert e.detail["request"] == self.pending
        self.pending = None
        if e.detail["approved"]:
            assert datetime.fromisoformat(e.detail["from_due"]) == self.row["due_at"]
            self.row["due_at"] = datetime.fromisoformat(e.detail["to_due"])

    def urge(self, e: Logged) -> None:
        self.row["urge_count"] += 1
        assert e.detail["count"] == self.row["urge_count"]

    def closed(self, e: Logged) -> None:
        row = self.row
        row["handled_directly"] = row["handled_directly"] or e.detail["handled_directly"]
        row["closed_at"] = e.at

    def callback(self, e: Logged) -> None:
        self.row["callback_at"] = e.at
        self.rating(e)

    def rating(self, e: Logged) -> None:
        if "rating" in e.detail:
            self.row["rating"] = e.detail["rating"]

    def reopen(self, e: Logged) -> None:
        row = self.row
        assert row["rating"] in (1, 2) and e.detail["rating"] == row["rating"]
        row["reopen_count"] += 1
        assert e.detail["reopen_count"] == row["reopen_count"] <= self.rules.max_reopens
        self.dispatch(e)
        row.update(closed_at=None, callback_at=None, replied_at=None, reply=None, rating=None)
        row["due_at"] = due_at(e.at, self.due_days)

    def apply(self, step: str, e: Logged) -> None:
        self.check(step, e)
        effects: dict[str, Any] = {
            "dispatched": self.dispatch,
            "transfer": self.transfer,
            "in_progress": lambda e: self.row.update(accepted_at=e.at),
            "return": self.return_,
            "extension_request": self.extension_request,
            "extension_approve": self.decision,
            "extension_refuse": self.decision,
            "urge": self.urge,
            "handler": lambda e: self.row.update(handler=e.detail["handler"]),
            "replied": lambda e: self.row.update(replied_at=e.at, reply=e.note),
            "closed": self.closed,
            "callback": self.callback,
            "rating": self.rating,
            "reopen": self.reopen,
        }
        effects[step](e)


def replay(
    events: list[Logged], received_at: datetime, due_days: int, accept_class: str
) -> dict[str, Any]:
    """The columns ``events`` (oldest first) leave; AssertionError on a step the workflow
    would have refused."""
    first, *rest = events
    assert first.kind == "received" and first.to_status == "received"
    state = _Replay(received_at, due_days, accept_class)
    for e in rest:
        state.apply(step_of(e), e)
    return state.row
