"""Re-assign the open incidents an edit touches, inside the edit's own transaction.

The assignment rules live in :mod:`gis.assign`; its snapshot is read here through
the session's connection, so it sees the rows this transaction has just
written (a separate connection would still see the old boundaries).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis.assign import Assigner
from gis.assign.snapshot import load_snapshot
from gis.incidents import reassign_open
from gis.settings import Settings


class _ThisTransaction:
    """Engine-shaped view of one open connection, as ``load_snapshot`` reads through it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def connect(self) -> _ThisTransaction:
        return self

    def execution_options(self, **_: Any) -> _ThisTransaction:
        return self  # the transaction is already open; its isolation stays as it is

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None  # the session owns the connection


def assigner_in(session: Session, settings: Settings) -> Assigner:
    """An assigner over the boundaries as this transaction sees them."""
    return Assigner(load_snapshot(_ThisTransaction(session.connection())), settings)  # type: ignore[arg-type]


def incidents_to_check(session: Session, codes: list[str]) -> list[int]:
    """Open incidents of the affected grids, and snapped or unassigned ones near them."""
    if not codes:
        return []
    return [
        int(i)
        for i in session.execute(
            text(
                "SELECT id FROM incidents WHERE status <> 'closed' AND grid_code = ANY(:codes)"
                " UNION SELECT i.id FROM incidents i,"
                " (SELECT ST_Expand(ST_Extent(geom), 0.01) AS box"
                "  FROM grids WHERE code = ANY(:codes) AND valid_to IS NULL) AS a"
                " WHERE i.status <> 'closed' AND i.match IN ('snapped', 'outside')"
                " AND i.geom && a.box"
            ),
            {"codes": codes},
        ).scalars()
    ]


def reassign(
    session: Session, codes: list[str], actor: str, reason: str, settings: Settings
) -> int:
    ids = incidents_to_check(session, codes)
    if not ids:
        return 0
    return reassign_open(session, assigner_in(session, settings), ids, actor=actor, reason=reason)
