"""The planning notebook runs top to bottom against the demo city and shows its results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.notebooks import run_notebook


def test_notebook_runs_against_the_demo_city(
    demo_copy: Callable[[], str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shown = run_notebook("coverage_planning.ipynb", demo_copy(), monkeypatch, tmp_path)
    text = shown.text
    assert "12 stations of Chengzhong" in text
    assert "residents 60+ within 1 km of a canteen" in text
    html = shown.html
    assert any("leaflet" in h.lower() or "folium" in h.lower() for h in html), "the folium map"
    images = shown.images
    assert images, "the matplotlib plot"
    gain_line = next(line for line in text.splitlines() if line.startswith("residents covered:"))
    before, after = (float(part.split("(")[1].split("%")[0]) for part in gain_line.split("->"))
    assert after > before
