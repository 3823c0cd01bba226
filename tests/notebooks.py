"""Running a notebook of notebooks/ against a database, as a planner would: what it shows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from gis.settings import PROJECT_ROOT


@dataclass
class Shown:
    """What the executed notebook's code cells show."""

    code: list[Any]
    text: str
    html: list[str]
    images: list[Any]


def run_notebook(name: str, url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Shown:
    """Execute ``notebooks/<name>`` top to bottom against ``url``; every code cell must
    show something and none may fail."""
    monkeypatch.setenv("WANGGE_DATABASE_URL", url)  # the kernel inherits it
    nb = nbformat.read(PROJECT_ROOT / "notebooks" / name, as_version=4)  # type: ignore[no-untyped-call]
    client = NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs for c in code), "every code cell shows something"
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    return Shown(
        code=code,
        text="".join(o.get("text", "") for o in outputs if o.output_type == "stream"),
        html=[o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})],
        images=[o for o in outputs if "image/png" in o.get("data", {})],
    )
