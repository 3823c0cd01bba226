"""Limits on what one request may ask for (请求限制): page sizes and geometry vertices."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.errors import InvalidInput
from gis.settings import Settings, get_settings


def page_size(limit: int | None, settings: Settings | None = None, field: str = "limit") -> int:
    """``limit`` checked against ``max_page_size``; None means the largest page."""
    largest = (settings or get_settings()).max_page_size
    if limit is None:
        return largest
    if limit < 1 or limit > largest:
        raise InvalidInput(f"{field} must be between 1 and {largest}", field=field)
    return limit


def check_vertices(
    geometry: BaseGeometry | np.ndarray,
    settings: Settings | None = None,
    field: str = "geometry",
    limit: int | None = None,
) -> int:
    """Reject geometries with more than ``max_vertices`` vertices in all; return the count."""
    largest = limit if limit is not None else (settings or get_settings()).max_vertices
    count = int(np.sum(shapely.get_num_coordinates(geometry)))
    if count > largest:
        raise InvalidInput(
            f"{field} has {count} vertices; at most {largest} are accepted",
            field=field,
            vertices=count,
            max_vertices=largest,
        )
    return count
