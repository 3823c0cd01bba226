"""Boundaries (边界): validation, import, export and the GeoJSON queries of the four levels.

Districts, streets, communities and grids tile one another; :mod:`gis.boundaries.validate`
checks a layer against the tiling rules, :mod:`gis.boundaries.imports` writes a validated
layer as one new boundary version, :mod:`gis.boundaries.exports` writes it back to a file.
"""

from gis.models.boundaries import CODE_LENGTH, ancestor_code, parent_code

BOUNDARY_LEVELS = ("district", "street", "community", "grid")
PLACE_LEVELS = ("compound", "building", "facility")
LEVELS = BOUNDARY_LEVELS + PLACE_LEVELS
PARENT_LEVEL = {"street": "district", "community": "street", "grid": "community"}

__all__ = [
    "BOUNDARY_LEVELS",
    "CODE_LENGTH",
    "LEVELS",
    "PARENT_LEVEL",
    "PLACE_LEVELS",
    "ancestor_code",
    "parent_code",
]
