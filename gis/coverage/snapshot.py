"""What coverage is computed from, read once per state of the database and kept in memory.

A :class:`Snapshot` holds the active facilities with their circles, the
buildings (residents, households, elderly) and the incidents of the last year,
all in metric EPSG:4543 coordinates. It is cached per database and per
fingerprint — one cheap query over facilities, boundary versions, buildings and
incidents — so a planner's edit or a new incident is seen at the next request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, text

from gis.coords import geometry_to_local, to_local
from gis.coverage.circles import geodesic_circles
from gis.validity import facility_in_service

INCIDENT_HORIZON_DAYS = 366  # the longest window coverage statistics accept

FINGERPRINT_SQL = text(
    """
    SELECT
      (SELECT coalesce(md5(string_agg(concat_ws(':', id, active, type, service_radius_m,
              staff, seats, district_code, ST_AsEWKB(geom)::text), ',' ORDER BY id)), '-')
         FROM facilities),
      (SELECT coalesce(max(id), 0) FROM boundary_versions),
      (SELECT concat_ws(':', count(*), max(id), sum(residents), sum(households),
              sum(elderly_residents)) FROM buildings),
      (SELECT concat_ws(':', count(*), max(id)) FROM incidents),
      current_date
    """
)


def unit_number(codes: NDArray[Any], length: int) -> NDArray[np.int64]:
    """Leading ``length`` digits of each code as an integer (-1 where missing or shorter)."""
    head = np.asarray([c or "" for c in codes], dtype=str).astype(f"<U{length}")  # truncates
    out = np.full(head.shape[0], -1, dtype=np.int64)
    ok = np.char.str_len(head) == length
    out[ok] = head[ok].astype(np.int64)
    return out


@dataclass
class Facilities:
    id: NDArray[np.int64]
    code: NDArray[Any]
    name: NDArray[Any]
    type: NDArray[Any]
    district: NDArray[Any]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    radius_m: NDArray[np.float64]
    staff: NDArray[np.int64]
    seats: NDArray[np.int64]
    circle: NDArray[Any]  # metric polygons

    def select(self, mask: NDArray[np.bool_]) -> Facilities:
        return Facilities(**{k: v[mask] for k, v in self.__dict__.items()})


@dataclass
class Points:
    """Demand points in metric coordinates with their unit codes as integers."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    district: NDArray[np.int64]
    street: NDArray[np.int64]
    community: NDArray[np.int64]
    weights: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    received: NDArray[np.float64] | None = None  # epoch seconds (incidents)
    _geoms: NDArray[Any] | None = None

    @property
    def geoms(self) -> NDArray[Any]:
        if self._geoms is None:
            self._geoms = np.asarray(shapely.points(self.x, self.y), dtype=object)
        return self._geoms

    def in_unit(self, level: str | None, code: str | None) -> NDArray[np.bool_]:
        if level is None or code is None:
            return np.ones(self.x.shape[0], dtype=bool)
        values: NDArray[np.int64] = getattr(self, level)
        return np.asarray(values == int(code), dtype=bool)


@dataclass
class Snapshot:
    fingerprint: tuple[Any, ...]
    facilities: Facilities
    buildings: Points
    incidents: Points
    loaded_at: datetime
    cache: dict[Any, Any] = field(default_factory=dict)  # derived results, per snapshot
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def version(self) -> str:
        return f"{self.fingerprint[1]}-{str(self.fingerprint[0])[:12]}"


def _facilities(conn: Connection) -> Facilities:
    rows = conn.execute(
        text(
            "SELECT id, code, name, type, district_code, ST_X(geom), ST_Y(geom),"
            " service_radius_m, staff, seats, ST_AsBinary(service_area)"
            f" FROM facilities WHERE {facility_in_service(None, False)} ORDER BY id"
        )
    ).all()
    cols = list(zip(*rows, strict=True)) if rows else [()] * 11
    lon = np.asarray(cols[5], dtype=float)
    lat = np.asarray(cols[6], dtype=float)
    radius = np.asarray(cols[7], dtype=float)
    stored = np.asarray(
        [shapely.from_wkb(bytes(b)) if b is not None else None for b in cols[10]], dtype=object
    )
    missing = np.asarray([g is None for g in stored], dtype=bool)
    if missing.any():  # a circle not yet computed (e.g. a fresh import): compute it on the fly
        stored[missing] = geodesic_circles(lon[missing], lat[missing], radius[missing])
    return Facilities(
        id=np.asarray(cols[0], dtype=np.int64),
        code=np.asarray(cols[1], dtype=object),
        name=np.asarray(cols[2], dtype=object),
        type=np.asarray(cols[3], dtype=object),
        district=np.asarray(cols[4], dtype=object),
        lon=lon,
        lat=lat,
        radius_m=radius,
        staff=np.asarray(cols[8], dtype=np.int64),
        seats=np.asarray(cols[9], dtype=np.int64),
        circle=np.asarray(geometry_to_local(stored), dtype=object)
        if len(stored)
        else np.empty(0, dtype=object),
    )


def _points(row: Any, weight_names: tuple[str, ...]) -> Points:
    """Demand from one row of parallel arrays (array_agg): lon, lat, code, weights..."""
    lon = np.asarray(row[0] or [], dtype=float)
    lat = np.asarray(row[1] or [], dtype=float)
    x, y = to_local(lon, lat)
    codes = np.asarray(row[2] or [], dtype=object)
    weights = {
        name: np.asarray(row[3 + i] or [], dtype=float) for i, name in enumerate(weight_names)
    }
    return Points(
        x=x,
        y=y,
        district=unit_number(codes, 6),
        street=unit_number(codes, 9),
        community=unit_number(codes, 12),
        weights=weights,
    )


def load_snapshot(engine: Engine, fingerprint: tuple[Any, ...]) -> Snapshot:
    with engine.connect() as conn:
        facilities = _facilities(conn)
        buildings = _points(
            conn.execute(
                text(
                    "SELECT array_agg(ST_X(geom) ORDER BY id), array_agg(ST_Y(geom) ORDER BY id),"
                    " array_agg(community_code ORDER BY id), array_agg(residents ORDER BY id),"
                    " array_agg(households ORDER BY id),"
                    " array_agg(elderly_residents ORDER BY id) FROM buildings"
                )
            ).one(),
            ("residents", "households", "elderly_residents"),
        )
        row = conn.execute(
            text(
                "SELECT array_agg(ST_X(geom)), array_agg(ST_Y(geom)),"
                " array_agg(coalesce(community_code, district_code)),"
                " array_agg(extract(epoch FROM received_at)::float8) FROM incidents"
                " WHERE received_at >= now() - make_interval(days => :days)"
            ),
            {"days": INCIDENT_HORIZON_DAYS},
        ).one()
        incidents = _points(row, ("received",))
        incidents.received = incidents.weights.pop("received")
        incidents.weights["incidents"] = np.ones(incidents.x.shape[0])
        loaded_at = conn.execute(text("SELECT now()")).scalar_one()
    return Snapshot(fingerprint, facilities, buildings, incidents, loaded_at)


_SNAPSHOTS: dict[str, Snapshot] = {}
_LOAD_LOCK = threading.Lock()


def current_snapshot(engine: Engine) -> Snapshot:
    """The snapshot for the database's present state, reloaded only when it changed."""
    with engine.connect() as conn:
        fingerprint = tuple(conn.execute(FINGERPRINT_SQL).one())
    key = str(engine.url)
    snap = _SNAPSHOTS.get(key)
    if snap is not None and snap.fingerprint == fingerprint:
        return snap
    with _LOAD_LOCK:
        snap = _SNAPSHOTS.get(key)
        if snap is None or snap.fingerprint != fingerprint:
            snap = load_snapshot(engine, fingerprint)
            _SNAPSHOTS[key] = snap
    return snap


def clear() -> None:
    _SNAPSHOTS.clear()
