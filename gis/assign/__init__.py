"""Assignment (归属): which grid, community, street, district, station and party branch a point
belongs to, under the rules of :mod:`gis.assign.rules`, from an in-memory snapshot of PostGIS.

>>> assigner = current_assigner(engine)
>>> assigner.locate(101.78, 36.62).as_dict()           # one point
>>> assigner.locate_many(lon_array, lat_array)           # millions, column-wise
"""

from gis.assign.cache import (
    SnapshotStats,
    assigner_at,
    assigner_for_write,
    current_assigner,
    forget,
    invalidate,
    snapshot_stats,
)
from gis.assign.engine import Assigner
from gis.assign.types import (
    MATCHES,
    Assignment,
    AssignmentColumns,
    BranchMatch,
    StationMatch,
    Unit,
)

__all__ = [
    "MATCHES",
    "Assigner",
    "Assignment",
    "AssignmentColumns",
    "BranchMatch",
    "SnapshotStats",
    "StationMatch",
    "Unit",
    "assigner_at",
    "assigner_for_write",
    "current_assigner",
    "forget",
    "invalidate",
    "snapshot_stats",
]
