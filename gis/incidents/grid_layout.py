"""The current grids as a spatial-statistics layout: order, labels and queen contiguity.

Two grids are neighbours (queen contiguity, 共边或共点) when their outlines share an edge or
a corner; a gap or overlap up to ``TOUCH_DEG`` still counts, so slivers left by digitising
do not cut neighbours apart. A layout depends only on the boundaries, so one is kept per
database, boundaries epoch (:mod:`gis.assign.epoch`) and district.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.assign.epoch import current_epochs, lock_shared
from gis.validity import boundary_current

TOUCH_DEG = 1e-6  # about 0.1 m
KEPT_LAYOUTS = 16


@dataclass(frozen=True)
class GridLayout:
    """Current grids in code order; ``neighbours[i]`` lists the positions next to grid ``i``."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    communities: tuple[str, ...]
    community_names: tuple[str, ...]
    districts: tuple[str, ...]
    district_names: tuple[str, ...]
    neighbours: dict[int, list[int]]

    def __len__(self) -> int:
        return len(self.codes)


_GRIDS = text(
    "SELECT g.code, g.name, g.community_code, coalesce(c.name, ''), g.district_code,"
    " coalesce(d.name, ''), ST_AsBinary(g.geom)"
    " FROM grids g"
    f" LEFT JOIN communities c ON c.code = g.community_code AND {boundary_current('c')}"
    f" LEFT JOIN districts d ON d.code = g.district_code AND {boundary_current('d')}"
    f" WHERE {boundary_current('g')} AND (CAST(:district AS text) IS NULL"
    " OR g.district_code = :district)"
    " ORDER BY g.code"
)

_layouts: OrderedDict[tuple[str, int, str | None], GridLayout] = OrderedDict()
_lock = threading.Lock()


def queen_neighbours(geoms: np.ndarray) -> dict[int, list[int]]:
    """Position → positions of the outlines within ``TOUCH_DEG`` of it (itself left out)."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=TOUCH_DEG)
    keep = left != right
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(geoms))}
    for i, j in zip(left[keep].tolist(), right[keep].tolist(), strict=True):
        neighbours[i].append(j)
    return neighbours


def load_layout(session: Session, district: str | None = None) -> GridLayout:
    rows = session.execute(_GRIDS, {"district": district}).all()
    geoms = shapely.from_wkb(np.array([bytes(r[6]) for r in rows], dtype=object))
    return GridLayout(
        codes=tuple(r[0] for r in rows),
        names=tuple(r[1] for r in rows),
        communities=tuple(r[2] for r in rows),
        community_names=tuple(r[3] for r in rows),
        districts=tuple(r[4] for r in rows),
        district_names=tuple(r[5] for r in rows),
        neighbours=queen_neighbours(geoms),
    )


def grid_layout(session: Session, district: str | None = None) -> GridLayout:
    """The layout of the current grids (of one district), reused while the boundaries stand."""
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    key = (url, current_epochs(session)[1], district)
    with _lock:
        layout = _layouts.get(key)
        if layout is not None:
            _layouts.move_to_end(key)
            return layout
    # Shared lock: no edit commits between reading the epoch and the grids it labels.
    lock_shared(session)
    key = (url, current_epochs(session)[1], district)
    layout = load_layout(session, district)
    with _lock:
        _layouts[key] = layout
        while len(_layouts) > KEPT_LAYOUTS:
            _layouts.popitem(last=False)
    return layout
