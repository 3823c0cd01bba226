"""Figures of whole past days kept per process for a few minutes (统计缓存).

The command centre's 30-day rates and trend sum per-day counts; the days before today
change only when an old case is reopened, rated late or re-dated, so their counts are kept
for ``TTL_S`` seconds while today's are read afresh on every request. A figure therefore
reflects such a late change to a past day within ``TTL_S``, and a new or moved case of
today at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from datetime import datetime, tzinfo
from datetime import time as clock
from typing import Any, TypeVar

from sqlalchemy.orm import Session

TTL_S = 300.0
MAX_ENTRIES = 4096
T = TypeVar("T")


class FigureCache:
    """Values by key, each dropped ``ttl`` seconds after it was computed."""

    def __init__(self, ttl: float = TTL_S, size: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.size = size
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and hit[0] > now:
            value: T = hit[1]
            return value
        value = build()
        with self._lock:
            if len(self._values) >= self.size:
                self._values = {k: v for k, v in self._values.items() if v[0] > now}
                if len(self._values) >= self.size:
                    self._values.clear()
            self._values[key] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


PAST_DAYS = FigureCache()


def database_of(session: Session) -> str:
    """Which database a session reads (a process may serve several, as tests do)."""
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def past_and_today(
    since: datetime, until: datetime, zone: tzinfo
) -> list[tuple[datetime, datetime, bool]]:
    """``[since, until)`` cut at the start of today: each part with whether it may be kept
    (days before today) or must be read afresh (today, and anything after it)."""
    today = datetime.combine(datetime.now(zone).date(), clock(0), tzinfo=zone)
    parts = []
    if since < min(until, today):
        parts.append((since, min(until, today), True))
    if until > max(since, today):
        parts.append((max(since, today), until, False))
    return parts
