"""Coverage statistics (覆盖统计): what the active service circles of one facility type cover.

Shares of area, residents, households, elderly residents and recent incidents
inside at least one circle, what is covered twice or more, the uncovered areas
as GeoJSON, and the load on each facility. Geometry work is metric (EPSG:4543)
and cached per snapshot; each request only filters and sums numpy arrays.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import Engine, text

from gis.coords import geometry_from_local, geometry_to_local
from gis.coverage.snapshot import INCIDENT_HORIZON_DAYS, Facilities, Points, Snapshot
from gis.coverage.snapshot import current_snapshot as current_snapshot
from gis.errors import InvalidInput, NotFound
from gis.facility_kinds import check_type
from gis.models import CANTEEN, FACILITY_TYPES
from gis.validity import boundary_current

LEVELS = ("district", "street", "community")
TABLES = {"district": "districts", "street": "streets", "community": "communities"}
DAY_S = 86_400.0


@dataclass(frozen=True)
class Scope:
    level: str | None  # None: the whole city
    code: str | None
    name: str


@dataclass
class TypeCoverage:
    """Per facility type, for the whole city: circles, their union, and who lies in which."""

    facilities: Facilities
    union: Any
    twice: Any
    building_pairs: tuple[NDArray[np.intp], NDArray[np.intp]]  # (point, facility)
    incident_pairs: tuple[NDArray[np.intp], NDArray[np.intp]]


def resolve_scope(
    engine: Engine, district: str | None, street: str | None, community: str | None
) -> Scope:
    """The most specific unit given; each must exist and sit inside the wider ones given."""
    given = {"district": district, "street": street, "community": community}
    chosen = [(lvl, code) for lvl, code in given.items() if code]
    if not chosen:
        return Scope(None, None, "city")
    for (wide, wcode), (narrow, ncode) in itertools.pairwise(chosen):
        if not str(ncode).startswith(str(wcode)):
            raise InvalidInput(f"{narrow} {ncode} is not inside {wide} {wcode}", field=narrow)
    level, code = chosen[-1]
    with engine.connect() as conn:
        name = conn.execute(
            text(f"SELECT name FROM {TABLES[level]} WHERE code = :c AND {boundary_current()}"),
            {"c": code},
        ).scalar_one_or_none()
    if name is None:
        raise NotFound(f"{level} {code!r} does not exist", field=level)
    return Scope(level, code, str(name))


def scope_geometry(engine: Engine, snap: Snapshot, scope: Scope) -> Any:
    key = ("scope", scope.level, scope.code)
    if key not in snap.cache:
        sql = "SELECT ST_AsBinary(ST_Union(geom)) FROM {t} WHERE " + boundary_current()
        params: dict[str, Any] = {}
        if scope.level is None:
            sql = sql.format(t="districts")
        else:
            sql = sql.format(t=TABLES[scope.level]) + " AND code = :c"
            params["c"] = scope.code
        with engine.connect() as conn:
            wkb = conn.execute(text(sql), params).scalar_one_or_none()
        geom = shapely.from_wkb(bytes(wkb)) if wkb is not None else shapely.Polygon()
        local = geometry_to_local(geom)
        if not shapely.is_valid(local):  # projection can pinch a near-degenerate ring
            local = shapely.make_valid(local)
        shapely.prepare(local)
        snap.cache[key] = local
    return snap.cache[key]


def _pairs(points: Points, circles: NDArray[Any]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    if points.x.size == 0 or circles.size == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    tree = shapely.STRtree(circles)
    found = tree.query(points.geoms, predicate="intersects")
    return found[0], found[1]


def type_coverage(snap: Snapshot, kind: str) -> TypeCoverage:
    key = ("type", kind)
    with snap.lock:
        if key in snap.cache:
            cached: TypeCoverage = snap.cache[key]
            return cached
        fac = snap.facilities.select(np.asarray(snap.facilities.type == kind, dtype=bool))
        circles = fac.circle
        union = shapely.union_all(circles) if circles.size else shapely.Polygon()
        twice: Any = shapely.Polygon()
        if circles.size > 1:
            i, j = shapely.STRtree(circles).query(circles, predicate="intersects")
            keep = i < j
            if keep.any():
                twice = shapely.union_all(shapely.intersection(circles[i[keep]], circles[j[keep]]))
        result = TypeCoverage(
            fac, union, twice, _pairs(snap.buildings, circles), _pairs(snap.incidents, circles)
        )
        snap.cache[key] = result
        return result


def _area_block(engine: Engine, snap: Snapshot, scope: Scope, kind: str) -> dict[str, Any]:
    key = ("area", kind, scope.level, scope.code)
    with snap.lock:
        if key in snap.cache:
            cached: dict[str, Any] = snap.cache[key]
            return cached
    tc = type_coverage(snap, kind)
    region = scope_geometry(engine, snap, scope)
    total = float(region.area)
    covered = float(shapely.intersection(region, tc.union).area)
    twice = float(shapely.intersection(region, tc.twice).area)
    gaps = shapely.get_parts(shapely.difference(region, tc.union))
    gaps = gaps[shapely.area(gaps) > 1.0]  # drop sub-m² slivers of the overlay
    gaps = gaps[np.argsort(-shapely.area(gaps))]
    areas = shapely.area(gaps)
    lonlat = geometry_from_local(gaps) if gaps.size else gaps
    features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(shapely.set_precision(g, 1e-7)),
            "properties": {"area_m2": round(float(a), 1)},
        }
        for g, a in zip(lonlat, areas, strict=True)
    ]
    # Which facilities serve this scope: their circle reaches into it.
    serving = np.asarray(shapely.intersects(region, tc.facilities.circle), dtype=bool)
    block = {
        "area": {
            "total_m2": round(total, 1),
            "covered_m2": round(covered, 1),
            "share": covered / total if total else 0.0,
            "covered_twice_m2": round(twice, 1),
            "share_twice": twice / total if total else 0.0,
        },
        "uncovered": {"type": "FeatureCollection", "features": features},
        "serving": serving,
    }
    with snap.lock:
        snap.cache[key] = block
    return block


def _count_block(
    weight: NDArray[np.float64], in_scope: NDArray[np.bool_], hits: NDArray[np.int64]
) -> dict[str, Any]:
    total = float(weight[in_scope].sum())
    covered = float(weight[in_scope & (hits >= 1)].sum())
    twice = float(weight[in_scope & (hits >= 2)].sum())
    return {
        "total": round(total),
        "covered": round(covered),
        "share": covered / total if total else 0.0,
        "covered_twice": round(twice),
        "uncovered": round(total - covered),
    }


def coverage_stats(
    engine: Engine,
    kind: str,
    district: str | None = None,
    street: str | None = None,
    community: str | None = None,
    days: int = 30,
    with_uncovered: bool = True,
) -> dict[str, Any]:
    """Coverage of one facility type over the city or one district, street or community."""
    started = time.perf_counter()
    check_type(kind)
    if not 1 <= days <= INCIDENT_HORIZON_DAYS:
        raise InvalidInput(f"days must be 1..{INCIDENT_HORIZON_DAYS}, got {days}", field="days")
    scope = resolve_scope(engine, district, street, community)
    snap = current_snapshot(engine)
    tc = type_coverage(snap, kind)
    area = _area_block(engine, snap, scope, kind)
    b, inc = snap.buildings, snap.incidents
    b_hits = np.bincount(tc.building_pairs[0], minlength=b.x.size)
    i_hits = np.bincount(tc.incident_pairs[0], minlength=inc.x.size)
    now = datetime.now(UTC)
    since = now.timestamp() - days * DAY_S
    assert inc.received is not None
    recent = inc.received >= since
    b_scope = b.in_unit(scope.level, scope.code)
    i_scope = inc.in_unit(scope.level, scope.code) & recent
    blocks = {
        name: _count_block(b.weights[name], b_scope, b_hits)
        for name in ("residents", "households", "elderly_residents")
    }
    population = "elderly_residents" if kind == CANTEEN else "residents"
    result: dict[str, Any] = {
        "type": kind,
        "scope": {"level": scope.level or "city", "code": scope.code, "name": scope.name},
        "days": days,
        "since": datetime.fromtimestamp(since, UTC).isoformat(),
        "facilities": int(area["serving"].sum()),
        "population_basis": population,
        "population": blocks[population],
        "area": area["area"],
        **blocks,
        "incidents": _count_block(inc.weights["incidents"], i_scope, i_hits),
        "load": _loads(tc, snap, area["serving"], recent, days),
        "version": snap.version,
    }
    if with_uncovered:
        result["uncovered"] = area["uncovered"]
    result["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


def _loads(
    tc: TypeCoverage,
    snap: Snapshot,
    serving: NDArray[np.bool_],
    recent: NDArray[np.bool_],
    days: int,
) -> list[dict[str, Any]]:
    fac = tc.facilities
    n = fac.id.size
    bp, bf = tc.building_pairs
    per: dict[str, NDArray[Any]] = {
        name: np.bincount(bf, weights=snap.buildings.weights[name][bp], minlength=n)
        for name in ("residents", "households", "elderly_residents")
    }
    ip, ifac = tc.incident_pairs
    keep = recent[ip]
    incidents = np.bincount(ifac[keep], minlength=n).astype(float)
    out = []
    for k in np.flatnonzero(serving):
        staff, seats = int(fac.staff[k]), int(fac.seats[k])
        per_day = incidents[k] / days
        out.append(
            {
                "id": int(fac.id[k]),
                "code": str(fac.code[k]),
                "name": str(fac.name[k]),
                "district": str(fac.district[k]),
                "service_radius_m": float(fac.radius_m[k]),
                "staff": staff,
                "seats": seats,
                "residents": round(float(per["residents"][k])),
                "households": round(float(per["households"][k])),
                "elderly_residents": round(float(per["elderly_residents"][k])),
                "incidents": int(incidents[k]),
                "incidents_per_day": round(per_day, 3),
                "residents_per_staff": round(per["residents"][k] / staff, 1) if staff else None,
                "incidents_per_day_per_staff": round(per_day / staff, 4) if staff else None,
                "elderly_per_seat": round(per["elderly_residents"][k] / seats, 2)
                if seats
                else None,
            }
        )
    return out


def warm(engine: Engine) -> None:
    """Precompute the whole-city figures of every type (after a facility change, say),
    so the next request finds them cached."""

    for kind in FACILITY_TYPES:
        coverage_stats(engine, kind)
