"""Benchmark: ``locate`` over HTTP and ``locate_many`` in bulk on the demo city (run by
``make bench``). Figures are printed, each as a ratio to a peer measured in the same run:

- HTTP: ``GET /api/v1/locate`` against ``/bench/intersects`` (the same stack answering
  with one PostGIS ``ST_Intersects`` query) and ``/bench/noop`` (the stack alone), served
  as ``wangge serve`` serves them (one uvicorn worker per core): p50 latency of sequential
  requests from a keep-alive Python client, and requests/s from ``wrk`` (a C load
  generator, so the client takes little of the cores the server runs on) cycling through
  the same points over a few connections for a few seconds.
- Bulk: ``Assigner.locate_many`` on 1,000,000 points against a PostGIS ``ST_Intersects``
  join of the same points (already in a table) and a GeoPandas ``sjoin`` in memory.
"""

from __future__ import annotations

import gc
import http.client
import io
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import pytest
import shapely
from sqlalchemy import Engine

from gis.assign import Assigner
from gis.db import libpq_url, make_engine
from gis.settings import Settings
from tests.bench.results import pytest_command, record
from tests.conftest import _ephemeral_port

ROOT = Path(__file__).resolve().parents[2]
SEQUENTIAL = 1500
POINTS = 4000
CONNECTIONS = 8
WRK_SECONDS = 8
BULK = 1_000_000
COMMAND = pytest_command(__file__)
# wrk request generator: cycles through the paths in the file named by WANGGE_PATHS.
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("WANGGE_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def city_points(assigner: Assigner, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points where reports come from: around grid interiors, some near edges and outside."""
    rng = np.random.default_rng(seed)
    grids = assigner.snapshot.grid_geom
    anchors = shapely.get_coordinates(
        shapely.point_on_surface(grids[rng.integers(0, len(grids), n)])
    )
    # Up to ~400 m from the anchor: crosses edges, sometimes leaves the city.
    return anchors[:, 0] + rng.normal(0, 0.002, n), anchors[:, 1] + rng.normal(0, 0.0015, n)


@pytest.fixture(scope="module")
def city_url(demo_template: str, fresh_database: Callable[..., str]) -> str:
    """A private copy of the demo city (the loader's pooled connections closed first,
    or the template could not be copied)."""
    gc.collect()
    return fresh_database(demo_template)


@pytest.fixture(scope="module")
def city_engine(city_url: str) -> Iterator[Engine]:
    eng = make_engine(city_url, pool_size=2)
    yield eng
    eng.dispose()


@contextmanager
def serving(url: str, **settings: str) -> Iterator[int]:
    """The app plus the peer endpoints on ``url``, served as ``wangge serve`` does: uvicorn,
    one worker process per core (not sharing our GIL); yields the port once it answers.
    ``settings``: more environment, e.g. ``WANGGE_ASSIGN_STALE_WAIT_MS="0"``."""
    port = _ephemeral_port()
    env = {**os.environ, "WANGGE_DATABASE_URL": url, **settings}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "tests.bench.locate_app:create",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log", "--workers", str(Settings().workers)],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("benchmark server did not start")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def served(city_url: str) -> Iterator[int]:
    with serving(city_url) as port:
        yield port


def paths(route: str, xs: np.ndarray, ys: np.ndarray) -> list[str]:
    return [f"{route}?lon={x:.7f}&lat={y:.7f}" for x, y in zip(xs, ys, strict=True)]


def run(port: int, urls: list[str], latencies: list[float] | None = None) -> int:
    """GET each url on one keep-alive connection; returns how many were not 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    bad = 0
    for url in urls:
        start = time.perf_counter()
        conn.request("GET", url)
        response = response_ = conn.getresponse()
        response_.read()
        if latencies is not None:
            latencies.append(time.perf_counter() - start)
        bad += response.status != 200
    conn.close()
    return bad


def throughput(port: int, urls: list[str], scratch: Path) -> tuple[float, int]:
    """(requests/s, failed requests) from wrk over CONNECTIONS connections: a failure is an
    answer other than 2xx/3xx, or a socket error (a request unanswered after 2 s)."""
    (scratch / "paths.txt").write_text("\n".join(urls) + "\n")
    (scratch / "paths.lua").write_text(WRK_SCRIPT)
    done = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{WRK_SECONDS}s", "-s", str(scratch / "paths.lua"),
         f"http://127.0.0.1:{port}"],
        env={**os.environ, "WANGGE_PATHS": str(scratch / "paths.txt")},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    assert found, done.stdout
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", done.stdout)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                        done.stdout)  # fmt: skip
    errors = (int(failed.group(1)) if failed else 0) + (
        sum(int(n) for n in sockets.groups()) if sockets else 0
    )
    return float(found.group(1)), errors


def measure(
    port: int, route: str, xs: np.ndarray, ys: np.ndarray, scratch: Path
) -> tuple[float, float, int]:
    """(p50 ms of sequential requests, requests/s from wrk, failed requests under wrk)."""
    urls = paths(route, xs, ys)
    run(port, urls[:100])  # warm: snapshot loaded, connections pooled
    latencies: list[float] = []
    assert run(port, urls[:SEQUENTIAL], latencies) == 0
    return statistics.median(latencies) * 1000, *throughput(port, urls, scratch)


def test_locate_over_http(served: int, city_engine: Engine, tmp_path: Path) -> None:
    assigner = Assigner.load(city_engine)
    xs, ys = city_points(assigner, max(SEQUENTIAL, POINTS), seed=1)
    figures = {
        route: measure(served, route, xs, ys, tmp_path)
        for route in ("/bench/noop", "/bench/intersects", "/api/v1/locate")
    }
    p50, rps, errors = figures["/api/v1/locate"]
    workers = Settings().workers
    print(
        f"\nlocate over HTTP on the demo city ({len(assigner.snapshot.grid_geom)} grids,"
        f" {workers} uvicorn workers, wrk {CONNECTIONS} connections {WRK_SECONDS} s):"
    )
    for route, (lat_ms, per_s, failed) in figures.items():
        print(f"  {route:20s} p50 {lat_ms:6.2f} ms   {per_s:8.0f} req/s   {failed} failed")
    peer_p50, peer_rps, _ = figures["/bench/intersects"]
    print(f"  locate vs PostGIS ST_Intersects endpoint: p50 {peer_p50 / p50:.2f}x faster, "
          f"throughput {rps / peer_rps:.2f}x")  # fmt: skip
    floor_p50, floor_rps, _ = figures["/bench/noop"]
    print(
        f"  locate vs the bare stack: p50 {p50 / floor_p50:.2f}x, throughput {rps / floor_rps:.2f}x"
    )
    met = p50 <= 2.0 and rps >= 1500
    print(f"  bar p50 <= 2 ms and >= 1,500 req/s: {'met' if met else 'NOT met'} on this run")
    assert errors == 0, f"{errors} locate requests failed under load"
    record(
        "locate_http_p50",
        p50,
        "ms",
        "the same stack answering with one PostGIS `ST_Intersects` query",
        peer_p50,
        peer_p50 / p50,
        title="`GET /api/v1/locate` over HTTP, p50 of 1,500 sequential requests, demo city",
        command=COMMAND,
        bar="p50 ≤ 2 ms",
        met=p50 <= 2.0,
        bare_stack_ms=floor_p50,
        workers=workers,
    )
    record(
        "locate_http_throughput",
        rps,
        "req/s",
        "the `ST_Intersects` endpoint",
        peer_rps,
        rps / peer_rps,
        title=f"`GET /api/v1/locate` throughput, `wrk` {CONNECTIONS} connections,"
        f" {workers} workers, demo city",
        command=COMMAND,
        bar="≥ 1,500 req/s",
        met=rps >= 1500,
        bare_stack_rps=floor_rps,
        workers=workers,
        failed=errors,
    )


def copy_points(url: str, xs: np.ndarray, ys: np.ndarray) -> float:
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([np.arange(len(xs)), xs, ys]), fmt="%d\t%.7f\t%.7f")
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_points")
        conn.execute("CREATE UNLOGGED TABLE bench_points (id int, x float8, y float8)")
        with conn.cursor().copy("COPY bench_points FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        conn.execute("ALTER TABLE bench_points ADD COLUMN geom geometry(Point, 4490)")
        conn.execute("UPDATE bench_points SET geom = ST_SetSRID(ST_MakePoint(x, y), 4490)")
        conn.execute("VACUUM ANALYZE bench_points")
        start = time.perf_counter()
        conn.execute(
            "CREATE TEMP TABLE joined AS SELECT p.id, g.code FROM bench_points p"
            " JOIN grids g ON g.valid_to IS NULL AND ST_Intersects(g.geom, p.geom)"
        )
        elapsed = time.perf_counter() - start
        conn.execute("DROP TABLE bench_points")
    return elapsed


def test_locate_many_throughput(city_url: str, city_engine: Engine) -> None:
    assigner = Assigner.load(city_engine)
    xs, ys = city_points(assigner, BULK, seed=2)

    start = time.perf_counter()
    assigner.warm()
    table_s = time.perf_counter() - start
    start = time.perf_counter()
    cols = assigner.locate_many(xs, ys)
    ours = time.perf_counter() - start
    assert len(cols) == BULK

    grids = gpd.GeoDataFrame(
        {"code": assigner.snapshot.grid_code}, geometry=assigner.snapshot.grid_geom, crs=4490
    )
    start = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=4490)
    joined = gpd.sjoin(points, grids, predicate="intersects", how="left")
    sjoin_s = time.perf_counter() - start
    assert len(joined) >= BULK

    postgis_s = copy_points(city_url, xs, ys)

    matched = np.mean(cols.match != "outside")
    print(f"\nlocate_many on {BULK:,} points ({matched:.1%} assigned to a grid):")
    print(f"  cell table build (once per boundary version): {table_s:.2f} s")
    print(f"  locate_many (all rules): {ours:.2f} s = {BULK / ours:,.0f}/s")
    print(f"  GeoPandas sjoin (grid only):         {sjoin_s:.2f} s = {BULK / sjoin_s:,.0f}/s"
          f" -> locate_many {sjoin_s / ours:.1f}x")  # fmt: skip
    print(f"  PostGIS ST_Intersects join (grid only): {postgis_s:.2f} s = {BULK / postgis_s:,.0f}/s"
          f" -> locate_many {postgis_s / ours:.1f}x")  # fmt: skip
    record(
        "locate_many",
        BULK / ours,
        "points/s",
        "GeoPandas `sjoin` in memory (grid only)",
        BULK / sjoin_s,
        sjoin_s / ours,
        title="`locate_many` on 1,000,000 points, every rule",
        command=COMMAND,
        seconds=ours,
        postgis_join_s=postgis_s,
        ratio_postgis_join=postgis_s / ours,
        cell_table_s=table_s,
        points=BULK,
    )
