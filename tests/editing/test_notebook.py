"""The grid balancing notebook runs top to bottom against a private copy of the demo city."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import text

from gis.db import make_engine
from gis.settings import PROJECT_ROOT

NOTEBOOK = PROJECT_ROOT / "notebooks" / "grid_balancing.ipynb"


def test_grid_balancing_notebook_runs(
    demo_copy: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.collect()  # the demo loader's pooled connections, or the template cannot be copied
    url = demo_copy()
    monkeypatch.setenv("WANGGE_DATABASE_URL", url)  # the kernel inherits the environment
    nb: Any = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(PROJECT_ROOT)}}
    ).execute()
    outputs = "".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
    )
    assert "tiled True" in outputs
    assert any(
        "text/html" in o.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
    )  # the folium map
    engine = make_engine(url, pool_size=1)
    with engine.connect() as conn:
        ops = conn.execute(
            text(
                "SELECT operation, count(*) FROM boundary_versions WHERE author = 'notebook'"
                " GROUP BY operation"
            )
        ).all()
    engine.dispose()
    counts: dict[str, int] = {str(op): int(n) for op, n in ops}
    assert counts.get("merge", 0) >= 1 and counts.get("split", 0) == 1
