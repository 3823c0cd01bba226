"""Siting (选址): where k new (or relocated) facilities of a district cover the most demand.

Demand is the district's buildings (weighted by residents, households or
elderly residents) or its incidents of the last N days. Candidate sites are the
grids' interior points or a square lattice inside the district. The greedy
answer comes by default; ``exact=True`` also solves the integer programme and
reports the greedy's share of the optimum and both times.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import Engine, text

from gis.coords import from_local, to_local
from gis.coverage.snapshot import INCIDENT_HORIZON_DAYS, Snapshot, current_snapshot
from gis.coverage.solvers import CoverageMatrix, Solution, build_matrix, exact, greedy
from gis.coverage.stats import DAY_S, Scope, resolve_scope, scope_geometry
from gis.errors import InvalidInput
from gis.facility_kinds import check_radius, check_type, default_radius_m
from gis.models import STATION
from gis.validity import boundary_current

OBJECTIVES = ("residents", "households", "elderly_residents", "incidents")
CANDIDATE_SOURCES = ("lattice", "grid_centroids")
MODES = ("add", "relocate")
MAX_CANDIDATES = 20_000


@dataclass(frozen=True)
class SitingRequest:
    district: str
    k: int | None = None
    type: str = STATION
    objective: str = "residents"
    candidates: str = "lattice"
    spacing_m: float = 250.0
    mode: str = "add"
    exact: bool = False
    days: int = 30
    service_radius_m: float | None = None
    time_limit_s: float = 120.0


def _choice(value: str, allowed: tuple[str, ...], field: str) -> None:
    if value not in allowed:
        raise InvalidInput(
            f"{field} must be one of {', '.join(allowed)}, got {value!r}", field=field
        )


def candidate_sites(
    engine: Engine, snap: Snapshot, scope: Scope, source: str, spacing_m: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Metric x, y of candidate sites inside the district."""
    if source == "grid_centroids":
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM grids"
                    f" WHERE {boundary_current()} AND district_code = :d ORDER BY code) s"
                ),
                {"d": scope.code},
            ).all()
        arr = np.asarray(rows, dtype=float).reshape(-1, 2)
        return to_local(arr[:, 0], arr[:, 1])
    if not 20.0 <= spacing_m <= 50_000.0:
        raise InvalidInput("spacing_m must be between 20 and 50,000 m", field="spacing_m")
    region = scope_geometry(engine, snap, scope)
    minx, miny, maxx, maxy = region.bounds
    count = ((maxx - minx) / spacing_m + 1) * ((maxy - miny) / spacing_m + 1)
    if count > 40 * MAX_CANDIDATES:
        raise InvalidInput(f"spacing_m {spacing_m} gives too many candidates", field="spacing_m")
    xs = np.arange(minx + spacing_m / 2, maxx, spacing_m)
    ys = np.arange(miny + spacing_m / 2, maxy, spacing_m)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    shapely.prepare(region)
    inside = shapely.contains_xy(region, gx, gy)
    if inside.sum() > MAX_CANDIDATES:
        raise InvalidInput(
            f"spacing_m {spacing_m} gives {int(inside.sum())} candidates (max {MAX_CANDIDATES})",
            field="spacing_m",
        )
    return gx[inside], gy[inside]


def _covered_by(
    circles: NDArray[Any], x: NDArray[np.float64], y: NDArray[np.float64]
) -> NDArray[np.bool_]:
    hit = np.zeros(x.size, dtype=bool)
    if circles.size and x.size:
        pts, _ = shapely.STRtree(circles).query(shapely.points(x, y), predicate="intersects")
        hit[pts] = True
    return hit


def _block(covered: float, total: float) -> dict[str, Any]:
    return {"covered": round(covered, 1), "share": covered / total if total else 0.0}


def site(engine: Engine, req: SitingRequest) -> dict[str, Any]:
    """Suggest sites; nothing is written."""
    kind = check_type(req.type)
    _choice(req.objective, OBJECTIVES, "objective")
    _choice(req.candidates, CANDIDATE_SOURCES, "candidates")
    _choice(req.mode, MODES, "mode")
    if not 1 <= req.days <= INCIDENT_HORIZON_DAYS:
        raise InvalidInput(f"days must be 1..{INCIDENT_HORIZON_DAYS}", field="days")
    if not req.time_limit_s > 0:
        raise InvalidInput("time_limit_s must be positive", field="time_limit_s")
    radius = check_radius(
        default_radius_m(kind) if req.service_radius_m is None else req.service_radius_m
    )
    scope = resolve_scope(engine, req.district, None, None)
    snap = current_snapshot(engine)
    code = int(req.district)

    if req.objective == "incidents":
        pts = snap.incidents
        assert pts.received is not None
        keep = (pts.district == code) & (pts.received >= time.time() - req.days * DAY_S)
        weight = pts.weights["incidents"]
    else:
        pts = snap.buildings
        keep = pts.district == code
        weight = pts.weights[req.objective]
    dx, dy, dw = pts.x[keep], pts.y[keep], weight[keep]
    total = float(dw.sum())
    if total <= 0:
        raise InvalidInput(
            f"district {req.district} has no {req.objective} to cover", field="district"
        )

    fac = snap.facilities.select(np.asarray(snap.facilities.type == kind, dtype=bool))
    moving = np.asarray(fac.district == req.district, dtype=bool)
    if req.mode == "relocate" and not moving.any():
        raise InvalidInput(
            f"district {req.district} has no active {kind} to relocate", field="mode"
        )
    k = req.k if req.k is not None else (int(moving.sum()) if req.mode == "relocate" else 1)
    before_hit = _covered_by(fac.circle, dx, dy)
    staying = fac.circle[~moving] if req.mode == "relocate" else fac.circle
    base_hit = _covered_by(staying, dx, dy)
    base = float(dw[base_hit].sum())

    cx, cy = candidate_sites(engine, snap, scope, req.candidates, req.spacing_m)
    if k <= 0:
        raise InvalidInput(f"k must be at least 1, got {k}", field="k")
    if k > cx.size:
        raise InvalidInput(f"k = {k} is more than the {cx.size} candidate sites", field="k")
    # Demand already covered by the facilities that stay cannot be gained again.
    open_dem = ~base_hit
    matrix = build_matrix(cx, cy, dx[open_dem], dy[open_dem], radius)
    open_w = dw[open_dem]
    g = greedy(matrix, open_w, k)
    result: dict[str, Any] = {
        "district": req.district,
        "type": kind,
        "objective": req.objective,
        "mode": req.mode,
        "k": k,
        "service_radius_m": radius,
        "candidates": {"source": req.candidates, "count": int(cx.size), "spacing_m": req.spacing_m},
        "demand": {
            "points": int(dx.size),
            "total": round(total, 1),
            "pairs": int(matrix.cand.size),
        },
        "before": _block(float(dw[before_hit].sum()), total),
        "relocated": [str(c) for c in fac.code[moving]] if req.mode == "relocate" else [],
        "greedy": _solution(g, matrix, cx, cy, base, total),
    }
    if req.exact:
        e = exact(matrix, open_w, k, req.time_limit_s, start=g.chosen)
        result["exact"] = _solution(e, matrix, cx, cy, base, total)
        result["exact"]["status"] = e.status
        result["exact"]["optimal"] = e.optimal
        result["greedy_share_of_optimum"] = g.covered / e.covered if e.covered else 1.0
        result["time_ratio_exact_to_greedy"] = e.seconds / g.seconds if g.seconds else None
    return result


def _solution(
    sol: Solution,
    m: CoverageMatrix,
    cx: NDArray[np.float64],
    cy: NDArray[np.float64],
    base: float,
    total: float,
) -> dict[str, Any]:
    idx = np.asarray(sol.chosen, dtype=np.intp)
    lon, lat = from_local(cx[idx], cy[idx])
    sites = [
        {
            "lon": round(float(lon[i]), 7),
            "lat": round(float(lat[i]), 7),
            "candidate": int(idx[i]),
            "reach": int(m.covers(int(idx[i])).size),
            **({"gain": round(sol.gains[i], 1)} if sol.gains else {}),
        }
        for i in range(idx.size)
    ]
    extra: dict[str, Any] = {}
    if sol.construction_covered is not None:
        extra = {
            "construction_gain": round(sol.construction_covered, 1),
            "swaps": sol.swaps,
        }
    return {
        "sites": sites,
        **extra,
        "gain": round(sol.covered, 1),
        "after": _block(base + sol.covered, total),
        "seconds": round(sol.seconds, 4),
    }
