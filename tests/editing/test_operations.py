"""Each grid operation committed on the small city: tiling holds, households are conserved,
codes are never reused, branches follow, open incidents move and keep their old assignment."""

from __future__ import annotations

from typing import Any

import shapely
from sqlalchemy import Engine, text

from gis.editing import EditRequest, commit_edit, grid_history
from gis.settings import Settings
from tests.editing.checks import assert_tiled, current, households, latest
from tests.editing.city import EAST, WEST
from tests.incident_rows import insert_incidents

G1, G2, G3 = f"{WEST}001", f"{WEST}002", f"{WEST}003"


def commit(engine: Engine, settings: Settings, operation: str, **kw: Any) -> Any:
    req = EditRequest(operation, base_version=latest(engine), reason="test", **kw)
    return commit_edit(engine, req, "planner-test", settings)


def vertical(x: float, y0: float = 36.599, y1: float = 36.611) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [[x, y0], [x, y1]]}


def test_split_gives_the_next_code_and_moves_open_incidents(
    city: Engine, settings: Settings
) -> None:
    before = households(city)
    with city.begin() as conn:
        # An open incident in the western third and a closed one beside it.
        ids = insert_incidents(
            conn,
            [(101.701, 36.605)] * 2,
            [G1, G1],
            ["received", "closed"],
            channel="patrol",
            category="noise",
            version=1,
        )
    result = commit(city, settings, "split", grid=G1, line=vertical(101.703))
    assert result.summary["created"] == [f"{WEST}009"]
    grids = current(city)
    # 60 % of the buildings lie east of the line, so that piece keeps the code.
    assert grids[G1].bounds[0] == 101.703 and grids[f"{WEST}009"].bounds[2] == 101.703
    assert_tiled(city)
    assert households(city) == before
    with city.connect() as conn:
        moved: dict[int, str] = dict(
            conn.execute(
                text("SELECT id, grid_code FROM incidents WHERE id = ANY(:i)"), {"i": ids}
            ).all()
        )
        old, new = conn.execute(
            text(
                "SELECT old, new FROM incident_moves WHERE CAST(:i AS bigint) = ANY(incident_ids)"
            ),
            {"i": ids[0]},
        ).one()
    assert moved == {ids[0]: f"{WEST}009", ids[1]: G1}  # closed incidents keep their grid
    assert old["grid"] == G1 and new["grid"] == f"{WEST}009"
    assert result.incidents_reassigned >= 1


def test_merge_retires_codes_for_good_and_branches_follow(city: Engine, settings: Settings) -> None:
    before = households(city)
    commit(city, settings, "merge", grids=[G2, G1])
    grids = current(city)
    assert G2 not in grids and shapely.equals(grids[G1], shapely.box(101.70, 36.60, 101.71, 36.62))
    assert_tiled(city)
    assert households(city) == before
    with city.connect() as conn:
        branches = conn.execute(
            text(
                "SELECT grid_code FROM party_branches WHERE kind = 'grid_branch'"
                " AND name LIKE '第002%' AND left(grid_code, 12) = :c"
            ),
            {"c": WEST},
        ).scalar_one()
    assert branches == G1
    # The retired code is never handed out again: the next split gets 009, not 002.
    result = commit(city, settings, "split", grid=G1, line=vertical(101.705, 36.599, 36.621))
    assert result.summary["created"] == [f"{WEST}009"]
    assert grid_history_codes(city, G2) == [False]


def grid_history_codes(engine: Engine, code: str) -> list[bool]:
    from gis.db import session_scope

    with session_scope(engine) as s:
        return [v["current"] for v in grid_history(s, code)["versions"]]


def test_reshape_neighbours_take_and_give(city: Engine, settings: Settings) -> None:
    before = households(city)
    # G1 grows 3 mm east into G3 and gives up its northern strip (to G2).
    outline = shapely.box(101.70, 36.60, 101.713, 36.608)
    commit(city, settings, "reshape", grid=G1, outline=shapely.geometry.mapping(outline))
    grids = current(city)
    assert shapely.equals(grids[G1], outline)
    assert shapely.contains(grids[G2], shapely.Point(101.705, 36.609))
    assert not shapely.intersects(grids[G3], shapely.Point(101.712, 36.605))
    assert_tiled(city)
    assert households(city) == before


def test_transfer_region_to_neighbour(city: Engine, settings: Settings) -> None:
    region = shapely.box(101.705, 36.605, 101.7105, 36.6105)  # overhangs G1 on two sides
    commit(
        city,
        settings,
        "transfer",
        from_grid=G1,
        to_grid=G2,
        region=shapely.geometry.mapping(region),
    )
    grids = current(city)
    assert shapely.contains(grids[G2], shapely.Point(101.707, 36.607))
    assert shapely.contains(grids[G3], shapely.Point(101.7102, 36.607))  # outside G1: untouched
    assert_tiled(city)


def test_move_grid_to_neighbouring_community(city: Engine, settings: Settings) -> None:
    before = households(city)
    edge = f"{WEST}007"  # in the column next to the eastern community
    result = commit(city, settings, "move", grid=edge, community=EAST)
    new_code = result.summary["created"][0]
    assert new_code == f"{EAST}005"
    communities = current(city, "communities")
    assert shapely.contains(communities[EAST], shapely.Point(101.735, 36.605))
    assert not shapely.contains(communities[WEST], shapely.Point(101.735, 36.605))
    assert_tiled(city)
    assert households(city) == before
    with city.connect() as conn:
        branch = conn.execute(
            text(
                "SELECT grid_code, community_code FROM party_branches WHERE name LIKE '第007%'"
                " AND district_code = '630103' AND grid_code <> :c"
            ),
            {"c": f"{EAST}003"},
        ).one()
        buildings = conn.execute(
            text("SELECT count(*) FROM buildings WHERE community_code = :c"), {"c": EAST}
        ).scalar_one()
    assert tuple(branch) == (new_code, EAST)
    assert buildings == 5 * 25


def test_undo_restores_outlines_exactly(city: Engine, settings: Settings) -> None:
    def snapshot() -> dict[str, bytes]:
        with city.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT code, ST_AsEWKB(geom) FROM grids WHERE valid_to IS NULL UNION ALL"
                    " SELECT code, ST_AsEWKB(geom) FROM communities WHERE valid_to IS NULL"
                )
            ).all()
        return {r[0]: bytes(r[1]) for r in rows}

    original = snapshot()
    for op, kw in (
        ("split", {"grid": G1, "line": vertical(101.7031)}),
        ("merge", {"grids": [G3, f"{WEST}004"]}),
        ("move", {"grid": f"{WEST}008", "community": EAST}),
    ):
        done = commit(city, settings, op, **kw)
        assert snapshot() != original
        commit(city, settings, "undo", version=done.version_id)
        assert snapshot() == original
        assert_tiled(city)
    with city.connect() as conn:
        branch = conn.execute(
            text(
                "SELECT grid_code FROM party_branches WHERE name LIKE '第004%'"
                " AND community_code = :c"
            ),
            {"c": WEST},
        ).scalar_one()
    assert branch == f"{WEST}004"
