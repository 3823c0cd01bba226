"""An edit request (编辑请求) and the checks on the geometry a planner draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from gis.coords import geometry_to_storage, normalize_crs
from gis.errors import InvalidInput

OPERATIONS = ("split", "merge", "reshape", "transfer", "move", "undo")


@dataclass
class EditRequest:
    """What the planner asks for; which fields matter depends on ``operation``.

    split: ``grid``, ``line``; merge: ``grids``; reshape: ``grid``, ``outline``;
    transfer: ``from_grid``, ``to_grid``, ``region``; move: ``grid``, ``community``
    (the target); undo: ``version`` (the edit to undo).
    """

    operation: str
    reason: str = ""
    base_version: int | None = None
    grid: str | None = None
    grids: list[str] = field(default_factory=list)
    from_grid: str | None = None
    to_grid: str | None = None
    community: str | None = None
    line: dict[str, Any] | None = None
    outline: dict[str, Any] | None = None
    region: dict[str, Any] | None = None
    version: int | None = None
    crs: str = "cgcs2000"

    def __post_init__(self) -> None:
        if self.operation not in OPERATIONS:
            raise InvalidInput(
                f"operation must be one of {', '.join(OPERATIONS)}, not {self.operation!r}",
                field="operation",
            )

    def require(self, name: str) -> Any:
        value = getattr(self, name)
        if value in (None, "", []):
            raise InvalidInput(f"{self.operation} needs {name}", field=name)
        return value

    def params(self) -> dict[str, Any]:
        """The request as recorded in the edit log."""
        keys = ("grid", "grids", "from_grid", "to_grid", "community", "version", "crs")
        out = {k: getattr(self, k) for k in keys if getattr(self, k) not in (None, [], "")}
        for k in ("line", "outline", "region"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out


def drawn_geometry(
    request: EditRequest, name: str, kinds: tuple[str, ...], max_vertices: int
) -> BaseGeometry:
    """Parse, check and convert a drawn GeoJSON geometry to storage coordinates."""
    raw = request.require(name)
    if isinstance(raw, dict) and raw.get("type") == "Feature":
        raw = raw.get("geometry")
    try:
        geom = shapely.geometry.shape(raw)
    except Exception as exc:  # shapely raises several kinds for malformed GeoJSON
        raise InvalidInput(f"{name} is not a GeoJSON geometry: {exc}", field=name) from exc
    if geom.geom_type not in kinds:
        raise InvalidInput(
            f"{name} must be a {' or '.join(kinds)}, not a {geom.geom_type}", field=name
        )
    coords = shapely.get_coordinates(geom)
    if len(coords) > max_vertices:
        raise InvalidInput(
            f"{name} has {len(coords)} vertices; the limit is {max_vertices}", field=name
        )
    if geom.is_empty or not np.isfinite(coords).all():
        raise InvalidInput(f"{name} is empty or has non-finite coordinates", field=name)
    geom = geometry_to_storage(geom, normalize_crs(request.crs))
    lon, lat = shapely.get_coordinates(geom).T
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        raise InvalidInput(f"{name} has coordinates out of lon/lat range", field=name)
    if geom.geom_type == "LineString" and not shapely.is_simple(geom):
        raise InvalidInput(f"{name} crosses itself", field=name)
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        raise InvalidInput(f"{name} is not a valid geometry: {reason}", field=name, reason=reason)
    return geom
