"""The assignment engine: an in-memory snapshot of one boundary version and its spatial indexes.

Built from PostGIS once (``Assigner.load``), then answers points without the
database: ``locate`` for one point (the dispatcher's call), ``locate_many``
for millions (bulk intake), both through the same vectorised rules in
:mod:`gis.assign.rules`. Large batches first build a cell lookup table
(:mod:`gis.assign.lookup`) so that most points are answered by indexing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely import STRtree
from sqlalchemy import Connection, Engine

from gis.assign import rules
from gis.assign.lookup import MIXED, CellTable, Layer, build_table
from gis.assign.metric import degree_tolerance
from gis.assign.nearest import SegmentIndex
from gis.assign.snapshot import Snapshot, load_snapshot
from gis.assign.types import (
    MATCHES,
    Assignment,
    AssignmentColumns,
    BranchMatch,
    StationMatch,
    Unit,
)
from gis.settings import Settings, get_settings

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

TABLE_THRESHOLD = 50_000  # batches at least this large build (once) and use the cell table
CHUNK = 250_000  # rows per station step, to bound memory


def _with_none(values: NDArray[Any]) -> NDArray[np.object_]:
    """Object array with a trailing ``None``: indexing with -1 reads "no unit"."""
    out = np.empty(len(values) + 1, dtype=object)
    out[:-1] = values
    return out


def _index_of(mapping: dict[Any, int], keys: NDArray[Any]) -> Ints:
    """Indices of ``keys`` in ``mapping`` with a trailing -1 sentinel (-1 when absent)."""
    return np.array([mapping.get(k, -1) for k in keys] + [-1], dtype=np.int64)


class Assigner:
    """Assigns points to grid, community, street, district, station and party branch.

    Immutable once built (the lazy cell table aside, built under a lock), so
    one instance serves every request thread.
    """

    def __init__(
        self, snapshot: Snapshot, settings: Settings | None = None, previous: Assigner | None = None
    ) -> None:
        """Index ``snapshot``; the boundary indexes are taken over from ``previous`` when
        the snapshot holds its very boundary arrays (see ``load_snapshot(previous=...)``)."""
        s = settings or get_settings()
        self.snapshot = snap = snapshot
        self.snap_tolerance_m = float(s.snap_tolerance_m)
        self.area_margin_m = float(s.service_area_margin_m)
        self.boundary_version_id = snap.version_id
        self.epoch = snap.epoch
        if (
            previous is not None
            and previous.snapshot.grid_geom is snap.grid_geom
            and previous.snapshot.district_geom is snap.district_geom
        ):
            self._take_boundaries(previous)
        else:
            self._index_boundaries(snap)
        shapely.prepare(snap.compound_geom)
        self.compound_tree = STRtree(snap.compound_geom)

        codes = sorted(
            {*snap.district_code.tolist(), *snap.grid_district.tolist()}
            | {*snap.station_district.tolist()}
        )
        index = {c: i for i, c in enumerate(codes)}
        self.district_codes = _with_none(np.array(codes, dtype=object))
        self.grid_district = _index_of(index, snap.grid_district)
        self.polygon_district = _index_of(index, snap.district_code)
        self.station_district = _index_of(index, snap.station_district)[:-1]
        self.grid_code = _with_none(snap.grid_code)
        self.community_code = _with_none(snap.grid_community)
        self.street_code = _with_none(snap.grid_street)
        self.station_id = np.append(snap.station_id, -1).astype(np.int64)
        self.branch_id = np.append(snap.branch_id, -1).astype(np.int64)
        self.compound_branch = np.array(
            [snap.compound_branch.get(int(c), -1) for c in snap.compound_id] + [-1], dtype=np.int64
        )
        self.grid_branch = _index_of(snap.grid_branch, snap.grid_code)
        self.community_branch = _index_of(snap.community_branch, snap.grid_community)

        # Stations by location: a point's candidates are those within the widest radius,
        # not every station of a province.
        self.station_tree = STRtree(shapely.points(snap.station_lon, snap.station_lat))
        widest = float(snap.station_radius_m.max()) if len(snap.station_radius_m) else 0.0
        far_lat = float(np.abs(snap.station_lat).max()) + 1.0 if widest else 0.0
        self.station_reach_deg = degree_tolerance(widest, max(self.max_lat, far_lat))
        self._table: CellTable | None = None
        self._table_lock = threading.Lock()

    def _index_boundaries(self, snap: Snapshot) -> None:
        """The indexes of the grids and district outlines (seconds at province scale)."""
        for geoms in (snap.grid_geom, snap.district_geom):
            shapely.prepare(geoms)
        self.grid_tree = STRtree(snap.grid_geom)
        self.district_tree = STRtree(snap.district_geom)
        # The service area: the districts, or the grids where no district outline is loaded.
        self.area_geom = snap.district_geom if len(snap.district_geom) else snap.grid_geom
        bounds = [shapely.total_bounds(g) for g in (snap.grid_geom, snap.district_geom) if len(g)]
        lats = [abs(b[i]) for b in bounds for i in (1, 3)]
        self.max_lat = max(lats) if lats else 60.0
        # Built now, not on the first outside point: a request must never wait for them.
        # Both are asked only about points outside every polygon of their layer.
        self.grid_segments = SegmentIndex(snap.grid_geom, self.max_lat, outside_only=True)
        self.district_segments = SegmentIndex(snap.district_geom, self.max_lat, outside_only=True)

    def _take_boundaries(self, previous: Assigner) -> None:
        """The boundary indexes of ``previous``: immutable, so shared between assigners."""
        self.grid_tree = previous.grid_tree
        self.district_tree = previous.district_tree
        self.area_geom = previous.area_geom
        self.max_lat = previous.max_lat
        self.grid_segments = previous.grid_segments
        self.district_segments = previous.district_segments

    @classmethod
    def load(
        cls,
        engine: Engine | Connection,
        at: datetime | None = None,
        settings: Settings | None = None,
        previous: Assigner | None = None,
    ) -> Assigner:
        """Read the layers valid at ``at`` (now when None) and index them; a Connection reads
        inside its transaction (e.g. boundaries written but not yet committed). With
        ``previous`` (the current assigner being replaced), unchanged boundaries are neither
        read nor indexed again."""
        snapshot = load_snapshot(engine, at, previous=previous.snapshot if previous else None)
        return cls(snapshot, settings, previous)

    @property
    def at(self) -> datetime | None:
        return self.snapshot.at

    # -- the lookup table ------------------------------------------------------------

    def warm(self) -> CellTable | None:
        """Build the cell lookup table now (bulk assignment builds it on first use)."""
        with self._table_lock:
            if self._table is None:
                snap = self.snapshot
                self._table = build_table(
                    snap.grid_geom,
                    self.grid_tree,
                    snap.compound_geom,
                    self.compound_tree,
                    snap.station_lon,
                    snap.station_lat,
                    snap.station_radius_m,
                    self.snap_tolerance_m,
                )
            return self._table

    # -- the rules ---------------------------------------------------------------------

    def _cover(
        self, layer: Layer | None, tree: STRtree, geoms: NDArray[Any], px: Floats, py: Floats,
        cell: Ints,
    ) -> tuple[Ints, Ints]:  # fmt: skip
        """How many polygons of a layer cover each point, and the smallest index among them.

        Clean cells answer from the table; mixed cells test only their candidates
        (``intersects_xy``: boundary included); points off the table use the STRtree.
        """
        if layer is None:
            return rules.covering(tree, px, py)
        label = np.where(cell >= 0, layer.label[cell], MIXED).astype(np.int64)
        counts = (label >= 0).astype(np.int64)
        first = np.where(label >= 0, label, -1)
        mixed = np.flatnonzero((label == MIXED) & (cell >= 0))
        if len(mixed):
            owner, candidate = layer.candidates(cell[mixed])
            hit = shapely.intersects_xy(geoms[candidate], px[mixed][owner], py[mixed][owner])
            owner, candidate = owner[hit].astype(np.int64), candidate[hit]
            counts[mixed] = np.bincount(owner, minlength=len(mixed))
            first[mixed] = rules.first_per_point(len(mixed), owner, candidate)
        off = np.flatnonzero(cell < 0)
        counts[off], first[off] = rules.covering(tree, px[off], py[off])
        return counts, first

    def _grids(
        self, px: Floats, py: Floats, counts: Ints, first: Ints
    ) -> tuple[Ints, NDArray[np.int8], Floats]:
        grid = first.copy()
        match = np.where(
            counts > 1, rules.BOUNDARY, np.where(counts == 1, rules.INSIDE, rules.OUTSIDE)
        ).astype(np.int8)
        distance = np.zeros(len(px))
        miss = np.flatnonzero(grid < 0)
        best, d = self.grid_segments.nearest(px[miss], py[miss], self.snap_tolerance_m)
        got = miss[best >= 0]
        grid[got], match[got], distance[got] = best[best >= 0], rules.SNAPPED, d[best >= 0]
        return grid, match, distance

    def _districts(self, px: Floats, py: Floats, grid: Ints) -> Ints:
        district = self.grid_district[grid]
        out = np.flatnonzero(grid < 0)
        if len(out) and len(self.snapshot.district_geom):
            _, first = rules.covering(self.district_tree, px[out], py[out])
            far = first < 0
            near, _ = self.district_segments.nearest(px[out[far]], py[out[far]], self.area_margin_m)
            first[far] = near
            district[out] = self.polygon_district[first]
        return district

    def _stations_within_reach(self, px: Floats, py: Floats) -> NDArray[np.int64]:
        """Per point, the stations within the widest radius of it: rows ascending, -1 padded
        (every station that can cover the point is among them)."""
        point, station = self.station_tree.query(
            shapely.points(px, py), predicate="dwithin", distance=self.station_reach_deg
        )
        return rules.candidates_per_point(len(px), point, station)

    def _stations(
        self, px: Floats, py: Floats, district: Ints, table: CellTable | None, cell: Ints
    ) -> tuple[Ints, Floats, NDArray[np.bool_]]:
        snap = self.snapshot
        n = len(px)
        station = np.full(n, -1, dtype=np.int64)
        distance = np.full(n, np.nan)
        for start in range(0, n, CHUNK):
            rows = np.arange(start, min(n, start + CHUNK))
            on = cell[rows] >= 0 if table is not None else np.zeros(len(rows), dtype=bool)
            groups: list[tuple[NDArray[np.intp], Callable[[NDArray[np.intp]], Any]]] = [
                (rows[~on], lambda r: self._stations_within_reach(px[r], py[r])),
            ]
            if table is not None:
                groups.append((rows[on], lambda r: table.stations[cell[r]]))
            for r, candidates in groups:
                if len(r):
                    station[r], distance[r] = rules.choose_station(
                        px[r], py[r], district[r], candidates(r), snap.station_lon,
                        snap.station_lat, snap.station_radius_m, self.station_district,
                    )  # fmt: skip
        within = station >= 0
        rest = np.flatnonzero(~within)
        station[rest], distance[rest] = rules.nearest_station_of_district(
            px[rest], py[rest], district[rest], snap.station_lon, snap.station_lat,
            self.station_district,
        )  # fmt: skip
        return station, distance, within

    def locate_many(
        self, lon: ArrayLike, lat: ArrayLike, use_table: bool | None = None
    ) -> AssignmentColumns:
        """Assign CGCS2000 lon/lat points; ``use_table`` forces the lookup table on or off."""
        px = np.ascontiguousarray(lon, dtype=np.float64).ravel()
        py = np.ascontiguousarray(lat, dtype=np.float64).ravel()
        n = len(px)
        if use_table is None:
            use_table = n >= TABLE_THRESHOLD
        table = self.warm() if use_table else None
        snap = self.snapshot
        cell = table.raster.cells(px, py) if table else np.full(n, -1, dtype=np.int64)
        grid_layer, compound_layer = (table.grid, table.compound) if table else (None, None)
        counts, first = self._cover(grid_layer, self.grid_tree, snap.grid_geom, px, py, cell)
        grid, match, distance = self._grids(px, py, counts, first)
        district = self._districts(px, py, grid)
        _, compound = self._cover(
            compound_layer, self.compound_tree, snap.compound_geom, px, py, cell
        )
        station_cell = (
            table.station_raster.cells(px, py) if table else np.full(n, -1, dtype=np.int64)
        )
        station, station_distance, within = self._stations(px, py, district, table, station_cell)
        branch = rules.choose_branch(
            compound, grid, self.compound_branch, self.grid_branch, self.community_branch
        )
        return AssignmentColumns(
            match=np.array(MATCHES, dtype=object)[match],
            distance_m=distance,
            grid_code=self.grid_code[grid],
            community_code=self.community_code[grid],
            street_code=self.street_code[grid],
            district_code=self.district_codes[district],
            station_id=self.station_id[station],
            station_distance_m=station_distance,
            station_within_radius=within,
            party_branch_id=self.branch_id[branch],
            boundary_version_id=self.boundary_version_id,
        )

    def locate(self, lon: float, lat: float) -> Assignment:
        """Assign one CGCS2000 lon/lat point, with the names of its units."""
        cols = self.locate_many(np.array([lon]), np.array([lat]), use_table=False)
        return self.assignment(cols, 0)

    def assignment(self, cols: AssignmentColumns, i: int) -> Assignment:
        """Row ``i`` of ``locate_many``'s answer as an :class:`Assignment` with names."""
        snap = self.snapshot
        names = snap.names

        def unit(code: Any) -> Unit | None:
            return None if code is None else Unit(str(code), names.get(str(code), ""))

        grid = cols.grid_code[i]
        grid_unit = None
        if grid is not None:
            grid_unit = Unit(str(grid), str(snap.grid_name[np.searchsorted(snap.grid_code, grid)]))
        station = None
        if cols.station_id[i] >= 0:
            s = int(np.searchsorted(snap.station_id, cols.station_id[i]))
            station = StationMatch(
                id=int(snap.station_id[s]),
                code=str(snap.station_code[s]),
                name=str(snap.station_name[s]),
                distance_m=float(cols.station_distance_m[i]),
                within_radius=bool(cols.station_within_radius[i]),
            )
        branch = None
        if cols.party_branch_id[i] >= 0:
            b = int(np.searchsorted(snap.branch_id, cols.party_branch_id[i]))
            branch = BranchMatch(
                id=int(snap.branch_id[b]),
                name=str(snap.branch_name[b]),
                kind=str(snap.branch_kind[b]),
            )
        return Assignment(
            match=str(cols.match[i]),
            distance_m=float(cols.distance_m[i]),
            grid=grid_unit,
            community=unit(cols.community_code[i]),
            street=unit(cols.street_code[i]),
            district=unit(cols.district_code[i]),
            station=station,
            party_branch=branch,
            boundary_version_id=cols.boundary_version_id,
        )

    # -- the service area ----------------------------------------------------------------

    @property
    def has_service_area(self) -> bool:
        return len(self.area_geom) > 0

    def area_distance_m(
        self, lon: ArrayLike, lat: ArrayLike, use_table: bool | None = None
    ) -> Floats:
        """Ground metres from each point to the service area (the districts and the grids):
        0 inside, inf beyond ``service_area_margin_m``."""
        px = np.ascontiguousarray(lon, dtype=np.float64).ravel()
        py = np.ascontiguousarray(lat, dtype=np.float64).ravel()
        n = len(px)
        out = np.full(n, np.nan)
        table = self.warm() if (n >= TABLE_THRESHOLD if use_table is None else use_table) else None
        if table is not None:
            cell = table.raster.cells(px, py)
            out[(cell >= 0) & (table.grid.label[cell] >= 0)] = 0.0
        for tree in (self.grid_tree, self.district_tree):
            rest = np.flatnonzero(np.isnan(out))
            counts, _ = rules.covering(tree, px[rest], py[rest])
            out[rest[counts > 0]] = 0.0
        rest = np.flatnonzero(np.isnan(out))
        segments = (
            self.district_segments if len(self.snapshot.district_geom) else self.grid_segments
        )
        _, d = segments.nearest(px[rest], py[rest], self.area_margin_m)
        out[rest] = d
        return out
