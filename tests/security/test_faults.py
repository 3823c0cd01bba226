"""PostGIS goes away and comes back: 503 with Retry-After meanwhile, then recovery by itself.

A throwaway embedded cluster of its own is stopped and started under a running app;
incidents posted through the outage by a retrying client are stored exactly once.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from gis import migrate
from gis.cluster import Cluster
from gis.db import engine_for, make_engine, session_scope
from gis.models import Incident, IncidentCategory
from gis.tokens import create_token
from tests.conftest import TEST_STATE_ROOT, LiveServer
from tests.security.conftest import bearer


@dataclass
class FaultCity:
    cluster: Cluster
    url: str
    server: LiveServer
    tokens: dict[str, str]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.base_url, timeout=15)


@pytest.fixture(scope="module")
def fault_city() -> Iterator[FaultCity]:
    cluster = Cluster(state_dir=TEST_STATE_ROOT / f"fault-{secrets.token_hex(4)}")
    try:
        url = cluster.up()
        migrate.upgrade(url)
        seed = make_engine(url, pool_size=1)
        with session_scope(seed) as session:
            session.add(
                IncidentCategory(
                    code="noise",
                    name_zh="噪声扰民",
                    name_en="Noise",
                    handling_unit="城管执法",
                    due_working_days=5,
                )
            )
            plain = {
                role: create_token(session, role, f"fault-{role}")[0]
                for role in ("dispatcher", "admin")
            }
        seed.dispose()
        server = LiveServer(url).start()
        try:
            yield FaultCity(cluster, url, server, plain)
        finally:
            server.stop()
            engine_for(url).dispose()
    finally:
        cluster.destroy()


def wait_for(condition: Callable[[], bool], within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within_s} s")
        time.sleep(0.1)


def healthy(client: httpx.Client) -> bool:
    try:
        return client.get("/health").status_code == 200
    except httpx.TransportError:
        return False


def test_outage_answers_503_and_recovers_by_itself(fault_city: FaultCity) -> None:
    admin = bearer(fault_city.tokens["admin"])
    reads = ["/api/v1/tokens", "/api/v1/audit", "/api/v1/districts", "/api/v1/incidents"]
    # Tiles and token checks keep connections of their own, used without a ping first.
    tile = "/tiles/grids/12/3205/1550.mvt"
    with fault_city.client() as client:
        assert client.get("/health").json()["database"] == "reachable"
        for path in [*reads, tile]:
            assert client.get(path, headers=admin).status_code == 200

        fault_city.cluster.down()
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["database"] == "unreachable"
        assert int(health.headers["retry-after"]) > 0
        for path in reads:
            down = client.get(path, headers=admin)
            assert down.status_code == 503, down.text
            assert "database" in down.json()["error"] and "try again" in down.json()["error"]
            assert int(down.headers["retry-after"]) > 0
        # Anonymous reads of open data fail the same clean way.
        assert client.get("/api/v1/audit").status_code in (401, 503)

        fault_city.cluster.up()
        wait_for(lambda: healthy(client))
        assert client.get("/health").json()["database"] == "reachable"
        for path in [tile, *reads]:
            assert client.get(path, headers=admin).status_code == 200


class RetryingHotline:
    """A hotline system posting numbered reports, retrying each until acknowledged."""

    def __init__(self, city: FaultCity) -> None:
        self.city = city
        self.run_id = secrets.token_hex(3)
        self.acked: dict[str, int] = {}
        self.statuses: Counter[int | str] = Counter()
        self.problems: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        headers = bearer(self.city.tokens["dispatcher"])
        with self.city.client() as client:
            n = 0
            while not self.stop.is_set():
                external_id = f"F{self.run_id}-{n:05d}"
                body = {
                    "external_id": external_id,
                    "channel": "hotline_call",
                    "category_code": "noise",
                    "description": "深夜施工噪声",
                    "lon": 101.78 + (n % 50) * 1e-4,
                    "lat": 36.62,
                    "reporter_name": "王小明",
                    "reporter_phone": "13800005678",
                }
                while not self.stop.is_set() or external_id not in self.acked:
                    try:
                        response = client.post("/api/v1/incidents", json=body, headers=headers)
                    except httpx.TransportError as exc:
                        self.statuses[type(exc).__name__] += 1
                        time.sleep(0.1)
                        continue
                    self.statuses[response.status_code] += 1
                    if response.status_code in (200, 201):
                        self.acked[external_id] = int(response.json()["id"])
                        break
                    if response.status_code != 503 or "retry-after" not in response.headers:
                        self.problems.append(f"{response.status_code}: {response.text[:200]}")
                        return
                    time.sleep(0.2)
                n += 1


def test_incidents_posted_through_an_outage_are_stored_exactly_once(
    fault_city: FaultCity,
) -> None:
    hotline = RetryingHotline(fault_city)
    hotline.thread.start()
    try:
        wait_for(lambda: len(hotline.acked) >= 20 or bool(hotline.problems))
        fault_city.cluster.down()
        wait_for(lambda: hotline.statuses[503] >= 3 or bool(hotline.problems))
        before = len(hotline.acked)
        fault_city.cluster.up()
        wait_for(lambda: len(hotline.acked) >= before + 20 or bool(hotline.problems))
    finally:
        hotline.stop.set()
        hotline.thread.join(timeout=60)
    assert not hotline.thread.is_alive()
    assert hotline.problems == []
    assert hotline.statuses[503] >= 3  # the outage was seen, and answered cleanly

    engine = make_engine(fault_city.url, pool_size=1)
    try:
        with session_scope(engine) as session:
            stored = dict(
                session.execute(
                    select(Incident.external_id, Incident.id).where(
                        Incident.external_id.like(f"F{hotline.run_id}-%")
                    )
                ).all()
            )
            per_external_id = session.execute(
                select(func.count(), func.count(func.distinct(Incident.external_id))).where(
                    Incident.external_id.like(f"F{hotline.run_id}-%")
                )
            ).one()
    finally:
        engine.dispose()
    # Every acknowledged report is stored under the id it was acknowledged with, once;
    # nothing is stored that was never acknowledged.
    assert stored == hotline.acked
    assert per_external_id[0] == per_external_id[1] == len(hotline.acked)
