"""The hotspots notebook runs top to bottom against the demo city and shows its results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.notebooks import run_notebook


def test_notebook_runs_against_the_demo_city(
    demo_copy: Callable[[], str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shown = run_notebook("hotspots.ipynb", demo_copy(), monkeypatch, tmp_path)
    text = shown.text
    counts = next(line for line in text.splitlines() if line.startswith("hot grids:"))
    hot = int(counts.split(",")[0].split(":")[1])
    assert hot > 0, "the demo's reports cluster somewhere"
    layer = next(line for line in text.splitlines() if line.startswith("layer:"))
    cold = int(counts.split(",")[1].split(":")[1])
    assert int(layer.split()[1]) == hot + cold, "the layer holds the hot and cold grids"
    assert text.count(" hot grids, hottest: ") == 3, "three categories"
    html = shown.html
    assert any("leaflet" in h.lower() or "folium" in h.lower() for h in html), "the folium map"
    images = shown.images
    assert images, "the matplotlib map"
