"""Commit an edit (提交): one transaction from the lock to the re-assigned incidents.

Edits are serialised by a transaction-level advisory lock; under it the base
version the planner previewed must still be the latest, or the commit is a
409 and writes nothing. Then the old rows are closed, the new opened, the
:class:`BoundaryVersion` written with who, when, why, the operation and the
outlines before and after (GeoJSON), grid branches follow their grids, and
open incidents of the affected grids are re-assigned (their old assignment
stays in their event log).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis import assign
from gis.assign.epoch import lock_exclusive
from gis.db import session_scope
from gis.editing.plan import plan_edit
from gis.editing.reassign import reassign
from gis.editing.request import EditRequest
from gis.editing.state import COMMUNITY_FIELDS, GRID_FIELDS, latest_version
from gis.editing.types import Plan
from gis.errors import Conflict, InvalidInput, check_scope
from gis.settings import Settings
from gis.validity import boundary_current


@dataclass
class CommitResult:
    version_id: int
    base_version: int
    operation: str
    created_at: datetime
    incidents_reassigned: int
    summary: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version_id,
            "base_version": self.base_version,
            "operation": self.operation,
            "created_at": self.created_at.isoformat(),
            "incidents_reassigned": self.incidents_reassigned,
            **self.summary,
            **({"report": self.report} if self.report else {}),
        }


def lock_and_check(session: Session, base_version: int | None) -> int:
    """Take the assignment lock (edits take it first, see gis.assign.epoch); the base must be
    the latest version. Returns it."""
    if base_version is None:
        raise InvalidInput(
            "base_version is required (take it from the preview)", field="base_version"
        )
    lock_exclusive(session)
    latest = latest_version(session)
    if latest != base_version:
        raise Conflict(
            f"base version {base_version} is stale: the boundaries are now at version {latest};"
            " preview the edit again",
            field="base_version",
            latest_version=latest,
        )
    return latest


def _open_rows(
    session: Session,
    table: str,
    columns: str,
    rows: list[dict[str, Any]],
    version: int,
    at: datetime,
) -> None:
    names = [c.strip() for c in columns.split(",")]
    copies = [r for r in rows if "copy_of" in r]
    fresh = [r for r in rows if "copy_of" not in r]
    if copies:
        session.execute(
            text(
                f"INSERT INTO {table} ({columns}, geom, valid_from, version_id)"
                f" SELECT {columns}, geom, :at, :v FROM {table} WHERE id = ANY(:ids)"
            ),
            {"at": at, "v": version, "ids": [r["copy_of"] for r in copies]},
        )
    if fresh:
        binds = ", ".join(f":{n}" for n in names)
        session.execute(
            text(
                f"INSERT INTO {table} ({columns}, geom, valid_from, version_id) VALUES"
                f" ({binds}, ST_Multi(ST_GeomFromWKB(:wkb, 4490)), :at, :v)"
            ),
            [
                {
                    **{n: r[n] for n in names},
                    "wkb": shapely.to_wkb(r["geom"]),
                    "at": at,
                    "v": version,
                }
                for r in fresh
            ],
        )


def _close_rows(session: Session, table: str, codes: list[str], version: int, at: datetime) -> None:
    if not codes:
        return
    closed = (
        session.execute(
            text(
                f"UPDATE {table} SET valid_to = :at, retired_version_id = :v"
                f" WHERE code = ANY(:codes) AND {boundary_current()} RETURNING code"
            ),
            {"at": at, "v": version, "codes": codes},
        )
        .scalars()
        .all()
    )
    if sorted(closed) != sorted(codes):
        missing = sorted(set(codes) - set(closed))
        raise Conflict(f"{table} {', '.join(missing)} are no longer current", field="version")


def _follow(session: Session, plan: Plan) -> None:
    """Grid branches follow their grid; places of a moved grid follow it to its community."""
    for m in plan.branch_moves:
        session.execute(
            text(
                "UPDATE party_branches SET grid_code = :to, community_code = :c"
                " WHERE id = :id AND grid_code = :from"
            ),
            {"to": m["to"], "c": m["community"], "id": m["id"], "from": m["from"]},
        )
    moves = plan.place_moves
    if moves:
        for table, key in (
            ("buildings", "buildings"),
            ("compounds", "compounds"),
            ("party_branches", "party_branches"),
        ):
            session.execute(
                text(f"UPDATE {table} SET community_code = :to WHERE id = ANY(:ids)"),
                {"to": moves["to"], "ids": moves[key]},
            )


def _geojson(session: Session, column: str, version: int) -> dict[str, Any]:
    rows = session.execute(
        text(
            "SELECT code, name, households, residents, ST_AsGeoJSON(geom, 9) AS g, 'grid' AS level"
            f" FROM grids WHERE {column} = :v UNION ALL"
            " SELECT code, name, households, residents, ST_AsGeoJSON(geom, 9), 'community'"
            f" FROM communities WHERE {column} = :v ORDER BY 6 DESC, 1"
        ),
        {"v": version},
    ).all()
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": r.code,
                "properties": {
                    "code": r.code,
                    "name": r.name,
                    "level": r.level,
                    "households": r.households,
                    "residents": r.residents,
                },
                "geometry": json.loads(r.g),
            }
            for r in rows
        ],
    }


def apply_edit(
    session: Session,
    req: EditRequest,
    actor: str,
    settings: Settings,
    scope: str | None = None,
) -> CommitResult:
    """The whole commit inside the caller's transaction (see :func:`commit_edit`)."""
    if not req.reason.strip():
        raise InvalidInput("a commit needs a reason (kept in the edit log)", field="reason")
    base = lock_and_check(session, req.base_version)
    plan = plan_edit(session, req, settings, with_impact=False)
    check_scope(plan.district_code, scope, "the edit")
    at: datetime = session.execute(text("SELECT clock_timestamp()")).scalar_one()
    detail = {
        "params": req.params(),
        **plan.summary,
        "branch_moves": plan.branch_moves,
        "place_moves": plan.place_moves,
        "warnings": plan.report.get("validation", {}).get("warnings", []),
    }
    version: int = session.execute(
        text(
            "INSERT INTO boundary_versions (created_at, author, reason, operation,"
            " base_version_id, district_code, detail)"
            " VALUES (:at, :a, :r, :op, :base, :d, CAST(:detail AS jsonb)) RETURNING id"
        ),
        {
            "at": at,
            "a": actor,
            "r": req.reason,
            "op": plan.operation,
            "base": base,
            "d": plan.district_code or None,
            "detail": json.dumps(detail),
        },
    ).scalar_one()
    _close_rows(session, "communities", plan.close_communities, version, at)
    _open_rows(session, "communities", COMMUNITY_FIELDS, plan.open_communities, version, at)
    _close_rows(session, "grids", plan.close_grids, version, at)
    _open_rows(session, "grids", GRID_FIELDS, plan.open_grids, version, at)
    _follow(session, plan)
    reason = f"boundary version {version} ({plan.operation}): {req.reason}"
    moved = reassign(session, plan.affected, actor, reason, settings, version)
    session.execute(
        text("UPDATE boundary_versions SET detail = detail || CAST(:extra AS jsonb) WHERE id = :v"),
        {
            "v": version,
            "extra": json.dumps(
                {
                    "before": _geojson(session, "retired_version_id", version),
                    "after": _geojson(session, "version_id", version),
                    "incidents_reassigned": moved,
                }
            ),
        },
    )
    return CommitResult(version, base, plan.operation, at, moved, plan.summary, plan.report)


def commit_edit(
    engine: Engine,
    req: EditRequest,
    actor: str,
    settings: Settings,
    scope: str | None = None,
) -> CommitResult:
    """Commit in its own transaction, then drop cached assignments. ``scope``: the one
    district a district-scoped caller may edit (the edit must lie in it)."""
    with session_scope(engine) as session:
        result = apply_edit(session, req, actor, settings, scope)
    assign.invalidate(engine)
    return result


def _after_features(session: Session, plan: Plan) -> list[dict[str, Any]]:
    """The grids an edit would open, as GeoJSON features (copies read from their rows)."""
    features = [
        {
            "type": "Feature",
            "id": r["code"],
            "properties": {
                "code": r["code"],
                "households": r["households"],
                "residents": r["residents"],
            },
            "geometry": shapely.geometry.mapping(r["geom"]),
        }
        for r in plan.open_grids
        if "copy_of" not in r
    ]
    copies = [r["copy_of"] for r in plan.open_grids if "copy_of" in r]
    rows = session.execute(
        text(
            "SELECT code, households, residents, ST_AsGeoJSON(geom, 9) AS g FROM grids"
            " WHERE id = ANY(:ids) ORDER BY code"
        ),
        {"ids": copies},
    ).all()
    features += [
        {
            "type": "Feature",
            "id": r.code,
            "properties": {"code": r.code, "households": r.households, "residents": r.residents},
            "geometry": json.loads(r.g),
        }
        for r in rows
    ]
    return features


def preview_edit(
    session: Session, req: EditRequest, settings: Settings, scope: str | None = None
) -> dict[str, Any]:
    """Validation and impact of an edit, written nowhere; ``base_version`` to commit it on."""
    base = latest_version(session)
    plan = plan_edit(session, req, settings)
    check_scope(plan.district_code, scope, "the edit")
    return {
        "base_version": base,
        "operation": plan.operation,
        "valid": True,
        **plan.summary,
        **plan.report,
        "after": {"type": "FeatureCollection", "features": _after_features(session, plan)},
    }
