"""The hotspots notebook runs top to bottom against the demo city and shows its results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from gis.settings import PROJECT_ROOT

NOTEBOOK = PROJECT_ROOT / "notebooks" / "hotspots.ipynb"


def test_notebook_runs_against_the_demo_city(
    demo_copy: Callable[[], str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WANGGE_DATABASE_URL", demo_copy())  # the kernel inherits it
    nb = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    client = NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs for c in code), "every code cell shows something"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in code for o in c.outputs if o.output_type == "stream")
    counts = next(line for line in text.splitlines() if line.startswith("hot grids:"))
    hot = int(counts.split(",")[0].split(":")[1])
    assert hot > 0, "the demo's reports cluster somewhere"
    layer = next(line for line in text.splitlines() if line.startswith("layer:"))
    cold = int(counts.split(",")[1].split(":")[1])
    assert int(layer.split()[1]) == hot + cold, "the layer holds the hot and cold grids"
    assert text.count(" hot grids, hottest: ") == 3, "three categories"
    html = [
        o["data"]["text/html"] for c in code for o in c.outputs if "text/html" in o.get("data", {})
    ]
    assert any("leaflet" in h.lower() or "folium" in h.lower() for h in html), "the folium map"
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "the matplotlib map"
