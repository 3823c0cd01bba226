"""Reading and writing layer files: GeoJSON, GeoPackage and Shapefile through pyogrio.

Geometries are converted to CGCS2000 lon/lat on reading (``--crs``, else the file's own
CRS, else WGS 84) and written back in EPSG:4490 at full precision, so that an exported
file imports to the very same coordinates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis.boundaries.fields import Field
from gis.coords import geometry_to_storage, normalize_crs
from gis.errors import InvalidInput

DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}
STORAGE_EPSG = "EPSG:4490"


@dataclass
class SourceLayer:
    """The features of a file: geometries already in CGCS2000, columns as read."""

    path: Path
    geoms: NDArray[np.object_]
    columns: dict[str, NDArray[Any]]
    crs: str  # the CRS the coordinates were taken to be in

    def __len__(self) -> int:
        return len(self.geoms)


def driver_for(path: Path, field: str) -> str:
    driver = DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise InvalidInput(
            f"{path.name}: use a .geojson, .gpkg or .shp file (GeoJSON, GeoPackage, Shapefile)",
            field=field,
        )
    return driver


def crs_of_file(declared: str | None) -> str:
    """The normalised CRS a file declares; WGS 84 when it declares none."""
    if not declared:
        return "wgs84"
    try:
        epsg = CRS.from_user_input(declared).to_epsg(min_confidence=70)
    except CRSError as exc:
        raise InvalidInput(f"the file's CRS cannot be read ({exc}); pass --crs", "crs") from exc
    if epsg is None:
        raise InvalidInput("the file's CRS has no EPSG code; pass --crs", field="crs")
    return normalize_crs(f"EPSG:{epsg}")


def read_layer(path: str | Path, crs: str | None = None, layer: str | None = None) -> SourceLayer:
    """Read every feature of ``path``; ``crs`` overrides the CRS the file declares."""
    path = Path(path)
    driver_for(path, "file")
    if not path.exists():
        raise InvalidInput(f"{path} does not exist", field="file")
    try:
        meta, _, wkb, values = pyogrio.raw.read(path, layer=layer)
    except pyogrio.errors.DataSourceError as exc:
        raise InvalidInput(f"{path.name} cannot be read: {exc}", field="file") from exc
    used = normalize_crs(crs) if crs else crs_of_file(meta.get("crs"))
    geoms = np.asarray(shapely.force_2d(shapely.from_wkb(wkb)), dtype=object)
    present = ~shapely.is_missing(geoms)
    geoms[present] = geometry_to_storage(geoms[present], used)
    columns = {str(name): np.asarray(v) for name, v in zip(meta["fields"], values, strict=True)}
    return SourceLayer(path=path, geoms=geoms, columns=columns, crs=used)


def write_layer(
    path: str | Path,
    geoms: NDArray[np.object_],
    columns: Mapping[str, NDArray[Any]],
    fields: Sequence[Field],
    geometry_type: str,
) -> None:
    """Write features in EPSG:4490; Shapefiles get the short column names."""
    path = Path(path)
    driver = driver_for(path, "output")
    shapefile = driver == "ESRI Shapefile"
    names, data = [], []
    for spec in fields:
        names.append(spec.short if shapefile else spec.name)
        data.append(_column(spec, columns[spec.name]))
    options: dict[str, Any] = {}
    if driver == "GeoJSON":
        options["layer_options"] = {"SIGNIFICANT_FIGURES": 17, "WRITE_NAME": "NO"}
    if shapefile:
        options["encoding"] = "UTF-8"
    path.parent.mkdir(parents=True, exist_ok=True)
    for sidecar in _sidecars(path):
        sidecar.unlink(missing_ok=True)  # overwrite: drivers refuse or append otherwise
    pyogrio.raw.write(
        path,
        shapely.to_wkb(geoms),
        names and data,
        fields=names,
        driver=driver,
        crs=STORAGE_EPSG,
        geometry_type=geometry_type,
        **options,
    )


def _sidecars(path: Path) -> list[Path]:
    if path.suffix.lower() != ".shp":
        return [path]
    return [path.with_suffix(s) for s in (".shp", ".shx", ".dbf", ".prj", ".cpg")]


def _column(spec: Field, values: NDArray[Any]) -> NDArray[Any]:
    if spec.type == "int":
        return np.asarray(values, dtype=np.int64)
    if spec.type == "float":
        return np.asarray(values, dtype=np.float64)
    if spec.type == "bool":
        return np.asarray(values, dtype=bool)
    return np.asarray([None if v is None else str(v) for v in values], dtype=object)
