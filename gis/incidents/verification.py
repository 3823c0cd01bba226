"""Verification (核查/核实结案): the grid worker checks on the spot that a replied case is
really fixed before it closes.

The steps' places in the loop (who, from where, to where) are in
:mod:`gis.incidents.workflow`; this module holds what they do:

- ``verify_request``: a dispatcher or the incident's unit asks the worker of the
  incident's grid (a case in no grid has no worker to ask: 409); one waits at a time
  (a sub-request, ``incident_requests`` of kind ``verification``).
- ``verify_confirm``: the worker confirms; the request is ``approved`` and points to the
  photo taken on the spot: the one named (``photo``, its number on the incident, uploaded
  first with ``POST /api/v1/incidents/{id}/media``), else the latest photo the worker
  added to the incident since the verification was asked, else none.
- ``verify_reject``: the worker rejects with a note (required); the request is
  ``refused`` and the case goes back to its unit, in progress, its reply withdrawn (the
  log keeps it) and its deadline unchanged.

Closing (:func:`check_closing`): a case of a category listed in
``WANGGE_LOOP_VERIFY_CATEGORIES`` closes from ``replied`` only when a verification was
confirmed after its latest reply; a case in no grid is exempt. A verification still
waiting when a case closes is refused with the closing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.errors import Conflict, InvalidInput
from gis.models import Incident, IncidentMedia, IncidentRequest
from gis.settings import WorkflowRules

KIND = "verification"


class _Step(Protocol):
    @property
    def to(self) -> str: ...
    @property
    def note(self) -> str | None: ...
    @property
    def photo(self) -> int | None: ...


class _Actor(Protocol):
    @property
    def name(self) -> str: ...


Outcome = tuple[str, str | None, dict[str, Any]]


class VerificationSteps:
    """The verify_* steps of the loop's step applier (``workflow._Loop``)."""

    session: Session
    incident: Incident
    step: _Step
    actor: _Actor
    now: datetime
    rules: WorkflowRules

    def _pending(self, kind: str) -> IncidentRequest | None:
        """The request of ``kind`` waiting for a decision on this incident, locked."""
        return self.session.scalars(
            select(IncidentRequest)
            .where(
                IncidentRequest.incident_id == self.incident.id,
                IncidentRequest.kind == kind,
                IncidentRequest.state == "pending",
            )
            .with_for_update()
        ).first()

    def _refuse(self, message: str, field: str = "to") -> Conflict:
        return Conflict(message, field=field, from_status=self.incident.status, to=self.step.to)

    def verify_request(self) -> Outcome:
        inc = self.incident
        if inc.grid_code is None:
            raise self._refuse(
                "the incident lies in no grid, so no grid worker can verify it; close it "
                "without verification or correct its location"
            )
        if self._pending(KIND) is not None:
            raise self._refuse("a verification is already waiting for the grid worker")
        request = IncidentRequest(
            incident_id=inc.id,
            district_code=inc.district_code,
            kind=KIND,
            state="pending",
            unit_code=inc.unit_code,
            reason=self.step.note or "",
            asked_by=self.actor.name,
            asked_at=self.now,
        )
        self.session.add(request)
        self.session.flush()
        return "verification_request", inc.unit_code, {"request": request.id, "grid": inc.grid_code}

    def _verified(self, confirmed: bool) -> IncidentRequest:
        request = self._pending(KIND)
        if request is None:
            raise self._refuse("no verification is waiting; a dispatcher or the unit asks first")
        request.state = "approved" if confirmed else "refused"
        request.decided_by, request.decided_at = self.actor.name, self.now
        request.decision_note = self.step.note
        return request

    def _photo(self, asked_at: datetime) -> int | None:
        """The number of the photo a confirmation points to (see the module docstring)."""
        media = IncidentMedia
        if self.step.photo is not None:
            found = self.session.scalar(
                select(media.n).where(
                    media.incident_id == self.incident.id, media.n == self.step.photo
                )
            )
            if found is None:
                raise InvalidInput(
                    f"incident {self.incident.id} has no photo {self.step.photo}; upload it "
                    "first (POST /api/v1/incidents/{id}/media)",
                    field="photo",
                )
            return int(found)
        latest = self.session.scalar(
            select(media.n)
            .where(
                media.incident_id == self.incident.id,
                media.created_by == self.actor.name,
                media.created_at >= asked_at,
            )
            .order_by(media.n.desc())
            .limit(1)
        )
        return None if latest is None else int(latest)

    def verify_confirm(self) -> Outcome:
        request = self._verified(True)
        detail: dict[str, Any] = {"request": request.id, "confirmed": True}
        request.photo_n = self._photo(request.asked_at)
        if request.photo_n is not None:
            detail["photo"] = request.photo_n
        return "verification_decision", self.incident.unit_code, detail

    def verify_reject(self) -> Outcome:
        if not self.step.note:
            raise InvalidInput("a rejected verification needs what is still wrong (note)", "note")
        if self.step.photo is not None:
            raise InvalidInput("a photo goes with a confirmed verification only", "photo")
        request = self._verified(False)
        inc = self.incident
        inc.replied_at = None
        inc.reply = None
        detail = {"step": "verify_reject", "request": request.id, "confirmed": False}
        return "transition", inc.unit_code, detail


def confirmed_since_reply(session: Session, incident: Incident) -> bool:
    """Whether a verification of the incident was confirmed after its latest reply."""
    if incident.replied_at is None:
        return False
    found = session.scalar(
        select(IncidentRequest.id)
        .where(
            IncidentRequest.incident_id == incident.id,
            IncidentRequest.kind == KIND,
            IncidentRequest.state == "approved",
            IncidentRequest.decided_at >= incident.replied_at,
        )
        .limit(1)
    )
    return found is not None


def requires_verification(incident: Incident, rules: WorkflowRules) -> bool:
    """Whether closing the replied ``incident`` waits for a confirmed verification."""
    return incident.category_code in rules.verify_categories and incident.grid_code is not None


def check_closing(session: Session, incident: Incident, rules: WorkflowRules) -> None:
    """:class:`Conflict` naming ``verification`` when the replied ``incident`` may not close
    yet: its category needs a confirmed verification of its latest reply and has none."""
    if requires_verification(incident, rules) and not confirmed_since_reply(session, incident):
        raise Conflict(
            f"category {incident.category_code} closes only after the grid worker confirms on "
            "the spot that the reply holds (核查); ask for a verification (verify_request) and "
            "close once it is confirmed",
            field="verification",
            from_status=incident.status,
            to="closed",
        )
