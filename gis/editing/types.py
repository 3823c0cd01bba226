"""What an edit plans to write (调整方案): built by :mod:`gis.editing.plan` and
:mod:`gis.editing.undo`, written by :mod:`gis.editing.commit`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Plan:
    """What a commit writes. New rows carry an outline or the id of a row to copy (undo)."""

    operation: str
    district_code: str
    close_grids: list[str]
    open_grids: list[dict[str, Any]]
    close_communities: list[str] = field(default_factory=list)
    open_communities: list[dict[str, Any]] = field(default_factory=list)
    branch_moves: list[dict[str, Any]] = field(default_factory=list)
    place_moves: dict[str, Any] = field(default_factory=dict)
    # Grids whose open incidents are re-assigned on commit.
    affected: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
