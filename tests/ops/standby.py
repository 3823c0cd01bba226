"""Helpers of the standby drills and their benchmark: the CLI, a real `wangge serve` on the
cluster's multi-host URL, and clients that post incidents and retry each until acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text

from gis.db import make_engine, sqlalchemy_url
from gis.ha import HaCluster
from tests.conftest import _ephemeral_port, role_tokens

WANGGE = [sys.executable, "-m", "api.cli"]
CATEGORY = "property_service"
# A point in Xining; the empty database has no grids, so it is stored as outside.
POINT = {"lon": 101.7782, "lat": 36.6171, "crs": "wgs84"}


def cli(state: Path, *args: str, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WANGGE_")}
    environ["WANGGE_STATE_DIR"] = str(state)
    return subprocess.run(
        [*WANGGE, *args], capture_output=True, text=True, env=environ, timeout=timeout_s
    )


def wait_healthy(cluster: HaCluster, within_s: float = 90.0) -> None:
    """Until one node leads and the other is its synchronous standby (after a failover the
    old primary rejoins as the standby)."""
    deadline = time.monotonic() + within_s
    while sorted((m.role, m.state) for m in cluster.members()) != [
        ("leader", "running"),
        ("sync_standby", "running"),
    ]:
        assert time.monotonic() < deadline, f"not healthy: {cluster.members()}"
        time.sleep(0.3)


def kill_primary(cluster: HaCluster) -> float:
    """SIGKILL the leader's postmaster; returns the monotonic time of the kill."""
    leader = cluster.leader()
    assert leader is not None
    pid = cluster.postmaster_pid(int(leader.name.removeprefix("node")))
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    return time.monotonic()


@dataclass
class Server:
    base_url: str
    token: str
    process: subprocess.Popen[str]

    def post(self, client: httpx.Client, external_id: str) -> httpx.Response:
        body = {
            "external_id": external_id,
            "channel": "hotline_call",
            "category_code": CATEGORY,
            "description": "电梯故障 lift out of order",
            **POINT,
        }
        return client.post(
            self.base_url + "/api/v1/incidents",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
        )


def seed(url: str) -> str:
    """One category in the (migrated) database; returns a dispatcher's token."""
    engine = make_engine(sqlalchemy_url(url), pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO incident_categories (code, name_zh, name_en, handling_unit,"
                    " due_working_days, active) VALUES (:c, '物业服务', 'Property services',"
                    " 'Housing bureau', 5, true) ON CONFLICT (code) DO NOTHING"
                ),
                {"c": CATEGORY},
            )
    finally:
        engine.dispose()
    return role_tokens(sqlalchemy_url(url), prefix=f"ha-{os.getpid()}")["dispatcher"]


@contextmanager
def serving(url: str, state: Path, read_url: str | None = None) -> Iterator[Server]:
    """`wangge serve` (one worker) on ``url``, its database migrated and seeded."""
    port = _ephemeral_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANGGE_", "PROMETHEUS_"))}
    env.update(WANGGE_DATABASE_URL=url, WANGGE_STATE_DIR=str(state))
    if read_url:
        env["WANGGE_READ_URL"] = read_url
    process = subprocess.Popen(
        [*WANGGE, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "wangge serve stopped"
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "wangge serve did not answer"
            time.sleep(0.3)
        yield Server(base, seed(url), process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Posters:
    """Clients posting incidents, each retrying its external_id until acknowledged."""

    server: Server
    prefix: str
    clients: int = 4
    # (sent, answered, external_id) and (sent, answered, status), monotonic times
    acknowledged: list[tuple[float, float, str]] = field(default_factory=list)
    answers: list[tuple[float, float, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Posters:
        for n in range(self.clients):
            thread = threading.Thread(target=self._run, args=(n,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in self.threads)

    def _run(self, n: int) -> None:
        with httpx.Client(timeout=30) as client:
            k = 0
            while not self.stop.is_set():
                external_id = f"{self.prefix}-{n}-{k}"
                while True:  # the same external_id until acknowledged
                    sent = time.monotonic()
                    try:
                        status = self.server.post(client, external_id).status_code
                    except httpx.TransportError:
                        status = 0
                    answered = time.monotonic()
                    with self.lock:
                        self.answers.append((sent, answered, status))
                        if status in (200, 201):
                            self.acknowledged.append((sent, answered, external_id))
                    if status in (200, 201):
                        break
                    if self.stop.is_set():
                        return
                    time.sleep(0.1)
                k += 1

    def first_ack_after(self, t: float) -> float | None:
        """When the first write sent after ``t`` was acknowledged."""
        with self.lock:
            return min((at for sent, at, _ in self.acknowledged if sent > t), default=None)

    def first_refusal_after(self, t: float) -> float | None:
        """When the first write sent after ``t`` was refused with 503."""
        with self.lock:
            return min((at for sent, at, s in self.answers if sent > t and s == 503), default=None)

    def statuses(self) -> Counter[int]:
        with self.lock:
            return Counter(status for _, _, status in self.answers)

    def acknowledged_ids(self) -> list[str]:
        with self.lock:
            return [external_id for _, _, external_id in self.acknowledged]
