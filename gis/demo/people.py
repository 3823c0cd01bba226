"""Compounds (小区) and buildings (楼栋) in each grid; community attributes as their sums.

Numbers first, then geometry: a community's housing mix is drawn from its profile,
its attributes summed from its buildings, and the draw repeated (with the next
sub-seed) until the classification rules give the class the profile stands for.
The rules decide; the generator only keeps drawing until the place looks the part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gis.classify import classify
from gis.demo import plan
from gis.demo.model import Area, BuildingRec, City, CompoundRec, rng_for
from gis.demo.tiling import as_multipolygon, sample_points

HOUSING = ("commercial", "old", "resettlement", "mixed")
MIX = {  # probability of each housing type for a compound, by profile
    "A": (0.86, 0.05, 0.0, 0.09),
    "B": (0.14, 0.72, 0.0, 0.14),
    "C": (0.30, 0.0, 0.40, 0.30),
    "D": (0.0, 0.0, 1.0, 0.0),
}
MANAGED = {"commercial": 0.97, "old": 0.12, "resettlement": 0.5, "mixed": 0.7}
PER_BUILDING = {"commercial": 110, "old": 36, "resettlement": 70, "mixed": 60, "village": 18}
ELDERLY = {
    "commercial": (0.07, 0.14),
    "old": (0.18, 0.30),
    "resettlement": (0.10, 0.18),
    "mixed": (0.10, 0.18),
    "village": (0.14, 0.24),
}
HOUSEHOLD_SIZE = {"core": 3.1, "fringe": 3.4, "township": 3.7}
CHENGZHONG_HOUSEHOLD_SIZE = plan.CHENGZHONG_RESIDENTS / plan.CHENGZHONG_HOUSEHOLDS
MIGRANTS = {"A": (0.04, 0.12), "B": (0.05, 0.12), "C": (0.22, 0.38), "D": (0.02, 0.08)}
M_PER_DEG_LAT = 110_600.0


def split(total: int, n: int, rng: np.random.Generator, alpha: float = 4.0) -> list[int]:
    """total split into n positive-ish integer parts that sum exactly to total."""
    if n <= 1:
        return [total]
    w = rng.dirichlet(np.full(n, alpha))
    parts = np.floor(w * total).astype(np.int64)
    left = total - int(parts.sum())
    parts[np.argsort(-(w * total - parts), kind="stable")[:left]] += 1
    return [int(v) for v in parts]


def grid_household_targets(city: City, seed: int) -> dict[str, int]:
    """Households of each comprehensive grid; Chengzhong scaled to its known total."""
    out: dict[str, int] = {}
    for g in city.grids:
        if g.kind != "comprehensive":
            continue
        rng = rng_for(seed, "households", g.code)
        lo, hi = (160, 300) if g.area_type == "township" else (330, 470)
        out[g.code] = int(rng.integers(lo, hi + 1))
    cz = [c for c in out if c.startswith(plan.CHENGZHONG)]
    total = sum(out[c] for c in cz)
    scaled = np.array([out[c] * plan.CHENGZHONG_HOUSEHOLDS / total for c in cz])
    whole = np.floor(scaled).astype(np.int64)
    left = plan.CHENGZHONG_HOUSEHOLDS - int(whole.sum())
    whole[np.argsort(-(scaled - whole), kind="stable")[:left]] += 1
    out.update({c: int(v) for c, v in zip(cz, whole, strict=True)})
    return out


@dataclass
class Draft:
    compounds: list[CompoundRec]
    buildings: list[BuildingRec]
    attrs: dict[str, object]


def draft_community(
    community: Area, grids: list[Area], targets: dict[str, int], rng: np.random.Generator
) -> Draft:
    profile = community.profile
    size = (
        CHENGZHONG_HOUSEHOLD_SIZE
        if community.district_code == plan.CHENGZHONG
        else HOUSEHOLD_SIZE[community.area_type]
    )
    compounds: list[CompoundRec] = []
    buildings: list[BuildingRec] = []
    for g in grids:
        if g.kind != "comprehensive":
            continue
        h = targets[g.code]
        if profile == "D":
            # Villages: houses outside compounds, now and then a resettlement compound.
            n_comp = 1 if rng.random() < 0.25 else 0
            shares = split(h, 2, rng) if n_comp else [h]
        else:
            n_comp = int(rng.integers(1, 4))
            shares = split(h, n_comp, rng)
        for j in range(n_comp):
            housing = HOUSING[int(rng.choice(4, p=MIX[profile]))]
            compounds.append(
                CompoundRec(
                    code=f"{g.code}C{j + 1:02d}",
                    name="",
                    grid_code=g.code,
                    housing_type=housing,
                    managed=bool(rng.random() < MANAGED[housing]),
                    households=shares[j],
                    residents=0,
                )
            )
        groups: list[tuple[str | None, str, int]] = [
            (
                compounds[len(compounds) - n_comp + j].code,
                compounds[len(compounds) - n_comp + j].housing_type,
                shares[j],
            )
            for j in range(n_comp)
        ]
        if profile == "D":
            groups.append((None, "village", shares[-1]))
        n_b = 0
        for compound_code, housing, hh in groups:
            nb = max(1, round(hh / PER_BUILDING[housing] * rng.uniform(0.8, 1.2)))
            lo, hi = ELDERLY[housing]
            for part in split(hh, nb, rng):
                n_b += 1
                residents = round(part * size * rng.uniform(0.92, 1.08))
                buildings.append(
                    BuildingRec(
                        code=f"{g.code}B{n_b:03d}",
                        grid_code=g.code,
                        compound_code=compound_code,
                        households=part,
                        residents=residents,
                        elderly=round(residents * rng.uniform(lo, hi)),
                    )
                )
    by_compound: dict[str, int] = {}
    for b in buildings:
        if b.compound_code:
            by_compound[b.compound_code] = by_compound.get(b.compound_code, 0) + b.residents
    for c in compounds:
        c.residents = by_compound.get(c.code, 0)
    return Draft(compounds, buildings, community_attrs(community, compounds, buildings, rng))


def community_attrs(
    community: Area,
    compounds: list[CompoundRec],
    buildings: list[BuildingRec],
    rng: np.random.Generator,
) -> dict[str, object]:
    residents = sum(b.residents for b in buildings)
    by_type = dict.fromkeys(HOUSING, 0)
    managed = 0
    for c in compounds:
        by_type[c.housing_type] += c.residents
        managed += c.residents if c.managed else 0
    share = managed / residents if residents else 0.0
    lo, hi = MIGRANTS[community.profile]
    facilities = {"A": True, "B": bool(rng.random() < 0.4), "C": False, "D": False}
    return {
        "area_type": community.area_type,
        "households": sum(b.households for b in buildings),
        "residents": residents,
        "commercial_housing_residents": by_type["commercial"],
        "old_compound_residents": by_type["old"],
        "resettlement_residents": by_type["resettlement"],
        "elderly_residents": sum(b.elderly for b in buildings),
        "migrant_residents": round(residents * rng.uniform(lo, hi)),
        # Share of residents living in compounds with a property company (物业).
        "property_management": "mature"
        if share >= 0.8
        else "partial"
        if share >= 0.4
        else "little",
        "facilities_complete": facilities[community.profile],
    }


def place_compounds(grid: Area, compounds: list[CompoundRec], rng: np.random.Generator) -> None:
    """Each compound a block around a point of the grid, apart from the others, off the edge."""
    if not compounds:
        return
    seeds = sample_points(grid.geom, len(compounds), rng)
    k = float(np.cos(np.radians(seeds[:, 1].mean())))
    metres = np.column_stack([seeds[:, 0] * k, seeds[:, 1]]) * M_PER_DEG_LAT
    half = np.array([(40.0 + 9.0 * np.sqrt(c.households)) / 2 for c in compounds])
    if len(compounds) > 1:
        # Squares closer than this would overlap: shrink to half the Chebyshev gap.
        gap = np.abs(metres[:, None, :] - metres[None, :, :]).max(axis=2)
        np.fill_diagonal(gap, np.inf)
        half = np.maximum(np.minimum(half, gap.min(axis=1) / 2 - 2.0), 1.0)
    h = half / M_PER_DEG_LAT
    squares = shapely.box(
        seeds[:, 0] - h / k, seeds[:, 1] - h, seeds[:, 0] + h / k, seeds[:, 1] + h
    )
    blocks = shapely.intersection(squares, shapely.buffer(grid.geom, -8.0 / M_PER_DEG_LAT))
    for c, block, square in zip(compounds, blocks, squares, strict=True):
        # A seed near the edge of a narrow grid: keep the block a metre inside instead.
        if block.is_empty or block.area == 0:
            block = shapely.intersection(square, shapely.buffer(grid.geom, -1.0 / M_PER_DEG_LAT))
        c.geom = as_multipolygon(shapely.make_valid(block))


def place_buildings(
    grid: Area, compounds: list[CompoundRec], buildings: list[BuildingRec], rng: np.random.Generator
) -> None:
    geoms = {c.code: c.geom for c in compounds if c.geom is not None and not c.geom.is_empty}
    groups: dict[str | None, list[BuildingRec]] = {}
    for b in buildings:
        key = b.compound_code if b.compound_code in geoms else None
        groups.setdefault(key, []).append(b)
    for key, members in groups.items():
        if key is not None:
            pts = sample_points(geoms[key], len(members), rng)
        else:
            # Village houses cluster around a village centre.
            centre = shapely.get_coordinates(shapely.point_on_surface(grid.geom))[0]
            sigma = 250.0 / M_PER_DEG_LAT

            def near(x, y, c=centre, s=sigma):  # type: ignore[no-untyped-def]
                return np.exp(-((x - c[0]) ** 2 + (y - c[1]) ** 2) / (2 * s * s)) + 1e-3

            pts = sample_points(grid.geom, len(members), rng, near)
        for b, (x, y) in zip(members, pts, strict=True):
            b.lon, b.lat = float(x), float(y)


def name_compounds(compounds: list[CompoundRec], rng: np.random.Generator) -> None:
    for c in compounds:
        word = plan.COMMUNITY_WORDS[int(rng.integers(len(plan.COMMUNITY_WORDS)))]
        styles = plan.COMPOUND_STYLES[c.housing_type]
        c.name = f"{word}{styles[int(rng.integers(len(styles)))]}"


def populate(city: City, seed: int) -> None:
    targets = grid_household_targets(city, seed)
    grids_of: dict[str, list[Area]] = {}
    for g in city.grids:
        grids_of.setdefault(g.parent_code, []).append(g)
    for community in city.communities:
        grids = grids_of[community.code]
        draft = None
        for attempt in range(50):
            draft = draft_community(
                community, grids, targets, rng_for(seed, "people", community.code, attempt)
            )
            if classify(draft.attrs) == community.profile:
                break
        assert draft is not None
        community.attrs = draft.attrs
        rng = rng_for(seed, "places", community.code)
        name_compounds(draft.compounds, rng)
        by_grid_c: dict[str, list[CompoundRec]] = {}
        by_grid_b: dict[str, list[BuildingRec]] = {}
        for c in draft.compounds:
            by_grid_c.setdefault(c.grid_code, []).append(c)
        for b in draft.buildings:
            by_grid_b.setdefault(b.grid_code, []).append(b)
        for g in grids:
            cs = by_grid_c.get(g.code, [])
            bs = by_grid_b.get(g.code, [])
            place_compounds(g, cs, rng)
            place_buildings(g, cs, bs, rng)
            g.attrs = {
                "households": sum(b.households for b in bs),
                "residents": sum(b.residents for b in bs),
            }
        city.compounds.extend(c for c in draft.compounds if c.geom is not None)
        city.buildings.extend(draft.buildings)
