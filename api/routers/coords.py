"""``GET /api/v1/coords``: one point in the coordinate systems the city's maps use, so a
page can draw a point pasted in GCJ-02 (Amap, WeChat) or BD-09 (Baidu) where it really is."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import Viewer
from gis.assign.intake import normalize_point
from gis.coords import from_storage, normalize_crs

router = APIRouter(prefix="/api/v1", tags=["locate"])


@router.get("/coords")
def coords(
    _: Viewer,
    lon: Annotated[float, Query(allow_inf_nan=False, description="Longitude (east), in `crs`")],
    lat: Annotated[float, Query(allow_inf_nan=False, description="Latitude (north), in `crs`")],
    crs: Annotated[
        str, Query(description="wgs84, cgcs2000, gcj02 (Amap, WeChat), bd09 (Baidu) or EPSG:<code>")
    ] = "wgs84",
) -> dict[str, Any]:
    """The point as stored (CGCS2000 lon/lat) and as drawn on GCJ-02 tiles."""
    x, y = normalize_point(lon, lat, normalize_crs(crs))
    gx, gy = from_storage([x], [y], "gcj02")
    return {"cgcs2000": [x, y], "gcj02": [float(gx[0]), float(gy[0])]}
