"""Streets, communities and grids inside the real district outlines, each level tiling its parent.

Seeds of streets and communities are drawn with a density that falls off with the
distance to the city centre (or the county seat), so urban units are compact near
the centre and township units large and sparse; grids split their community evenly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape

from gis.demo import plan
from gis.demo.model import Area, City, rng_for
from gis.demo.tiling import MAX_EDGE_DEG, Density, as_multipolygon, partition
from gis.settings import PROJECT_ROOT

DISTRICTS_FILE = PROJECT_ROOT / "data" / "xining" / "districts.geojson"
KM_PER_DEG_LAT = 110.6
# Profiles by closeness to the centre: old core first, then newer core, fringe, township.
PROFILE_RANK = {"B": 0, "A": 1, "C": 2, "D": 3}


def centre_of(district_code: str) -> tuple[float, float]:
    return plan.COUNTY_SEATS.get(district_code, plan.CITY_CENTRE)


def distance_km(x: NDArray[np.float64], y: NDArray[np.float64], centre: tuple[float, float]):  # type: ignore[no-untyped-def]
    k = np.cos(np.radians(centre[1]))
    return np.hypot((x - centre[0]) * k, y - centre[1]) * KM_PER_DEG_LAT


def density(centre: tuple[float, float], scale_km: float) -> Density:
    def weight(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        d = distance_km(x, y, centre)
        return np.asarray(np.exp(-d / scale_km) + 0.02, dtype=np.float64)

    return weight


def read_districts() -> list[Area]:
    data = json.loads(DISTRICTS_FILE.read_text(encoding="utf-8"))
    feats = data["features"]
    geoms = np.array([shape(f["geometry"]) for f in feats], dtype=object)
    # Short edges everywhere, so children split them without bending areas (tiling.py);
    # cut as one network so neighbouring districts keep sharing the very same vertices.
    edges = shapely.segmentize(shapely.union_all(shapely.boundary(geoms)), MAX_EDGE_DEG)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    owner = shapely.STRtree(geoms).query(shapely.point_on_surface(faces), predicate="within")
    out = []
    for i, f in enumerate(feats):
        p = f["properties"]
        parts = faces[owner[0][owner[1] == i]]
        geom = as_multipolygon(shapely.coverage_union_all(parts))
        out.append(Area(code=p["code"], name=p["name"], geom=geom, attrs={"name_en": p["name_en"]}))
    return out


def _by_distance(cells: NDArray[np.object_], centre: tuple[float, float]) -> NDArray[np.int64]:
    c = shapely.get_coordinates(shapely.point_on_surface(cells))
    return np.argsort(distance_km(c[:, 0], c[:, 1], centre), kind="stable")


def allocate(total: int, weights: Sequence[float], minimum: Sequence[int]) -> list[int]:
    """Integers ≥ minimum summing to total, the rest shared by weight (largest remainder)."""
    base = np.asarray(minimum, dtype=np.int64)
    rest = total - int(base.sum())
    if rest < 0:
        raise ValueError("minimums exceed the total")
    w = np.asarray(weights, dtype=np.float64)
    share = w / w.sum() * rest
    whole = np.floor(share).astype(np.int64)
    left = rest - int(whole.sum())
    order = np.argsort(-(share - whole), kind="stable")
    whole[order[:left]] += 1
    return [int(v) for v in base + whole]


def build_streets(city: City, seed: int) -> dict[str, plan.StreetPlan]:
    plans: dict[str, plan.StreetPlan] = {}
    for district, dplan in zip(city.districts, plan.PLANS, strict=True):
        assert district.code == dplan.code
        centre = centre_of(district.code)
        rng = rng_for(seed, "streets", district.code)
        cells, _ = partition(district.geom, len(dplan.streets), rng, density(centre, 4.0), relax=1)
        # The plan lists streets from the centre outwards; give the nearest cells first.
        for i, cell_index in enumerate(_by_distance(cells, centre)):
            sp = dplan.streets[i]
            code = f"{district.code}{i + 1:03d}"
            city.streets.append(
                Area(
                    code=code,
                    name=sp.name,
                    geom=cells[cell_index],
                    parent_code=district.code,
                    kind=sp.kind,
                )
            )
            plans[code] = sp
    return plans


def build_communities(city: City, plans: dict[str, plan.StreetPlan], seed: int) -> None:
    used: set[str] = set()
    for street in city.streets:
        sp = plans[street.code]
        centre = centre_of(street.district_code)
        rng = rng_for(seed, "communities", street.code)
        n = len(sp.profiles)
        cells, _ = partition(street.geom, n, rng, density(centre, 2.5), relax=1)
        profiles = sorted(sp.profiles, key=lambda p: PROFILE_RANK[p])
        order = _by_distance(cells, centre)
        for i, cell_index in enumerate(order):
            profile = profiles[i]
            city.communities.append(
                Area(
                    code=f"{street.code}{i + 1:03d}",
                    name=_community_name(rng, used),
                    geom=cells[cell_index],
                    parent_code=street.code,
                    profile=profile,
                    area_type={"A": "core", "B": "core", "C": "fringe", "D": "township"}[profile],
                )
            )


def _community_name(rng: np.random.Generator, used: set[str]) -> str:
    for _ in range(50):
        word = plan.COMMUNITY_WORDS[int(rng.integers(len(plan.COMMUNITY_WORDS)))]
        suffix = plan.COMMUNITY_SUFFIXES[int(rng.integers(len(plan.COMMUNITY_SUFFIXES)))]
        name = f"{word}{suffix}社区"
        if name not in used:
            used.add(name)
            return name
    name = f"第{len(used) + 1}社区"
    used.add(name)
    return name


def grid_counts(city: City, seed: int) -> tuple[list[int], list[int]]:
    """Comprehensive and dedicated grids per community, hitting the city and Chengzhong totals."""
    rng = rng_for(seed, "grid-counts")
    comms = city.communities
    w = [plan.GRID_WEIGHT[c.profile] * rng.uniform(0.75, 1.25) for c in comms]
    mins = [plan.MIN_GRIDS[c.profile] for c in comms]
    dw = [0.5 if c.profile == "D" else rng.uniform(2.0, 4.0) for c in comms]
    comp = [0] * len(comms)
    ded = [0] * len(comms)
    cz = [i for i, c in enumerate(comms) if c.district_code == plan.CHENGZHONG]
    rest = [i for i, c in enumerate(comms) if c.district_code != plan.CHENGZHONG]
    for idx, total, dtotal in (
        (cz, plan.CHENGZHONG_GRIDS, plan.CHENGZHONG_DEDICATED),
        (
            rest,
            plan.COMPREHENSIVE_GRIDS - plan.CHENGZHONG_GRIDS,
            plan.DEDICATED_GRIDS - plan.CHENGZHONG_DEDICATED,
        ),
    ):
        for i, v in zip(
            idx, allocate(total, [w[i] for i in idx], [mins[i] for i in idx]), strict=True
        ):
            comp[i] = v
        for i, v in zip(idx, allocate(dtotal, [dw[i] for i in idx], [0] * len(idx)), strict=True):
            ded[i] = v
    return comp, ded


def build_grids(city: City, seed: int) -> None:
    comp, ded = grid_counts(city, seed)
    for community, k, m in zip(city.communities, comp, ded, strict=True):
        rng = rng_for(seed, "grids", community.code)
        cells, _ = partition(community.geom, k + m, rng, None, relax=2)
        c = shapely.get_coordinates(shapely.point_on_surface(cells))
        # Number grids north to south, west to east in bands of about 300 m.
        order = np.lexsort((c[:, 0], -np.round(c[:, 1] / 0.003)))
        dedicated = set(rng.choice(k + m, size=m, replace=False).tolist()) if m else set()
        n_comp = n_ded = 0
        for j, cell_index in enumerate(order):
            is_ded = int(cell_index) in dedicated
            if is_ded:
                n_ded += 1
                kind_zh = plan.DEDICATED_KINDS[int(rng.integers(len(plan.DEDICATED_KINDS)))]
                name = f"{community.name}{kind_zh}专属网格"
            else:
                n_comp += 1
                name = f"{community.name}第{n_comp}网格"
            city.grids.append(
                Area(
                    code=f"{community.code}{j + 1:03d}",
                    name=name,
                    geom=cells[cell_index],
                    parent_code=community.code,
                    kind="dedicated" if is_ded else "comprehensive",
                    profile=community.profile,
                    area_type=community.area_type,
                )
            )


def build_boundaries(seed: int) -> City:
    city = City(districts=read_districts())
    plans = build_streets(city, seed)
    build_communities(city, plans, seed)
    build_grids(city, seed)
    return city
