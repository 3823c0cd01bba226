"""The demo city in memory, before it is written: plain records, lon/lat geometry (SRID 4490)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gis.boundaries import ancestor_code


def rng_for(seed: int, *keys: int | str) -> np.random.Generator:
    """A generator for one purpose and one unit, so changing one part never shifts another."""
    ints = [seed] + [
        k if isinstance(k, int) else int.from_bytes(k.encode(), "little") % 2**63 for k in keys
    ]
    return np.random.default_rng(ints)


@dataclass
class Area:
    """A district, street, community or grid."""

    code: str
    name: str
    geom: Any
    parent_code: str = ""
    kind: str = ""  # street/town for streets; comprehensive/dedicated for grids
    profile: str = ""  # communities: the planned profile A/B/C/D (never stored as the class)
    area_type: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    worker_name: str | None = None

    @property
    def district_code(self) -> str:
        return ancestor_code(self.code, "district")


@dataclass
class CompoundRec:
    code: str
    name: str
    grid_code: str
    housing_type: str
    managed: bool
    households: int
    residents: int
    geom: Any = None

    @property
    def community_code(self) -> str:
        return ancestor_code(self.grid_code, "community")


@dataclass
class BuildingRec:
    code: str
    grid_code: str
    compound_code: str | None
    households: int
    residents: int
    elderly: int
    lon: float = 0.0
    lat: float = 0.0

    @property
    def community_code(self) -> str:
        return ancestor_code(self.grid_code, "community")


@dataclass
class BranchRec:
    kind: str
    name: str
    community_code: str
    grid_code: str | None = None
    compound_code: str | None = None
    building_code: str | None = None
    secretary: str | None = None
    members: int = 0


@dataclass
class FacilityRec:
    code: str
    type: str
    name: str
    district_code: str
    lon: float
    lat: float
    radius_m: float
    staff: int = 0
    seats: int = 0
    hours: str = "24h"


@dataclass
class City:
    districts: list[Area] = field(default_factory=list)
    streets: list[Area] = field(default_factory=list)
    communities: list[Area] = field(default_factory=list)
    grids: list[Area] = field(default_factory=list)
    compounds: list[CompoundRec] = field(default_factory=list)
    buildings: list[BuildingRec] = field(default_factory=list)
    branches: list[BranchRec] = field(default_factory=list)
    facilities: list[FacilityRec] = field(default_factory=list)
