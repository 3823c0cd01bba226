"""Undo (撤销) as a new edit: close what an edit opened, re-open copies of what it closed.

The restored rows are byte-for-byte copies of the retired ones, so the outlines
come back exactly. Codes the undone edit retired come back (they are the same
grids); codes it created are retired for good and never handed out again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.boundaries import ancestor_code
from gis.editing.types import Plan
from gis.errors import Conflict, InvalidInput, NotFound


def _rows(session: Session, table: str, column: str, version: int) -> list[Any]:
    return list(
        session.execute(
            text(f"SELECT id, code, valid_to, retired_version_id FROM {table} WHERE {column} = :v"),
            {"v": version},
        ).all()
    )


def plan_undo(session: Session, version: int) -> Plan:
    found = session.execute(
        text("SELECT id, operation, district_code, detail FROM boundary_versions WHERE id = :v"),
        {"v": version},
    ).one_or_none()
    if found is None:
        raise NotFound(f"boundary version {version} does not exist", field="version")
    plan = Plan(
        operation="undo", district_code=found.district_code or "", close_grids=[], open_grids=[]
    )
    for table in ("grids", "communities"):
        opened = _rows(session, table, "version_id", version)
        retired = _rows(session, table, "retired_version_id", version)
        later = [r for r in opened if r.valid_to is not None]
        if later:
            raise Conflict(
                f"{table[:-1]} {later[0].code} was changed again by version"
                f" {later[0].retired_version_id}; undo that edit first",
                field="version",
            )
        codes = sorted(r.code for r in opened)
        restored = [
            {"copy_of": int(r.id), "code": r.code} for r in sorted(retired, key=lambda r: r.code)
        ]
        if table == "grids":
            plan.close_grids, plan.open_grids = codes, restored
        else:
            plan.close_communities, plan.open_communities = codes, restored
    if not plan.close_grids and not plan.open_grids:
        raise InvalidInput(f"version {version} changed no grids; nothing to undo", field="version")
    detail = found.detail or {}
    plan.branch_moves = [
        {**m, "from": m["to"], "to": m["from"], "community": ancestor_code(m["from"], "community")}
        for m in detail.get("branch_moves", [])
    ]
    moves = detail.get("place_moves") or {}
    if moves:
        plan.place_moves = {**moves, "from": moves["to"], "to": moves["from"]}
    # Grids the edit only noded (one more shared vertex) keep their shape: no incident moves.
    noded = set(detail.get("noded", []))
    plan.affected = sorted((set(plan.close_grids) | {r["code"] for r in plan.open_grids}) - noded)
    plan.summary = {
        "undoes": version,
        "retired": sorted(set(plan.close_grids) - {r["code"] for r in plan.open_grids}),
        "restored": sorted({r["code"] for r in plan.open_grids}),
    }
    return plan
