"""A synthetic city of 20 x 20 square grids with report clusters planted in it.

Grid (row, col) is the square of side ``SIDE`` degrees whose south-west corner is
``(LON0 + col * SIDE, LAT0 + row * SIDE)``; columns 0-9 lie in district ``WEST``,
10-19 in district ``EAST``, each district one street and one community. Reports received
``RECENT_DAYS`` ago form a 3 x 3 block of noise reports around ``NOISE_CENTRE`` and one of
litter reports around ``LITTER_CENTRE``; an old block ``OLD_DAYS`` ago sits around
``OLD_CENTRE``; one report in about every third grid is scattered noise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis.assign import Assigner
from gis.incidents.intake import create_incident
from gis.incidents.records import IncidentIn
from gis.models import (
    BoundaryVersion,
    Community,
    District,
    Grid,
    IncidentCategory,
    Street,
    Unit,
)

N = 20
SIDE = 0.01
LON0, LAT0 = 101.5, 36.5
WEST, EAST = "630103", "630104"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
RECENT_DAYS, OLD_DAYS = 5, 60
PER_GRID = 20  # reports in each grid of a planted block
NOISE_CENTRE = (5, 4)  # in WEST
LITTER_CENTRE = (14, 15)  # in EAST
OLD_CENTRE = (15, 4)  # in WEST, long ago
UNIT = "sanitation"  # litter reports are dispatched to it


def district_of(col: int) -> str:
    return WEST if col < N // 2 else EAST


def grid_code(row: int, col: int) -> str:
    """Each district's community numbers its 200 grids row by row."""
    k = row * (N // 2) + col % (N // 2) + 1
    return f"{district_of(col)}001001{k:03d}"


def block(centre: tuple[int, int]) -> list[tuple[int, int]]:
    r, c = centre
    return [(r + dr, c + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)]


def _box(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"SRID=4490;MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


def _boundaries(s: Session) -> None:
    s.add(BoundaryVersion(created_at=T0, author="test", reason="initial", operation="load"))
    s.flush()
    common = {"valid_from": T0, "version_id": 1}
    for d, name in ((WEST, "城西区"), (EAST, "城东区")):
        c0 = 0 if d == WEST else N // 2
        x0, x1 = LON0 + c0 * SIDE, LON0 + (c0 + N // 2) * SIDE
        outline = _box(x0, LAT0, x1, LAT0 + N * SIDE)
        s.add(District(code=d, name=name, district_code=d, geom=outline, **common))
        s.add(Street(code=d + "001", name=f"{name}街道", district_code=d, geom=outline, **common))
        s.add(
            Community(
                code=d + "001001",
                name=f"{name}社区",
                district_code=d,
                street_code=d + "001",
                geom=outline,
                **common,
            )
        )
    for row in range(N):
        for col in range(N):
            code = grid_code(row, col)
            x, y = LON0 + col * SIDE, LAT0 + row * SIDE
            s.add(
                Grid(
                    code=code,
                    name=f"网格{row:02d}-{col:02d}",
                    district_code=code[:6],
                    street_code=code[:9],
                    community_code=code[:12],
                    geom=_box(x, y, x + SIDE, y + SIDE),
                    **common,
                )
            )
    for code, zh, en in (("noise", "噪音", "Noise"), ("litter", "垃圾", "Litter")):
        s.add(IncidentCategory(code=code, name_zh=zh, name_en=en, handling_unit="test"))
    s.add(Unit(code=UNIT, name="环卫处", kind="department"))


def planted() -> list[tuple[int, int, str, int]]:
    """(row, col, category, days ago) of every report of the city."""
    rng = np.random.default_rng(7)
    reports = [(r, c, "noise", RECENT_DAYS) for r, c in block(NOISE_CENTRE)] * PER_GRID
    reports += [(r, c, "litter", RECENT_DAYS) for r, c in block(LITTER_CENTRE)] * PER_GRID
    reports += [(r, c, "noise", OLD_DAYS) for r, c in block(OLD_CENTRE)] * PER_GRID
    for row in range(N):
        for col in range(N):
            if rng.random() < 1 / 3:
                reports.append((row, col, "noise", RECENT_DAYS))
    return reports


def build_city(engine: Engine) -> None:
    """Boundaries in one transaction, then the reports through the intake, all assigned."""
    with Session(engine) as s, s.begin():
        _boundaries(s)
    assigner = Assigner.load(engine)
    now = datetime.now(UTC)
    rng = np.random.default_rng(11)
    with Session(engine) as s, s.begin():
        for row, col, category, days in planted():
            dx, dy = rng.uniform(0.1, 0.9, 2) * SIDE
            incident, _ = create_incident(
                s,
                IncidentIn(
                    channel="hotline_call",
                    category_code=category,
                    description="test",
                    crs="cgcs2000",
                    lon=LON0 + col * SIDE + dx,
                    lat=LAT0 + row * SIDE + dy,
                    received_at=now - timedelta(days=days, hours=float(rng.uniform(0, 12))),
                ),
                "test",
                assigner,
            )
            assert incident.grid_code == grid_code(row, col)
            if category == "litter":
                incident.unit_code = UNIT
