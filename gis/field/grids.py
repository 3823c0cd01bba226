"""The grids a grid worker serves (网格员的网格) and the one rule of grid scope.

A ``grid_worker`` token names one or more grids by code (:class:`gis.models.ApiTokenGrid`).
Grids record who works them (``grids.worker_name``, the roster); the token is named for
the person holding it. Creating a token reads the roster: without a name the token takes
the grids' recorded worker (when they all record the same one), and the answer lists each
grid with its recorded worker, so an operator sees at once a stand-in covering another
worker's grid (顶岗).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.errors import Forbidden, InvalidInput
from gis.models import ApiTokenGrid, Community, Grid
from gis.validity import boundary_valid_clause

FIELD = "grid_codes"


@dataclass(frozen=True)
class GridOfWorker:
    """One current grid as the field page names it."""

    code: str
    name: str
    community_code: str
    community_name: str | None
    district_code: str
    worker_name: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "name": self.name,
            "community_code": self.community_code,
            "community_name": self.community_name,
            "worker_name": self.worker_name,
        }


def current_grids(session: Session, codes: Iterable[str]) -> list[GridOfWorker]:
    """The current grids among ``codes``, by code, with their community's name."""
    wanted = sorted(set(codes))
    if not wanted:
        return []
    rows = session.execute(
        select(
            Grid.code,
            Grid.name,
            Grid.community_code,
            Community.name,
            Grid.district_code,
            Grid.worker_name,
        )
        .outerjoin(
            Community,
            (Community.code == Grid.community_code) & boundary_valid_clause(Community),
        )
        .where(Grid.code.in_(wanted), boundary_valid_clause(Grid))
        .order_by(Grid.code)
    )
    return [GridOfWorker(*row) for row in rows]


def check_grid_codes(
    session: Session, role: str, codes: Sequence[str], district_code: str | None
) -> list[GridOfWorker]:
    """The grids a new token of ``role`` names: one or more current grids for a grid_worker,
    none for any other role; an unknown grid, or one outside the token's district, is an
    :class:`InvalidInput` naming ``grid_codes``."""
    if role != "grid_worker":
        if codes:
            raise InvalidInput(f"only a grid_worker token names grids, not a {role} token", FIELD)
        return []
    if not codes:
        raise InvalidInput("a grid_worker token must name at least one grid (grid_codes)", FIELD)
    found = current_grids(session, codes)
    known = {g.code for g in found}
    unknown = [c for c in dict.fromkeys(codes) if c not in known]
    if unknown:
        raise InvalidInput(f"no current grid with code {', '.join(unknown)}", FIELD)
    if district_code is not None:
        outside = [g.code for g in found if g.district_code != district_code]
        if outside:
            raise InvalidInput(
                f"grid {', '.join(outside)} is not in the token's district {district_code}",
                FIELD,
            )
    return found


def link_grids(session: Session, token_id: int, grids: Sequence[GridOfWorker]) -> None:
    session.add_all(
        ApiTokenGrid(token_id=token_id, grid_code=g.code, district_code=g.district_code)
        for g in grids
    )


def token_grid_codes(session: Session, token_id: int) -> tuple[str, ...]:
    """The grid codes a token serves, in code order (none for other roles)."""
    return tuple(
        session.scalars(
            select(ApiTokenGrid.grid_code)
            .where(ApiTokenGrid.token_id == token_id)
            .order_by(ApiTokenGrid.grid_code)
        )
    )


def in_grids(grid_code: str | None, grids: Sequence[str]) -> bool:
    """The one rule of grid scope: a grid worker acts on what lies in one of its grids;
    a point or case in no grid belongs to no grid worker."""
    return grid_code is not None and grid_code in grids


def check_in_grids(grid_code: str | None, grids: Sequence[str], what: str, field: str) -> None:
    """:class:`Forbidden` naming ``field`` unless ``what`` lies in one of ``grids``."""
    if not in_grids(grid_code, grids):
        where = f"grid {grid_code}" if grid_code else "no grid"
        raise Forbidden(
            f"{what} is in {where}; this grid worker serves grid {', '.join(grids)} only",
            field=field,
        )
