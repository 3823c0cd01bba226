"""``make bench``: the bounded load run of :mod:`tests.bench.load` (figures in
docs/benchmarks.md)."""

from __future__ import annotations

from tests.bench import load
from tests.bench.results import pytest_command, record


def test_load_run_loses_nothing_and_fails_nothing() -> None:
    result = load.run(seconds=20.0, requests=6000)
    assert result["requests"] > 0
    assert result["errors"] == 0
    assert result["acknowledged"] == result["stored"] and result["acked_equals_stored"]
    record(
        "load_mix",
        result["requests"] / result["seconds"],
        "req/s",
        None,
        None,
        None,
        title="load run: 4 dispatchers posting, 12 viewers (5 % map pages), one worker",
        command=pytest_command(__file__),
        requests=result["requests"],
        p50_ms=result["p50_ms"],
        p99_ms=result["p99_ms"],
        errors=result["errors"],
        acknowledged=result["acknowledged"],
        stored=result["stored"],
    )
