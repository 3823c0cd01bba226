"""A bounded load run: dispatchers posting incidents while viewers fetch tiles and maps.

    python -m tests.bench.load [--seconds 20] [--requests 6000] [--url DATABASE_URL]

Without ``--url`` a throwaway embedded cluster is started under ``.wangge/bench`` and the
demo city loaded into it; the app runs in its own process (``uvicorn api.asgi:app``) on
127.0.0.1 and the clients in this one, so the two cores are split between them. Only
loopback is used; the run stops at the request count or the time limit, whichever first.

Reported: requests/s, p50/p99 per kind, errors (must be 0), and incidents acknowledged
(2xx) against incidents stored (must be equal; a share of posts are retries of an
already acknowledged ``external_id``, which must not store a second row).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import secrets
import socket
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from sqlalchemy import func, select

from gis import migrate
from gis.cluster import Cluster
from gis.db import make_engine, session_scope
from gis.models import Incident, IncidentCategory
from gis.settings import PROJECT_ROOT
from gis.tokens import create_token

XINING = (101.78, 36.62)
RETRY_SHARE = 0.1


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    acked: dict[str, int] = field(default_factory=dict)
    count: int = 0


def tiles_around(lon: float, lat: float, zooms: range, span: int) -> list[str]:
    """Tile paths (``z/x/y``) of a few tiles around a point, Web Mercator tile scheme."""
    out = []
    for z in zooms:
        n = 2**z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        out += [
            f"{z}/{x + dx}/{y + dy}"
            for dx in range(-span, span + 1)
            for dy in range(-span, span + 1)
        ]
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(url: str) -> tuple[dict[str, str], str]:
    """Tokens for the run and a category code to post under."""
    engine = make_engine(url, pool_size=1)
    with session_scope(engine) as session:
        tokens = {r: create_token(session, r, f"load-{r}")[0] for r in ("viewer", "dispatcher")}
        code = session.scalars(
            select(IncidentCategory.code)
            .where(IncidentCategory.active)
            .order_by(IncidentCategory.code)
        ).first()
    engine.dispose()
    if code is None:
        raise SystemExit("the database has no incident categories: load the demo city first")
    return tokens, code


async def dispatcher(
    client: httpx.AsyncClient, tally: Tally, run: str, category: str, n: int, stop: asyncio.Event
) -> None:
    rng = random.Random(n)
    i = 0
    sent: dict[str, dict[str, Any]] = {}
    while not stop.is_set():
        if sent and rng.random() < RETRY_SHARE:
            # A hotline system retrying: the same report under the same external_id.
            body = sent[rng.choice(list(sent))]
        else:
            external_id = f"LOAD{run}-{n}-{i}"
            i += 1
            body = sent[external_id] = {
                "external_id": external_id,
                "channel": "hotline_call",
                "category_code": category,
                "description": "负载测试",
                "lon": XINING[0] + rng.uniform(-0.05, 0.05),
                "lat": XINING[1] + rng.uniform(-0.03, 0.03),
                "reporter_name": "测试",
                "reporter_phone": "13900001111",
            }
        external_id = body["external_id"]
        response = await timed(client, tally, "POST incident", "POST", "/api/v1/incidents", body)
        if response is not None and response.status_code in (200, 201):
            got = int(response.json()["id"])
            if tally.acked.setdefault(external_id, got) != got:
                tally.errors.append(f"{external_id} acknowledged as two ids")


async def viewer(
    client: httpx.AsyncClient,
    tally: Tally,
    tiles: list[str],
    n: int,
    stop: asyncio.Event,
    map_share: float,
) -> None:
    """Tiles 75 %, map pages ``map_share``, locate 10 %, incident lists the rest."""
    rng = random.Random(1000 + n)
    while not stop.is_set():
        roll = rng.random()
        if roll < map_share:
            page = rng.choice(("/maps/grids", "/maps/coverage"))
            await timed(client, tally, "GET map page", "GET", page)
        elif roll < map_share + 0.75:
            layer = rng.choice(("grids", "communities", "facilities", "incidents"))
            await timed(client, tally, "GET tile", "GET", f"/tiles/{layer}/{rng.choice(tiles)}.mvt")
        elif roll < map_share + 0.85:
            lon = XINING[0] + rng.uniform(-0.05, 0.05)
            lat = XINING[1] + rng.uniform(-0.03, 0.03)
            await timed(client, tally, "GET locate", "GET", f"/api/v1/locate?lon={lon}&lat={lat}")
        else:
            await timed(client, tally, "GET incidents", "GET", "/api/v1/incidents?limit=50")


async def floor_client(
    client: httpx.AsyncClient, tally: Tally, n: int, stop: asyncio.Event
) -> None:
    """The ceiling's client: the same client and stack, every request a constant answer."""
    rng = random.Random(2000 + n)
    while not stop.is_set():
        lon = XINING[0] + rng.uniform(-0.05, 0.05)
        await timed(client, tally, "GET noop", "GET", f"/bench/noop?lon={lon}&lat={XINING[1]}")


async def timed(
    client: httpx.AsyncClient,
    tally: Tally,
    kind: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        response = await client.request(method, path, json=body)
    except httpx.HTTPError as exc:
        tally.errors.append(f"{kind}: {type(exc).__name__}")
        return None
    tally.latencies[kind].append(time.perf_counter() - start)
    tally.count += 1
    if response.status_code >= 300:
        tally.errors.append(f"{kind} {path}: {response.status_code} {response.text[:120]}")
    return response


async def drive(
    base: str,
    tokens: dict[str, str],
    category: str,
    seconds: float,
    limit: int,
    workers: tuple[int, int],
    map_share: float,
    floor: bool = False,
) -> tuple[Tally, float, str]:
    tally = Tally()
    stop = asyncio.Event()
    run = secrets.token_hex(3)
    tiles = tiles_around(*XINING, range(12, 15), 2)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with (
        httpx.AsyncClient(
            base_url=base,
            timeout=60,
            limits=limits,
            headers={"Authorization": f"Bearer {tokens['dispatcher']}"},
        ) as dclient,
        httpx.AsyncClient(
            base_url=base,
            timeout=60,
            limits=limits,
            headers={"Authorization": f"Bearer {tokens['viewer']}"},
        ) as vclient,
    ):
        if floor:
            tasks = [
                asyncio.create_task(floor_client(vclient, tally, n, stop))
                for n in range(sum(workers))
            ]
        else:
            tasks = [
                asyncio.create_task(dispatcher(dclient, tally, run, category, n, stop))
                for n in range(workers[0])
            ]
            tasks += [
                asyncio.create_task(viewer(vclient, tally, tiles, n, stop, map_share))
                for n in range(workers[1])
            ]
        start = time.perf_counter()
        while time.perf_counter() - start < seconds and tally.count < limit:
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return tally, elapsed, run


def stored(url: str, run: str) -> dict[str, int]:
    engine = make_engine(url, pool_size=1)
    with session_scope(engine) as session:
        rows = session.execute(
            select(Incident.external_id, Incident.id).where(
                Incident.external_id.like(f"LOAD{run}-%")
            )
        ).all()
        total = session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(Incident.external_id.like(f"LOAD{run}-%"))
        )
    engine.dispose()
    if total != len(rows):
        raise AssertionError("an external_id is stored twice")
    return {str(e): int(i) for e, i in rows}


def report(tally: Tally, elapsed: float, acked: int, kept: int) -> dict[str, Any]:
    lines = [f"{'kind':<16}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}"]
    all_lat: list[float] = []
    for kind, lat in sorted(tally.latencies.items()):
        arr = np.array(lat) * 1000
        all_lat += lat
        lines.append(
            f"{kind:<16}{len(arr):>10}{len(arr) / elapsed:>10.1f}"
            f"{np.percentile(arr, 50):>10.1f}{np.percentile(arr, 99):>10.1f}"
        )
    arr = np.array(all_lat) * 1000
    lines.append(
        f"{'all':<16}{len(arr):>10}{len(arr) / elapsed:>10.1f}"
        f"{np.percentile(arr, 50):>10.1f}{np.percentile(arr, 99):>10.1f}"
    )
    lines.append(f"errors: {len(tally.errors)}   incidents acknowledged: {acked}   stored: {kept}")
    print("\n".join(lines))
    for e in tally.errors[:10]:
        print("  error:", e)
    return {
        "requests": len(arr),
        "seconds": elapsed,
        "p50_ms": float(np.percentile(arr, 50)),
        "p99_ms": float(np.percentile(arr, 99)),
        "errors": len(tally.errors),
        "acknowledged": acked,
        "stored": kept,
    }


def serve(url: str, floor: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    """The app in its own process; with ``floor``, the app plus the benchmarks' constant
    endpoint ``/bench/noop`` (:mod:`tests.bench.locate_app`)."""
    port = free_port()
    env = {**os.environ, "WANGGE_DATABASE_URL": url}
    app = ["--factory", "tests.bench.locate_app:create"] if floor else ["api.asgi:app"]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            *app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=PROJECT_ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit("the app did not start")
        time.sleep(0.2)


def run(
    url: str | None = None,
    seconds: float = 20.0,
    requests: int = 6000,
    workers: tuple[int, int] = (4, 12),
    map_share: float = 0.05,
    floor: bool = False,
) -> dict[str, Any]:
    """One run of the mix; with ``floor`` the same clients ask a constant endpoint of the
    same stack instead: the most this client, server and machine can answer at all."""
    cluster = None
    if url is None:
        from gis.demo import load_demo

        cluster = Cluster(
            state_dir=PROJECT_ROOT / ".wangge" / "bench" / f"load-{secrets.token_hex(3)}"
        )
        url = cluster.up()
        migrate.upgrade(url)
        load_demo(url)
    try:
        tokens, category = prepare(url)
        proc, base = serve(url, floor)
        try:
            tally, elapsed, run_id = asyncio.run(
                drive(base, tokens, category, seconds, requests, workers, map_share, floor)
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        kept = stored(url, run_id)
        result = report(tally, elapsed, len(tally.acked), len(kept))
        result["acked_equals_stored"] = kept == tally.acked
        return result
    finally:
        if cluster is not None:
            cluster.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit of the run")
    parser.add_argument("--requests", type=int, default=6000, help="request limit of the run")
    parser.add_argument("--dispatchers", type=int, default=4)
    parser.add_argument("--viewers", type=int, default=12)
    parser.add_argument("--url", help="a migrated database holding the demo city")
    parser.add_argument(
        "--map-share", type=float, default=0.05, help="share of viewer requests for map pages"
    )
    parser.add_argument(
        "--floor", action="store_true", help="the same clients on a constant endpoint: the ceiling"
    )
    args = parser.parse_args()
    result = run(
        args.url,
        args.seconds,
        args.requests,
        (args.dispatchers, args.viewers),
        args.map_share,
        args.floor,
    )
    ok = result["errors"] == 0 and result["acked_equals_stored"]
    print("OK" if ok else "FAILED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
