"""The editor page splits a grid end to end: pick, draw (Geoman), preview, commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text

from gis.db import make_engine, session_scope
from gis.models import ROLES
from gis.tokens import create_token
from tests.conftest import LiveServer
from tests.maps.conftest import City, OfflinePage

# A current comprehensive grid that a north-south line through its centre cuts in two.
PICK_GRID = """
WITH g AS (
  SELECT code, geom, ST_Centroid(geom) AS c, ST_YMin(geom) AS y0, ST_YMax(geom) AS y1
  FROM grids WHERE valid_to IS NULL AND kind = 'comprehensive'
), l AS (
  SELECT code, geom, ST_X(c) AS x, y0 - (y1 - y0) * 0.15 AS ya, y1 + (y1 - y0) * 0.15 AS yb
  FROM g
)
SELECT code, x, ya, yb FROM l
WHERE ST_NumGeometries(ST_Split(geom, ST_SetSRID(ST_MakeLine(ST_MakePoint(x, ya),
                                                            ST_MakePoint(x, yb)), 4490))) = 2
ORDER BY code LIMIT 1
"""


@pytest.fixture(scope="module")
def demo_city(demo_copy: Callable[[], str]) -> Iterator[City]:
    url = demo_copy()
    engine = make_engine(url, pool_size=2)
    plain: dict[str, str] = {}
    with session_scope(engine) as session:
        for role in ROLES:
            plain[role], _ = create_token(session, role, f"editor-{role}")
    server = LiveServer(url).start()
    yield City(url, engine, server.base_url, plain)
    server.stop()
    engine.dispose()


def test_editor_splits_a_grid_end_to_end(
    demo_city: City, browser: object, offline: Callable[..., OfflinePage]
) -> None:
    city = demo_city
    with city.engine.connect() as conn:
        code, x, ya, yb = conn.execute(text(PICK_GRID)).one()
    before = city.scalar("SELECT count(*) FROM grids WHERE valid_to IS NULL")
    with city.engine.connect() as conn:
        codes_before = {r[0] for r in conn.execute(text("SELECT code FROM grids"))}
    p = offline()
    p.base_url = city.base_url
    page = p.goto("/maps/editor")
    page.evaluate(
        f"() => window.wangge.map.fitBounds([[{ya}, {x} - 0.002], [{yb}, {x} + 0.002]],"
        " {paddingTopLeft: [420, 80], paddingBottomRight: [80, 80], animate: false})"
    )
    page.wait_for_function("() => window.wangge.loaded.grids")

    def screen(lon: float, lat: float) -> tuple[float, float]:
        pt = page.evaluate(
            f"""() => {{ const m = window.wangge.map, p = m.latLngToContainerPoint([{lat}, {lon}]);
            const r = m.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y]; }}"""
        )
        return float(pt[0]), float(pt[1])

    # Pick the grid: click a little off its centre line.
    with city.engine.connect() as conn:
        inside = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(ST_Difference(geom,"
                " ST_Buffer(ST_SetSRID(ST_MakeLine(ST_MakePoint(:x, :ya), ST_MakePoint(:x, :yb)),"
                " 4490), 0.0003))) p FROM grids WHERE code = :code AND valid_to IS NULL) q"
            ),
            {"x": x, "ya": ya, "yb": yb, "code": code},
        ).one()
    page.mouse.click(*screen(*inside))
    page.wait_for_function(f"() => document.getElementById('wg-selected').textContent === '{code}'")
    page.wait_for_function("() => window.wangge.editor.state === 'picked'")

    page.click("#wg-draw-split")
    a, b = screen(x, ya), screen(x, yb)
    page.mouse.click(*a)
    page.mouse.click(*b)
    page.wait_for_timeout(600)  # two quick clicks would be a double click
    page.mouse.click(*b)  # clicking the last vertex again finishes the line
    page.wait_for_function("() => window.wangge.editor.state === 'drawn'")

    page.fill("#wg-reason", "households above the band")
    page.fill("#wg-token", city.tokens["viewer"])
    page.click("#wg-preview")
    page.wait_for_function("() => window.wangge.editor.state === 'error'")
    assert "planner" in page.inner_text("#wg-message")  # refused: a viewer may not edit
    assert p.errors == [
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    ]
    p.errors.clear()

    page.fill("#wg-token", city.tokens["planner"])
    page.click("#wg-preview")
    page.wait_for_function("() => window.wangge.editor.state === 'previewed'")
    impact = page.inner_text("#wg-impact")
    assert code in impact
    p.shot("editor-preview")
    page.click("#wg-commit")
    page.wait_for_function("() => window.wangge.editor.state === 'committed'")
    version = page.evaluate("() => window.wangge.editor.version")
    assert str(version) in page.inner_text("#wg-message")

    assert city.scalar("SELECT max(id) FROM boundary_versions") == version
    assert city.scalar("SELECT count(*) FROM grids WHERE valid_to IS NULL") == before + 1
    with city.engine.connect() as conn:
        opened = {
            r[0]
            for r in conn.execute(
                text("SELECT code FROM grids WHERE version_id = :v AND valid_to IS NULL"),
                {"v": version},
            )
        }
    # The split grid keeps its code in a new version, and one new code appears beside it.
    assert code in opened
    assert len({c for c in opened if c[:12] == code[:12]} - codes_before) == 1
    # The page redraws from fresh tiles: the new grid's id is among the drawn features.
    page.wait_for_function("() => window.wangge.loaded.grids")
    with city.engine.connect() as conn:
        ids = {
            r[0]
            for r in conn.execute(
                text("SELECT id FROM grids WHERE version_id = :v"), {"v": version}
            )
        }
    drawn = page.evaluate(
        """() => { const l = window.wangge.layers.grids, ids = new Set();
        for (const k in l._vectorTiles) for (const id in l._vectorTiles[k]._features) ids.add(+id);
        return [...ids]; }"""
    )
    assert ids <= set(drawn)
    p.shot("editor-committed")
    assert p.outside == [] and p.errors == []
