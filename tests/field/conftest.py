"""Fixtures of the grid worker tests: a private copy of the demo city served over HTTP,
tokens of every role, grid workers' tokens made on demand, and helpers for reports and
steps."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from gis.db import make_engine, session_scope
from gis.tokens import create_token
from tests.conftest import LiveServer, role_tokens
from tests.incidents.conftest import City

_ids = itertools.count(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class FieldCity(City):
    """A private demo city; ``grid_point(offset)`` is a point well inside the grid at that
    offset in code order (each test takes its own offsets)."""

    def http(self) -> httpx.Client:
        return self.client()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()

    def grid_code(self, offset: int) -> str:
        return self.grid_point(offset)[0]

    def worker_token(self, *offsets: int, name: str | None = "网格员测试") -> str:
        """A grid worker's token for the grids at ``offsets``."""
        codes = [self.grid_code(o) for o in offsets]
        with session_scope(self.engine) as session:
            plain, _ = create_token(session, "grid_worker", name, grid_codes=codes)
        return plain

    def unit_token(self, unit_code: str) -> str:
        with session_scope(self.engine) as session:
            plain, _ = create_token(session, "unit", f"staff-{unit_code}", unit_code=unit_code)
        return plain

    def report(self, offset: int, category: str = "sanitation", **extra: Any) -> dict[str, Any]:
        """A hotline report taken in by a dispatcher at a point inside the grid at
        ``offset``."""
        _, lon, lat = self.grid_point(offset)
        body = {
            "external_id": f"field-{next(_ids):05d}",
            "channel": "hotline_call",
            "category_code": category,
            "description": "小区门口垃圾堆积多日无人清运",
            "lon": lon,
            "lat": lat,
            "crs": "cgcs2000",
            "reporter_name": "赵六",
            "reporter_phone": "13600002222",
            **extra,
        }
        with self.client() as http:
            r = http.post("/api/v1/incidents", json=body, headers=bearer(self.tokens["dispatcher"]))
        assert r.status_code == 201, r.text
        created: dict[str, Any] = r.json()
        return created

    def step(self, token: str, incident_id: int, **body: Any) -> httpx.Response:
        with self.client() as http:
            return http.post(
                f"/api/v1/incidents/{incident_id}/transitions", json=body, headers=bearer(token)
            )

    def ok_step(self, token: str, incident_id: int, **body: Any) -> dict[str, Any]:
        r = self.step(token, incident_id, **body)
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def get(self, token: str, path: str, **params: Any) -> httpx.Response:
        with self.client() as http:
            return http.get(path, params=params, headers=bearer(token))

    def replied(self, offset: int, category: str = "sanitation") -> tuple[int, str]:
        """A report dispatched to its category's unit, accepted and answered by that unit;
        returns its id and the unit's token."""
        inc = self.report(offset, category)
        sent = self.ok_step(self.tokens["dispatcher"], inc["id"], to="dispatched")
        unit = self.unit_token(sent["unit_code"])
        self.ok_step(unit, inc["id"], to="in_progress")
        self.ok_step(unit, inc["id"], to="replied", note="已组织清运，现场已清理干净")
        return int(inc["id"]), unit


@pytest.fixture(scope="session")
def field_city(demo_copy: Callable[[], str]) -> Iterator[FieldCity]:
    gc.collect()  # the demo loader's pooled connections must be gone to copy the template
    url = demo_copy()
    engine = make_engine(url, pool_size=2)
    tokens = role_tokens(url, "field")
    server = LiveServer(url).start()
    yield FieldCity(url, engine, server, tokens)
    server.stop()
    engine.dispose()
