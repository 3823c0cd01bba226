"""The restore drill: a bad grid edit is undone by restoring to the time just before it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import shapely
from sqlalchemy import Engine, text

from gis import migrate
from gis.backup import Repository, repository
from gis.db import embedded_cluster, make_engine
from gis.demo import load_demo
from gis.editing import EditRequest, commit_edit
from gis.settings import Settings
from tests.editing.checks import current, latest
from tests.incident_rows import insert_incidents


def incidents(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT id, status, grid_code, received_at FROM incidents ORDER BY id")
            ).all()
        ]


def post_incidents(engine: Engine, n: int) -> list[int]:
    """``n`` incidents at the centres of current grids, each committed (acknowledged) alone."""
    with engine.connect() as conn:
        grids = conn.execute(
            text(
                "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
                " FROM grids WHERE valid_to IS NULL ORDER BY code LIMIT :n"
            ),
            {"n": n},
        ).all()
        version = latest(engine)
    ids: list[int] = []
    for code, x, y in grids:
        with engine.begin() as conn:
            ids += insert_incidents(
                conn, [(x, y)], [code], ["received"], channel="patrol", version=version
            )
    return ids


def neighbours(engine: Engine) -> list[str]:
    """Two grids of one community sharing an edge: the pair the bad edit merges."""
    with engine.connect() as conn:
        a, b = conn.execute(
            text(
                "SELECT a.code, b.code FROM grids a JOIN grids b"
                " ON a.community_code = b.community_code AND a.code < b.code"
                " AND ST_Relate(a.geom, b.geom, '****1****')"
                " WHERE a.valid_to IS NULL AND b.valid_to IS NULL ORDER BY a.code LIMIT 1"
            )
        ).one()
    return [str(a), str(b)]


@pytest.fixture
def city(scratch_state_dir: Path, backup_dir: Path) -> tuple[Repository, Engine, Settings]:
    settings = Settings(state_dir=scratch_state_dir, backup_dir=backup_dir)
    repo = repository(settings, embedded_cluster(settings))
    assert repo is not None
    url = repo.start()
    migrate.upgrade(url)
    load_demo(url)
    return repo, make_engine(url, pool_size=2), settings


def test_restore_before_a_bad_edit_gives_back_the_city_of_that_time(
    city: tuple[Repository, Engine, Settings], restore_dir: Path
) -> None:
    repo, engine, settings = city
    repo.backup("full")
    acknowledged = post_incidents(engine, 5)
    grids_before, incidents_before = current(engine), incidents(engine)
    time.sleep(1.0)
    target = datetime.now(UTC)
    time.sleep(1.0)
    late = post_incidents(engine, 3)
    merged = neighbours(engine)
    commit_edit(
        engine,
        EditRequest("merge", base_version=latest(engine), reason="a mistake", grids=merged),
        "planner-drill",
        settings,
    )
    assert set(current(engine)) != set(grids_before)

    restored = repo.restore(target, restore_dir)
    try:
        assert engine.url.port != restored.port
        back = make_engine(restored.url(), pool_size=1)
        grids_back = current(back)
        assert grids_back.keys() == grids_before.keys()
        assert all(shapely.equals_exact(grids_back[c], g, 0) for c, g in grids_before.items())
        assert incidents(back) == incidents_before
        ids = {r[0] for r in incidents(back)}
        assert set(acknowledged) <= ids and not ids & set(late)
        back.dispose()
        # The running cluster kept every write.
        assert {r[0] for r in incidents(engine)} >= set(late)
        assert merged[1] not in current(engine)
    finally:
        restored.down()
        engine.dispose()
