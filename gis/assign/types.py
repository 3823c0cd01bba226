"""What an assignment (归属) answers: the units, the station and the party branch of a point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

MATCH_INSIDE = "inside"
MATCH_BOUNDARY = "boundary"
MATCH_SNAPPED = "snapped"
MATCH_OUTSIDE = "outside"
# Match codes in AssignmentColumns order: index = code stored in the int8 arrays.
MATCHES = (MATCH_INSIDE, MATCH_BOUNDARY, MATCH_SNAPPED, MATCH_OUTSIDE)


@dataclass(frozen=True)
class Unit:
    """A district, street, community or grid: its code and name."""

    code: str
    name: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name}


@dataclass(frozen=True)
class StationMatch:
    """The responsible enforcement station (综合执法服务站) and how far it is on the ground."""

    id: int
    code: str
    name: str
    distance_m: float
    within_radius: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "distance_m": round(self.distance_m, 2),
            "within_radius": self.within_radius,
        }


@dataclass(frozen=True)
class BranchMatch:
    """The most specific party organisation (党组织) over the point."""

    id: int
    name: str
    kind: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind}


def _unit(u: Unit | None) -> dict[str, str] | None:
    return u.as_dict() if u is not None else None


@dataclass(frozen=True)
class Assignment:
    """One point's assignment; ``as_dict`` is the body of ``GET /api/v1/locate``."""

    match: str
    distance_m: float
    grid: Unit | None
    community: Unit | None
    street: Unit | None
    district: Unit | None
    station: StationMatch | None
    party_branch: BranchMatch | None
    boundary_version_id: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "match": self.match,
            "distance_m": round(self.distance_m, 2),
            "grid": _unit(self.grid),
            "community": _unit(self.community),
            "street": _unit(self.street),
            "district": _unit(self.district),
            "station": self.station.as_dict() if self.station else None,
            "party_branch": self.party_branch.as_dict() if self.party_branch else None,
            "boundary_version": self.boundary_version_id,
        }


@dataclass
class AssignmentColumns:
    """``locate_many``'s answer, one entry per input point, column-wise.

    Codes are object arrays holding ``None`` where there is no unit; ids are
    ``-1`` where there is none; ``station_distance_m`` is NaN without a station.
    """

    match: NDArray[np.object_]
    distance_m: NDArray[np.float64]
    grid_code: NDArray[np.object_]
    community_code: NDArray[np.object_]
    street_code: NDArray[np.object_]
    district_code: NDArray[np.object_]
    station_id: NDArray[np.int64]
    station_distance_m: NDArray[np.float64]
    station_within_radius: NDArray[np.bool_]
    party_branch_id: NDArray[np.int64]
    boundary_version_id: int | None

    def __len__(self) -> int:
        return len(self.match)
