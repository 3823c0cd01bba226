"""The guard in front of every request (请求防护): limits, security headers, audit.

One pure ASGI middleware, so the fast paths (``locate``, tiles) pay a few dictionary
look-ups and nothing more:

- body size: ``Content-Length`` above ``max_body_bytes`` (``max_bulk_bytes`` for
  ``.../bulk`` paths, ``media_max_bytes`` and room for the multipart wrapping for photo
  uploads) is refused with 413 before the body is read; a chunked body is counted as it
  arrives and refused the same way;
- rate: a token bucket per token (per client address without one), 429 + Retry-After;
- security headers on every response;
- audit: every write (any method but GET/HEAD/OPTIONS), accepted or refused, and every
  response that showed personal data (see :mod:`api.personal`) is recorded in
  ``audit_log`` before the response leaves, so an acknowledged write is always on record.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.auth import ANONYMOUS, Principal
from api.personal import STATE_KEY
from api.uploads import MULTIPART_ROOM
from gis import audit
from gis.db import once_more_if_dropped
from gis.settings import Settings
from gis.tokens import find_token

log = logging.getLogger("wangge.guard")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BUCKETS = 50_000
# Photo uploads (multipart, field ``file``): their own limit, plus room for the wrapping.
MEDIA_PATH = re.compile(r"^/api/v1/incidents/[^/]+/media/?$")


def json_response_messages(
    status: int, message: str, headers: dict[str, str] | None = None, field: str | None = None
) -> tuple[Message, Message]:
    body = json.dumps({"error": message, **({"field": field} if field else {})}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return (
        {"type": "http.response.start", "status": status, "headers": raw},
        {"type": "http.response.body", "body": body},
    )


@dataclass
class Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Token buckets in memory, one per key; one process, so no lock is needed."""

    def __init__(self, per_s: float, burst: int) -> None:
        self.per_s = per_s
        self.burst = float(max(burst, 1))
        self.buckets: dict[str, Bucket] = {}

    def take(self, key: str, now: float | None = None, spend: bool = True) -> float:
        """0 when allowed; else seconds until a request would be (``spend=False``: only look)."""
        now = time.monotonic() if now is None else now
        bucket = self.buckets.get(key)
        if bucket is None:
            if not spend:
                return 0.0
            if len(self.buckets) >= MAX_BUCKETS:
                self._forget_full(now)
            bucket = self.buckets[key] = Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.per_s)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            if spend:
                bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.per_s

    def _forget_full(self, now: float) -> None:
        # A bucket refilled to the brim holds no memory worth keeping.
        full = [
            k
            for k, b in self.buckets.items()
            if b.tokens + (now - b.stamp) * self.per_s >= self.burst
        ]
        for k in full or list(self.buckets)[: MAX_BUCKETS // 2]:
            del self.buckets[k]


class GuardMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.app = app
        self.settings = settings
        self.factory = factory
        self.limiter = (
            RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
            if settings.rate_limit_per_s > 0
            else None
        )
        self.security_headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"SAMEORIGIN"),
            (b"referrer-policy", b"same-origin"),
            (b"content-security-policy", settings.content_security_policy.encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        send = self._with_headers(send)

        wait = self._wait(scope, headers)
        if wait > 0:
            retry = str(max(1, math.ceil(wait)))
            for msg in json_response_messages(
                429, f"too many requests; retry in {retry} s", {"Retry-After": retry}
            ):
                await send(msg)
            return

        method: str = scope["method"]
        writes = method not in READ_METHODS
        if writes:
            limit, field = self._body_limit(scope["path"])
            receive, too_large = await _over_limit(receive, headers, limit)
            if too_large:
                what = f"{field}: request body" if field else "request body"
                status_413 = json_response_messages(
                    413, f"{what} larger than {limit} bytes", field=field
                )
                await self._audit(scope, headers, 413)
                for msg in status_413:
                    await send(msg)
                return

        state = scope.setdefault("state", {})

        async def send_audited(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if status == 401 and self.limiter is not None and b"authorization" in headers:
                    self.limiter.take(self._failed_key(scope))
                if writes or STATE_KEY in state:
                    await self._audit(scope, headers, status)
            await send(message)

        await self.app(scope, receive, send_audited)

    # -- pieces -------------------------------------------------------------------

    def _with_headers(self, send: Send) -> Send:
        extra = self.security_headers

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k not in present
                ]
            await send(message)

        return wrapped

    def _wait(self, scope: Scope, headers: dict[bytes, bytes]) -> float:
        """Seconds until the client may be served (0: now, and a token is spent)."""
        if self.limiter is None:
            return 0.0
        key = self._rate_key(scope, headers)
        wait = self.limiter.take(key)
        if key.startswith("t:"):
            # Made-up tokens would each get a fresh bucket: refused tokens (401) are
            # also charged to the client's address, and an address out of them waits.
            wait = max(wait, self.limiter.take(self._failed_key(scope), spend=False))
        return wait

    def _body_limit(self, path: str) -> tuple[int, str | None]:
        """The largest body ``path`` takes, and the field a refusal names."""
        if path.rstrip("/").endswith("/bulk"):
            return self.settings.max_bulk_bytes, None
        if MEDIA_PATH.match(path):
            return self.settings.media_max_bytes + MULTIPART_ROOM, "file"
        return self.settings.max_body_bytes, None

    @staticmethod
    def _rate_key(scope: Scope, headers: dict[bytes, bytes]) -> str:
        auth = headers.get(b"authorization")
        if auth:
            return "t:" + hashlib.blake2b(auth, digest_size=12).hexdigest()
        client = scope.get("client")
        return "a:" + (client[0] if client else "unknown")

    @staticmethod
    def _failed_key(scope: Scope) -> str:
        client = scope.get("client")
        return "f:" + (client[0] if client else "unknown")

    async def _audit(self, scope: Scope, headers: dict[bytes, bytes], status: int) -> None:
        state = scope.get("state") or {}
        principal: Principal | None = state.get("principal")
        noted: dict[str, Any] | None = state.get(STATE_KEY)
        client = scope.get("client")
        auth = headers.get(b"authorization", b"").decode("latin-1")
        resource = f"{scope['method']} {scope['path']}"
        if scope.get("query_string"):
            resource += "?" + _without_personal(scope["query_string"].decode("latin-1"))

        def write() -> None:
            with self.factory() as session, session.begin():
                who: Principal | None = principal
                detail: dict[str, Any] = {}
                if who is None:
                    who, detail = _who(session, auth)
                where = client[0] if client else None
                rows = []
                if scope["method"] not in READ_METHODS:
                    rows.append(
                        audit.entry(who, "write", resource, detail, status=status, client=where)
                    )
                if noted is not None and status < 400:
                    refs = {"count": noted["count"], "refs": noted["refs"]}
                    action = noted["action"]
                    rows.append(
                        audit.entry(who, action, resource, refs, status=status, client=where)
                    )
                audit.record(session, *rows)

        try:
            await anyio.to_thread.run_sync(once_more_if_dropped, write)
        except SQLAlchemyError as exc:
            # The response still goes out (a 503 when the database is down); say so in the log.
            log.warning("audit entry for %s not written: %s", resource, exc.__class__.__name__)


# Query keys that may carry a resident's name, phone or e-mail (Open311 clients send them so).
PERSONAL_KEYS = re.compile(r"phone|name|email|mail|reporter|contact|device_id|account", re.I)


def _without_personal(query: str) -> str:
    """The query string with the values of personal keys blanked, for the audit log."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, "***" if PERSONAL_KEYS.search(k) else v) for k, v in pairs], safe="*")


def _who(session: Session, authorization: str) -> tuple[Principal, dict[str, Any]]:
    """The caller when the endpoint never resolved one (refused before or without auth)."""
    scheme, _, plain = authorization.partition(" ")
    if scheme.lower() != "bearer" or not plain.strip():
        return ANONYMOUS, {}
    token = find_token(session, plain.strip())
    if token is None:
        return Principal(role="unknown", name="unknown token"), {"token": "unknown"}
    state = "revoked" if token.revoked_at is not None else "live"
    return (
        Principal(
            role=token.role,
            name=token.name,
            token_id=token.id,
            district_code=token.district_code,
        ),
        {"token": state},
    )


async def _over_limit(
    receive: Receive, headers: dict[bytes, bytes], limit: int
) -> tuple[Receive, bool]:
    """Whether a body is above ``limit``: by its Content-Length, else (chunked) by counting
    it as it arrives; the receive to read the body from after."""
    length = headers.get(b"content-length")
    if length is not None:
        return receive, not length.isdigit() or int(length) > limit
    if b"chunked" in headers.get(b"transfer-encoding", b""):
        return await _buffer(receive, limit)
    return receive, False


async def _buffer(receive: Receive, limit: int) -> tuple[Receive, bool]:
    """Read a chunked body up to ``limit``; hand it on as one message, or report too large."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return receive, True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        return await receive()

    return replay, False
