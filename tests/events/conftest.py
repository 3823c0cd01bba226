"""A private copy of the demo city served twice: one server's streams are read, the other
(a separate app, its own listener and pool) plays a second worker or process."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from gis.db import make_engine, session_scope
from gis.incidents.workflow import Step, apply_step
from gis.models import ROLES
from gis.settings import Settings
from gis.tokens import create_token
from tests.conftest import LiveServer

ACTOR = "desk-events-test"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Desk:
    url: str
    engine: Engine
    server: LiveServer
    other: LiveServer
    tokens: dict[str, str]
    scope: str  # the district of the token tokens["scoped"]
    waiting: dict[str, list[int]] = field(default_factory=dict)

    def client(self, server: LiveServer | None = None) -> httpx.Client:
        return httpx.Client(base_url=(server or self.server).base_url, timeout=30)

    def districts(self) -> list[str]:
        """Districts with untouched dispatched incidents, most first."""
        return sorted(self.waiting, key=lambda d: -len(self.waiting[d]))

    def incident(self, district: str) -> int:
        """A dispatched incident of ``district`` no test has moved yet."""
        return self.waiting[district].pop()

    def step(self, incident_id: int, to: str = "in_progress") -> dict[str, Any]:
        """A workflow step through the other server; the event it logged."""
        with self.client(self.other) as client:
            r = client.post(
                f"/api/v1/incidents/{incident_id}/transitions",
                json={"to": to, "note": "called 13912345678"},
                headers=bearer(self.tokens["dispatcher"]),
            )
        assert r.status_code == 200, r.text
        event: dict[str, Any] = r.json()["events"][-1]
        return event

    def step_directly(self, incident_id: int, to: str = "in_progress") -> int:
        """A workflow step in a transaction of our own, no server involved; its event id."""
        with session_scope(self.engine) as session:
            apply_step(session, incident_id, Step(to), ACTOR)
        return self.last_event_id(incident_id)

    def last_event_id(self, incident_id: int) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT max(id) FROM incident_events WHERE incident_id = :i"),
                    {"i": incident_id},
                ).scalar_one()
            )

    def event_ids_after(self, after: int, district: str | None = None) -> list[int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id FROM incident_events WHERE id > :a"
                    " AND (CAST(:d AS text) IS NULL OR district_code = :d) ORDER BY id"
                ),
                {"a": after, "d": district},
            )
            return [int(r[0]) for r in rows]


@pytest.fixture(scope="module")
def desk(demo_copy: Callable[[], str]) -> Iterator[Desk]:
    gc.collect()  # the demo loader's pooled connections must be gone to copy the template
    url = demo_copy()
    engine = make_engine(url, pool_size=2)
    with session_scope(engine) as session:
        tokens = {role: create_token(session, role, f"desk-{role}")[0] for role in ROLES}
        scope = str(
            session.execute(
                text(
                    "SELECT district_code FROM incidents WHERE status = 'dispatched'"
                    " GROUP BY district_code ORDER BY count(*) DESC, district_code LIMIT 1"
                )
            ).scalar_one()
        )
        tokens["scoped"] = create_token(session, "viewer", "desk-scoped", district_code=scope)[0]
        waiting: dict[str, list[int]] = {}
        for incident_id, district in session.execute(
            text(
                "SELECT id, district_code FROM incidents WHERE status = 'dispatched'"
                " AND district_code IS NOT NULL ORDER BY id DESC"
            )
        ):
            waiting.setdefault(district, []).append(int(incident_id))
    server = LiveServer(url).start()
    other = LiveServer(url, Settings(database_url=url, anonymous_read=False)).start()
    yield Desk(url, engine, server, other, tokens, scope, waiting)
    other.stop()
    server.stop()
    engine.dispose()
