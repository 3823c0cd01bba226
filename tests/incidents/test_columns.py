"""Assignment answers as polars columns."""

from __future__ import annotations

import numpy as np
import polars as pl

from gis.incidents.columns import codes


def test_codes_take_a_batch_that_starts_outside_every_grid() -> None:
    column = codes("grid_code", np.array([None, "630102001001022", None], dtype=object))
    assert column.name == "grid_code" and column.dtype == pl.Utf8
    assert column.to_list() == [None, "630102001001022", None]
