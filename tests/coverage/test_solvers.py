"""Greedy and exact maximal covering: against brute force, random placement, each other."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gis.coverage.solvers import (
    CoverageMatrix,
    Floats,
    build_matrix,
    covered_weight,
    exact,
    greedy,
)


def _instance(
    seed: int, n_cand: int, n_dem: int, radius: float = 300.0
) -> tuple[CoverageMatrix, Floats, tuple[Floats, Floats, Floats, Floats]]:
    rng = np.random.default_rng(seed)
    cx, cy = rng.uniform(0, 2000, n_cand), rng.uniform(0, 2000, n_cand)
    dx, dy = rng.uniform(0, 2000, n_dem), rng.uniform(0, 2000, n_dem)
    w = rng.integers(1, 100, n_dem).astype(float)
    return build_matrix(cx, cy, dx, dy, radius), w, (cx, cy, dx, dy)


def _brute_force(m: CoverageMatrix, w: Floats, k: int) -> float:
    return max(
        covered_weight(m, w, list(c)) for c in itertools.combinations(range(m.n_candidates), k)
    )


def test_matrix_holds_exactly_the_pairs_within_the_radius() -> None:
    m, _, (cx, cy, dx, dy) = _instance(1, 40, 300)
    dist = np.hypot(cx[:, None] - dx[None, :], cy[:, None] - dy[None, :])
    expected = set(zip(*np.nonzero(dist <= 300.0), strict=True))
    assert set(zip(m.cand.tolist(), m.dem.tolist(), strict=True)) == expected
    for d in range(m.n_demand):  # the demand → candidate view agrees
        got = sorted(m.by_dem_cand[m.col_ptr[d] : m.col_ptr[d + 1]].tolist())
        assert got == sorted(np.flatnonzero(dist[:, d] <= 300.0).tolist())


@pytest.mark.parametrize("seed", range(6))
def test_exact_is_the_brute_force_optimum_and_greedy_is_close(seed: int) -> None:
    m, w, _ = _instance(seed, 12, 150)
    for k in (1, 2, 3):
        best = _brute_force(m, w, k)
        g, e = greedy(m, w, k), exact(m, w, k)
        assert e.covered == pytest.approx(best)
        assert e.optimal is True
        assert g.covered == pytest.approx(covered_weight(m, w, g.chosen))
        assert (1 - 1 / np.e) * best <= g.covered <= best + 1e-9
        if k == 1:  # one pick: the greedy choice is the optimum
            assert g.covered == pytest.approx(best)


def test_greedy_reaches_the_optimum_on_separate_clusters() -> None:
    # Three far-apart towns of different sizes; three sites: one per town is optimal.
    rng = np.random.default_rng(3)
    centres = np.array([[0, 0], [10_000, 0], [0, 10_000]], dtype=float)
    dem = np.concatenate(
        [c + rng.normal(0, 150, (n, 2)) for c, n in zip(centres, (80, 50, 30), strict=True)]
    )
    cand = np.concatenate([c + rng.uniform(-400, 400, (15, 2)) for c in centres])
    m = build_matrix(cand[:, 0], cand[:, 1], dem[:, 0], dem[:, 1], 500.0)
    w = np.ones(len(dem))
    g, e = greedy(m, w, 3), exact(m, w, 3)
    assert g.covered == pytest.approx(e.covered)
    assert g.gains == sorted(g.gains, reverse=True)


@pytest.mark.parametrize("seed", range(4))
def test_greedy_never_loses_to_random_placement(seed: int) -> None:
    m, w, _ = _instance(100 + seed, 400, 3000, radius=250.0)
    rng = np.random.default_rng(seed)
    g = greedy(m, w, 8)
    randoms = [covered_weight(m, w, list(rng.choice(400, 8, replace=False))) for _ in range(200)]
    assert g.covered >= max(randoms)


def test_gains_add_up_to_the_coverage() -> None:
    m, w, _ = _instance(9, 200, 2000)
    g = greedy(m, w, 10)
    assert sum(g.gains) == pytest.approx(g.covered)
    assert len(set(g.chosen)) == 10
