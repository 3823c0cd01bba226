"""A standby that takes over, as an operator runs it: `wangge cluster up --nodes 2`, a real
`wangge serve` on its multi-host URL, and the faults it must survive — the primary's server
killed while clients post, and etcd losing its majority. The tests share one cluster and run
in this order; each step is bounded in time."""

from __future__ import annotations

import secrets
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from gis.db import make_engine, sqlalchemy_url
from gis.ha import HaCluster
from gis.ha.config import LOOP_WAIT_S, RETRY_TIMEOUT_S, TTL_S
from tests.conftest import TEST_STATE_ROOT
from tests.ops.standby import Posters, Server, cli, kill_primary, serving, wait_healthy

RECOVER_WITHIN_S = 30.0


@pytest.fixture(scope="module")
def ha_state() -> Iterator[Path]:
    """The state folder of the module's cluster; whatever runs from it is stopped at the end."""
    state = TEST_STATE_ROOT / f"ha-{secrets.token_hex(4)}"
    yield state
    for folder in (state, state.with_name(state.name + "-second")):
        HaCluster(folder / "ha").destroy()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(ha_state: Path) -> HaCluster:
    up = cli(ha_state, "cluster", "up", "--nodes", "2")
    assert up.returncode == 0, up.stderr + up.stdout
    cluster = HaCluster(ha_state / "ha")
    assert f"WANGGE_DATABASE_URL={cluster.url()}" in up.stdout
    assert f"WANGGE_READ_URL={cluster.url(read_only=True)}" in up.stdout
    return cluster


@pytest.fixture(scope="module")
def server(cluster: HaCluster, ha_state: Path) -> Iterator[Server]:
    with serving(cluster.url(), ha_state, read_url=cluster.url(read_only=True)) as s:
        yield s


def stored(cluster: HaCluster, prefix: str, read_only: bool = False) -> Counter[str]:
    """external_id → how many rows carry it, read on the primary (or any node)."""
    engine = make_engine(sqlalchemy_url(cluster.url(read_only=read_only)), pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT external_id FROM incidents WHERE external_id LIKE :p"),
                {"p": prefix + "-%"},
            ).scalars()
            return Counter(str(r) for r in rows)
    finally:
        engine.dispose()


def test_patroni_timings_fail_over_well_within_15_s() -> None:
    assert TTL_S >= LOOP_WAIT_S + 2 * RETRY_TIMEOUT_S  # Patroni refuses anything less
    assert TTL_S + LOOP_WAIT_S < 15


def test_up_status_and_a_second_up_refused(cluster: HaCluster, ha_state: Path) -> None:
    status = cli(ha_state, "cluster", "status")
    assert status.returncode == 0, status.stderr
    assert "leader (running)" in status.stdout and "sync_standby (running)" in status.stdout
    before = cluster.live_processes()
    assert sorted(before) == ["etcd0", "etcd1", "etcd2", "node0", "node1"]

    again = cli(ha_state, "cluster", "up", "--nodes", "2")
    assert again.returncode == 2
    assert "already runs" in again.stderr and "`wangge cluster down`" in again.stderr

    # Another state folder on the same ports: refused before anything is made.
    other = ha_state.with_name(ha_state.name + "-second")
    ports = cluster.ports
    assert ports is not None
    taken = cli(other, "cluster", "up", "--nodes", "2", "--base-port", str(ports.nodes[0][0]))
    assert taken.returncode == 2
    assert f"port {ports.nodes[0][0]} (PostgreSQL of node0)" in taken.stderr
    assert "nothing was started" in taken.stderr
    assert not HaCluster(other / "ha").live_processes()
    assert not (other / "ha" / "ports.json").exists()

    assert cluster.live_processes() == before
    wait_healthy(cluster, within_s=10)


def test_killed_primary_the_standby_takes_over_and_nothing_is_lost(
    cluster: HaCluster, server: Server
) -> None:
    wait_healthy(cluster)
    old_leader = cluster.leader()
    posters = Posters(server, prefix="failover").start()
    try:
        time.sleep(2)
        assert posters.acknowledged, "nothing acknowledged before the fault"
        killed_at = kill_primary(cluster)
        deadline = killed_at + RECOVER_WITHIN_S
        # Backends outlive their postmaster for a moment; the outage starts at the first
        # refusal, and the service is back at the first write sent after it and acknowledged.
        while (refused_at := posters.first_refusal_after(killed_at)) is None:
            assert time.monotonic() < deadline, "writes never refused after the kill"
            time.sleep(0.05)
        while (recovered_at := posters.first_ack_after(refused_at)) is None:
            assert time.monotonic() < deadline, "no write acknowledged within 30 s"
            time.sleep(0.1)
        time.sleep(2)  # keep writing on the new primary
    finally:
        posters.finish()
    recover_s = recovered_at - killed_at
    print(
        f"\nfailover: writes refused {refused_at - killed_at:.1f} s after the kill, acknowledged"
        f" again {recover_s:.1f} s after it"
    )
    assert recover_s < RECOVER_WITHIN_S
    assert old_leader is not None
    # The standby was promoted (Patroni's view may trail the database by a loop).
    while (new_leader := cluster.leader()) is None or new_leader.name == old_leader.name:
        assert time.monotonic() < deadline, cluster.members()
        time.sleep(0.2)

    statuses = posters.statuses()
    assert set(statuses) <= {200, 201, 503}, statuses  # refused while failing over, never 500
    acknowledged = posters.acknowledged_ids()
    assert len(acknowledged) == len(set(acknowledged))
    rows = stored(cluster, "failover")
    assert all(rows[external_id] == 1 for external_id in acknowledged)  # none lost
    assert max(rows.values()) == 1  # none stored twice
    # At most the one in flight per client when the test stopped is stored unacknowledged.
    assert len(set(rows) - set(acknowledged)) <= posters.clients


def test_etcd_majority_lost_writes_are_refused_never_lost(
    cluster: HaCluster, server: Server
) -> None:
    wait_healthy(cluster)
    posters = Posters(server, prefix="quorum", clients=2).start()
    try:
        time.sleep(1)
        stopped_at = time.monotonic()
        cluster.stop_etcd([0, 1])
        deadline = stopped_at + RECOVER_WITHIN_S
        while posters.first_refusal_after(stopped_at) is None:
            assert time.monotonic() < deadline, "writes still accepted 30 s after etcd lost"
            time.sleep(0.1)
        refused_at = posters.first_refusal_after(stopped_at)
        assert refused_at is not None
        time.sleep(4)
        # Refused from then on: without a majority no node may lead.
        assert posters.first_ack_after(refused_at + 1) is None
        with httpx.Client(timeout=30) as client:
            r = server.post(client, "quorum-probe")
            assert r.status_code == 503 and r.headers["Retry-After"]
            assert "nothing was stored" in r.json()["error"]
            # Reads go on from the standby (WANGGE_READ_URL), the token known there too.
            seen = posters.acknowledged_ids()[0]
            listed = client.get(
                server.base_url + "/api/v1/incidents",
                params={"external_id": seen},
                headers={"Authorization": f"Bearer {server.token}"},
            )
            assert listed.status_code == 200, listed.text
            assert [i["external_id"] for i in listed.json()["items"]] == [seen]
    finally:
        posters.finish()
    # Every write acknowledged so far can still be read, from the nodes left read-only.
    during = stored(cluster, "quorum", read_only=True)
    assert all(during[external_id] == 1 for external_id in posters.acknowledged_ids())
    print(f"\netcd majority lost: writes refused {refused_at - stopped_at:.1f} s later")
    acknowledged = posters.acknowledged_ids()
    assert acknowledged
    assert set(posters.statuses()) <= {200, 201, 503}

    # The majority back: a leader again, and every acknowledged write is there, once.
    cluster.start_etcd([0, 1])
    back = Posters(server, prefix="quorum-back", clients=1).start()
    try:
        deadline = time.monotonic() + RECOVER_WITHIN_S
        while not back.acknowledged:
            assert time.monotonic() < deadline, "no write accepted after etcd came back"
            time.sleep(0.1)
    finally:
        back.finish()
    rows = stored(cluster, "quorum")
    assert all(rows[external_id] == 1 for external_id in acknowledged)
    assert max(rows.values()) == 1
    assert rows["quorum-probe"] == 0


def test_down_stops_everything(cluster: HaCluster, ha_state: Path) -> None:
    down = cli(ha_state, "cluster", "down")
    assert down.returncode == 0 and "HA cluster stopped" in down.stdout
    assert not cluster.live_processes()
    assert all(cluster.postmaster_pid(node) is None for node in (0, 1))
    status = cli(ha_state, "cluster", "status")
    assert status.returncode == 3 and "`wangge cluster up`" in status.stdout
