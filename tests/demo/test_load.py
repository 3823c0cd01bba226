"""Loading: idempotent, refuses foreign boundaries, the CLI; the hotline day's shape."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import text

from gis.db import make_engine
from gis.demo import load_demo
from gis.demo.incidents import CATEGORIES, hotline_day
from gis.demo.tiling import partition
from gis.incidents.records import ImportRecord

WANGGE = str(Path(sys.executable).with_name("wangge"))
TABLES = (
    "districts",
    "streets",
    "communities",
    "grids",
    "compounds",
    "buildings",
    "party_branches",
    "facilities",
    "incident_categories",
    "boundary_versions",
)


def _counts(url: str) -> dict[str, int]:
    eng = make_engine(url, pool_size=1)
    with eng.connect() as conn:
        out = {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES}
    eng.dispose()
    return out


def _run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WANGGE_DATABASE_URL": url}
    return subprocess.run([WANGGE, *args], env=env, capture_output=True, text=True, timeout=300)


def test_second_load_changes_nothing(demo_copy: Callable[[], str]) -> None:
    url = demo_copy()
    before = _counts(url)
    summary = load_demo(url)
    assert not summary.created and not summary.changed
    assert _counts(url) == before
    assert summary.counts["communities"] == 178


def test_cli_demo_and_classify(demo_copy: Callable[[], str]) -> None:
    url = demo_copy()
    demo = _run(url, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "nothing changed" in demo.stdout
    assert "2,673" in demo.stdout and "503" in demo.stdout
    classes = _run(url, "classify")
    assert classes.returncode == 0, classes.stderr
    lines = {ln.split()[1]: ln for ln in classes.stdout.splitlines() if ln.count("│") >= 4}
    assert "70" in lines["A"] and "300,000" in lines["B"] and "19,800,000" in lines["B"]
    assert "35,600,000" in lines["total"]
    again = _run(url, "classify", "--recompute")
    assert again.returncode == 0 and "recomputed" in again.stdout


def test_cli_demo_refuses_foreign_boundaries(demo_copy: Callable[[], str]) -> None:
    url = demo_copy()
    eng = make_engine(url, pool_size=1)
    with eng.begin() as conn:
        conn.execute(text("UPDATE boundary_versions SET operation = 'import'"))
    eng.dispose()
    before = _counts(url)
    res = _run(url, "demo")
    assert res.returncode == 1
    assert "not the demo city" in res.stderr
    assert _counts(url) == before


def test_hotline_day_shape(demo_url: str) -> None:
    day = hotline_day(2026, date(2026, 3, 2))
    channels = Counter(r["channel"] for r in day)
    assert channels == {
        "hotline_call": 843,
        "wechat": 46,
        "mayor_mailbox": 7,
        "provincial_site": 2,
        "peoples_daily": 1,
    }
    assert sum(r["handled_directly"] for r in day) == 425
    assert sum("callback_at" in r for r in day) == 246
    top = Counter(r["category_code"] for r in day).most_common(3)
    assert top == [("property_services", 63), ("consumer_rights", 43), ("noise", 41)]
    assert len({r["external_id"] for r in day}) == len(day)
    assert {r["category_code"] for r in day} <= {c["code"] for c in CATEGORIES}
    assert all(r["reporter_phone"].isdigit() and len(r["reporter_phone"]) == 11 for r in day)
    for r in day:
        ImportRecord(**r)
    assert hotline_day(2026, date(2026, 3, 2)) == day
    assert hotline_day(2026, date(2026, 3, 3)) != day
    # Reports come from where people live: inside the city, mostly near buildings.
    eng = make_engine(demo_url, pool_size=1)
    with eng.connect() as conn:
        inside = conn.execute(
            text(
                "SELECT count(*) FROM unnest(CAST(:x AS float8[]), CAST(:y AS float8[])) p(x, y)"
                " WHERE EXISTS (SELECT 1 FROM buildings b WHERE ST_DWithin("
                " b.geom::geography, ST_SetSRID(ST_MakePoint(p.x, p.y), 4490)::geography, 200))"
            ),
            {
                "x": [r["lon"] for r in day if r["crs"] == "cgcs2000"],
                "y": [r["lat"] for r in day if r["crs"] == "cgcs2000"],
            },
        ).scalar_one()
    eng.dispose()
    assert inside >= 0.95 * sum(r["crs"] == "cgcs2000" for r in day)


def test_partition_is_deterministic_and_exact() -> None:
    square = shapely.box(101.7, 36.6, 101.72, 36.62)
    a, _ = partition(square, 9, np.random.default_rng(7), relax=2)
    b, _ = partition(square, 9, np.random.default_rng(7), relax=2)
    assert all(x.equals_exact(y, 0) for x, y in zip(a, b, strict=True))
    assert shapely.coverage_is_valid(a)
    assert abs(float(shapely.area(a).sum()) - square.area) < 1e-15
