"""The planning notebook runs top to bottom against the demo city and shows its results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from gis.settings import PROJECT_ROOT

NOTEBOOK = PROJECT_ROOT / "notebooks" / "coverage_planning.ipynb"


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
    assert "12 stations of Chengzhong" in text
    assert "residents 60+ within 1 km of a canteen" in text
    html = [
        o["data"]["text/html"] for c in code for o in c.outputs if "text/html" in o.get("data", {})
    ]
    assert any("leaflet" in h.lower() or "folium" in h.lower() for h in html), "the folium map"
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "the matplotlib plot"
    gain_line = next(line for line in text.splitlines() if line.startswith("residents covered:"))
    before, after = (float(part.split("(")[1].split("%")[0]) for part in gain_line.split("->"))
    assert after > before
