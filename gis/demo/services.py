"""Party branches (党组织) and service facilities of the demo city.

Enforcement stations (综合执法服务站) are sited greedily where they bring the most
residents within their 2 km radius; elderly canteens (爱老幸福食堂) sit one per
Chengzhong community, at the building nearest its residents' centre.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gis.boundaries import ancestor_code
from gis.coords import to_local
from gis.demo import plan
from gis.demo.model import BranchRec, BuildingRec, City, FacilityRec, rng_for
from gis.settings import get_settings

# Stations outside Chengzhong: add until this share of a district's residents is within
# reach (counties' villages are spread over mountains: a lower bar, and a cap).
STATION_TARGET_SHARE = {"urban": 0.95, "county": 0.75}
MAX_STATIONS = 16
CANDIDATES = 600


def person_name(rng: np.random.Generator) -> str:
    given = "".join(rng.choice(plan.GIVEN, size=int(rng.integers(1, 3))))
    return f"{rng.choice(plan.SURNAMES)}{given}"


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` names at once, drawn like :func:`person_name`'s."""
    surnames = rng.choice(plan.SURNAMES, size=n)
    given = rng.choice(plan.GIVEN, size=(n, 2))
    two = rng.random(n) < 0.5
    return [f"{s}{g[0]}{g[1] if t else ''}" for s, g, t in zip(surnames, given, two, strict=True)]


def build_branches(city: City, seed: int) -> None:
    rng = rng_for(seed, "party")
    names = {c.code: c.name for c in city.communities}
    for c in city.communities:
        city.branches.append(
            BranchRec(
                "community_committee",
                f"{c.name}党委",
                c.code,
                secretary=person_name(rng),
                members=int(rng.integers(40, 160)),
            )
        )
    comp = [g for g in city.grids if g.kind == "comprehensive"]
    # The city's party cadres placed in grids, shared out among the grid branches.
    w = rng.dirichlet(np.full(len(comp), 8.0))
    members = np.floor(w * plan.GRID_PARTY_CADRES).astype(np.int64)
    members[: plan.GRID_PARTY_CADRES - int(members.sum())] += 1
    for g, m in zip(comp, members, strict=True):
        g.worker_name = person_name(rng)
        city.branches.append(
            BranchRec(
                "grid_branch",
                f"{g.name}党支部",
                g.parent_code,
                grid_code=g.code,
                secretary=person_name(rng),
                members=int(m),
            )
        )
    # Compound branches in the larger compounds, building groups in old, unmanaged ones.
    hh = np.array([c.households for c in city.compounds], dtype=np.float64)
    picks = rng.choice(
        len(city.compounds), size=plan.COMPOUND_BRANCHES, replace=False, p=hh**2 / (hh**2).sum()
    )
    for i in sorted(picks.tolist()):
        c = city.compounds[i]
        city.branches.append(
            BranchRec(
                "compound_branch",
                f"{c.name}党支部",
                c.community_code,
                grid_code=c.grid_code,
                compound_code=c.code,
                secretary=person_name(rng),
                members=int(rng.integers(8, 40)),
            )
        )
    old = {c.code for c in city.compounds if c.housing_type == "old" and not c.managed}
    cand = [b for b in city.buildings if b.compound_code in old] or city.buildings
    picks = rng.choice(len(cand), size=plan.BUILDING_GROUPS, replace=False)
    for i in sorted(picks.tolist()):
        b = cand[i]
        city.branches.append(
            BranchRec(
                "building_group",
                f"{names[b.community_code]}{b.code[-4:]}楼院党小组",
                b.community_code,
                grid_code=b.grid_code,
                compound_code=b.compound_code,
                building_code=b.code,
                secretary=person_name(rng),
                members=int(rng.integers(3, 12)),
            )
        )


def greedy_sites(
    xy: NDArray[np.float64],
    weight: NDArray[np.float64],
    cand: NDArray[np.float64],
    radius: float,
    count: int | None,
    target_share: float,
) -> list[int]:
    """Candidate indices covering the most weight within radius, one at a time."""
    d2 = ((cand[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)
    covers = d2 <= radius * radius
    left = weight.copy()
    total = float(weight.sum())
    chosen: list[int] = []
    limit = count if count is not None else MAX_STATIONS
    while len(chosen) < limit:
        gain = covers @ left
        best = int(np.argmax(gain))
        if count is None and (gain[best] <= 0 or 1 - left.sum() / total >= target_share):
            break
        chosen.append(best)
        left = np.where(covers[best], 0.0, left)
    return chosen


def build_facilities(city: City, seed: int) -> None:
    s = get_settings()
    street_names = {st.code: st.name for st in city.streets}
    by_district: dict[str, list[BuildingRec]] = {}
    for b in city.buildings:
        by_district.setdefault(ancestor_code(b.grid_code, "district"), []).append(b)
    for d in city.districts:
        rng = rng_for(seed, "stations", d.code)
        bs = by_district[d.code]
        lon = np.array([b.lon for b in bs])
        lat = np.array([b.lat for b in bs])
        x, y = to_local(lon, lat)
        xy = np.column_stack([x, y])
        weight = np.array([b.residents for b in bs], dtype=np.float64)
        cand_idx = rng.choice(
            len(bs), size=min(CANDIDATES, len(bs)), replace=False, p=weight / weight.sum()
        )
        count = plan.CHENGZHONG_STATIONS if d.code == plan.CHENGZHONG else None
        share = STATION_TARGET_SHARE["county" if d.code in plan.COUNTY_SEATS else "urban"]
        sites = greedy_sites(xy, weight, xy[cand_idx], s.station_radius_m, count, share)
        for n, k in enumerate(sites, start=1):
            b = bs[int(cand_idx[k])]
            street = street_names[ancestor_code(b.grid_code, "street")]
            city.facilities.append(
                FacilityRec(
                    code=f"ES{d.code}{n:02d}",
                    type="enforcement_station",
                    name=f"{d.name}{street}综合执法服务站{n}",
                    district_code=d.code,
                    lon=b.lon,
                    lat=b.lat,
                    radius_m=s.station_radius_m,
                    staff=20,
                    hours="24h",
                )
            )
    rng = rng_for(seed, "canteens")
    by_community: dict[str, list[BuildingRec]] = {}
    for b in city.buildings:
        by_community.setdefault(b.community_code, []).append(b)
    for c in city.communities:
        if c.district_code != plan.CHENGZHONG:
            continue
        bs = by_community[c.code]
        xy = np.array([[b.lon, b.lat] for b in bs])
        w = np.array([b.residents for b in bs], dtype=np.float64)
        centre = (xy * w[:, None]).sum(axis=0) / w.sum()
        b = bs[int(np.argmin(((xy - centre) ** 2).sum(axis=1)))]
        city.facilities.append(
            FacilityRec(
                code=f"EC{c.code}",
                type="elderly_canteen",
                name=f"{c.name}爱老幸福食堂",
                district_code=c.district_code,
                lon=b.lon,
                lat=b.lat,
                radius_m=s.canteen_radius_m,
                staff=int(rng.integers(3, 9)),
                seats=int(rng.integers(4, 13)) * 10,
                hours="10:30-19:00",
            )
        )
