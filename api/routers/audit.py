"""``GET /api/v1/audit``: the audit log (审计日志), administrators only.

One time line, newest first: token use on writes and reads/exports of personal data
(``audit_log``, written by :mod:`api.middleware`), boundary edits (``boundary_versions``),
incident events (``incident_events``) and group re-assignments (``incident_moves``), told
apart by ``source`` and ``action``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.auth import Admin
from api.deps import SessionDep, SettingsDep
from gis import audit
from gis.limits import page_size

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditRow(BaseModel):
    source: str
    id: int
    at: datetime
    action: str
    token_id: int | None
    role: str | None
    actor: str
    resource: str
    status: int | None
    district_code: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    entries: list[AuditRow]
    count: int


@router.get("/audit", response_model=AuditPage)
def audit_log(
    principal: Admin,
    session: SessionDep,
    settings: SettingsDep,
    action: Annotated[
        str | None,
        Query(
            max_length=40,
            description="write, personal_data.read, personal_data.export, "
            "boundary.edit, incident.event or incident.move",
        ),
    ] = None,
    since: Annotated[datetime | None, Query(description="Only entries at or after.")] = None,
    limit: Annotated[int, Query(ge=1, description="At most max_page_size.")] = 100,
) -> AuditPage:
    rows = audit.entries(
        session,
        action=action,
        since=since,
        limit=page_size(limit, settings),
        district_code=principal.district_code,  # a district-scoped admin sees its district
    )
    return AuditPage(entries=[AuditRow(**r) for r in rows], count=len(rows))
