"""What an edit changes (影响分析): households per grid, places and incidents that move.

Everything is computed against the outlines before and after with the same
point-in-grid rule as assignment (on a shared edge the smallest code wins), so
households are conserved: each building counts in exactly one grid.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.boundaries import ancestor_code
from gis.editing.operations import Outcome, assign_points
from gis.editing.state import Points
from gis.editing.validation import final_grids
from gis.settings import Settings

OPEN = "status <> 'closed'"
LISTED = 200  # ids listed per kind in a preview; the counts are always complete


def outlines_before(outcome: Outcome) -> dict[str, BaseGeometry]:
    states = [outcome.state] + ([outcome.target] if outcome.target else [])
    return {c: r.geom for s in states for c, r in s.grids.items()}


def outlines_after(outcome: Outcome) -> dict[str, BaseGeometry]:
    return {c: g for grids in final_grids(outcome).values() for c, g in grids.items()}


def affected_codes(outcome: Outcome) -> list[str]:
    """Grids whose area changes, appears or goes (not those only noded)."""
    return sorted((set(outcome.after) | set(outcome.retired)) - set(outcome.noded))


def buildings_of(outcome: Outcome) -> Points:
    parts = [outcome.state.buildings] + ([outcome.target.buildings] if outcome.target else [])
    ids = np.concatenate([p.ids for p in parts])
    _, first = np.unique(ids, return_index=True)  # a building on the shared edge is loaded twice
    return Points(
        ids=ids[first],
        geoms=np.concatenate([p.geoms for p in parts])[first],
        households=np.concatenate([p.households for p in parts])[first],
        residents=np.concatenate([p.residents for p in parts])[first],
    )


def grid_counts(points: Points, outlines: dict[str, BaseGeometry]) -> dict[str, tuple[int, int]]:
    owner = assign_points(points, outlines)
    return {
        c: (int(points.households[owner == c].sum()), int(points.residents[owner == c].sum()))
        for c in outlines
    }


def _band(households: int | None, kind: str, settings: Settings) -> str | None:
    if households is None or kind != "comprehensive":
        return None
    if households < settings.household_band_min:
        return "below"
    if households > settings.household_band_max:
        return "above"
    return "within"


def _points(session: Session, sql: str, params: dict[str, Any]) -> tuple[list[Any], Points]:
    """Points from a query whose first columns are id, x, y; the other columns as arrays."""
    result = session.execute(text(sql), params)
    width = len(result.keys())
    rows = result.all()
    columns = [np.array([r[i] for r in rows], dtype=object) for i in range(width)]
    n = len(rows)
    pts = Points(
        ids=columns[0].astype(np.int64),
        geoms=shapely.points(columns[1].astype(float), columns[2].astype(float))
        if n
        else np.zeros(0, object),
        households=np.zeros(n, np.int64),
        residents=np.zeros(n, np.int64),
    )
    return columns[3:], pts


def _moves(ids: np.ndarray, before: np.ndarray, after: np.ndarray) -> list[dict[str, Any]]:
    changed = np.flatnonzero(before != after)
    return [{"id": int(ids[i]), "from": before[i], "to": after[i]} for i in changed]


def open_incidents(session: Session, outcome: Outcome) -> tuple[list[Any], Points]:
    """Open incidents that an edit may move: those of affected grids and those near them
    that were snapped or left outside (a new outline may now hold them)."""
    codes = affected_codes(outcome)
    area = shapely.union_all(
        [outcome.state.community.geom] + ([outcome.target.community.geom] if outcome.target else [])
    )
    return _points(
        session,
        "SELECT id, ST_X(geom), ST_Y(geom), grid_code FROM incidents"
        f" WHERE {OPEN} AND (grid_code = ANY(:codes) OR (match IN ('snapped', 'outside')"
        " AND geom && ST_Expand(ST_GeomFromWKB(:wkb, 4490), 0.01)))",
        {"codes": codes, "wkb": shapely.to_wkb(shapely.envelope(area))},
    )


def branch_moves(session: Session, outcome: Outcome) -> list[dict[str, Any]]:
    """Grid party branches (网格党支部) whose grid retires follow its successor.

    A merge hands the branches of the retired grids to the surviving grid; a move
    to another community hands the grid's branch to the grid's new code.
    """
    successor: dict[str, str] = {}
    if outcome.operation == "merge":
        survivor = next(iter(sorted(outcome.after)))
        successor = {c: survivor for c in outcome.retired}
    elif outcome.operation == "move":
        successor = {old: new for new, old in outcome.inherits.items()}
    if not successor:
        return []
    rows = session.execute(
        text(
            "SELECT id, name, grid_code FROM party_branches"
            " WHERE kind = 'grid_branch' AND grid_code = ANY(:codes) ORDER BY id"
        ),
        {"codes": sorted(successor)},
    ).all()
    return [
        {
            "id": r.id,
            "name": r.name,
            "from": r.grid_code,
            "to": successor[r.grid_code],
            "community": ancestor_code(successor[r.grid_code], "community"),
        }
        for r in rows
    ]


def impact(session: Session, outcome: Outcome, settings: Settings) -> dict[str, Any]:
    before, after = outlines_before(outcome), outlines_after(outcome)
    buildings = buildings_of(outcome)
    counts_before = grid_counts(buildings, before)
    counts_after = grid_counts(buildings, after)
    kinds = {
        c: r.attrs["kind"] for s in [outcome.state, outcome.target] if s for c, r in s.grids.items()
    }
    kinds.update({new: kinds[old] for new, old in outcome.inherits.items()})
    grids = []
    for code in sorted(set(affected_codes(outcome)) | set(outcome.noded)):
        hb, rb = counts_before.get(code, (None, None))
        ha, ra = counts_after.get(code, (None, None))
        status = (
            "retired"
            if code in outcome.retired
            else "new"
            if code in outcome.created
            else "noded"
            if code in outcome.noded
            else "changed"
        )
        grids.append(
            {
                "code": code,
                "status": status,
                "kind": kinds[code],
                "households_before": hb,
                "households_after": ha,
                "residents_before": rb,
                "residents_after": ra,
                "band_before": _band(hb, kinds[code], settings),
                "band_after": _band(ha, kinds[code], settings),
            }
        )
    moved_buildings = _moves(
        buildings.ids, assign_points(buildings, before), assign_points(buildings, after)
    )
    community_codes = sorted(final_grids(outcome))
    _, compounds = _points(
        session,
        "SELECT id, ST_X(p), ST_Y(p) FROM"
        " (SELECT id, ST_PointOnSurface(geom) AS p FROM compounds"
        "  WHERE community_code = ANY(:c)) AS s",
        {"c": community_codes},
    )
    moved_compounds = _moves(
        compounds.ids, assign_points(compounds, before), assign_points(compounds, after)
    )
    (stored,), incidents = open_incidents(session, outcome)
    located = assign_points(incidents, after)
    # Outside every grid after the edit: assignment will snap or leave it, as before.
    located = np.where(located == None, stored, located)  # noqa: E711 (numpy elementwise)
    moved_incidents = _moves(incidents.ids, stored, located)
    pairs = Counter((m["from"], m["to"]) for m in moved_incidents)
    moved_compound_ids = {m["id"] for m in moved_compounds}
    moved_building_ids = {m["id"] for m in moved_buildings}
    seated = session.execute(
        text(
            "SELECT id, name, kind, compound_id, building_id FROM party_branches"
            " WHERE compound_id = ANY(:c) OR building_id = ANY(:b) ORDER BY id"
        ),
        {"c": sorted(moved_compound_ids), "b": sorted(moved_building_ids)},
    ).all()
    return {
        "grids": grids,
        "households_total_before": sum(h for h, _ in counts_before.values()),
        "households_total_after": sum(h for h, _ in counts_after.values()),
        "buildings": {"count": len(moved_buildings), "moves": moved_buildings[:LISTED]},
        "compounds": {"count": len(moved_compounds), "moves": moved_compounds[:LISTED]},
        "party_branches": {
            "follow_grid": branch_moves(session, outcome),
            "seat_changes_grid": [{"id": r.id, "name": r.name, "kind": r.kind} for r in seated],
        },
        "incidents": {
            "count": len(moved_incidents),
            "by_grid": [
                {"from": f, "to": t, "count": n} for (f, t), n in sorted(pairs.items(), key=str)
            ],
            "ids": [m["id"] for m in moved_incidents[:LISTED]],
        },
        # Station assignment depends only on the point and its district (docs/rules.md,
        # "Station assignment");
        # grid edits stay inside one street, so no incident changes station.
        "stations": {"count": 0, "changes": []},
    }
