"""Benchmark: the command centre over 1,000,000 stored incidents (``make bench``;
``WANGGE_BENCH_DASHBOARD`` changes the count), each figure against a peer of the same run:

- first load over loopback: the page, its own script and style, ECharts, Leaflet and its
  vector-tile plugin, the day's JSON figures and the density map's counts, fetched one
  after the other as a browser with an empty cache would (gzip accepted; no tiles: they
  are the tile benchmark's; no hotspots: fetched only when their layer is turned on);
  peer: the daily report's JSON of the same day;
- a day's figures from the database (the daily report with its 30-day rates, and the
  open and overdue cases by district and unit), in process, for today (the reports are
  moved to end today: the live case), read from the kept day figures (migration 0013);
  peer: the same figures aggregated from the reports directly, the code path before the
  kept figures (its days before today kept warm by :mod:`gis.incidents.figure_cache`);
- every figure of the page (the above, plus per-unit rates, the 30-day trend and the
  day's density), kept and direct, for the record beside them;
- what keeping the figures costs a write: one incident POSTed over HTTP with the
  day-figure triggers on, against the same POST with them disabled, alternated.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis.db import make_engine, session_scope
from gis.incidents.dashboard import dashboard, density, open_cases, trend
from gis.incidents.day_figures import aggregated_directly
from gis.incidents.rates import Scope, unit_rates
from gis.incidents.report import daily_report
from gis.tokens import create_token
from tests.bench.reports import load_reports
from tests.bench.results import pytest_command, record
from tests.bench.test_desk_bench import AGE_SQL
from tests.conftest import LiveServer

FULL = 1_000_000
N = int(os.environ.get("WANGGE_BENCH_DASHBOARD", str(FULL)))
LAST = date(2026, 11, 15)  # the last of the two weeks the synthetic reports span
DAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # moved to end today: the live case
RUNS = 15
COMMAND = pytest_command(__file__)

# Due dates, ratings and reopens as a month of work leaves them, for the rates to count.
RATE_SQL = """
SELECT setseed(0.15);
UPDATE incident_reports SET
  due_at = received_at + interval '5 days',
  rating = CASE WHEN status = 'closed' AND random() < 0.6 THEN 1 + floor(random() * 5) END,
  reopen_count = CASE WHEN status = 'closed' AND random() < 0.05 THEN 1 ELSE 0 END,
  closed_at = CASE WHEN status = 'closed'
                   THEN received_at + random() * interval '7 days' END;
UPDATE incident_reports SET received_at = received_at + interval '{shift} days',
  due_at = due_at + interval '{shift} days', closed_at = closed_at + interval '{shift} days',
  dispatched_at = dispatched_at + interval '{shift} days';
UPDATE incident_reports SET closed_at = now() WHERE closed_at > now();
VACUUM ANALYZE incident_reports;
VACUUM ANALYZE incident_assignments;
"""


@pytest.fixture(scope="module")
def centre_url(demo_template: str, fresh_database: Callable[..., str]) -> str:
    gc.collect()  # the loader's pooled connections must be gone before the template is copied
    return fresh_database(demo_template)


@pytest.fixture(scope="module")
def centre_engine(centre_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(centre_url, pool_size=2)
    rates = RATE_SQL.format(shift=(DAY - LAST).days)
    load_reports(centre_url, engine, N, tmp_path_factory.mktemp("centre"), AGE_SQL + rates)
    yield engine
    engine.dispose()


def _p50_ms(run: Callable[[], object], runs: int = RUNS) -> float:
    for _ in range(3):  # warm the plans and the caches
        run()
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


FIRST_LOAD = (
    "/dashboard?date={day}",
    "/vendor/leaflet/dist/leaflet.css",
    "/maps/static/dashboard.css",
    "/vendor/leaflet/dist/leaflet.js",
    "/vendor/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.js",
    "/maps/static/vectorgrid-fix.js",
    "/vendor/echarts/dist/echarts.min.js",
    "/maps/static/dashboard.js",
    "/api/v1/dashboard?date={day}",
    "/api/v1/dashboard/density?date={day}&days=1",
)
# The triggers that keep the day figures on a new incident (migration 0013).
TRIGGERS = {
    "incident_reports": "incident_day_figures_insert",
    "incident_assignments": "incident_assignments_day_grids_insert",
}


def _first_load(client: httpx.Client, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    for path in FIRST_LOAD:
        r = client.get(path.format(day=DAY.isoformat()), headers=headers)
        assert r.status_code == 200, (path, r.text[:200])


def _daily_counts_only(session: Session) -> None:
    """The daily report's own counts, without the rates the dashboard added to it."""
    session.execute(
        text(
            "SELECT channel, count(*), count(*) FILTER (WHERE handled_directly),"
            " count(*) FILTER (WHERE callback_at IS NOT NULL) FROM incident_reports"
            " WHERE received_at >= :s AND received_at < :e GROUP BY channel"
        ),
        {"s": f"{DAY}T00:00:00+08:00", "e": f"{DAY}T23:59:59.999999+08:00"},
    ).all()
    session.execute(
        text(
            "SELECT category_code, count(*) FROM incident_reports WHERE received_at >= :s"
            " AND received_at < :e GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
        ),
        {"s": f"{DAY}T00:00:00+08:00", "e": f"{DAY}T23:59:59.999999+08:00"},
    ).all()


def _day(session: Session, scope: Scope) -> None:
    daily_report(session, DAY)
    open_cases(session, DAY, scope)


def _every(session: Session, scope: Scope) -> None:
    dashboard(session, DAY, scope)
    density(session, DAY, 1, scope)


def _both(run: Callable[[], None]) -> tuple[float, float]:
    """p50 of ``run`` from the kept figures and aggregated directly, interleaved."""
    kept, direct = [], []
    for _ in range(3):
        kept.append(_p50_ms(run, 5))
        with aggregated_directly():
            direct.append(_p50_ms(run, 5))
    return statistics.median(kept), statistics.median(direct)


def _post_ms(
    engine: Engine, client: httpx.Client, token: str, points: list[Any]
) -> dict[str, float]:
    """p50 of one incident POST with the day-figure triggers on and off, in alternate
    blocks (they are left on)."""
    headers = {"Authorization": f"Bearer {token}"}
    timings: dict[bool, list[float]] = {True: [], False: []}
    n = 0
    for block in range(12):
        on = block % 4 in (0, 3)  # on, off, off, on, ...
        with engine.begin() as conn:
            for table, trigger in TRIGGERS.items():
                state = "ENABLE" if on else "DISABLE"
                conn.execute(text(f"ALTER TABLE {table} {state} TRIGGER {trigger}"))
        for i in range(30):
            lon, lat = points[n % len(points)]
            n += 1
            body = {
                "external_id": f"BENCH-CENTRE-{n}", "channel": "hotline_call",
                "category_code": "noise", "description": "噪音扰民", "lon": lon, "lat": lat,
                "crs": "cgcs2000",
            }  # fmt: skip
            start = time.perf_counter()
            r = client.post("/api/v1/incidents", json=body, headers=headers)
            if i >= 3:  # the first after a switch pays for the new plans
                timings[on].append(time.perf_counter() - start)
            assert r.status_code == 201, r.text
    with engine.begin() as conn:
        for table, trigger in TRIGGERS.items():
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
    return {"on": statistics.median(timings[True]) * 1000,
            "off": statistics.median(timings[False]) * 1000}  # fmt: skip


# A new incident's two rows as the POST writes them, copied from a stored one, each insert
# under EXPLAIN ANALYZE, which times its triggers apart (rolled back).
COPY_REPORT = """
EXPLAIN (ANALYZE, FORMAT JSON)
INSERT INTO incident_reports (id, external_id, channel, category_code, description, geom,
  input_crs, status, handled_directly, received_at, due_at, district_code)
SELECT :id, 'BENCH-TRIGGER-' || :id, channel, category_code, description, geom, input_crs,
  'received', false, now(), due_at, district_code
FROM incident_reports WHERE id = :source
"""
COPY_ASSIGNMENT = """
EXPLAIN (ANALYZE, FORMAT JSON)
INSERT INTO incident_assignments (incident_id, {columns}) SELECT :id, {columns}
FROM incident_assignments WHERE incident_id = :source
"""


def _trigger_ms(engine: Engine, runs: int = 40) -> dict[str, float]:
    """Median time PostgreSQL spends in the day-figure triggers of one new incident, and
    in its two inserts altogether (triggers included)."""
    triggers, inserts = [], []
    with engine.connect() as conn:
        columns = conn.execute(
            text(
                "SELECT string_agg(attname, ', ' ORDER BY attnum) FROM pg_attribute WHERE"
                " attrelid = 'incident_assignments'::regclass AND attnum > 0"
                " AND NOT attisdropped AND attname <> 'incident_id'"
            )
        ).scalar_one()
        copy_assignment = COPY_ASSIGNMENT.format(columns=columns)
        sources = conn.execute(
            text("SELECT incident_id FROM incident_assignments WHERE grid_code IS NOT NULL"
                 " ORDER BY incident_id LIMIT :n"), {"n": runs}
        ).scalars().all()  # fmt: skip
        conn.rollback()
        for source in sources:
            with conn.begin() as trans:
                new = conn.execute(text("SELECT max(id) + 1 FROM incident_reports")).scalar_one()
                spent = inserted = 0.0
                for sql in (COPY_REPORT, copy_assignment):
                    plan = conn.execute(text(sql), {"id": new, "source": source}).scalar_one()
                    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
                    inserted += plan["Execution Time"]
                    spent += sum(t["Time"] for t in plan.get("Triggers", [])
                                 if t["Trigger Name"] in TRIGGERS.values())  # fmt: skip
                trans.rollback()
            triggers.append(spent)
            inserts.append(inserted)
    return {"trigger": statistics.median(triggers), "inserts": statistics.median(inserts)}


def test_dashboard_over_a_million_incidents(centre_url: str, centre_engine: Engine) -> None:
    with centre_engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM incident_reports")).scalar_one()
        points = list(
            conn.execute(
                text(
                    "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids"
                    " WHERE valid_to IS NULL ORDER BY code LIMIT 200) q"
                )
            )
        )
    with session_scope(centre_engine) as session:
        token, _ = create_token(session, "viewer", "bench-centre")
        writer, _ = create_token(session, "dispatcher", "bench-centre-writer")
    scope = Scope()
    with Session(centre_engine) as session:
        day_ms, direct_ms = _both(lambda: _day(session, scope))
        all_ms, all_direct_ms = _both(lambda: _every(session, scope))
        counts_ms = _p50_ms(lambda: _daily_counts_only(session))
        figures = dashboard(session, DAY, scope)
        parts = {
            "rates": _p50_ms(lambda: unit_rates(session, DAY, scope), 5),
            "open": _p50_ms(lambda: open_cases(session, DAY, scope), 5),
            "trend": _p50_ms(lambda: trend(session, DAY, scope), 5),
            "density": _p50_ms(lambda: density(session, DAY, 1, scope), 5),
        }
    with LiveServer(centre_url) as server, server.client() as client:
        load_ms = _p50_ms(lambda: _first_load(client, token), 10)
        headers = {"Authorization": f"Bearer {token}"}
        report_ms = _p50_ms(
            lambda: client.get(f"/api/v1/reports/daily?date={DAY}", headers=headers), 10
        )
        post = _post_ms(centre_engine, client, writer, points)
    post.update(_trigger_ms(centre_engine))
    print(
        f"\ncommand centre over {stored:,} incidents ({figures['day']['total']:,} that day,"
        f" {figures['open']['total']:,} open): first load p50 {load_ms:.0f} ms (the daily"
        f" report's JSON {report_ms:.0f} ms); a day's figures {day_ms:.1f} ms (aggregated"
        f" directly {direct_ms:.1f} ms, the daily counts alone {counts_ms:.1f} ms); every"
        f" figure {all_ms:.1f} ms (directly {all_direct_ms:.1f} ms); parts {parts}; one POST"
        f" {post['on']:.2f} ms with the triggers, {post['off']:.2f} ms without; the triggers of"
        f" one incident {post['trigger']:.3f} ms of its inserts' {post['inserts']:.3f} ms"
    )
    assert figures["day"]["total"] > 0 and figures["rates"]["due"] > 0
    if stored >= FULL:
        _record(load_ms, report_ms, day_ms, direct_ms, counts_ms, all_ms, all_direct_ms, post)
    assert stored >= N


def _record(
    load_ms: float,
    report_ms: float,
    day_ms: float,
    direct_ms: float,
    counts_ms: float,
    all_ms: float,
    all_direct_ms: float,
    post: dict[str, float],
) -> None:
    record(
        "dashboard_first_load",
        load_ms,
        "ms",
        "the daily report's JSON of the same day over HTTP",
        report_ms,
        report_ms / load_ms,
        title="command centre first load over loopback (page, scripts and styles with"
        " ECharts and Leaflet, figures, density) over 1 M incidents, p50",
        command=COMMAND,
        bar="≤ 1 s",
        met=load_ms <= 1000,
    )
    record(
        "dashboard_day_figures",
        day_ms,
        "ms",
        "the same figures aggregated from the reports directly (the code path before)",
        direct_ms,
        direct_ms / day_ms,
        title="command centre: a day's figures from the database over 1 M incidents, p50",
        command=COMMAND,
        bar="≤ 100 ms",
        met=day_ms <= 100,
        daily_counts_alone_ms=round(counts_ms, 1),
        every_figure_ms=round(all_ms, 1),
        every_figure_direct_ms=round(all_direct_ms, 1),
    )
    record(
        "dashboard_intake_cost",
        post["on"],
        "ms",
        "the same POST with the day-figure triggers disabled",
        post["off"],
        post["off"] / post["on"],
        title="one incident POSTed over HTTP with the day figures kept in its transaction,"
        " over 1 M incidents, p50",
        command=COMMAND,
        trigger_ms=round(post["trigger"], 3),
        inserts_ms=round(post["inserts"], 3),
        trigger_share_of_post=round(post["trigger"] / post["on"], 4),
        note=f"the triggers of one incident (EXPLAIN ANALYZE): {post['trigger']:.3f} ms, "
        f"{post['trigger'] / post['on']:.2%} of the POST; load average {os.getloadavg()[0]:.0f}",
    )
