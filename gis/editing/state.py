"""What an edit works on: the current grids of a community and what lies inside them.

Loaded once per preview or commit as plain Shapely data, so the operations
themselves (``operations.py``) are pure geometry with no database access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.classify import ATTRIBUTES
from gis.errors import InvalidInput, NotFound
from gis.validity import boundary_current

# The columns an edit copies from a boundary row to its successor (commit.py inserts them).
GRID_FIELDS = (
    "code, name, district_code, community_code, street_code, kind, households, residents,"
    " worker_name"
)
COMMUNITY_FIELDS = ", ".join(
    ("code", "name", "district_code", "street_code", "households", *ATTRIBUTES, "class")
)
GRID_COLUMNS = f"id, {GRID_FIELDS}, ST_AsBinary(geom) AS wkb"
COMMUNITY_COLUMNS = f"id, {COMMUNITY_FIELDS}, ST_AsBinary(geom) AS wkb"


@dataclass
class Row:
    """One current boundary row: its columns and its outline."""

    id: int
    code: str
    attrs: dict[str, Any]
    geom: BaseGeometry


@dataclass
class Points:
    """Point features (buildings, open incidents) of a community, as arrays."""

    ids: NDArray[np.int64]
    geoms: NDArray[Any]
    households: NDArray[np.int64]
    residents: NDArray[np.int64]
    extra: dict[str, NDArray[Any]] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> Points:
        return cls(
            np.zeros(0, np.int64),
            np.zeros(0, object),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
        )


@dataclass
class CommunityState:
    """A community (社区) with its current grids and the buildings inside it."""

    community: Row
    grids: dict[str, Row]
    used_codes: set[str]
    buildings: Points

    @property
    def code(self) -> str:
        return self.community.code

    def grid(self, code: str, field_name: str) -> Row:
        if code not in self.grids:
            raise InvalidInput(
                f"grid {code} is not a current grid of community {self.code}", field=field_name
            )
        return self.grids[code]

    def next_codes(self, count: int, taken: set[str] | None = None) -> list[str]:
        """The next ``count`` free grid codes; a code ever used is never handed out again."""
        used = self.used_codes | (taken or set())
        free = [f"{self.code}{n:03d}" for n in range(1, 1000) if f"{self.code}{n:03d}" not in used]
        if len(free) < count:
            raise InvalidInput(f"community {self.code} has no free grid codes left", field="grid")
        return free[:count]


def _row(mapping: Any) -> Row:
    attrs = {k: v for k, v in dict(mapping).items() if k not in ("wkb", "id", "code")}
    return Row(
        id=int(mapping["id"]),
        code=str(mapping["code"]),
        attrs=attrs,
        geom=shapely.from_wkb(bytes(mapping["wkb"])),
    )


def community_of_grid(session: Session, grid_code: str, field_name: str = "grid") -> str:
    found = session.execute(
        text(f"SELECT community_code FROM grids WHERE code = :c AND {boundary_current()}"),
        {"c": grid_code},
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"grid {grid_code} does not exist or is retired", field=field_name)
    return str(found)


def load_community(session: Session, code: str, field_name: str = "community") -> CommunityState:
    found = (
        session.execute(
            text(
                f"SELECT {COMMUNITY_COLUMNS} FROM communities"
                f" WHERE code = :c AND {boundary_current()}"
            ),
            {"c": code},
        )
        .mappings()
        .one_or_none()
    )
    if found is None:
        raise NotFound(f"community {code} does not exist or is retired", field=field_name)
    grids = session.execute(
        text(
            f"SELECT {GRID_COLUMNS} FROM grids WHERE community_code = :c AND {boundary_current()}"
        ),
        {"c": code},
    ).mappings()
    used = session.execute(
        text("SELECT DISTINCT code FROM grids WHERE community_code = :c"), {"c": code}
    ).scalars()
    rows = [_row(g) for g in grids]
    community = _row(found)
    return CommunityState(
        community=community,
        grids={r.code: r for r in sorted(rows, key=lambda r: r.code)},
        used_codes=set(used),
        buildings=load_buildings(session, community.geom),
    )


def load_buildings(session: Session, area: BaseGeometry) -> Points:
    """Buildings inside (or on the edge of) ``area``, whatever community they are filed under."""
    rows = session.execute(
        text(
            "SELECT id, households, residents, ST_X(geom) AS x, ST_Y(geom) AS y FROM buildings"
            " WHERE ST_Intersects(geom, ST_GeomFromWKB(:wkb, 4490))"
        ),
        {"wkb": shapely.to_wkb(area)},
    ).all()
    if not rows:
        return Points.empty()
    arr = np.array([(r.id, r.households, r.residents, r.x, r.y) for r in rows], dtype=float)
    return Points(
        ids=arr[:, 0].astype(np.int64),
        geoms=shapely.points(arr[:, 3], arr[:, 4]),
        households=arr[:, 1].astype(np.int64),
        residents=arr[:, 2].astype(np.int64),
    )


def latest_version(session: Session) -> int | None:
    found = session.execute(text("SELECT max(id) FROM boundary_versions")).scalar_one()
    return None if found is None else int(found)
