"""The standby's cost and its speed of taking over.

1. A single incident POST over HTTP (a real `wangge serve`, one worker, one client, one
   request at a time), p50, on the two-node cluster with synchronous replication against the
   single embedded node, both served side by side and asked in alternating rounds.
2. Failover, 5 runs: the primary's postmaster killed while a client posts; the time from the
   kill to the first write sent after writes were refused and acknowledged (on the new
   primary). Between runs the old primary rejoins as the synchronous standby.
"""

from __future__ import annotations

import itertools
import secrets
import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gis.cluster import Cluster
from gis.ha import HaCluster
from tests.bench.results import pytest_command, record
from tests.conftest import TEST_STATE_ROOT
from tests.ops.standby import Posters, Server, cli, kill_primary, serving, wait_healthy

ROUNDS, PER_ROUND = 10, 40
FAILOVERS = 5
_ids = itertools.count()


@pytest.fixture(scope="module")
def state() -> Iterator[Path]:
    path = TEST_STATE_ROOT / f"ha-bench-{secrets.token_hex(4)}"
    yield path
    HaCluster(path / "ha").destroy()
    if (path / "single" / "pgdata").exists():
        Cluster(path / "single").down()
    shutil.rmtree(path, ignore_errors=True)


def post_times(server: Server, client: httpx.Client, n: int, prefix: str) -> list[float]:
    times: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = server.post(client, f"{prefix}-{next(_ids)}")
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 201, r.text
    return times


def one_failover(cluster: HaCluster, server: Server, run: int) -> float:
    wait_healthy(cluster, within_s=120)
    posters = Posters(server, prefix=f"bench-failover-{run}", clients=1).start()
    try:
        time.sleep(1)
        killed_at = kill_primary(cluster)
        deadline = killed_at + 60
        while (refused_at := posters.first_refusal_after(killed_at)) is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        while (recovered_at := posters.first_ack_after(refused_at)) is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        posters.finish()
    assert set(posters.statuses()) <= {200, 201, 503}
    return recovered_at - killed_at


def test_standby_cost_and_failover_time(state: Path) -> None:
    up = cli(state, "cluster", "up", "--nodes", "2")
    assert up.returncode == 0, up.stderr
    cluster = HaCluster(state / "ha")
    single_url = Cluster(state / "single").up()

    ha_times: list[float] = []
    single_times: list[float] = []
    with (
        serving(cluster.url(), state / "serve-ha") as ha,
        serving(single_url, state / "serve-single") as single,
        httpx.Client(timeout=30) as client,
    ):
        post_times(ha, client, 20, "warm-ha")
        post_times(single, client, 20, "warm-single")
        for _ in range(ROUNDS):
            ha_times += post_times(ha, client, PER_ROUND, "ha")
            single_times += post_times(single, client, PER_ROUND, "single")
        ha_p50, single_p50 = statistics.median(ha_times), statistics.median(single_times)
        failovers = [one_failover(cluster, ha, run) for run in range(FAILOVERS)]

    cost = ha_p50 / single_p50
    print(
        f"\nincident POST p50: {ha_p50:.2f} ms with the synchronous standby,"
        f" {single_p50:.2f} ms on one node ({cost:.2f}×)"
    )
    failover_p50 = statistics.median(failovers)
    print(f"failover: {', '.join(f'{s:.1f}' for s in failovers)} s, p50 {failover_p50:.1f} s")
    n = ROUNDS * PER_ROUND
    record(
        "standby_post_p50",
        round(ha_p50, 2),
        "ms",
        "the single embedded node in the same run",
        round(single_p50, 2),
        single_p50 / ha_p50,
        title=f"incident POST over HTTP, p50 of {n}, two nodes with synchronous replication",
        command=pytest_command(__file__),
        bar="≤ 1.5× the single node",
        met=cost <= 1.5,
        ha_p99_ms=round(statistics.quantiles(ha_times, n=100)[98], 2),
        single_p99_ms=round(statistics.quantiles(single_times, n=100)[98], 2),
    )
    record(
        "standby_failover",
        round(failover_p50, 2),
        "s",
        "the bar, 15 s",
        15.0,
        15.0 / failover_p50,
        title=f"failover, primary's postmaster killed → first acknowledged write, p50 of"
        f" {FAILOVERS}",
        command=pytest_command(__file__),
        bar="≤ 15 s",
        met=failover_p50 <= 15,
        runs_s=[round(s, 2) for s in failovers],
    )
    assert cli(state, "cluster", "down").returncode == 0
