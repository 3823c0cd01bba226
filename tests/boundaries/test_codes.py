"""Administrative codes nest by prefix: each level adds three digits to its parent's code."""

from __future__ import annotations

from gis.boundaries import BOUNDARY_LEVELS, CODE_LENGTH, PARENT_LEVEL, ancestor_code, parent_code

GRID = "630102001002003"


def test_a_grid_code_names_every_unit_above_it() -> None:
    assert [ancestor_code(GRID, level) for level in BOUNDARY_LEVELS] == [
        "630102",
        "630102001",
        "630102001002",
        GRID,
    ]


def test_the_parent_of_each_level_is_its_ancestor_one_level_up() -> None:
    for level, parent in PARENT_LEVEL.items():
        code = ancestor_code(GRID, level)
        assert len(code) == CODE_LENGTH[level]
        assert parent_code(code, level) == ancestor_code(GRID, parent)
