"""Benchmark: the dispatch desk's reads over 1,000,000 stored incidents (``make bench``;
``WANGGE_BENCH_DESK`` changes the count). p50 of sequential keep-alive requests against
the app served over HTTP, each set against its peer in the same run — the same SQL
statement sent straight to PostgreSQL, the least the answer can cost:

- a queue page: ``GET /api/v1/incidents`` with a status, a unit, ``sort=due`` and
  ``limit=100`` (the desk's tab for one unit, soonest due first), and a dispatcher's
  to-dispatch tab (status only, sorted by due);
- the similar-incident lookup before saving: ``GET /api/v1/incidents/similar``.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
from sqlalchemy import Engine, text

from gis.assign.metric import metres_per_degree
from gis.db import libpq_url, make_engine, session_scope
from gis.incidents.similar import SIMILAR_SQL
from gis.tokens import create_token
from tests.bench.reports import load_reports
from tests.bench.results import pytest_command, record
from tests.conftest import LiveServer

FULL = 1_000_000
N = int(os.environ.get("WANGGE_BENCH_DESK", str(FULL)))
REQUESTS = 400
COMMAND = pytest_command(__file__)

# Ages the stored reports as a month of hotline work leaves them: most closed, the rest
# spread over the open statuses, each with its category's unit.
AGE_SQL = """
SELECT setseed(0.2026);
UPDATE incident_reports r SET
  status = s.status,
  unit_code = CASE WHEN s.status = 'received' THEN NULL ELSE c.default_unit_code END,
  dispatched_at = CASE WHEN s.status = 'received' THEN NULL
                       ELSE r.received_at + interval '10 minutes' END,
  closed_at = CASE WHEN s.status = 'closed' THEN r.received_at + interval '2 days' END
FROM (SELECT id, CASE WHEN x < 0.70 THEN 'closed' WHEN x < 0.78 THEN 'received'
                      WHEN x < 0.88 THEN 'dispatched' WHEN x < 0.96 THEN 'in_progress'
                      ELSE 'replied' END AS status
      FROM (SELECT id, random() AS x FROM incident_reports) q) s,
     incident_categories c
WHERE s.id = r.id AND c.code = r.category_code;
ANALYZE incident_reports;
ANALYZE incident_assignments;
"""
LIST_SQL = """
SELECT r.*, a.*, ST_X(r.geom), ST_Y(r.geom)
FROM incident_reports r JOIN incident_assignments a ON a.incident_id = r.id
WHERE r.status = %(status)s AND (%(unit)s::text IS NULL OR r.unit_code = %(unit)s)
ORDER BY r.due_at ASC NULLS LAST, r.id DESC LIMIT 100
"""


@pytest.fixture(scope="module")
def desk_url(demo_template: str, fresh_database: Callable[..., str]) -> str:
    gc.collect()  # the loader's pooled connections must be gone before the template is copied
    return fresh_database(demo_template)


@pytest.fixture(scope="module")
def desk_engine(desk_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(desk_url, pool_size=2)
    load_reports(desk_url, engine, N, tmp_path_factory.mktemp("desk"), AGE_SQL)
    yield engine
    engine.dispose()


def _p50_ms(timings: list[float]) -> float:
    return statistics.median(timings) * 1000


def _http(client: httpx.Client, paths: list[str], token: str) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    for path in paths[:20]:  # warm the connection, the plans and the caches
        assert client.get(path, headers=headers).status_code == 200
    timings = []
    for path in paths:
        start = time.perf_counter()
        r = client.get(path, headers=headers)
        timings.append(time.perf_counter() - start)
        assert r.status_code == 200, r.text
    return _p50_ms(timings)


def _sql(url: str, statement: Any, params: list[dict[str, Any]]) -> float:
    with psycopg.connect(libpq_url(url)) as conn:
        for p in params[:20]:
            conn.execute(statement, p).fetchall()
        timings = []
        for p in params:
            start = time.perf_counter()
            conn.execute(statement, p).fetchall()
            timings.append(time.perf_counter() - start)
    return _p50_ms(timings)


def test_desk_reads_over_a_million_incidents(desk_url: str, desk_engine: Engine) -> None:
    rng = np.random.default_rng(7)
    with desk_engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM incident_reports")).scalar_one()
        units = [
            u for (u,) in conn.execute(text("SELECT DISTINCT unit_code FROM incident_reports"
                                             " WHERE unit_code IS NOT NULL"))
        ]  # fmt: skip
        points = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom), category_code FROM incident_reports"
                 " ORDER BY id LIMIT 2000")
        ).all()  # fmt: skip
    with session_scope(desk_engine) as session:
        token, _ = create_token(session, "dispatcher", "bench-desk")
    statuses = ("dispatched", "in_progress", "replied")
    queue = [
        (str(rng.choice(statuses)), str(rng.choice(units)) if i % 4 else None)
        for i in range(REQUESTS)
    ]
    queue_paths = [
        f"/api/v1/incidents?status={s}&sort=due&limit=100" + (f"&unit={u}" if u else "")
        for s, u in queue
    ]
    picks = rng.integers(0, len(points), REQUESTS)
    near = [
        (float(points[i][0]) + rng.normal(0, 0.0005), float(points[i][1]), str(points[i][2]))
        for i in picks
    ]
    similar_paths = [
        f"/api/v1/incidents/similar?lon={x:.7f}&lat={y:.7f}&category_code={c}&crs=cgcs2000"
        for x, y, c in near
    ]
    with LiveServer(desk_url) as server, server.client() as client:
        queue_ms = _http(client, queue_paths, token)
        similar_ms = _http(client, similar_paths, token)
    queue_sql_ms = _sql(desk_url, LIST_SQL, [{"status": s, "unit": u} for s, u in queue])
    similar_sql_ms = _similar_sql(desk_url, near)
    print(
        f"\ndesk over {stored:,} incidents: queue page p50 {queue_ms:.2f} ms over HTTP "
        f"(the SQL alone {queue_sql_ms:.2f} ms); similar lookup p50 {similar_ms:.2f} ms "
        f"(the SQL alone {similar_sql_ms:.2f} ms)"
    )
    full = stored >= FULL
    if full:
        record(
            "desk_queue",
            queue_ms,
            "ms",
            "the same page's SQL sent straight to PostgreSQL",
            queue_sql_ms,
            queue_sql_ms / queue_ms,
            title="queue page of 100 (status, unit, sort by due) over 1 M incidents, p50",
            command=COMMAND,
            bar="≤ 30 ms",
            met=queue_ms <= 30,
        )
        record(
            "desk_similar",
            similar_ms,
            "ms",
            "the same lookup's SQL sent straight to PostgreSQL",
            similar_sql_ms,
            similar_sql_ms / similar_ms,
            title="similar-incident lookup before saving over 1 M incidents, p50",
            command=COMMAND,
            bar="≤ 20 ms",
            met=similar_ms <= 20,
        )
    assert stored >= N


def _similar_sql(url: str, near: list[tuple[float, float, str]]) -> float:
    """The lookup's statement alone, bound as :func:`gis.incidents.similar.similar_at` binds it."""
    params = []
    for x, y, c in near:
        per_x, per_y = metres_per_degree(y)
        dx, dy = 250 / float(per_x) * 1.01, 250 / float(per_y) * 1.01
        params.append(
            {"lon": x, "lat": y, "x0": x - dx, "y0": y - dy, "x1": x + dx, "y1": y + dy,
             "category": c, "exclude": None, "since": "2026-11-01", "radius": 250.0,
             "limit": 10}
        )  # fmt: skip
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            for p in params[:20]:
                conn.execute(SIMILAR_SQL, p).all()
            timings = []
            for p in params:
                start = time.perf_counter()
                conn.execute(SIMILAR_SQL, p).all()
                timings.append(time.perf_counter() - start)
    finally:
        engine.dispose()
    return _p50_ms(timings)
