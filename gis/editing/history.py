"""History of a grid code (网格沿革) and of the edit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import NotFound

EDIT_COLUMNS = "id, created_at, author, reason, operation, base_version_id, district_code"


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _edit(row: Any) -> dict[str, Any] | None:
    if row is None or row.id is None:
        return None
    return {
        "version": row.id,
        "created_at": _iso(row.created_at),
        "author": row.author,
        "reason": row.reason,
        "operation": row.operation,
    }


def grid_history(session: Session, code: str, geometry: bool = False) -> dict[str, Any]:
    """Every version of a grid code, oldest first, with the edits that opened and closed it."""
    rows = session.execute(
        text(
            "SELECT g.id, g.code, g.name, g.community_code, g.kind, g.households, g.residents,"
            " g.valid_from, g.valid_to, g.version_id, g.retired_version_id,"
            " ST_AsGeoJSON(g.geom, 9) AS geojson, ST_Area(g.geom::geography) AS area_m2"
            " FROM grids g WHERE g.code = :c ORDER BY g.valid_from"
        ),
        {"c": code},
    ).all()
    if not rows:
        raise NotFound(f"grid {code} has never existed", field="code")
    ids = sorted({r.version_id for r in rows} | {r.retired_version_id for r in rows} - {None})
    edits = {
        e.id: e
        for e in session.execute(
            text(f"SELECT {EDIT_COLUMNS} FROM boundary_versions WHERE id = ANY(:ids)"),
            {"ids": ids},
        )
    }
    versions = []
    for r in rows:
        item: dict[str, Any] = {
            "row_id": r.id,
            "code": r.code,
            "name": r.name,
            "community_code": r.community_code,
            "kind": r.kind,
            "households": r.households,
            "residents": r.residents,
            "area_m2": round(float(r.area_m2), 1),
            "valid_from": _iso(r.valid_from),
            "valid_to": _iso(r.valid_to),
            "current": r.valid_to is None,
            "opened_by": _edit(edits.get(r.version_id)),
            "closed_by": _edit(edits.get(r.retired_version_id)),
        }
        if geometry:
            item["geometry"] = json.loads(r.geojson)
        versions.append(item)
    return {"code": code, "current": rows[-1].valid_to is None, "versions": versions}


def version_detail(session: Session, version: int) -> dict[str, Any]:
    """One entry of the edit log: who, when, why, the operation, before and after."""
    row = session.execute(
        text(f"SELECT {EDIT_COLUMNS}, detail FROM boundary_versions WHERE id = :v"), {"v": version}
    ).one_or_none()
    if row is None:
        raise NotFound(f"boundary version {version} does not exist", field="version")
    return {
        **(_edit(row) or {}),
        "base_version": row.base_version_id,
        "district_code": row.district_code,
        "detail": row.detail,
    }


def list_versions(session: Session, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    rows = session.execute(
        text(f"SELECT {EDIT_COLUMNS} FROM boundary_versions ORDER BY id DESC LIMIT :l OFFSET :o"),
        {"l": limit, "o": offset},
    ).all()
    return [e for e in (_edit(r) for r in rows) if e is not None]
