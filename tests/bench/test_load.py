"""``make bench``: the bounded load run of :mod:`tests.bench.load` (figures in README)."""

from __future__ import annotations

from tests.bench import load


def test_load_run_loses_nothing_and_fails_nothing() -> None:
    result = load.run(seconds=20.0, requests=6000)
    assert result["requests"] > 0
    assert result["errors"] == 0
    assert result["acknowledged"] == result["stored"] and result["acked_equals_stored"]
