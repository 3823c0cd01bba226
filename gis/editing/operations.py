"""Grid operations (网格调整): split, merge, reshape, transfer, move to another community.

Each takes the current state of one community (two for a move) and returns an
:class:`Outcome`: the new outlines, the codes retired and created. Pure geometry,
no database; bad input raises :class:`InvalidInput` saying what and where.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.assign import rules
from gis.coords import ground_distance_m
from gis.editing.faces import NODE_EPS, Faces, area_m2, where
from gis.editing.state import CommunityState, Points
from gis.errors import InvalidInput


@dataclass
class Outcome:
    operation: str
    state: CommunityState
    after: dict[str, BaseGeometry]  # every grid that gets a new row (changed or created)
    retired: list[str] = field(default_factory=list)  # closed with no successor of that code
    created: list[str] = field(default_factory=list)
    inherits: dict[str, str] = field(default_factory=dict)  # new code -> grid it came from
    noded: list[str] = field(default_factory=list)  # same shape, one more shared vertex
    warnings: list[str] = field(default_factory=list)
    # A move also changes two community outlines and hands the grid to the target.
    target: CommunityState | None = None
    communities_after: dict[str, BaseGeometry] = field(default_factory=dict)


def assign_points(points: Points, outlines: dict[str, BaseGeometry]) -> np.ndarray:
    """Grid code of each point (None where no grid covers it), by the covering rule of
    :mod:`gis.assign.rules`: on a shared edge the smallest code wins."""
    codes = np.array(sorted(outlines), dtype=object)
    result = np.full(len(points.ids), None, dtype=object)
    if len(codes) == 0 or len(points.ids) == 0:
        return result
    tree = shapely.STRtree(np.array([outlines[c] for c in codes], dtype=object))
    _, first = rules.covering_points(tree, points.geoms)  # index order is code order
    hit = first >= 0
    result[hit] = codes[first[hit]]
    return result


def households_by_grid(points: Points, outlines: dict[str, BaseGeometry]) -> dict[str, int]:
    owner = assign_points(points, outlines)
    return {c: int(points.households[owner == c].sum()) for c in outlines}


def split(state: CommunityState, code: str, line: BaseGeometry) -> Outcome:
    """Cut a grid in two along a line; the piece with more households keeps the code."""
    grid = state.grid(code, "grid")
    if line.geom_type != "LineString":
        raise InvalidInput("the split line must be one LineString", field="line")
    if not shapely.intersects(line, grid.geom):
        raise InvalidInput(
            f"the split line does not cross grid {code} (it passes"
            f" {distance_m(line, grid.geom):.0f} m away)",
            field="line",
        )
    cut = shapely.intersection(line, shapely.buffer(grid.geom, NODE_EPS))
    faces = Faces(state, [cut])
    mine = np.flatnonzero(faces.of(code))
    crossings = shapely.intersection(line, shapely.boundary(grid.geom))
    at = [[round(x, 7), round(y, 7)] for x, y in shapely.get_coordinates(crossings)[:6]]
    if len(mine) < 2:
        raise InvalidInput(
            f"the split line does not cut grid {code} in two: it must run from one edge of the"
            f" grid to another (it meets the edge at {at or 'no point'})",
            field="line",
            crossings=at,
        )
    if len(mine) > 2:
        raise InvalidInput(
            f"the split line crosses grid {code} more than once ({len(mine)} pieces; it meets"
            f" the edge at {at}); draw a line that enters and leaves the grid once",
            field="line",
            crossings=at,
        )
    pieces = {i: faces.faces[i] for i in mine}
    homes = households_by_grid(state.buildings, {str(i): g for i, g in pieces.items()})
    # More households keeps the code (its worker and branch stay with most residents).
    _, other = sorted(mine, key=lambda i: (-homes[str(i)], -area_m2(pieces[i])))
    new_code = state.next_codes(1)[0]
    faces.new[other] = new_code
    after, retired, noded = faces.outlines()
    return Outcome("split", state, after, retired, [new_code], {new_code: code}, noded)


def distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """Ground distance in metres between two geometries (for messages only)."""
    pa, pb = shapely.get_coordinates(shapely.shortest_line(a, b))
    return float(ground_distance_m(pa[0], pa[1], pb[0], pb[1]))


def _shared_length(a: BaseGeometry, b: BaseGeometry) -> float:
    return float(shapely.length(shapely.intersection(shapely.boundary(a), shapely.boundary(b))))


def merge(state: CommunityState, codes: list[str]) -> Outcome:
    """Merge adjacent grids into one; the smallest code survives, the others retire."""
    if len(set(codes)) < 2:
        raise InvalidInput("a merge needs at least two different grids", field="grids")
    for c in codes:
        if c not in state.grids:
            raise InvalidInput(
                f"grid {c} is not in community {state.code}; only grids of one community"
                " can be merged",
                field="grids",
            )
    ordered = sorted(set(codes))
    kinds = {state.grids[c].attrs["kind"] for c in ordered}
    if len(kinds) > 1:
        raise InvalidInput(
            f"grids {', '.join(ordered)} are of different kinds ({', '.join(sorted(kinds))});"
            " a comprehensive and a dedicated grid cannot be merged",
            field="grids",
        )
    # Connected through shared edges (touching at a corner is not enough).
    reached = {ordered[0]}
    frontier = [ordered[0]]
    while frontier:
        cur = frontier.pop()
        for other in ordered:
            if (
                other not in reached
                and _shared_length(state.grids[cur].geom, state.grids[other].geom) > 0
            ):
                reached.add(other)
                frontier.append(other)
    apart = [c for c in ordered if c not in reached]
    if apart:
        raise InvalidInput(
            f"grid {apart[0]} does not share an edge with {', '.join(sorted(reached))}"
            f" (it lies at {where(state.grids[apart[0]].geom)})",
            field="grids",
        )
    faces = Faces(state)
    for c in ordered[1:]:
        faces.new[faces.of(c)] = ordered[0]
    after, retired, noded = faces.outlines()
    return Outcome("merge", state, after, retired, [], {}, noded)


def _give_away(faces: Faces, released: np.ndarray, exclude: str) -> list[str]:
    """Hand released faces to the neighbour sharing the longest edge with each piece."""
    warnings: list[str] = []
    if not released.any():
        return warnings
    for part in shapely.get_parts(faces.union(released)):
        members = released & faces.inside(part)
        candidates = sorted({c for c in faces.new[~released] if c is not None and c != exclude})
        lengths = [_shared_length(part, faces.union(faces.of(c, new=True))) for c in candidates]
        if not candidates or max(lengths) <= 0:
            raise InvalidInput(
                f"the edit leaves {area_m2(part):.0f} m² at {where(part)} that no neighbouring"
                f" grid of community {faces.state.code} touches; it would become a gap",
                field="outline",
                at=where(part),
            )
        faces.new[members] = candidates[int(np.argmax(lengths))]
    return warnings


def reshape(
    state: CommunityState, code: str, outline: BaseGeometry, tolerance_m2: float
) -> Outcome:
    """Give a grid a new outline; neighbours in the community take or give up the difference."""
    state.grid(code, "grid")
    outside = shapely.difference(outline, state.community.geom)
    if not outside.is_empty and area_m2(outside) >= tolerance_m2:
        raise InvalidInput(
            f"the new outline leaves community {state.code}: {area_m2(outside):.0f} m² lie"
            f" outside it, e.g. at {where(outside)}",
            field="outline",
            at=where(outside),
        )
    faces = Faces(state, [outline])
    inside = faces.inside(outline) & (faces.old != None)  # noqa: E711 (numpy elementwise)
    released = faces.of(code) & ~inside
    faces.new[inside] = code
    _give_away(faces, released, code)
    for other in state.grids:
        if other != code and not faces.of(other, new=True).any():
            raise InvalidInput(
                f"the new outline swallows grid {other} entirely; merge the grids instead",
                field="outline",
                at=where(state.grids[other].geom),
            )
    if not faces.of(code, new=True).any():
        raise InvalidInput(f"the new outline leaves nothing of grid {code}", field="outline")
    after, retired, noded = faces.outlines()
    return Outcome("reshape", state, after, retired, [], {}, noded)


def transfer(state: CommunityState, source: str, target: str, region: BaseGeometry) -> Outcome:
    """Move the part of ``source`` inside a drawn region to the neighbouring grid ``target``."""
    src = state.grid(source, "from_grid")
    dst = state.grid(target, "to_grid")
    if source == target:
        raise InvalidInput("from_grid and to_grid are the same grid", field="to_grid")
    if _shared_length(src.geom, dst.geom) <= 0:
        raise InvalidInput(
            f"grid {source} does not share an edge with grid {target}", field="to_grid"
        )
    faces = Faces(state, [shapely.intersection(region, shapely.buffer(src.geom, NODE_EPS))])
    moving = faces.of(source) & faces.inside(region)
    if not moving.any():
        raise InvalidInput(
            f"the region does not overlap grid {source} (it lies at {where(region)})",
            field="region",
        )
    if moving.sum() == faces.of(source).sum():
        raise InvalidInput(
            f"the region covers all of grid {source}; merge it into {target} instead",
            field="region",
        )
    piece = faces.union(moving)
    if _shared_length(piece, dst.geom) <= 0:
        raise InvalidInput(
            f"the part of grid {source} inside the region does not touch grid {target}",
            field="region",
            at=where(piece),
        )
    faces.new[moving] = target
    after, retired, noded = faces.outlines()
    outcome = Outcome("transfer", state, after, retired, [], {}, noded)
    if shapely.get_num_geometries(after[source]) > 1:
        outcome.warnings.append(f"grid {source} is left in several pieces")
    return outcome


def move(state: CommunityState, code: str, target: CommunityState) -> Outcome:
    """Hand a whole grid to a neighbouring community of the same street; it gets a code there."""
    grid = state.grid(code, "grid")
    if target.code == state.code:
        raise InvalidInput(f"grid {code} is already in community {target.code}", field="community")
    if target.community.attrs["street_code"] != state.community.attrs["street_code"]:
        raise InvalidInput(
            f"community {target.code} is in another street; a grid moves only between"
            " communities of one street",
            field="community",
        )
    if _shared_length(grid.geom, target.community.geom) <= 0:
        raise InvalidInput(
            f"grid {code} does not share an edge with community {target.code}", field="community"
        )
    if len(state.grids) < 2:
        raise InvalidInput(f"grid {code} is the only grid of community {state.code}", field="grid")
    new_code = target.next_codes(1)[0]
    return Outcome(
        "move",
        state,
        {new_code: grid.geom},
        [code],
        [new_code],
        {new_code: code},
        target=target,
        communities_after={
            state.code: shapely.difference(state.community.geom, grid.geom),
            target.code: shapely.union(target.community.geom, grid.geom),
        },
    )
