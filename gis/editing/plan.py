"""From a request to a :class:`Plan`: the rows an edit closes and opens, with its report."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.editing import operations as ops
from gis.editing.impact import (
    affected_codes,
    branch_moves,
    buildings_of,
    grid_counts,
    impact,
    outlines_after,
    outlines_before,
)
from gis.editing.operations import Outcome, assign_points
from gis.editing.request import EditRequest, drawn_geometry
from gis.editing.state import community_of_grid, load_community
from gis.editing.types import Plan
from gis.editing.undo import plan_undo
from gis.editing.validation import community_outlines, validate
from gis.errors import InvalidInput
from gis.settings import Settings


def build_outcome(session: Session, req: EditRequest, settings: Settings) -> Outcome:
    limit = settings.edit_max_vertices
    if req.operation == "split":
        code = req.require("grid")
        line = drawn_geometry(req, "line", ("LineString",), limit)
        return ops.split(load_community(session, community_of_grid(session, code)), code, line)
    if req.operation == "merge":
        codes = sorted(set(req.require("grids")))
        homes = {c: community_of_grid(session, c, "grids") for c in codes}
        if len(set(homes.values())) > 1:
            a, b = sorted(homes, key=lambda c: homes[c])[:: len(homes) - 1][:2]
            raise InvalidInput(
                f"grids {a} and {b} are in different communities ({homes[a]}, {homes[b]});"
                " only grids of one community can be merged",
                field="grids",
            )
        return ops.merge(load_community(session, homes[codes[0]]), codes)
    if req.operation == "reshape":
        code = req.require("grid")
        outline = drawn_geometry(req, "outline", ("Polygon",), limit)
        state = load_community(session, community_of_grid(session, code))
        return ops.reshape(state, code, outline, settings.sliver_tolerance_m2)
    if req.operation == "transfer":
        source, target = req.require("from_grid"), req.require("to_grid")
        region = drawn_geometry(req, "region", ("Polygon", "MultiPolygon"), limit)
        home = community_of_grid(session, source, "from_grid")
        if community_of_grid(session, target, "to_grid") != home:
            raise InvalidInput(
                f"grids {source} and {target} are in different communities", field="to_grid"
            )
        return ops.transfer(load_community(session, home), source, target, region)
    if req.operation == "move":
        code = req.require("grid")
        state = load_community(session, community_of_grid(session, code))
        return ops.move(state, code, load_community(session, req.require("community")))
    raise InvalidInput(f"operation {req.operation} has no geometry to plan", field="operation")


def _grid_row(
    outcome: Outcome, code: str, geom: Any, counts: dict[str, tuple[int, int]]
) -> dict[str, Any]:
    states = [outcome.state] + ([outcome.target] if outcome.target else [])
    template = next(
        s.grids[c] for s in states for c in (code, outcome.inherits.get(code)) if c in s.grids
    )
    home = next(s for s in states if code.startswith(s.code))
    attrs = dict(template.attrs)
    if code not in home.grids:
        attrs["name"] = f"{home.community.attrs['name']}第{int(code[-3:])}网格"
        if outcome.operation != "move":
            attrs["worker_name"] = None  # a new grid waits for its own grid worker
    attrs.update(
        code=code,
        community_code=home.code,
        street_code=home.community.attrs["street_code"],
        households=counts[code][0],
        residents=counts[code][1],
        geom=geom,
    )
    return attrs


def _move_places(outcome: Outcome, session: Session) -> dict[str, Any]:
    """Buildings, compounds and branches of a moved grid now file under the target community."""
    assert outcome.target is not None
    old_code = outcome.retired[0]
    grid = outcome.state.grids[old_code].geom
    buildings = outcome.state.buildings
    inside = np.asarray(assign_points(buildings, outlines_before(outcome)) == old_code, dtype=bool)
    compound_ids = (
        session.execute(
            text(
                "SELECT id FROM compounds WHERE community_code = :c"
                " AND ST_Intersects(ST_PointOnSurface(geom), ST_GeomFromWKB(:g, 4490))"
            ),
            {"c": outcome.state.code, "g": shapely.to_wkb(grid)},
        )
        .scalars()
        .all()
    )
    building_ids = [int(i) for i in buildings.ids[inside]]
    branch_ids = (
        session.execute(
            text(
                "SELECT id FROM party_branches WHERE grid_code = :g OR compound_id = ANY(:c)"
                " OR building_id = ANY(:b)"
            ),
            {"g": old_code, "c": list(compound_ids), "b": building_ids},
        )
        .scalars()
        .all()
    )
    return {
        "from": outcome.state.code,
        "to": outcome.target.code,
        "buildings": building_ids,
        "compounds": [int(i) for i in compound_ids],
        "party_branches": [int(i) for i in branch_ids],
    }


def plan_from_outcome(
    session: Session, outcome: Outcome, settings: Settings, with_impact: bool = True
) -> Plan:
    report: dict[str, Any] = {"validation": validate(outcome, settings)}
    if with_impact:  # a commit re-assigns incidents itself; only a preview reports them
        report["impact"] = impact(session, outcome, settings)
    counts = grid_counts(buildings_of(outcome), outlines_after(outcome))
    plan = Plan(
        operation=outcome.operation,
        district_code=outcome.state.community.attrs["district_code"],
        close_grids=sorted((set(outcome.after) | set(outcome.retired)) & set(outcome.state.grids)),
        open_grids=[_grid_row(outcome, c, g, counts) for c, g in sorted(outcome.after.items())],
        branch_moves=branch_moves(session, outcome),
        affected=affected_codes(outcome),
        summary={
            "retired": outcome.retired,
            "created": outcome.created,
            "changed": sorted(set(outcome.after) - set(outcome.created) - set(outcome.noded)),
            "noded": outcome.noded,
        },
        report=report,
    )
    if outcome.target is not None:
        before = grid_counts(buildings_of(outcome), outlines_before(outcome))
        moved_h, moved_r = before[outcome.retired[0]]
        outlines = community_outlines(outcome)
        for state, sign in ((outcome.state, -1), (outcome.target, 1)):
            attrs = dict(state.community.attrs)
            attrs.update(
                code=state.code,
                geom=outlines[state.code],
                households=attrs["households"] + sign * moved_h,
                residents=attrs["residents"] + sign * moved_r,
            )
            plan.open_communities.append(attrs)
            plan.close_communities.append(state.code)
        plan.place_moves = _move_places(outcome, session)
    return plan


def plan_edit(
    session: Session, req: EditRequest, settings: Settings, with_impact: bool = True
) -> Plan:
    if req.operation == "undo":
        return plan_undo(session, int(req.require("version")))
    outcome = build_outcome(session, req, settings)
    return plan_from_outcome(session, outcome, settings, with_impact)
