"""Maximal covering location (最大覆盖选址): the sparse coverage matrix, greedy and exact solvers.

The matrix says which demand points each candidate site covers (ground distance
≤ radius, in metric coordinates), kept as index arrays in both directions
(candidate → demand and demand → candidate) so the greedy updates every
candidate's marginal gain with a few vectorised numpy operations per step.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pulp
import shapely
from numpy.typing import NDArray

Ints = NDArray[np.intp]
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class CoverageMatrix:
    n_candidates: int
    n_demand: int
    cand: Ints  # pairs sorted by candidate
    dem: Ints
    col_ptr: Ints  # demand d is covered by candidates by_dem_cand[col_ptr[d]:col_ptr[d+1]]
    by_dem_cand: Ints

    @property
    def row_ptr(self) -> Ints:
        return np.searchsorted(self.cand, np.arange(self.n_candidates + 1)).astype(np.intp)

    def covers(self, c: int) -> Ints:
        lo, hi = np.searchsorted(self.cand, [c, c + 1])
        return self.dem[lo:hi]


@dataclass(frozen=True)
class Solution:
    chosen: list[int]
    gains: list[float]
    covered: float
    seconds: float
    status: str = "greedy"
    optimal: bool | None = None
    construction_covered: float | None = None  # greedy before the interchange passes
    swaps: int = 0


def build_matrix(
    cand_x: Floats, cand_y: Floats, dem_x: Floats, dem_y: Floats, radius_m: float
) -> CoverageMatrix:
    """Candidate × demand pairs within ``radius_m`` (metric coordinates), via an STRtree."""
    tree = shapely.STRtree(shapely.points(dem_x, dem_y))
    found = tree.query(shapely.points(cand_x, cand_y), predicate="dwithin", distance=radius_m)
    cand, dem = found[0].astype(np.intp), found[1].astype(np.intp)
    order = np.lexsort((dem, cand))
    cand, dem = cand[order], dem[order]
    by_dem = np.argsort(dem, kind="stable")
    col_ptr = np.searchsorted(dem[by_dem], np.arange(dem_x.size + 1)).astype(np.intp)
    return CoverageMatrix(cand_x.size, dem_x.size, cand, dem, col_ptr, cand[by_dem])


def _ranges(starts: Ints, stops: Ints) -> Ints:
    """Concatenation of arange(start, stop) for each pair, without a Python loop."""
    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.intp)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return (offsets + np.arange(total)).astype(np.intp)


def greedy(m: CoverageMatrix, weights: Floats, k: int, max_passes: int = 8) -> Solution:
    """Pick ``k`` sites one by one, each time the one adding the most uncovered weight,
    then improve by interchange (Teitz–Bart): swap a chosen site for the candidate that
    covers more of what it alone covered, until no swap helps or ``max_passes`` ran.

    Ties go to the lowest candidate index, so the answer is deterministic.
    """
    started = time.perf_counter()
    w = np.asarray(weights, dtype=float)
    gains = np.bincount(m.cand, weights=w[m.dem], minlength=m.n_candidates)
    covered = np.zeros(m.n_demand, dtype=bool)
    taken = np.zeros(m.n_candidates, dtype=bool)
    row_ptr = m.row_ptr
    reach = np.diff(m.col_ptr)
    chosen: list[int] = []
    picked_gains: list[float] = []
    for _ in range(k):
        masked = np.where(taken, -np.inf, gains)
        c = int(np.argmax(masked))
        chosen.append(c)
        picked_gains.append(float(max(gains[c], 0.0)))
        taken[c] = True
        new = m.dem[row_ptr[c] : row_ptr[c + 1]]
        new = new[~covered[new]]
        if new.size == 0:
            continue
        covered[new] = True
        idx = _ranges(m.col_ptr[new], m.col_ptr[new + 1])
        lost = np.repeat(w[new], reach[new])
        gains -= np.bincount(m.by_dem_cand[idx], weights=lost, minlength=m.n_candidates)
    construction = float(w[covered].sum())
    swaps = _interchange(m, w, chosen, row_ptr, max_passes)
    total = covered_weight(m, w, chosen)
    if swaps:  # the greedy order's gains no longer describe the set; recompute them
        picked_gains = _marginal_gains(m, w, chosen, row_ptr)
    return Solution(
        chosen,
        picked_gains,
        total,
        time.perf_counter() - started,
        construction_covered=construction,
        swaps=swaps,
    )


def _interchange(
    m: CoverageMatrix, w: Floats, chosen: list[int], row_ptr: Ints, max_passes: int
) -> int:
    """Swap chosen sites for better ones in place; returns how many swaps were made."""
    count = np.zeros(m.n_demand, dtype=np.int64)
    for c in chosen:
        count[m.dem[row_ptr[c] : row_ptr[c + 1]]] += 1
    swaps = 0
    for _ in range(max_passes):
        improved = False
        for pos in range(len(chosen)):
            out = chosen[pos]
            mine = m.dem[row_ptr[out] : row_ptr[out + 1]]
            count[mine] -= 1
            # What each candidate would add if ``out`` left: the weight nobody else covers.
            open_w = np.where(count == 0, w, 0.0)
            gains = np.bincount(m.cand, weights=open_w[m.dem], minlength=m.n_candidates)
            gains[chosen] = -np.inf
            best = int(np.argmax(gains))
            keep = float(open_w[mine].sum())
            if gains[best] > keep * (1 + 1e-12) + 1e-9:
                chosen[pos] = best
                count[m.dem[row_ptr[best] : row_ptr[best + 1]]] += 1
                swaps += 1
                improved = True
            else:
                count[mine] += 1
        if not improved:
            break
    return swaps


def _marginal_gains(m: CoverageMatrix, w: Floats, chosen: list[int], row_ptr: Ints) -> list[float]:
    covered = np.zeros(m.n_demand, dtype=bool)
    out = []
    for c in chosen:
        mine = m.dem[row_ptr[c] : row_ptr[c + 1]]
        out.append(float(w[mine[~covered[mine]]].sum()))
        covered[mine] = True
    return out


def covered_weight(m: CoverageMatrix, weights: Floats, chosen: list[int]) -> float:
    if not chosen:
        return 0.0
    hit = np.zeros(m.n_demand, dtype=bool)
    sel = np.isin(m.cand, np.asarray(chosen))
    hit[m.dem[sel]] = True
    return float(np.asarray(weights, dtype=float)[hit].sum())


def exact(
    m: CoverageMatrix,
    weights: Floats,
    k: int,
    time_limit_s: float = 120.0,
    start: list[int] | None = None,
) -> Solution:
    """The optimum by integer programming (PuLP + its bundled CBC).

    Demand points covered by exactly the same candidates are merged first (one
    variable per distinct covering set, with their summed weight), and candidates
    whose demand another candidate also covers are dropped: neither changes the
    optimum. ``start`` (e.g. the greedy answer) is handed to CBC as a warm start.
    """
    started = time.perf_counter()
    w = np.asarray(weights, dtype=float)
    groups: dict[bytes, int] = {}
    group_w: list[float] = []
    group_cands: list[Ints] = []
    for d in np.flatnonzero((w > 0) & (np.diff(m.col_ptr) > 0)):
        cands = m.by_dem_cand[m.col_ptr[d] : m.col_ptr[d + 1]]
        key = np.sort(cands).tobytes()
        g = groups.get(key)
        if g is None:
            groups[key] = len(group_w)
            group_w.append(float(w[d]))
            group_cands.append(cands)
        else:
            group_w[g] += float(w[d])
    used, start = _undominated_candidates(m, w, start or [])
    group_cands = [cands[np.isin(cands, used)] for cands in group_cands]
    prob = pulp.LpProblem("max_cover", pulp.LpMaximize)
    x = {int(c): prob.add_variable(f"x{int(c)}", cat=pulp.LpBinary) for c in used}
    if start:
        chosen_start = set(start)
        for c, var in x.items():
            var.setInitialValue(1 if c in chosen_start else 0)
    y = [prob.add_variable(f"y{g}", 0, 1) for g in range(len(group_w))]
    prob += pulp.lpSum(wg * yg for wg, yg in zip(group_w, y, strict=True))
    for yg, cands in zip(y, group_cands, strict=True):
        prob += yg <= pulp.lpSum(x[int(c)] for c in cands)
    prob += pulp.lpSum(x.values()) <= k
    with warnings.catch_warnings():
        # PuLP 3.x flags its bundled CBC as deprecated for 4.0; it is the solver we ship with.
        warnings.simplefilter("ignore", DeprecationWarning)
        prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, warmStart=bool(start)))
    chosen = sorted(c for c, var in x.items() if (var.value() or 0) > 0.5)
    # Fewer useful sites than k (all demand reachable already): fill with any unused candidates.
    spare = (c for c in range(m.n_candidates) if c not in set(chosen))
    while len(chosen) < min(k, m.n_candidates):
        chosen.append(next(spare))
    status: Any = pulp.LpStatus.get(prob.status, str(prob.status))
    return Solution(
        chosen,
        [],
        covered_weight(m, w, chosen),
        time.perf_counter() - started,
        status=str(status),
        optimal=bool(prob.sol_status == pulp.LpSolutionOptimal),
    )


def _undominated_candidates(
    m: CoverageMatrix, w: Floats, start: list[int]
) -> tuple[Ints, list[int]]:
    """Candidates whose covered (weighted) demand no other candidate's contains.

    A candidate covering a subset of another's demand can be swapped for it in any
    solution without loss, so dropping it keeps the optimum (ties: the lowest index
    stays). Returns the kept candidates and ``start`` mapped onto them.
    """
    row_ptr = m.row_ptr
    size = np.zeros(m.n_candidates, dtype=np.int64)
    np.add.at(size, m.cand[w[m.dem] > 0], 1)
    kept = np.zeros(m.n_candidates, dtype=bool)
    best_cover = np.arange(m.n_candidates)
    for c in np.flatnonzero(size > 0):
        mine = m.dem[row_ptr[c] : row_ptr[c + 1]]
        mine = mine[w[mine] > 0]
        idx = _ranges(m.col_ptr[mine], m.col_ptr[mine + 1])
        together = np.bincount(m.by_dem_cand[idx], minlength=m.n_candidates)
        supersets = np.flatnonzero(together == mine.size)  # includes c itself
        biggest = supersets[size[supersets] == size[supersets].max()]
        best_cover[c] = int(biggest.min())
        kept[c] = best_cover[c] == c
    mapped = sorted({int(best_cover[c]) for c in start if size[c] > 0})
    return np.flatnonzero(kept).astype(np.intp), mapped
