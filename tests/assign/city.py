"""A small test city: boxes sharing edges and a vertex, stations with radii, branches.

Districts 630103 (x 101.70-101.80) and 630104 (x 101.60-101.70), y 36.55-36.65.
Grids (version 1, from T1):
  community 630103001001 (x 101.70-101.75): four grids meeting at (101.725, 36.60):
    ...001 SW, ...002 SE, ...003 NW, ...004 NE
  community 630103001002 (x 101.75-101.80): ...001 west, ...002 east of x = 101.775
  community 630104001001: one grid x 101.60-101.65 (x 101.65-101.70 has no grid)
Version 2 (from T2) moves the edge between 630103001002001 and ...002 to x = 101.785.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis.models import (
    BoundaryVersion,
    Community,
    Compound,
    District,
    Facility,
    Grid,
    PartyBranch,
    Street,
)

T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 6, 1, tzinfo=UTC)
Y0, YM, Y1 = 36.55, 36.60, 36.65
VERTEX = (101.725, YM)  # shared by the four grids of community 630103001001
OLD_EDGE, NEW_EDGE = 101.775, 101.785

D3, D4 = "630103", "630104"
C31, C32, C41 = "630103001001", "630103001002", "630104001001"

GRIDS_V1 = {
    C31 + "001": (101.70, Y0, 101.725, YM),
    C31 + "002": (101.725, Y0, 101.75, YM),
    C31 + "003": (101.70, YM, 101.725, Y1),
    C31 + "004": (101.725, YM, 101.75, Y1),
    C32 + "001": (101.75, Y0, OLD_EDGE, Y1),
    C32 + "002": (OLD_EDGE, Y0, 101.80, Y1),
    C41 + "001": (101.60, Y0, 101.65, Y1),
}
MOVED = {C32 + "001": (101.75, Y0, NEW_EDGE, Y1), C32 + "002": (NEW_EDGE, Y0, 101.80, Y1)}
GRIDS_V2 = {**GRIDS_V1, **MOVED}

# code, district, lon, lat, radius, active
STATIONS = [
    ("ES-S1", D3, 101.720, 36.580, 2000.0, True),
    ("ES-S2", D4, 101.695, 36.600, 3000.0, True),
    ("ES-S3", D3, 101.790, 36.640, 500.0, True),
    ("ES-OLD", D3, 101.760, 36.600, 5000.0, False),
]
COMPOUND_BOX = (101.705, 36.560, 101.710, 36.565)  # inside grid 630103001001001


def _box(b: tuple[float, ...]) -> str:
    x0, y0, x1, y1 = b
    return f"SRID=4490;MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


def build_city(engine: Engine) -> None:
    """Write the city into an empty migrated database, versions 1 and 2, in one transaction."""
    with Session(engine) as s, s.begin():
        # Identity ids 1 and 2, one flush each so their order is certain.
        s.add(BoundaryVersion(created_at=T1, author="test", reason="initial", operation="load"))
        s.flush()
        s.add(BoundaryVersion(created_at=T2, author="test", reason="move", operation="reshape"))
        s.flush()

        def versioned(
            model: type[Any], code: str, name: str, box: tuple[float, ...], **kw: Any
        ) -> None:
            s.add(
                model(
                    code=code,
                    name=name,
                    district_code=code[:6],
                    valid_from=T1,
                    version_id=1,
                    geom=_box(box),
                    **kw,
                )
            )

        versioned(District, D3, "城中区", (101.70, Y0, 101.80, Y1))
        versioned(District, D4, "城西区", (101.60, Y0, 101.70, Y1))
        versioned(Street, D3 + "001", "礼让街街道", (101.70, Y0, 101.80, Y1))
        versioned(Street, D4 + "001", "西关大街街道", (101.60, Y0, 101.70, Y1))
        for code, name, box in (
            (C31, "北大街社区", (101.70, Y0, 101.75, Y1)),
            (C32, "南大街社区", (101.75, Y0, 101.80, Y1)),
            (C41, "古城台社区", (101.60, Y0, 101.70, Y1)),
        ):
            versioned(Community, code, name, box, street_code=code[:9])
        for code, box in GRIDS_V1.items():
            retired = {"valid_to": T2, "retired_version_id": 2} if code in MOVED else {}
            versioned(
                Grid,
                code,
                grid_name(code),
                box,
                community_code=code[:12],
                street_code=code[:9],
                **retired,
            )
        s.flush()
        for code, box in MOVED.items():
            s.add(
                Grid(
                    code=code,
                    name=grid_name(code),
                    district_code=code[:6],
                    valid_from=T2,
                    version_id=2,
                    geom=_box(box),
                    community_code=code[:12],
                    street_code=code[:9],
                )
            )
        for code, district, lon, lat, radius, active in STATIONS:
            s.add(
                Facility(
                    code=code,
                    type="enforcement_station",
                    name=f"执法站{code}",
                    district_code=district,
                    geom=f"SRID=4490;POINT({lon} {lat})",
                    service_radius_m=radius,
                    active=active,
                    retired_at=None if active else T1,
                )
            )
        # A canteen is a facility too, never a responsible station.
        s.add(
            Facility(
                code="EC-1",
                type="elderly_canteen",
                name="幸福食堂",
                district_code=D3,
                geom="SRID=4490;POINT(101.7001 36.5801)",
                service_radius_m=1000,
            )
        )
        compound = Compound(
            code="XQ-1",
            name="幸福家园",
            district_code=D3,
            community_code=C31,
            geom=_box(COMPOUND_BOX),
        )
        s.add(compound)
        s.flush()
        for kind, name, community, grid, compound_id in (
            ("community_committee", "北大街社区党委", C31, None, None),
            ("community_committee", "南大街社区党委", C32, None, None),
            ("grid_branch", "网格001党支部", C31, C31 + "001", None),
            ("compound_branch", "幸福家园小区党支部", C31, None, compound.id),
        ):
            s.add(
                PartyBranch(
                    kind=kind,
                    name=name,
                    district_code=community[:6],
                    community_code=community,
                    grid_code=grid,
                    compound_id=compound_id,
                )
            )


def grid_name(code: str) -> str:
    return f"网格{code[9:12]}-{code[12:]}"
