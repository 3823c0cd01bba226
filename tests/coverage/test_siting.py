"""Siting over HTTP: greedy by default, exact on request, before/after, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from tests.coverage import independent
from tests.coverage.conftest import DISTRICT, EMPTY_DISTRICT, City


def _post(city: City, **body: object) -> dict[str, object]:
    with city.client("planner") as http:
        response = http.post("/api/v1/coverage/siting", json={"district": DISTRICT, **body})
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_greedy_adds_coverage_and_reports_before_and_after(small_city: City) -> None:
    r = _post(small_city, k=3, spacing_m=400)
    with small_city.client() as http:
        now = http.get("/api/v1/coverage", params={"district": DISTRICT}).json()
    before, greedy = r["before"], r["greedy"]
    assert isinstance(before, dict) and isinstance(greedy, dict)
    assert before["covered"] == pytest.approx(now["residents"]["covered"], rel=1e-6)
    assert len(greedy["sites"]) == 3
    assert greedy["after"]["covered"] == pytest.approx(before["covered"] + greedy["gain"], rel=1e-6)
    assert greedy["after"]["share"] > before["share"]
    # Check the claimed gain independently: geodesic distances from the suggested sites.
    fac = independent.facilities(small_city.engine, "enforcement_station")
    sites = np.array([[s["lon"], s["lat"], 2000.0] for s in greedy["sites"]])
    b = np.asarray(independent_buildings(small_city))
    old = independent.hits(fac, b[:, 0], b[:, 1]) >= 1
    new = independent.hits(np.vstack([fac, sites]), b[:, 0], b[:, 1]) >= 1
    assert b[new, 2].sum() == pytest.approx(greedy["after"]["covered"], rel=0.005)
    assert b[old, 2].sum() == pytest.approx(before["covered"], rel=0.005)


def independent_buildings(city: City) -> list[tuple[float, float, float]]:
    from sqlalchemy import text

    with city.engine.connect() as conn:
        rows = conn.execute(text("SELECT ST_X(geom), ST_Y(geom), residents FROM buildings"))
        return [tuple(map(float, row)) for row in rows]  # type: ignore[misc]


@pytest.mark.parametrize("objective", ["residents", "incidents", "elderly_residents"])
def test_exact_matches_or_beats_greedy(small_city: City, objective: str) -> None:
    r = _post(small_city, k=2, spacing_m=500, exact=True, objective=objective, candidates="lattice")
    greedy, exact = r["greedy"], r["exact"]
    assert isinstance(greedy, dict) and isinstance(exact, dict)
    assert exact["optimal"] is True
    assert exact["gain"] >= greedy["gain"] - 1e-6
    share = r["greedy_share_of_optimum"]
    assert isinstance(share, float) and 1 - 1 / np.e <= share <= 1.0 + 1e-9
    assert exact["seconds"] > 0 and greedy["seconds"] > 0


def test_greedy_beats_random_placement(small_city: City) -> None:
    r = _post(small_city, mode="relocate", candidates="lattice", spacing_m=300)
    greedy = r["greedy"]
    assert isinstance(greedy, dict)
    b = np.asarray(independent_buildings(small_city))
    rng = np.random.default_rng(5)
    best_random = 0.0
    for _ in range(50):  # all three stations of the district placed at random instead
        pts = np.column_stack(
            [rng.uniform(101.70, 101.82, 3), rng.uniform(36.56, 36.66, 3), np.full(3, 2000.0)]
        )
        hit = independent.hits(pts, b[:, 0], b[:, 1]) >= 1
        best_random = max(best_random, float(b[hit, 2].sum()))
    assert r["relocated"] == ["ES-T1", "ES-T2", "ES-T3"]
    assert r["k"] == 3  # relocate defaults to the number of stations in the district
    assert greedy["after"]["covered"] >= best_random


def test_grid_centroid_candidates(small_city: City) -> None:
    r = _post(small_city, k=4, candidates="grid_centroids")
    assert r["candidates"] == {"source": "grid_centroids", "count": 4, "spacing_m": 250.0}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"k": 0}, 422, "k"),
        ({"k": -2}, 422, "k"),
        ({"k": 5, "candidates": "grid_centroids"}, 422, "k"),
        ({"district": "639999", "k": 1}, 404, "district"),
        ({"district": EMPTY_DISTRICT, "k": 1}, 422, "district"),
        ({"k": 1, "objective": "votes"}, 422, "objective"),
        ({"k": 1, "candidates": "anywhere"}, 422, "candidates"),
        ({"k": 1, "mode": "swap"}, 422, "mode"),
        ({"k": 1, "spacing_m": 1}, 422, "spacing_m"),
        ({"k": 1, "service_radius_m": 0}, 422, "service_radius_m"),
        ({"k": 1, "service_radius_m": 80_000}, 422, "service_radius_m"),
        ({"k": 1, "type": "bank"}, 422, "type"),
        ({"k": 1, "days": 0}, 422, "days"),
        ({"k": "three"}, 422, "k"),
        ({"k": 1, "district": EMPTY_DISTRICT, "mode": "relocate"}, 422, "district"),
    ],
)
def test_bad_input(small_city: City, body: dict[str, object], status: int, field: str) -> None:
    with small_city.client("planner") as http:
        response = http.post("/api/v1/coverage/siting", json={"district": DISTRICT, **body})
    assert response.status_code == status, response.text
    assert response.json()["field"] == field
