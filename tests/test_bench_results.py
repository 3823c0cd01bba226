"""Benchmark figures as JSON (tests/bench/results.py) and the docs rendered from them
(tests/bench/report.py); nothing here runs a benchmark."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

import numpy as np

from tests.bench import report
from tests.bench.results import ROOT, history, latest, pytest_command, record


def _record(directory: Path, figure: float, peer_figure: float) -> dict[str, object]:
    return record(
        "edit_split",
        figure,
        "ms",
        "the bare writes",
        peer_figure,
        peer_figure / figure,
        title="split moving 10,000 open incidents",
        command=pytest_command(str(ROOT / "tests" / "bench" / "test_edit_bench.py")),
        bar="≤ 300 ms",
        met=figure <= 300,
        directory=directory,
        undo_ms=215.0,
        incidents=np.int64(10_000),
    )


def test_record_writes_the_latest_figure_and_appends_the_history(tmp_path: Path) -> None:
    _record(tmp_path, 250.0, 125.0)
    second = _record(tmp_path, 234.0, 120.0)

    stored = json.loads((tmp_path / "edit_split.json").read_text(encoding="utf-8"))
    assert stored == second
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert stored["commit"] == head
    assert datetime.fromisoformat(stored["date"]).tzinfo is not None
    assert (stored["figure"], stored["peer_figure"], stored["ratio"]) == (234.0, 120.0, 0.513)
    assert (stored["unit"], stored["bar"], stored["met"], stored["undo_ms"]) == (
        "ms",
        "≤ 300 ms",
        True,
        215.0,
    )
    assert stored["incidents"] == 10_000
    assert stored["command"].startswith(".venv/bin/python -m pytest tests/bench/test_edit_bench.py")

    runs = history(tmp_path)
    assert [r["figure"] for r in runs] == [250.0, 234.0]
    assert latest(tmp_path) == {"edit_split": second}


def test_report_tables_show_the_recorded_figures(tmp_path: Path) -> None:
    _record(tmp_path, 234.0, 120.0)
    records = latest(tmp_path)
    table = report.render_latest(records)
    assert "| split moving 10,000 open incidents | 234 ms; undo 215 ms |" in table
    assert "the bare writes: 120 ms | 0.513× | ≤ 300 ms | yes |" in table
    bars = report.render_bars(records)
    assert "`tests/bench/test_edit_bench.py`" in bars
    assert "| `edit_split` |" in report.render_history(history(tmp_path))


def test_docs_show_the_recorded_figures() -> None:
    for path, text in report.rendered().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(ROOT)} is out of date: run `make bench-report`"
        )


def test_every_recorded_figure_names_its_commit_date_and_command() -> None:
    records = latest()
    assert records, "tests/bench/results holds no figures"
    for name, r in records.items():
        assert r["name"] == name
        assert r["commit"] and r["date"] and r["command"], name
        assert r["figure"] is not None and r["unit"], name
    assert len(history()) >= len(records)
