"""Replaying an incident's event log: the columns the workflow's steps leave, step by step.

Written from the rules of ``gis.incidents.workflow`` (which step may follow which status,
what each step sets and clears) and nothing of the demo's own, so that a demo case whose
columns differ from its replayed log is caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
COLUMNS = (
    "status",
    "handled_directly",
    "unit_code",
    "handler",
    "dispatched_at",
    "accept_due_at",
    "accepted_at",
    "replied_at",
    "reply",
    "urge_count",
    "reopen_count",
    "due_at",
    "closed_at",
    "callback_at",
    "rating",
)


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


def replay(
    events: list[Logged], received_at: datetime, due_days: int, accept_class: str
) -> dict[str, Any]:
    """The columns ``events`` (oldest first) leave; AssertionError on a step the workflow
    would have refused."""
    rules = get_settings().loop
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(urge_count=0, reopen_count=0, handled_directly=False)
    row["due_at"] = due_at(received_at, due_days)
    first, *rest = events
    assert first.kind == "received" and first.to_status == "received"
    row["status"] = "received"
    pending: int | None = None

    def dispatch(e: Logged) -> None:
        row.update(unit_code=e.unit_code, dispatched_at=e.at, accepted_at=None, handler=None)
        row["accept_due_at"] = accept_due(e.at, accept_class, rules)

    for e in rest:
        step = step_of(e)
        rule = RULES[step]
        assert row["status"] in rule.sources, (step, row["status"])
        if step not in ("dispatched", "transfer", "reopen") and e.kind != "extension_decision":
            assert e.unit_code == row["unit_code"], e
        if e.kind == "transition":
            assert e.from_status == row["status"] and e.to_status == rule.target, e
            row["status"] = rule.target
        else:
            assert e.from_status is None and e.to_status is None, e
        if step in ("dispatched", "transfer"):
            if step == "transfer":
                assert e.detail["from_unit"] == row["unit_code"] != e.unit_code
            dispatch(e)
        elif step == "in_progress":
            row["accepted_at"] = e.at
        elif step == "return":
            assert e.note
            row.update(unit_code=None, handler=None, dispatched_at=None, accepted_at=None)
            row["accept_due_at"] = None
        elif step == "extension_request":
            assert pending is None and e.at <= row["due_at"] and e.note
            pending = e.detail["request"]
        elif step.startswith("extension_"):
            assert e.detail["request"] == pending
            pending = None
            if e.detail["approved"]:
                assert datetime.fromisoformat(e.detail["from_due"]) == row["due_at"]
                row["due_at"] = datetime.fromisoformat(e.detail["to_due"])
        elif step == "urge":
            row["urge_count"] += 1
            assert e.detail["count"] == row["urge_count"]
        elif step == "handler":
            row["handler"] = e.detail["handler"]
        elif step == "replied":
            row.update(replied_at=e.at, reply=e.note)
        elif step == "closed":
            row["handled_directly"] = row["handled_directly"] or e.detail["handled_directly"]
            row["closed_at"] = e.at
        elif step in ("callback", "rating"):
            if step == "callback":
                row["callback_at"] = e.at
            if "rating" in e.detail:
                row["rating"] = e.detail["rating"]
        elif step == "reopen":
            assert row["rating"] in (1, 2) and e.detail["rating"] == row["rating"]
            row["reopen_count"] += 1
            assert e.detail["reopen_count"] == row["reopen_count"] <= rules.max_reopens
            dispatch(e)
            row.update(closed_at=None, callback_at=None, replied_at=None, reply=None, rating=None)
            row["due_at"] = due_at(e.at, due_days)
    return row
