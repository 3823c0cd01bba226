"""What operators see of the server (运行监控): Prometheus metrics and request ids.

:class:`ObserveMiddleware` wraps every request: it takes the client's ``X-Request-ID``
(or makes one), echoes it in the response, sets it for the log lines of the request,
and counts the request by method, route template (``/incidents/{incident_id}``, never
the raw path, so the number of series stays bounded) and status, with its latency.

With several worker processes (``wangge serve --workers N``) prometheus-client's
multiprocess mode adds up the counters and histograms of all workers (the folder in
``PROMETHEUS_MULTIPROC_DIR``, set by ``wangge serve``); the gauges say how they are
combined in their ``multiprocess_mode``.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

from api.logs import request_id
from api.middleware import ASGIApp, Message, Receive, Scope, Send
from gis.assign import snapshot_stats

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# A client's id is kept only when it is short and plain: it goes into logs and headers.
USABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED = "(unmatched)"

REQUESTS = Counter(
    "wangge_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "wangge_http_request_duration_seconds",
    "Time from a request's arrival to the start of its response, by route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SNAPSHOT_AGE = Gauge(
    "wangge_assigner_snapshot_age_seconds",
    "Age of the worker's cached assignment snapshot (largest over workers).",
    multiprocess_mode="max",
)
SNAPSHOT_LOAD = Gauge(
    "wangge_assigner_load_seconds",
    "How long the last load of the assignment snapshot took (largest over workers).",
    multiprocess_mode="max",
)
SNAPSHOT_STALE = Gauge(
    "wangge_assigner_snapshot_stale",
    "Workers answering from a snapshot older than the database's boundaries (a load runs).",
    multiprocess_mode="livesum",
)
SSE_CLIENTS = Gauge(
    "wangge_sse_clients",
    "Open event streams (GET /events), over all workers.",
    multiprocess_mode="livesum",
)
POOL_IN_USE = Gauge(
    "wangge_db_pool_in_use",
    "Database connections checked out of the pools, over all workers.",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "wangge_db_pool_size",
    "Connections the pools hold open (in use or idle), over all workers.",
    multiprocess_mode="livesum",
)
REPLICATION_LAG = Gauge(
    "wangge_replication_lag_seconds",
    "Replication lag: on a primary the largest of its standbys', on a standby its own.",
    multiprocess_mode="mostrecent",
)
PRIMARY = Gauge(
    "wangge_database_primary",
    "1 when the database is a primary, 0 when it is a standby.",
    multiprocess_mode="mostrecent",
)


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == b"x-request-id":
            candidate = str(value.decode("latin-1"))
            if USABLE_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class ObserveMiddleware:
    """Request id, request counts and latency; outermost, so refusals count too."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope)
        token = request_id.set(rid)
        started = time.perf_counter()
        header = (b"x-request-id", rid.encode())

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
                route, method = _route(scope), scope["method"]
                LATENCY.labels(method, route).observe(time.perf_counter() - started)
                REQUESTS.labels(method, route, str(message["status"])).inc()
                update_pool(self.engine)
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            request_id.reset(token)


def update_pool(engine: Engine) -> None:
    pool = engine.pool
    if isinstance(pool, QueuePool):
        POOL_IN_USE.set(pool.checkedout())
        POOL_SIZE.set(pool.checkedout() + pool.checkedin())


def update_assigner(engine: Engine) -> None:
    stats = snapshot_stats(engine)
    if stats is not None:
        SNAPSHOT_AGE.set(stats.age_s)
        SNAPSHOT_LOAD.set(stats.load_s)
        SNAPSHOT_STALE.set(1 if stats.stale else 0)


def update_replication(role: str, lag_s: float | None) -> None:
    PRIMARY.set(1 if role == "primary" else 0)
    REPLICATION_LAG.set(lag_s if lag_s is not None else float("nan"))


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus text format, all workers' when there are several."""
    registry: Any = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST
