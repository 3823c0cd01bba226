"""Property tests: random split lines and reshapes keep every community tiled and
households conserved, or are refused with a 422-kind error naming the field."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from shapely.geometry.base import BaseGeometry

from gis.coords import geometry_to_local
from gis.db import make_engine, session_scope
from gis.editing import operations as ops
from gis.editing.impact import grid_counts, outlines_after, outlines_before
from gis.editing.operations import Outcome
from gis.editing.state import CommunityState, load_community
from gis.editing.validation import community_outlines, final_grids, validate
from gis.errors import InvalidInput
from gis.settings import Settings
from tests.editing.city import WEST

SETTINGS = Settings()
FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def west(fresh_database: Callable[..., str], city_template: str) -> CommunityState:
    engine = make_engine(fresh_database(city_template), pool_size=1)
    with session_scope(engine) as s:
        state = load_community(s, WEST)
    engine.dispose()
    return state


def check(outcome: Outcome) -> None:
    validate(outcome, SETTINGS)
    outlines = community_outlines(outcome)
    for code, grids in final_grids(outcome).items():
        geoms = np.array(list(grids.values()), dtype=object)
        assert shapely.coverage_is_valid(geoms), shapely.coverage_invalid_edges(geoms)
        diff = shapely.symmetric_difference(shapely.union_all(geoms), outlines[code])
        assert float(shapely.area(geometry_to_local(diff))) < SETTINGS.sliver_tolerance_m2
    buildings = outcome.state.buildings
    before = grid_counts(buildings, outlines_before(outcome))
    after = grid_counts(buildings, outlines_after(outcome))
    assert sum(h for h, _ in before.values()) == sum(h for h, _ in after.values())
    assert sum(r for _, r in before.values()) == sum(r for _, r in after.values())


def note(what: str) -> None:
    if currently_in_test_context():
        event(what)


def run(make: Callable[[], Outcome], fields: set[str]) -> bool:
    """The outcome is checked; a refusal must name one of the expected fields."""
    try:
        outcome = make()
        check(outcome)
    except InvalidInput as exc:
        assert exc.field in fields, exc.message
        note(f"refused: {exc.message.split(':')[0][:40]}")
        return False
    note("applied")
    return True


@FAST
@given(
    grid=st.integers(1, 8),
    fx=st.floats(0.05, 0.95),
    fy=st.floats(0.05, 0.95),
    angle=st.floats(0, np.pi),
    bend=st.floats(-0.004, 0.004),
)
def test_random_split_lines_keep_tiling(
    west: CommunityState, grid: int, fx: float, fy: float, angle: float, bend: float
) -> None:
    code = f"{WEST}{grid:03d}"
    x0, y0, x1, y1 = west.grids[code].geom.bounds
    cx, cy = x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)
    dx, dy = 0.02 * np.cos(angle), 0.02 * np.sin(angle)
    # A bent line (three vertices) through a point inside the grid.
    line = shapely.LineString([(cx - dx, cy - dy), (cx + bend, cy - bend), (cx + dx, cy + dy)])
    done = run(lambda: ops.split(west, code, line), {"line", "geometry"})
    if done:
        outcome = ops.split(west, code, line)
        assert len(outcome.created) == 1 and not outcome.retired


def _box_outline(geom: BaseGeometry, d: list[float]) -> BaseGeometry:
    x0, y0, x1, y1 = geom.bounds
    return shapely.box(x0 + d[0], y0 + d[1], x1 + d[2], y1 + d[3])


@FAST
@given(
    grid=st.integers(1, 8),
    d=st.lists(st.floats(-0.006, 0.006), min_size=4, max_size=4),
    skew=st.floats(-0.003, 0.003),
)
def test_random_reshapes_keep_tiling(
    west: CommunityState, grid: int, d: list[float], skew: float
) -> None:
    code = f"{WEST}{grid:03d}"
    outline = _box_outline(west.grids[code].geom, d)
    # Skew one corner so edges are not all axis-parallel.
    coords = np.array(outline.exterior.coords)
    coords[0, 0] += skew
    coords[-1] = coords[0]
    outline = shapely.Polygon(coords)
    if not outline.is_valid:
        return
    run(
        lambda: ops.reshape(west, code, outline, SETTINGS.sliver_tolerance_m2),
        {"outline", "geometry"},
    )


def test_some_random_edits_succeed(west: CommunityState) -> None:
    """Guard against the properties above passing by refusing everything."""
    code = f"{WEST}003"
    line = shapely.LineString([(101.712, 36.599), (101.716, 36.611)])
    assert run(lambda: ops.split(west, code, line), set())
    outline = _box_outline(west.grids[code].geom, [0.002, -0.0, 0.001, 0.003])
    assert run(lambda: ops.reshape(west, code, outline, 1.0), set())
