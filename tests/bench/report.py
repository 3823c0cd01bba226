"""Render the recorded benchmark figures into the docs (``make bench-report``).

    python -m tests.bench.report           # rewrite the generated tables in place
    python -m tests.bench.report --check   # exit 1 when a generated table is out of date

The tables live between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->`` markers:
``latest`` and ``history`` in docs/benchmarks.md, ``bars`` in README.md. Everything else
in those files is written by hand.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tests.bench.results import RESULTS, ROOT, history, latest

BENCHMARKS_MD = ROOT / "docs" / "benchmarks.md"
README_MD = ROOT / "README.md"

# Order of the tables: as the docs tell them (anything else after, by name).
ORDER = (
    "locate_http_p50",
    "locate_http_throughput",
    "locate_many",
    "bulk_intake",
    "bulk_first_load",
    "bulk_first_load_vs_fastest",
    "bulk_in_memory",
    "tiles_p50",
    "tiles_throughput",
    "edit_split",
    "siting_greedy",
    "coverage_stats",
    "province_locate_p50",
    "province_split",
    "province_locate_during_reload",
    "province_post_after_change",
    "grids_geojson",
    "validate_grids",
    "load_mix",
)
# Further figures of a run worth a word beside the main one.
SHOWN: dict[str, Callable[[float], str]] = {
    "share_of_optimum": lambda v: f"{v:.1%} of the optimum",
    "undo_ms": lambda v: f"undo {v:,.0f} ms",
    "cold_ms": lambda v: f"cold {v:,.0f} ms",
}


def number(value: float | None) -> str:
    """Two decimals below 10, one below 100, none from 100 on (thousands separated)."""
    if value is None:
        return "—"
    if abs(value) < 10:
        return f"{value:.2f}"
    if abs(value) < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def _rank(name: str) -> tuple[int, str]:
    return (ORDER.index(name) if name in ORDER else len(ORDER), name)


def _figure(r: dict[str, Any]) -> str:
    if r.get("figure") is None:
        return "—"
    words = [f"{number(r['figure'])} {r['unit']}"]
    words += [show(r[key]) for key, show in SHOWN.items() if r.get(key) is not None]
    return "; ".join(words)


def _peer(r: dict[str, Any]) -> str:
    if not r.get("peer"):
        return "—"
    if r.get("peer_figure") is None:
        return str(r["peer"])
    return f"{r['peer']}: {number(r['peer_figure'])} {r['unit']}"


def _ratio(r: dict[str, Any]) -> str:
    """Three significant figures, so that a ratio just under a bar does not read as on it."""
    ratio = r.get("ratio")
    if ratio is None:
        return "—"
    return f"{ratio:,.0f}×" if ratio >= 100 else f"{ratio:#.3g}×"


def _met(r: dict[str, Any]) -> str:
    return {True: "yes", False: "no"}.get(r.get("met"), "—")  # type: ignore[arg-type]


def _file(r: dict[str, Any]) -> str:
    found = re.search(r"(tests/bench/\S+\.py)", str(r.get("command", "")))
    return f"`{found.group(1)}`" if found else "—"


def _when(r: dict[str, Any]) -> str:
    commit = str(r.get("commit") or "")[:7] or "—"
    return f"{str(r.get('date', ''))[:10]} `{commit}`"


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render_latest(records: dict[str, dict[str, Any]]) -> str:
    """Every benchmark's latest figure with its peer, bar and where it came from."""
    rows = [
        (r["title"], _figure(r), _peer(r), _ratio(r), r.get("bar") or "—", _met(r), _when(r))
        for _, r in sorted(records.items(), key=lambda item: _rank(item[0]))
    ]
    header = ("benchmark", "figure", "peer in the same run", "ratio", "bar", "met", "measured")
    return _table(header, rows)


def render_bars(records: dict[str, dict[str, Any]]) -> str:
    """The figures that have a bar, with the file that measures each."""
    rows = [
        (r["bar"], r["title"], _figure(r), _peer(r), _ratio(r), _met(r), _file(r))
        for _, r in sorted(records.items(), key=lambda item: _rank(item[0]))
        if r.get("bar")
    ]
    header = ("bar", "measured", "figure", "peer in the same run", "ratio", "met", "run")
    return _table(header, rows)


def render_history(rows: list[dict[str, Any]]) -> str:
    """Every recorded run, benchmark by benchmark, oldest first."""
    ordered = sorted(rows, key=lambda r: (_rank(r["name"]), str(r.get("date", ""))))
    body = [
        (
            f"`{r['name']}`",
            _when(r),
            "—" if r.get("figure") is None else f"{number(r['figure'])} {r['unit']}",
            number(r.get("peer_figure")),
            _ratio(r),
            _met(r),
            str(r.get("note") or ""),
        )
        for r in ordered
    ]
    header = ("benchmark", "measured", "figure", "peer", "ratio", "met", "note")
    return _table(header, body)


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with the block between the ``name`` markers replaced by ``body``."""
    start, end = f"<!-- results:{name} -->", f"<!-- /results:{name} -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {start} ... {end} block")
    return pattern.sub(lambda _: f"{start}\n{body}\n{end}", text, count=1)


def rendered(directory: Path = RESULTS) -> dict[Path, str]:
    """The new text of each file holding generated tables."""
    records = latest(directory)
    docs = BENCHMARKS_MD.read_text(encoding="utf-8")
    docs = replace_block(docs, "latest", render_latest(records))
    docs = replace_block(docs, "history", render_history(history(directory)))
    readme = replace_block(README_MD.read_text(encoding="utf-8"), "bars", render_bars(records))
    return {BENCHMARKS_MD: docs, README_MD: readme}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    for path in stale:
        verb = "out of date" if args.check else "updated"
        print(f"{path.relative_to(ROOT)}: {verb}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
