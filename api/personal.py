"""Residents' personal data in responses (个人信息): the dependency every endpoint uses.

The decision lives in :func:`gis.privacy.reveals_personal_data`; this module binds it
to the caller and to ``?include_personal=true`` (an explicit export, administrators
only), and notes every response that carries unmasked data so the audit middleware
records the read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request

from api.auth import Principal, require
from gis import privacy

STATE_KEY = "personal_data"


class PersonalData:
    """How this response treats personal fields: ``present`` each record through it."""

    def __init__(
        self, request: Request, principal: Principal, *, public: bool, export: bool
    ) -> None:
        self.request = request
        self.principal = principal
        self.export = export
        self.public = public
        self.reveal = privacy.reveals_personal_data(principal.role, public=public, export=export)

    def reveals(self, record: dict[str, Any]) -> bool:
        """Whether this record is shown unmasked: as decided for the caller, or, for a
        unit's staff, when the record is a case of their own unit, and for a grid worker
        when it is a case of their own grids."""
        if self.reveal:
            return True
        who = self.principal
        if who.unit_code is not None:
            own = record.get("unit_code") == who.unit_code
        elif who.grid_codes:
            own = _grid_of(record) in who.grid_codes
        else:
            return False
        return privacy.reveals_personal_data(who.role, public=self.public, own=own)

    def present(self, record: dict[str, Any], ref: Any = None) -> dict[str, Any]:
        """``record`` masked or not; a shown name or phone is noted for the audit log."""
        reveal = self.reveals(record)
        if reveal and any(record.get(k) for k in privacy.PERSONAL_FIELDS):
            self._note(record.get("id") if ref is None else ref)
        return privacy.present(record, reveal)

    def present_all(self, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self.present(r) for r in records]

    def _note(self, ref: Any) -> None:
        state = self.request.state
        noted: dict[str, Any] | None = getattr(state, STATE_KEY, None)
        if noted is None:
            action = "personal_data.export" if self.export else "personal_data.read"
            noted = {"action": action, "count": 0, "refs": []}
            setattr(state, STATE_KEY, noted)
        noted["count"] += 1
        if ref is not None and len(noted["refs"]) < 100:
            # The refs go into a JSONB column: keep them plain.
            noted["refs"].append(ref if isinstance(ref, int | str) else str(ref))


def _grid_of(record: dict[str, Any]) -> Any:
    """A record's grid: its own ``grid_code``, or its assignment's (an incident)."""
    assignment = record.get("assignment")
    if "grid_code" not in record and isinstance(assignment, dict):
        return assignment.get("grid_code")
    return record.get("grid_code")


IncludePersonal = Annotated[
    bool,
    Query(
        description="Administrators only: include reporters' names and phones unmasked "
        "(recorded in the audit log)."
    ),
]


def _dependency(public: bool) -> Any:
    # async: no I/O here (the token check is its own dependency), so no worker thread.
    async def dependency(
        request: Request,
        principal: Annotated[Principal, Depends(require("viewer"))],
        include_personal: IncludePersonal = False,
    ) -> PersonalData:
        if include_personal and principal.role != "admin":
            raise HTTPException(
                status_code=403, detail="include_personal is for administrators only"
            )
        return PersonalData(request, principal, public=public, export=include_personal)

    return dependency


# Authenticated JSON (incidents): dispatchers and above see personal data.
Personal = Annotated[PersonalData, Depends(_dependency(public=False))]
# Tiles, OGC API, Open311, maps, exports: masked for all unless an admin exports explicitly.
PublicPersonal = Annotated[PersonalData, Depends(_dependency(public=True))]
