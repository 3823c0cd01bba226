"""Hotspots on a synthetic city: the planted clusters are found, and nothing else is."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis.db import session_scope
from gis.errors import InvalidInput
from gis.incidents.due import local_zone
from gis.incidents.hotspots import classify, gi_star, hotspot_query, hotspots
from gis.tokens import create_token
from tests.conftest import LiveServer
from tests.hotspots.city import (
    EAST,
    LITTER_CENTRE,
    NOISE_CENTRE,
    OLD_CENTRE,
    OLD_DAYS,
    PER_GRID,
    UNIT,
    N,
    block,
    grid_code,
)


def near(centre: tuple[int, int]) -> set[str]:
    """The block around ``centre`` and the ring touching it: the grids whose Gi* sees it."""
    r, c = centre
    return {
        grid_code(r + dr, c + dc)
        for dr in range(-2, 3)
        for dc in range(-2, 3)
        if 0 <= r + dr < N and 0 <= c + dc < N
    }


def by_class(rows: list[dict[str, Any]], kind: str) -> set[str]:
    return {r["grid_code"] for r in rows if r["class"] == kind}


def run(session: Session, **asked: Any) -> list[dict[str, Any]]:
    return hotspots(session, hotspot_query(session, **asked))


def test_the_planted_clusters_are_hot_and_nothing_far_from_them(hot_session: Session) -> None:
    rows = run(hot_session)
    assert len(rows) == N * N
    by_code = {r["grid_code"]: r for r in rows}
    for centre in (NOISE_CENTRE, LITTER_CENTRE):
        middle = by_code[grid_code(*centre)]
        assert middle["class"] == "hot"
        assert middle["z"] > 1.96 and middle["p"] <= 0.05
        assert middle["count"] >= PER_GRID
        assert all(by_code[grid_code(*g)]["class"] == "hot" for g in block(centre))
    hot = by_class(rows, "hot")
    assert hot <= near(NOISE_CENTRE) | near(LITTER_CENTRE)
    assert grid_code(*OLD_CENTRE) not in hot  # received long before the last 30 days
    assert [r["z"] for r in rows] == sorted((r["z"] for r in rows), reverse=True)
    assert rows[0]["grid_code"] in {grid_code(*g) for g in block(NOISE_CENTRE)} | {
        grid_code(*g) for g in block(LITTER_CENTRE)
    }
    assert sum(r["count"] for r in rows) > 2 * 9 * PER_GRID


def test_a_past_period_finds_the_old_cluster(hot_session: Session) -> None:
    now = datetime.now(local_zone())
    since = (now - timedelta(days=OLD_DAYS + 5)).date().isoformat()
    until = (now - timedelta(days=OLD_DAYS - 5)).date().isoformat()
    rows = run(hot_session, since=since, until=until)
    hot = by_class(rows, "hot")
    assert grid_code(*OLD_CENTRE) in hot
    assert hot <= near(OLD_CENTRE)
    assert sum(r["count"] for r in rows) == 9 * PER_GRID


def test_a_category_keeps_its_own_cluster(hot_session: Session) -> None:
    noise = by_class(run(hot_session, category="noise"), "hot")
    litter = by_class(run(hot_session, category="litter"), "hot")
    assert grid_code(*NOISE_CENTRE) in noise and noise <= near(NOISE_CENTRE)
    assert grid_code(*LITTER_CENTRE) in litter and litter <= near(LITTER_CENTRE)


def test_a_district_and_a_unit_narrow_the_grids_and_reports(hot_session: Session) -> None:
    rows = run(hot_session, district=EAST)
    assert len(rows) == N * N // 2
    assert {r["district"] for r in rows} == {EAST}
    hot = by_class(rows, "hot")
    assert grid_code(*LITTER_CENTRE) in hot and hot <= near(LITTER_CENTRE)
    unit = run(hot_session, unit=UNIT)
    assert sum(r["count"] for r in unit) == 9 * PER_GRID
    assert by_class(unit, "hot") <= near(LITTER_CENTRE)


def test_no_reports_means_no_hotspot(hot_session: Session) -> None:
    rows = run(hot_session, since="2026-01-01", until="2026-01-02")
    assert {r["class"] for r in rows} == {"not_significant"}
    assert {(r["count"], r["z"], r["p"]) for r in rows} == {(0, 0.0, 1.0)}


@pytest.mark.parametrize(
    ("asked", "field"),
    [
        ({"since": "2026-13-01"}, "since"),
        ({"until": "yesterday"}, "until"),
        ({"since": "2999-01-01"}, "since"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "until"),
        ({"category": "no_such_category"}, "category"),
        ({"district": "639999"}, "district"),
        ({"unit": "no-such-unit"}, "unit"),
        ({"category": "\x00"}, "category"),
        ({"until": "0001-01-02"}, "until"),
        ({"until": "2999-01-01"}, "until"),
    ],
)
def test_bad_input_names_the_field(
    hot_session: Session, hot_http: httpx.Client, asked: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        hotspot_query(hot_session, **asked)
    assert err.value.field == field
    r = hot_http.get("/api/v1/hotspots", params=asked)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


def test_http_json_and_geojson(hot_http: httpx.Client) -> None:
    r = hot_http.get("/api/v1/hotspots", params={"category": "noise"})
    assert r.status_code == 200, r.text
    rows = r.json()
    assert set(rows[0]) >= {
        "grid_code",
        "grid_name",
        "community",
        "district",
        "count",
        "z",
        "p",
        "class",
    }
    assert rows[0]["class"] == "hot"
    layer = hot_http.get("/api/v1/hotspots", params={"category": "noise", "format": "geojson"})
    assert layer.status_code == 200, layer.text
    assert layer.headers["content-type"] == "application/geo+json"
    fc = layer.json()
    assert fc["type"] == "FeatureCollection"
    marked = {r["grid_code"] for r in rows if r["class"] != "not_significant"}
    assert {f["id"] for f in fc["features"]} == marked
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in fc["features"])
    assert all(f["properties"]["class"] in ("hot", "cold") for f in fc["features"])
    assert hot_http.get("/api/v1/hotspots", params={"format": "kml"}).json()["field"] == "format"


def test_a_grid_without_neighbours_is_never_a_hotspot() -> None:
    """A row of grids with a busy island at its end: the island stays out of the statistic,
    the busy stretch of the row is hot."""
    counts = np.array([0, 0, 0, 9, 9, 9, 0, 0, 0, 0, 50], dtype=float)
    row = {i: [j for j in (i - 1, i + 1) if 0 <= j < 10] for i in range(10)}
    z, p = gi_star(counts, {**row, 10: []})
    assert (z[10], p[10]) == (0.0, 1.0)
    assert z[4] > 1.96 and p[4] <= 0.05
    assert classify(float(z[4]), float(p[4])) == "hot"
    assert classify(float(z[0]), float(p[0])) == "not_significant"


def test_an_edit_of_the_boundaries_is_seen_at_once(hot_city_engine: Engine) -> None:
    """The grid layout is kept per boundaries epoch: a grid retired is gone from the answer."""
    gone = grid_code(*NOISE_CENTRE)
    with Session(hot_city_engine) as session, session.begin():
        assert len(run(session)) == N * N
        session.execute(
            text("UPDATE grids SET valid_to = now() WHERE code = :c AND valid_to IS NULL"),
            {"c": gone},
        )
        rows = run(session)
        assert len(rows) == N * N - 1 and gone not in {r["grid_code"] for r in rows}
        session.rollback()  # the shared city stays as built
    with Session(hot_city_engine) as session:
        assert gone in {r["grid_code"] for r in run(session)}


def test_a_period_may_end_in_the_future(hot_session: Session) -> None:
    since = (datetime.now(local_zone()) - timedelta(days=10)).isoformat()
    rows = run(hot_session, since=since, until="2999-01-01")
    assert grid_code(*NOISE_CENTRE) in by_class(rows, "hot")


def test_a_units_staff_see_their_own_cases(
    hot_city_server: LiveServer, hot_city_engine: Engine
) -> None:
    with session_scope(hot_city_engine) as session:
        staff, _ = create_token(session, "unit", "hot-unit-staff", unit_code=UNIT)
    with hot_city_server.client() as client:
        client.headers["Authorization"] = f"Bearer {staff}"
        rows = client.get("/api/v1/hotspots").json()
        assert sum(r["count"] for r in rows) == 9 * PER_GRID
        assert by_class(rows, "hot") <= near(LITTER_CENTRE)
        other = client.get("/api/v1/hotspots", params={"unit": "someone-else"})
        assert other.status_code == 403
