"""Assignment answers (:class:`gis.assign.AssignmentColumns`) as polars columns."""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import NDArray


def codes(name: str, values: NDArray[np.object_]) -> pl.Series:
    """An object array of codes, ``None`` where there is no unit, as a text column.

    Through a list: polars refuses an object array whose first entry is ``None`` (a batch
    that starts with a point outside every grid).
    """
    return pl.Series(name, values.tolist(), dtype=pl.Utf8)
