"""Household balancing helpers (网格均衡): grids outside the band and edits that fix them.

Used by the planning notebook and by planners' scripts; every edit still goes
through preview and commit like any other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.editing import operations as ops
from gis.editing.state import CommunityState
from gis.editing.validation import validate
from gis.errors import InvalidInput
from gis.settings import Settings
from gis.validity import boundary_current


def out_of_band(session: Session, settings: Settings, limit: int = 1000) -> list[dict[str, Any]]:
    """Comprehensive grids whose households fall outside the band, the farthest first."""
    lo, hi = settings.household_band_min, settings.household_band_max
    rows = session.execute(
        text(
            "SELECT code, name, community_code, households, residents FROM grids"
            f" WHERE {boundary_current()} AND kind = 'comprehensive'"
            " AND (households < :lo OR households > :hi)"
            " ORDER BY greatest(households - :hi, :lo - households) DESC, code LIMIT :n"
        ),
        {"lo": lo, "hi": hi, "n": limit},
    ).mappings()
    return [{**r, "band": "above" if r["households"] > hi else "below"} for r in rows]


def split_lines(geom: BaseGeometry, angles: int = 6, offsets: int = 7) -> list[shapely.LineString]:
    """Candidate straight split lines across a grid, across its long axis first.

    A planner would draw one; these let a script try a few: ``angles`` directions
    fanning out from the perpendicular of the long axis, each shifted to
    ``offsets`` positions along that axis.
    """
    centre = shapely.centroid(geom)
    rect = np.asarray(shapely.oriented_envelope(geom).exterior.coords)
    sides = np.diff(rect[:3], axis=0)
    long_side = sides[int(np.argmax(np.hypot(sides[:, 0], sides[:, 1])))]
    axis = long_side / np.hypot(*long_side)
    base = float(np.arctan2(axis[1], axis[0])) + np.pi / 2
    reach = 2 * float(np.hypot(*long_side))
    lines = []
    for k in range(angles):
        angle = base + (np.pi / (2 * angles)) * ((k + 1) // 2) * (-1) ** k
        direction = reach * np.array([np.cos(angle), np.sin(angle)])
        for shift in np.linspace(-0.3, 0.3, offsets):
            mid = np.array([centre.x, centre.y]) + shift * long_side
            lines.append(shapely.LineString([mid - direction, mid + direction]))
    return lines


def best_split(
    state: CommunityState, code: str, settings: Settings
) -> tuple[shapely.LineString, dict[str, int]] | None:
    """The candidate line whose two pieces are closest in households, with their counts."""
    best: tuple[int, shapely.LineString, dict[str, int]] | None = None
    for line in split_lines(state.grids[code].geom):
        try:
            outcome = ops.split(state, code, line)
            validate(outcome, settings)
        except InvalidInput:
            continue  # misses, or crosses a concave grid twice, or leaves a sliver
        pieces = {c: outcome.after[c] for c in (code, outcome.created[0])}
        homes = ops.households_by_grid(state.buildings, pieces)
        score = abs(homes[code] - homes[outcome.created[0]])
        if best is None or score < best[0]:
            best = (score, line, homes)
    return None if best is None else (best[1], best[2])


def merge_partner(session: Session, code: str, fewest: bool = True) -> str | None:
    """The neighbour of the same kind in the same community sharing an edge with ``code``
    that has the fewest households (the most when ``fewest`` is false)."""
    found = session.execute(
        text(
            "SELECT n.code FROM grids g JOIN grids n ON n.community_code = g.community_code"
            f" AND n.kind = g.kind AND n.code <> g.code AND {boundary_current('n')}"
            " AND ST_Intersects(n.geom, g.geom)"
            f" WHERE g.code = :c AND {boundary_current('g')}"
            " AND ST_Length(ST_Intersection(ST_Boundary(n.geom), ST_Boundary(g.geom))) > 0"
            f" ORDER BY n.households {'ASC' if fewest else 'DESC'}, n.code LIMIT 1"
        ),
        {"c": code},
    ).scalar_one_or_none()
    return None if found is None else str(found)
