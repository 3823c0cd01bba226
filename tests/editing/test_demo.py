"""Edits on the demo city: balance the grid furthest above the band and merge one below it;
the community stays tiled, households are conserved, incidents follow, undo restores."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text

from gis.db import make_engine, session_scope
from gis.editing import EditRequest, commit_edit, preview_edit
from gis.editing.balance import best_split, merge_partner, out_of_band
from gis.editing.state import load_community
from gis.settings import Settings
from tests.editing.checks import assert_tiled, latest


@pytest.fixture
def demo(demo_copy: Callable[[], str]) -> Iterator[tuple[Engine, Settings]]:
    # Loading the demo may leave a dropped engine's pooled connection to the template
    # until it is collected; collect it so the template can be cloned.
    gc.collect()
    url = demo_copy()
    engine = make_engine(url, pool_size=2)
    yield engine, Settings(database_url=url)
    engine.dispose()


def community_households(engine: Engine, community: str) -> tuple[int, int]:
    with engine.connect() as conn:
        h, r = conn.execute(
            text(
                "SELECT sum(households), sum(residents) FROM grids"
                " WHERE valid_to IS NULL AND community_code = :c"
            ),
            {"c": community},
        ).one()
    return int(h), int(r)


def test_split_the_fullest_grid_then_undo(demo: tuple[Engine, Settings]) -> None:
    engine, settings = demo
    with session_scope(engine) as s:
        target = (
            s.execute(
                text(
                    "SELECT code, community_code, households FROM grids WHERE valid_to IS NULL"
                    " ORDER BY households DESC, code LIMIT 1"
                )
            )
            .mappings()
            .one()
        )
        state = load_community(s, target["community_code"])
        found = best_split(state, target["code"], settings)
        assert found is not None
        line, homes = found
        req = EditRequest(
            "split",
            grid=target["code"],
            line=line.__geo_interface__,
            base_version=latest(engine),
            reason="balance households",
        )
        preview = preview_edit(s, req, settings)
    assert sum(homes.values()) == target["households"]
    assert preview is not None
    community = target["community_code"]
    before = community_households(engine, community)
    done = commit_edit(engine, req, "planner", settings)
    after = {g["code"]: g for g in preview["impact"]["grids"]}
    assert after[target["code"]]["households_after"] < target["households"]
    assert community_households(engine, community) == before
    assert_tiled(engine)
    with engine.connect() as conn:
        stale = conn.execute(
            text(
                "SELECT count(*) FROM incidents WHERE status <> 'closed' AND grid_code = :g"
                " AND NOT ST_Intersects(geom, (SELECT geom FROM grids WHERE code = :g"
                " AND valid_to IS NULL))"
            ),
            {"g": target["code"]},
        ).scalar_one()
    assert stale == 0  # open incidents now in the new piece were re-assigned
    commit_edit(
        engine,
        EditRequest("undo", version=done.version_id, base_version=latest(engine), reason="undo"),
        "planner",
        settings,
    )
    assert community_households(engine, community) == before
    assert_tiled(engine)


def test_merge_a_grid_below_the_band(demo: tuple[Engine, Settings]) -> None:
    engine, settings = demo
    with session_scope(engine) as s:
        below = [g for g in out_of_band(s, settings) if g["band"] == "below"]
        pairs = [(g, merge_partner(s, g["code"])) for g in below]
    code, partner = next((g["code"], p) for g, p in pairs if p is not None)
    community = code[:12]
    before = community_households(engine, community)
    req = EditRequest("merge", grids=[code, partner], base_version=latest(engine), reason="small")
    done = commit_edit(engine, req, "planner", settings)
    assert done.summary["retired"] == [max(code, partner)]
    assert community_households(engine, community) == before
    assert_tiled(engine)
