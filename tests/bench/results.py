"""Benchmark figures as JSON: each benchmark records its figure beside its peer's.

``record`` writes ``results/<name>.json`` (the latest figure of that benchmark) and appends
the same object as one line to ``results/history.jsonl``. ``docs/benchmarks.md`` and the
README's bars table are rendered from these files by :mod:`tests.bench.report`.

``ratio`` reads the same way for every figure: how many times better ours is than the peer
(above 1: ours ahead; a time or latency ``peer / ours``, a rate ``ours / peer``).
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
HISTORY = "history.jsonl"
ROOT = Path(__file__).resolve().parents[2]


def pytest_command(path: str) -> str:
    """The command that runs one benchmark file, as ``make bench`` runs them."""
    relative = Path(path).resolve().relative_to(ROOT)
    return f'.venv/bin/python -m pytest {relative} -p no:cacheprovider -o addopts="" -s'


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def _plain(value: Any) -> Any:
    """JSON for numpy scalars (a count from numpy, a median of float64s)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def record(
    name: str,
    figure: float,
    unit: str,
    peer: str | None,
    peer_figure: float | None,
    ratio: float | None,
    *,
    title: str,
    command: str,
    bar: str | None = None,
    met: bool | None = None,
    directory: Path | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Write the figure of benchmark ``name`` and append it to the history; returns it.

    ``title`` says what was measured, ``command`` how to run it again, ``bar`` the target
    and ``met`` whether this run reached it. ``extra``: further figures of the same run."""
    folder = RESULTS if directory is None else directory
    folder.mkdir(parents=True, exist_ok=True)
    status = _git("status", "--porcelain", "--untracked-files=no")
    result: dict[str, Any] = {
        "name": name,
        "title": title,
        "figure": figure,
        "unit": unit,
        "peer": peer,
        "peer_figure": peer_figure,
        "ratio": None if ratio is None else round(ratio, 3),
        "bar": bar,
        "met": met,
        "command": command,
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(status) if status is not None else None,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        **extra,
    }
    result = json.loads(json.dumps(result, default=_plain))
    (folder / f"{name}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    with (folder / HISTORY).open("a", encoding="utf-8") as history:
        history.write(json.dumps(result, ensure_ascii=False) + "\n")
    return result


def latest(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """The latest figure of every benchmark recorded in ``directory``, by name."""
    folder = RESULTS if directory is None else directory
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")):
        found[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return found


def history(directory: Path | None = None) -> list[dict[str, Any]]:
    """Every figure ever recorded in ``directory``, oldest first."""
    path = (RESULTS if directory is None else directory) / HISTORY
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
