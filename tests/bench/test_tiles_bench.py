"""Benchmark: grid vector tiles against TiPg serving the same table (run by ``make bench``).

Both servers run in their own single uvicorn process on loopback against one private copy
of the demo city, in the same run: Wangge's ``/tiles/grids/{z}/{x}/{y}.mvt`` and TiPg's
``/collections/public.grids/tiles/WebMercatorQuad/{z}/{x}/{y}`` asked for the same current
grids and the same attributes (``filter=valid_to IS NULL``, ``properties=...``). The tile
list covers the city's grids at zooms 12-15. Reported: p50 of sequential requests and
tiles/s over a few concurrent keep-alive connections, and the ratios.
"""

from __future__ import annotations

import gc
import http.client
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from sqlalchemy import text

from gis.db import libpq_url, make_engine
from tests.bench.results import pytest_command, record
from tests.conftest import _ephemeral_port

ROOT = Path(__file__).resolve().parents[2]
ZOOMS = (12, 13, 14, 15)
TILES_PER_ZOOM = 150
CONNECTIONS = 4
ROUNDS = 2
PROPERTIES = "code,name,community_code,kind,households,residents"
COMMAND = pytest_command(__file__)
PEER = "TiPg 1.6.1 on the same table"


@pytest.fixture(scope="module")
def city_url(demo_template: str, fresh_database: Callable[..., str]) -> str:
    gc.collect()
    return fresh_database(demo_template)


def wait_ready(proc: subprocess.Popen[bytes], port: int, path: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"server for {path} did not start")
        time.sleep(0.3)


def serve(app: str, env: dict[str, str], ready: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _ephemeral_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env={**os.environ, **env},
    )  # fmt: skip
    wait_ready(proc, port, ready)
    return proc, port


@pytest.fixture(scope="module")
def servers(city_url: str) -> Iterator[dict[str, int]]:
    ours, our_port = serve("api.asgi:app", {"WANGGE_DATABASE_URL": city_url}, "/health")
    dsn = libpq_url(city_url)
    tipg, tipg_port = serve(
        "tipg.main:app",
        {"DATABASE_URL": dsn, "TIPG_DB_TABLES": '["public.grids"]', "TIPG_DEBUG": "false"},
        "/collections",
    )
    yield {"wangge": our_port, "tipg": tipg_port}
    for proc in (ours, tipg):
        proc.terminate()
        proc.wait(timeout=20)


def city_tiles(url: str) -> list[tuple[int, int, int]]:
    """Tiles holding current grids, a fixed sample per zoom."""
    engine = make_engine(url, pool_size=1)
    with engine.connect() as conn:
        points = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids"
                " WHERE valid_to IS NULL) q"
            )
        ).all()
    engine.dispose()
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    rng = np.random.default_rng(7)
    tiles: list[tuple[int, int, int]] = []
    for z in ZOOMS:
        n = 1 << z
        xs = ((lon + 180.0) / 360.0 * n).astype(int)
        ys = ((1.0 - np.arcsinh(np.tan(np.radians(lat))) / math.pi) / 2.0 * n).astype(int)
        unique = sorted(set(zip(xs.tolist(), ys.tolist(), strict=True)))
        pick = rng.permutation(len(unique))[:TILES_PER_ZOOM]
        tiles += [(z, unique[i][0], unique[i][1]) for i in sorted(pick)]
    return tiles


def paths(server: str, tiles: list[tuple[int, int, int]]) -> list[str]:
    if server == "wangge":
        return [f"/tiles/grids/{z}/{x}/{y}.mvt" for z, x, y in tiles]
    query = f"?properties={PROPERTIES}&filter={quote('valid_to IS NULL')}"
    return [
        f"/collections/public.grids/tiles/WebMercatorQuad/{z}/{x}/{y}{query}" for z, x, y in tiles
    ]


def run(port: int, urls: list[str], latencies: list[float] | None = None) -> tuple[int, int]:
    """GET each url on one keep-alive connection; (failures, bytes received)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    bad = size = 0
    for url in urls:
        start = time.perf_counter()
        conn.request("GET", url)
        response = conn.getresponse()
        body = response.read()
        size += len(body)
        if latencies is not None:
            latencies.append(time.perf_counter() - start)
        if response.status not in (200, 204):
            bad += 1
            if bad == 1:
                print(f"  {url} -> {response.status} {body[:300]!r}")
    conn.close()
    return bad, size


def measure(port: int, urls: list[str]) -> tuple[float, float, int]:
    """(p50 ms sequential, tiles/s over CONNECTIONS connections, bytes per round)."""
    latencies: list[float] = []
    bad, size = run(port, urls, latencies)
    assert bad == 0
    work = urls * ROUNDS
    share = len(work) // CONNECTIONS
    failures = [0] * CONNECTIONS

    def worker(k: int) -> None:
        failures[k] = run(port, work[k * share : (k + 1) * share])[0]

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(CONNECTIONS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    assert sum(failures) == 0
    return statistics.median(latencies) * 1000, share * CONNECTIONS / elapsed, size


def test_grid_tiles_against_tipg(city_url: str, servers: dict[str, int]) -> None:
    tiles = city_tiles(city_url)
    urls = {name: paths(name, tiles) for name in servers}
    for name, port in servers.items():  # warm: pools, catalogue, database cache
        assert run(port, urls[name])[0] == 0
    figures = {name: measure(port, urls[name]) for name, port in servers.items()}
    print(f"\ngrid tiles on the demo city ({len(tiles)} tiles, zooms {ZOOMS[0]}-{ZOOMS[-1]}):")
    for name, (p50, rate, size) in figures.items():
        print(
            f"  {name:7s} p50 {p50:6.2f} ms   {rate:7.0f} tiles/s ({CONNECTIONS} connections)"
            f"   {size / len(tiles) / 1024:6.1f} KiB/tile"
        )
    ours, peer = figures["wangge"], figures["tipg"]
    print(
        f"  wangge vs TiPg: p50 {peer[0] / ours[0]:.2f}x faster,"
        f" throughput {ours[1] / peer[1]:.2f}x"
    )
    what = f"{len(tiles)} tiles, zooms {ZOOMS[0]}-{ZOOMS[-1]}"
    record(
        "tiles_p50",
        ours[0],
        "ms",
        PEER,
        peer[0],
        peer[0] / ours[0],
        title=f"grid vector tile, p50 of sequential requests ({what})",
        command=COMMAND,
        bar="p50 ≤ 15 ms",
        met=ours[0] <= 15.0,
        kib_per_tile=ours[2] / len(tiles) / 1024,
        peer_kib_per_tile=peer[2] / len(tiles) / 1024,
    )
    record(
        "tiles_throughput",
        ours[1],
        "tiles/s",
        PEER,
        peer[1],
        ours[1] / peer[1],
        title=f"grid vector tiles over {CONNECTIONS} keep-alive connections ({what})",
        command=COMMAND,
        bar="≥ 2× TiPg",
        met=ours[1] >= 2 * peer[1],
    )
