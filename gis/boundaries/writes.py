"""What the boundary and the place importers share: the result they report, the write
batch, and a polygon's stored form and its test for an unchanged shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from gis.boundaries.defects import ValidationReport

BATCH = 500


@dataclass
class ImportResult:
    level: str
    source: str
    crs: str
    report: ValidationReport
    dry_run: bool
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    version_id: int | None = None
    written: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "source": self.source,
            "crs": self.crs,
            "dry_run": self.dry_run,
            "written": self.written,
            "version_id": self.version_id,
            "created": len(self.created),
            "changed": len(self.changed),
            "unchanged": len(self.unchanged),
            "report": self.report.as_dict(),
        }


def as_multi(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Every polygon as a MultiPolygon (the stored type), exterior rings counter-clockwise.

    One orientation (GeoJSON's right-hand rule) keeps a Shapefile round trip, which
    turns rings clockwise, from changing what is stored.
    """
    parts, index = shapely.get_parts(shapely.orient_polygons(geoms), return_index=True)
    out = np.empty(len(geoms), dtype=object)
    out[:] = shapely.multipolygons(parts, indices=index)
    return out


def same_shape(a: NDArray[np.object_], b: NDArray[np.object_]) -> NDArray[np.bool_]:
    return np.asarray(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), 0.0))
