"""Re-assign the open incidents an edit touches, inside the edit's own transaction.

The assignment rules live in :mod:`gis.assign`; its snapshot is read here through
the session's connection, so it sees the rows this transaction has just
written (a separate connection would still see the old boundaries).
"""

from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.assign import Assigner
from gis.assign.snapshot import load_snapshot, near_deg
from gis.incidents.reassign import NearGrids, reassign_open
from gis.settings import Settings
from gis.validity import boundary_current


def assigner_in(session: Session, settings: Settings, box: BaseGeometry | None = None) -> Assigner:
    """An assigner over the boundaries as this transaction sees them (near ``box``)."""
    # Read through this transaction's own connection: it sees the rows just written. Only
    # the grids and compounds near ``box`` are read: building the nearest-edge index of a
    # few dozen grids instead of thousands keeps a commit fast, with the same answers.
    return Assigner(load_snapshot(session.connection(), near=box), settings)


def affected_box(session: Session, codes: list[str]) -> BaseGeometry | None:
    """The bounding box of the affected grids' current outlines, or None."""
    wkb = session.execute(
        text(
            "SELECT ST_AsBinary(ST_SetSRID(ST_Extent(geom)::geometry, 4490)) FROM grids"
            f" WHERE code = ANY(:codes) AND {boundary_current()}"
        ),
        {"codes": codes},
    ).scalar_one_or_none()
    return None if wkb is None else shapely.from_wkb(bytes(wkb))


def reassign(
    session: Session,
    codes: list[str],
    actor: str,
    reason: str,
    settings: Settings,
    version: int | None = None,
) -> int:
    box = affected_box(session, codes) if codes else None
    if box is None:
        return 0
    near = near_deg(settings.snap_tolerance_m, box)
    # Every point checked lies within ``near`` of the box, so every unit that can answer
    # for one (within the snap tolerance of it) lies within 2 * near.
    return reassign_open(
        session,
        lambda: assigner_in(session, settings, shapely.buffer(box, 2 * near)),
        actor=actor,
        reason=reason,
        version=version,
        near_grids=NearGrids(codes, box, near),
    )
