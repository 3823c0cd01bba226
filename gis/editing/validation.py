"""Checks on the result of an edit: tiling inside each community, nesting, slivers.

Gaps and overlaps under ``sliver_tolerance_m2`` are tolerated and reported
(docs/rules.md, "Tiling and grid edits"); anything larger that the edit
introduces is an error.
A pre-existing flaw in imported data does not block an edit that does not
make it worse.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.editing.faces import area_m2, where
from gis.editing.operations import Outcome
from gis.errors import InvalidInput
from gis.settings import Settings


def final_grids(outcome: Outcome) -> dict[str, dict[str, BaseGeometry]]:
    """Community code -> {grid code -> outline} once the edit is applied."""
    states = [outcome.state] + ([outcome.target] if outcome.target else [])
    result: dict[str, dict[str, BaseGeometry]] = {}
    for state in states:
        grids = {c: r.geom for c, r in state.grids.items() if c not in outcome.retired}
        grids.update({c: g for c, g in outcome.after.items() if c.startswith(state.code)})
        result[state.code] = grids
    return result


def community_outlines(outcome: Outcome) -> dict[str, BaseGeometry]:
    states = [outcome.state] + ([outcome.target] if outcome.target else [])
    return {s.code: outcome.communities_after.get(s.code, s.community.geom) for s in states}


def tiling(grids: dict[str, BaseGeometry], community: BaseGeometry) -> dict[str, Any]:
    """Gap, overlap and spill-over areas (m²) of grids against their community."""
    geoms = np.array(list(grids.values()), dtype=object)
    union = shapely.union_all(geoms)
    overlap = float(np.sum(area_m2(geoms)) - area_m2(union)) if len(geoms) else 0.0
    gap = shapely.difference(community, union)
    spill = shapely.difference(union, community)
    return {
        "coverage_valid": bool(shapely.coverage_is_valid(geoms)),
        "gap_m2": round(float(area_m2(gap)), 3),
        "overlap_m2": round(max(overlap, 0.0), 3),
        "outside_m2": round(float(area_m2(spill)), 3),
        "gap_at": None if gap.is_empty else where(gap),
        "outside_at": None if spill.is_empty else where(spill),
    }


def validate(outcome: Outcome, settings: Settings) -> dict[str, Any]:
    """The validation report; raises :class:`InvalidInput` when the edit breaks a rule."""
    tol = settings.sliver_tolerance_m2
    report: dict[str, Any] = {"communities": {}, "warnings": list(outcome.warnings)}
    outlines = community_outlines(outcome)
    states = {outcome.state.code: outcome.state}
    if outcome.target:
        states[outcome.target.code] = outcome.target
    for code, grids in final_grids(outcome).items():
        before = tiling(
            {c: r.geom for c, r in states[code].grids.items()}, states[code].community.geom
        )
        after = tiling(grids, outlines[code])
        report["communities"][code] = {"before": before, "after": after}
        for key, what in (
            ("gap_m2", "a gap"),
            ("overlap_m2", "an overlap"),
            ("outside_m2", "grids outside the community"),
        ):
            if after[key] >= tol and after[key] > before[key] + tol:
                raise InvalidInput(
                    f"the edit leaves {what} of {after[key]:.1f} m² in community {code}"
                    f" (at {after['gap_at'] or after['outside_at']})",
                    field="geometry",
                )
            if 0 < after[key] < tol:
                report["warnings"].append(
                    f"{what} of {after[key]:.3f} m² (under tolerance) in {code}"
                )
    for code, geom in outcome.after.items():
        if not shapely.is_valid(geom) or geom.is_empty:
            raise InvalidInput(f"grid {code} would not be a valid polygon", field="geometry")
        parts = shapely.get_parts(geom)
        areas = area_m2(parts)
        small = np.flatnonzero(areas < settings.edit_min_grid_area_m2)
        if len(small):
            part = parts[small[0]]
            raise InvalidInput(
                f"the edit leaves a sliver of {areas[small[0]]:.1f} m² of grid {code} at"
                f" {where(part)}; the smallest piece allowed is"
                f" {settings.edit_min_grid_area_m2:.0f} m²",
                field="geometry",
                at=where(part),
            )
        if len(parts) > 1:
            report["warnings"].append(f"grid {code} would be in {len(parts)} pieces")
    return report
