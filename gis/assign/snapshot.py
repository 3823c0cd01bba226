"""The layers assignment needs, read from PostGIS once per boundary version.

A snapshot holds, as of one time, the grids with their community, street and
district, the district outlines, the active enforcement stations, the
compounds and the party branches, as sorted numpy arrays: grids by code (so
the smallest index is the smallest code), stations, compounds and branches by
id (so ties go to the oldest).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, text

from gis.assign.epoch import current_epochs
from gis.assign.metric import degree_tolerance
from gis.models import STATION
from gis.validity import boundary_closed_by, boundary_valid, facility_in_service

Objects = NDArray[np.object_]


def _valid(at: datetime | None) -> str:
    return boundary_valid(None, at is not None)


@dataclass
class Snapshot:
    """Arrays of the layers valid at ``at``; see the module docstring for their order."""

    at: datetime | None
    version_id: int | None
    grid_geom: Objects
    grid_code: Objects
    grid_name: Objects
    grid_community: Objects
    grid_street: Objects
    grid_district: Objects
    district_geom: Objects
    district_code: Objects
    names: dict[str, str]  # code → name for communities, streets and districts
    station_id: NDArray[np.int64]
    station_code: Objects
    station_name: Objects
    station_lon: NDArray[np.float64]
    station_lat: NDArray[np.float64]
    station_radius_m: NDArray[np.float64]
    station_district: Objects
    compound_id: NDArray[np.int64]
    compound_geom: Objects
    branch_id: NDArray[np.int64]
    branch_name: Objects
    branch_kind: Objects
    compound_branch: dict[int, int]  # compound id → branch index
    grid_branch: dict[str, int]  # grid code → branch index
    community_branch: dict[str, int]  # community code → branch index
    epoch: int = 0  # of the assignment inputs read (gis.assign.epoch)
    boundaries_epoch: int = 0  # the epoch of the last boundary change read
    whole: bool = True  # False when read ``near`` a place only


def _rows(conn: Connection, sql: str, at: datetime | None, **params: Any) -> list[Any]:
    if at is not None:
        params["at"] = at
    return list(conn.execute(text(sql), params).all())


def _near(near: bytes | None) -> str:
    """Rows whose bounding box meets ``near`` (all rows when None)."""
    return "" if near is None else " AND geom && ST_GeomFromWKB(:near, 4490)"


def _geoms(rows: list[Any], column: int) -> Objects:
    wkb = np.array([bytes(r[column]) for r in rows], dtype=object)
    return np.asarray(shapely.from_wkb(wkb), dtype=object) if len(rows) else np.empty(0, object)


def _col(rows: list[Any], column: int, dtype: Any = object) -> Any:
    return np.array([r[column] for r in rows], dtype=dtype) if rows else np.empty(0, dtype)


# Answers near a change are checked this far around it (twice the snap tolerance, at least
# this); a snapshot that answers for them reads twice as far (see load_snapshot's ``near``).
NEAR_MIN_M = 100.0


def near_deg(snap_tolerance_m: float, box: BaseGeometry) -> float:
    """How far (degrees) around ``box`` answers may change with it: twice the snap
    tolerance, at least NEAR_MIN_M, at the box's latitudes."""
    metres = max(NEAR_MIN_M, 2 * snap_tolerance_m)
    return degree_tolerance(metres, max(abs(box.bounds[1]), abs(box.bounds[3])))


def version_at(conn: Connection, at: datetime | None) -> int | None:
    """The boundary version an answer as of ``at`` is made under."""
    if at is None:
        return conn.execute(text("SELECT max(id) FROM boundary_versions")).scalar_one_or_none()
    # The newest version that opened a row valid at ``at`` or closed one before it.
    parts = " UNION ALL ".join(
        f"SELECT max(version_id) FROM {t} WHERE {_valid(at)}"
        f" UNION ALL SELECT max(retired_version_id) FROM {t} WHERE {boundary_closed_by(None)}"
        for t in ("districts", "streets", "communities", "grids")
    )
    value = conn.execute(text(f"SELECT max(v) FROM ({parts}) AS s(v)"), {"at": at}).scalar()
    return int(value) if value is not None else None


@contextmanager
def _reading(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind  # inside the caller's transaction: it sees what that transaction wrote
    else:
        with bind.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            yield conn


# The fields read from the boundary tables (and ``boundary_versions``), which a reload under
# the same boundaries epoch takes over from the previous snapshot.
BOUNDARY_FIELDS = (
    "version_id",
    "grid_geom",
    "grid_code",
    "grid_name",
    "grid_community",
    "grid_street",
    "grid_district",
    "district_geom",
    "district_code",
    "names",
)


def _boundaries(conn: Connection, at: datetime | None, box: bytes | None) -> dict[str, Any]:
    """The grids, district outlines, unit names and boundary version of the snapshot."""
    valid = _valid(at)
    grids = _rows(
        conn,
        "SELECT code, name, community_code, street_code, district_code, ST_AsBinary(geom)"
        f" FROM grids WHERE {valid}{_near(box)} ORDER BY code",
        at,
        near=box,
    )
    districts = _rows(
        conn,
        "SELECT code, name, ST_AsBinary(geom) FROM districts"
        f" WHERE {valid}{_near(box)} ORDER BY code",
        at,
        near=box,
    )
    communities = sorted({r[2] for r in grids})
    streets = sorted({r[3] for r in grids})
    named = "" if box is None else " AND code = ANY(:codes)"
    names = {
        code: name
        for table, codes in (("streets", streets), ("communities", communities))
        for code, name in _rows(
            conn, f"SELECT code, name FROM {table} WHERE {valid}{named}", at, codes=codes
        )
    }
    names.update({r[0]: r[1] for r in districts})
    return {
        "version_id": version_at(conn, at),
        "grid_geom": _geoms(grids, 5),
        "grid_code": _col(grids, 0),
        "grid_name": _col(grids, 1),
        "grid_community": _col(grids, 2),
        "grid_street": _col(grids, 3),
        "grid_district": _col(grids, 4),
        "district_geom": _geoms(districts, 2),
        "district_code": _col(districts, 0),
        "names": names,
    }


def _places(
    conn: Connection, at: datetime | None, box: bytes | None, units: dict[str, Any]
) -> dict[str, Any]:
    """The stations, compounds and party branches of the snapshot (``units``: its
    boundary fields, which bound what is read with ``box``)."""
    district_codes = sorted({*units["district_code"].tolist(), *units["grid_district"].tolist()})
    communities = sorted(set(units["grid_community"].tolist()))
    # A station answers for a point it covers, or as the nearest of the point's district.
    reaches = (
        ""
        if box is None
        else " AND (district_code = ANY(:districts) OR service_area && ST_GeomFromWKB(:near, 4490))"
    )
    stations = _rows(
        conn,
        "SELECT id, code, name, ST_X(geom), ST_Y(geom), service_radius_m, district_code"
        f" FROM facilities WHERE type = '{STATION}'"
        f" AND {facility_in_service(None, at is not None)}{reaches}"
        " ORDER BY id",
        at,
        near=box,
        districts=district_codes,
    )
    compounds = _rows(
        conn,
        f"SELECT id, ST_AsBinary(geom) FROM compounds WHERE true{_near(box)} ORDER BY id",
        None,
        near=box,
    )
    seats = (
        ""
        if box is None
        else " AND (community_code = ANY(:communities) OR compound_id = ANY(:compounds))"
    )
    branches = _rows(
        conn,
        "SELECT id, name, kind, compound_id, grid_code, community_code FROM party_branches"
        " WHERE kind IN ('compound_branch', 'grid_branch', 'community_committee')"
        f"{seats} ORDER BY id",
        None,
        communities=communities,
        compounds=[int(r[0]) for r in compounds],
    )
    compound_branch: dict[int, int] = {}
    grid_branch: dict[str, int] = {}
    community_branch: dict[str, int] = {}
    for i, (_, _, kind, compound_id, grid_code, community_code) in enumerate(branches):
        # setdefault: when a seat has several branches, the oldest (smallest id) answers.
        if kind == "compound_branch":
            compound_branch.setdefault(int(compound_id), i)
        elif kind == "grid_branch":
            grid_branch.setdefault(grid_code, i)
        else:
            community_branch.setdefault(community_code, i)
    return {
        "station_id": _col(stations, 0, np.int64),
        "station_code": _col(stations, 1),
        "station_name": _col(stations, 2),
        "station_lon": _col(stations, 3, np.float64),
        "station_lat": _col(stations, 4, np.float64),
        "station_radius_m": _col(stations, 5, np.float64),
        "station_district": _col(stations, 6),
        "compound_id": _col(compounds, 0, np.int64),
        "compound_geom": _geoms(compounds, 1),
        "branch_id": _col(branches, 0, np.int64),
        "branch_name": _col(branches, 1),
        "branch_kind": _col(branches, 2),
        "compound_branch": compound_branch,
        "grid_branch": grid_branch,
        "community_branch": community_branch,
    }


def load_snapshot(
    bind: Engine | Connection,
    at: datetime | None = None,
    near: BaseGeometry | None = None,
    previous: Snapshot | None = None,
) -> Snapshot:
    """Read every layer valid at ``at`` (current when None) in one consistent view: a
    repeatable-read connection of an engine, or the given connection's transaction.

    With ``near`` (CGCS2000), only what can answer for points inside it is read: the grids,
    compounds and districts whose bounding box meets it, the stations whose service area's
    bounding box meets it or that serve one of those districts, and the branches and names
    of those units. At province scale this is a few dozen rows of each instead of a hundred
    thousand, with the same answers for such points.

    ``previous``: a whole current snapshot; when the boundaries epoch has not moved since
    it, its boundary fields (the very arrays) are taken over and only the stations,
    compounds and branches are read.
    """
    box = None if near is None else shapely.to_wkb(near)
    with _reading(bind) as conn:
        epoch, boundaries_epoch = current_epochs(conn)
        if (
            previous is not None
            and previous.whole
            and previous.at is None
            and at is None
            and near is None
            and previous.boundaries_epoch == boundaries_epoch
        ):
            units = {name: getattr(previous, name) for name in BOUNDARY_FIELDS}
        else:
            units = _boundaries(conn, at, box)
        places = _places(conn, at, box, units)
    return Snapshot(
        at=at,
        **units,
        **places,
        epoch=epoch,
        boundaries_epoch=boundaries_epoch,
        whole=near is None,
    )
