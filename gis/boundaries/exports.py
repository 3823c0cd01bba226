"""Export of a level to GeoJSON, GeoPackage or Shapefile (边界导出), as of now or a past time.

The file holds exactly the columns the importer reads, in EPSG:4490 at full precision,
so export → import into an empty database → export gives the same features.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import shapely
from sqlalchemy.orm import Session

from gis.boundaries import BOUNDARY_LEVELS
from gis.boundaries.fields import FIELDS
from gis.boundaries.imports import check_level
from gis.boundaries.io import driver_for, write_layer
from gis.boundaries.store import features
from gis.errors import InvalidInput

GEOMETRY_TYPE = {"building": "Point", "facility": "Point"}


def export_layer(session: Session, level: str, path: str | Path, at: datetime | None = None) -> int:
    """Write every unit of ``level`` (valid at ``at``, default now) to ``path``; the count."""
    check_level(level)
    driver_for(Path(path), "output")
    if at is not None and level not in BOUNDARY_LEVELS:
        raise InvalidInput(f"{level} rows are not versioned; --at applies to boundaries", "at")
    geoms, columns = features(session, level, at)
    if level not in GEOMETRY_TYPE:
        # Exterior rings counter-clockwise (GeoJSON's right-hand rule), as the importer stores them.
        geoms = shapely.orient_polygons(geoms)
    write_layer(path, geoms, columns, FIELDS[level], GEOMETRY_TYPE.get(level, "MultiPolygon"))
    return len(geoms)
