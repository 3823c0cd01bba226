"""Appending to the audit log (审计日志) and reading it back.

``record`` is the one way rows get in (rows made by ``entry``). ``entries`` reads the log
together with the domain logs that already say who changed what: boundary edits
(``boundary_versions``), incident transitions (``incident_events``) and group
re-assignments (``incident_moves``, one row per group), so an
administrator sees one time line without the domain writing everything twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import String, cast, func, insert, literal, null, select, union_all
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.models import AuditEntry, BoundaryVersion, IncidentEvent, IncidentMove

# Actions drawn from the domain logs rather than from ``audit_log``.
BOUNDARY_EDIT = "boundary.edit"
INCIDENT_EVENT = "incident.event"
INCIDENT_MOVE = "incident.move"


class PrincipalLike(Protocol):
    """Whoever acted: an API principal, or anything with the same four facts."""

    @property
    def role(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def token_id(self) -> int | None: ...
    @property
    def district_code(self) -> str | None: ...


def entry(
    principal: PrincipalLike,
    action: str,
    resource: str,
    detail: dict[str, Any] | None = None,
    *,
    district_code: str | None = None,
    status: int | None = None,
    client: str | None = None,
) -> dict[str, Any]:
    """One row of the log, cut to its columns' lengths; :func:`record` writes it."""
    return {
        "token_id": principal.token_id,
        "role": principal.role[:16],
        "actor": principal.name[:120],
        "action": action[:40],
        "resource": resource[:300],
        "status": status,
        "client": client[:64] if client else None,
        "district_code": district_code or principal.district_code,
        "detail": detail or {},
    }


def record(session: Session, *rows: dict[str, Any]) -> None:
    """Append the rows of :func:`entry` in one statement: all of them or none, also on a
    connection in autocommit (the request path writes the log so)."""
    if rows:
        session.execute(insert(AuditEntry).values(list(rows)))


def entries(
    session: Session,
    *,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    include_domain_logs: bool = True,
    district_code: str | None = None,
) -> list[dict[str, Any]]:
    """The newest ``limit`` rows, newest first, from the audit log and the domain logs.

    ``district_code`` keeps only that district's rows (a district-scoped reader).
    """
    if limit < 1:
        raise InvalidInput("limit must be at least 1", field="limit")
    audit = select(
        literal("audit_log").label("source"),
        AuditEntry.id.label("id"),
        AuditEntry.at.label("at"),
        AuditEntry.action.label("action"),
        AuditEntry.token_id.label("token_id"),
        AuditEntry.role.label("role"),
        AuditEntry.actor.label("actor"),
        AuditEntry.resource.label("resource"),
        AuditEntry.status.label("status"),
        AuditEntry.district_code.label("district_code"),
        AuditEntry.detail.label("detail"),
    )
    parts = [audit]
    if include_domain_logs:
        parts.append(
            select(
                literal("boundary_versions"),
                BoundaryVersion.id,
                BoundaryVersion.created_at,
                literal(BOUNDARY_EDIT),
                null(),
                null(),
                BoundaryVersion.author,
                literal("boundary_versions/") + cast(BoundaryVersion.id, String),
                null(),
                BoundaryVersion.district_code,
                # Not the edit's own detail: it holds whole outlines (see /api/v1/edits/{id}).
                func.jsonb_build_object(
                    "operation",
                    BoundaryVersion.operation,
                    "reason",
                    BoundaryVersion.reason,
                    "base_version_id",
                    BoundaryVersion.base_version_id,
                ),
            )
        )
        parts.append(
            select(
                literal("incident_events"),
                IncidentEvent.id,
                IncidentEvent.at,
                literal(INCIDENT_EVENT),
                null(),
                null(),
                IncidentEvent.actor,
                literal("incidents/") + cast(IncidentEvent.incident_id, String),
                null(),
                IncidentEvent.district_code,
                func.jsonb_build_object(
                    "kind",
                    IncidentEvent.kind,
                    "from_status",
                    IncidentEvent.from_status,
                    "to_status",
                    IncidentEvent.to_status,
                ),
            )
        )
        parts.append(
            select(
                literal("incident_moves"),
                IncidentMove.id,
                IncidentMove.at,
                literal(INCIDENT_MOVE),
                null(),
                null(),
                IncidentMove.actor,
                literal("incident_moves/") + cast(IncidentMove.id, String),
                null(),
                IncidentMove.district_code,
                func.jsonb_build_object(
                    "incidents",
                    func.cardinality(IncidentMove.incident_ids),
                    "boundary_version_id",
                    IncidentMove.boundary_version_id,
                    "old",
                    IncidentMove.old,
                    "new",
                    IncidentMove.new,
                ),
            )
        )
    union = union_all(*parts).subquery()
    query = select(union)
    if action is not None:
        query = query.where(union.c.action == action)
    if since is not None:
        query = query.where(union.c.at >= since)
    if district_code is not None:
        query = query.where(union.c.district_code == district_code)
    query = query.order_by(union.c.at.desc(), union.c.id.desc()).limit(limit)
    return [dict(row._mapping) for row in session.execute(query)]
