"""Time travel across a commit: ``at=`` on locate, the boundary endpoints, the map tiles and
the grids map answers as of before and after; an undo over HTTP brings the old grid back."""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime
from typing import Any

import mapbox_vector_tile
from sqlalchemy import Engine, text

from gis.db import make_engine
from gis.editing import EditRequest, commit_edit
from gis.errors import Conflict
from gis.settings import Settings
from tests.editing.checks import latest, row_counts
from tests.editing.city import WEST
from tests.editing.conftest import Api

G1, NEW = f"{WEST}001", f"{WEST}009"
WEST_POINT = {"lon": 101.701, "lat": 36.605}  # west of the split line
SPLIT = {
    "operation": "split",
    "grid": G1,
    "line": {"type": "LineString", "coordinates": [[101.704, 36.599], [101.704, 36.611]]},
    "reason": "over the band",
}


def db_now(engine: Engine) -> datetime:
    with engine.connect() as conn:
        now: datetime = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    return now


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_codes(api: Api, at: datetime | None) -> set[str]:
    x, y = tile_xy(101.705, 36.605, 14)
    params = {"at": at.isoformat()} if at else {}
    r = api.http.get(f"/tiles/grids/14/{x}/{y}.mvt", params=params)
    assert r.status_code == 200, r.text
    layers: dict[str, Any] = mapbox_vector_tile.decode(r.content)
    return {f["properties"]["code"] for layer in layers.values() for f in layer["features"]}


def test_at_answers_before_and_after_a_commit_and_undo(city_api: Api, city: Engine) -> None:
    api, planner = city_api, city_api.auth("planner")

    def locate(at: datetime | None = None) -> Any:
        params: dict[str, Any] = {**WEST_POINT, **({"at": at.isoformat()} if at else {})}
        r = api.http.get("/api/v1/locate", params=params)
        assert r.status_code == 200, r.text
        return r.json()["grid"]["code"]

    def grid_codes(at: datetime | None = None) -> set[str]:
        params = {"parent": WEST, **({"at": at.isoformat()} if at else {})}
        r = api.http.get("/api/v1/grids", params=params)
        assert r.status_code == 200, r.text
        return {f["properties"]["code"] for f in r.json()["features"]}

    assert locate() == G1
    before = db_now(city)
    time.sleep(0.01)
    done = api.http.post("/api/v1/edits", json={**SPLIT, "base_version": 1}, headers=planner)
    assert done.status_code == 201, done.text
    time.sleep(0.01)
    after = db_now(city)

    assert locate() == NEW and locate(after) == NEW and locate(before) == G1
    assert NEW in grid_codes() and NEW not in grid_codes(before)
    west_edge = {
        t: api.http.get(f"/api/v1/grids/{G1}", params={"at": t.isoformat()}).json()
        for t in (before, after)
    }
    xs = {t: min(p[0] for p in f["geometry"]["coordinates"][0][0]) for t, f in west_edge.items()}
    assert xs[before] == 101.70 and xs[after] == 101.704
    assert NEW in tile_codes(api, None) and NEW not in tile_codes(api, before)
    page = api.http.get("/maps/grids", params={"at": before.isoformat()})
    assert page.status_code == 200 and before.isoformat()[:19] in page.text

    undo = {
        "operation": "undo",
        "version": done.json()["version"],
        "reason": "undo",
        "base_version": done.json()["version"],
    }
    preview = api.http.post("/api/v1/edits/preview", json=undo, headers=planner).json()
    restored = {f["id"]: f for f in preview["after"]["features"]}
    assert preview["restored"] == sorted(restored) and preview["retired"] == [NEW]
    assert min(p[0] for p in restored[G1]["geometry"]["coordinates"][0][0]) == 101.70
    undone = api.http.post("/api/v1/edits", json=undo, headers=planner)
    assert undone.status_code == 201, undone.text
    assert locate() == G1 and locate(after) == NEW and locate(before) == G1
    assert NEW not in grid_codes()
    history = api.http.get(f"/api/v1/grids/{NEW}/history").json()["versions"]
    assert [v["closed_by"]["operation"] for v in history] == ["undo"]


def test_concurrent_commits_on_one_base_exactly_one_wins(city_url: str, city: Engine) -> None:
    settings = Settings(database_url=city_url)
    base = latest(city)
    requests = [
        EditRequest("split", grid=G1, line=SPLIT["line"], base_version=base, reason="a"),  # type: ignore[arg-type]
        EditRequest("merge", grids=[f"{WEST}005", f"{WEST}006"], base_version=base, reason="b"),
    ]
    engines = [make_engine(city_url, pool_size=1) for _ in requests]
    barrier = threading.Barrier(len(requests))
    outcome: list[str] = ["", ""]

    def run(i: int) -> None:
        barrier.wait()
        try:
            commit_edit(engines[i], requests[i], f"planner-{i}", settings)
            outcome[i] = "won"
        except Conflict:
            outcome[i] = "stale"

    before = row_counts(city)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for e in engines:
        e.dispose()
    assert sorted(outcome) == ["stale", "won"]
    assert latest(city) == base + 1
    counts = row_counts(city)
    assert counts["boundary_versions"] == before["boundary_versions"] + 1
