"""The event log's progress in one process (事件推送): one LISTEN connection, many followers.

The hub keeps one dedicated connection listening on :data:`~gis.events.log.CHANNEL`. On
each notification, while anyone follows, it asks the database for the log's floor (see
:mod:`gis.events.log`), reads the events up to it once, keeps the latest ones in memory
and wakes every follower; a follower takes what passes its filter from there, or, when it
is further behind (a replay), reads the log itself in batches. A follower "from now on"
starts at the floor as it stands when it comes. While writers are still running (the
floor is below the last id drawn) the hub asks again every ``busy_s``, since a
transaction that rolls back sends nothing; otherwise every ``idle_s``, which also notices
a dead connection. A lost connection is opened again, and followers catch up by id:
nothing is lost.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from gis.db import libpq_url
from gis.events.log import BATCH, CHANNEL, FLOOR_SQL, EventFilter, StreamEvent, read_events

log = logging.getLogger(__name__)

# How the listening connection shows in pg_stat_activity.
APPLICATION = "wangge-events"
# Most events kept in memory for followers that are up to date.
RECENT = 2000
EVERYTHING = EventFilter()


@dataclass(frozen=True)
class Progress:
    """What a follower got: ``events`` (possibly none), and ``position``, the id up to which
    it now has every event passing its filter (what a client resumes after)."""

    events: list[StreamEvent]
    position: int


class EventHub:
    def __init__(
        self,
        url: str,
        sessions: sessionmaker[Session],
        *,
        idle_s: float = 5.0,
        busy_s: float = 0.1,
        retry_s: float = 1.0,
        readers: int = 4,
    ) -> None:
        self.url = libpq_url(url)
        self.sessions = sessions
        self.idle_s, self.busy_s, self.retry_s = idle_s, busy_s, retry_s
        self.settled: int | None = None  # the floor, once known
        self.drawn = 0  # the last id drawn by any writer, as of the last look
        self.closed = False
        # Every event with recent_from < id <= settled, oldest first.
        self._recent: list[StreamEvent] = []
        self._recent_from: int | None = None
        self._followers: set[asyncio.Event] = set()
        # Reads run in threads of their own, so a slow or blocked read (a first load locks
        # the tables) never holds up the threads of ordinary requests.
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="event-reader")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    # -- lifetime ------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._listen(), name="event-hub")

    def close(self) -> None:
        """End every stream now and refuse new ones (the server is stopping)."""
        self.closed = True
        self._wake()

    def close_threadsafe(self) -> None:
        """:meth:`close` from another thread or a signal handler."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.close)
        else:
            self.close()

    async def stop(self) -> None:
        self.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._readers.shutdown(wait=False, cancel_futures=True)

    # -- following -----------------------------------------------------------------------

    async def follow(self, flt: EventFilter, after: int | None) -> AsyncIterator[Progress]:
        """Every event passing ``flt`` after id ``after`` (``None``: from now on), as it
        becomes final. The first :class:`Progress` has no events and names the start."""
        wake = asyncio.Event()
        self._followers.add(wake)
        try:
            if after is None:
                after = await self._floor_now()
            while after is None and not self.closed:
                after = self.settled
                if after is None:
                    wake.clear()
                    await wake.wait()
            if after is None:
                return
            yield Progress([], after)
            while not self.closed:
                upto = self.settled
                if upto is not None and upto > after:
                    events = await self._events(flt, after, upto)
                    after = events[-1].id if len(events) == BATCH else upto
                    if events:
                        yield Progress(events, after)
                    continue
                wake.clear()
                if self.settled == upto and not self.closed:
                    await wake.wait()
        finally:
            self._followers.discard(wake)

    async def _floor_now(self) -> int | None:
        """The floor as it stands, where a follower "from now on" starts (the listener does
        not look while nobody follows); None when the database cannot say."""

        def read() -> int:
            with self.sessions() as session:
                return int(session.execute(text(FLOOR_SQL)).one()[0])

        try:
            return await asyncio.get_running_loop().run_in_executor(self._readers, read)
        except SQLAlchemyError:
            return None  # the listener's floor, once it has one

    async def _events(self, flt: EventFilter, after: int, upto: int) -> list[StreamEvent]:
        """The first ``BATCH`` events in ``(after, upto]`` passing ``flt``: from memory when
        it holds them all, else from the log."""
        if self._recent_from is not None and after >= self._recent_from and upto == self.settled:
            start = bisect.bisect_right(self._recent, after, key=lambda e: e.id)
            passing = (e for e in self._recent[start:] if flt.matches(e))
            return list(itertools.islice(passing, BATCH))
        return await self._read(flt, after, upto, BATCH)

    async def _read(self, flt: EventFilter, after: int, upto: int, limit: int) -> list[StreamEvent]:
        def read() -> list[StreamEvent]:
            with self.sessions() as session:
                return read_events(session, after, upto, flt, limit)

        return await asyncio.get_running_loop().run_in_executor(self._readers, read)

    @property
    def followers(self) -> int:
        return len(self._followers)

    # -- listening -----------------------------------------------------------------------

    def _wake(self) -> None:
        for wake in self._followers:
            wake.set()

    async def _advance(self, floor: int) -> None:
        """Move the settled floor up to ``floor``, keeping the events on the way in memory.
        (The floor may step back while a late writer takes its lock; what was final stays.)"""
        if self.settled is not None and floor <= self.settled:
            return
        if self.settled is None or not self._followers:
            # Nobody follows (yet): nothing to keep; a follower who comes later starts from
            # here, or reads what it asks for before here from the log.
            self._recent, self._recent_from = [], floor
        else:
            new = await self._read(EVERYTHING, self.settled, floor, RECENT + 1)
            if len(new) > RECENT:  # a bulk write: followers read it from the log
                self._recent, self._recent_from = [], floor
            else:
                self._recent += new
                if len(self._recent) > RECENT:
                    cut = len(self._recent) - RECENT
                    self._recent_from = self._recent[cut - 1].id
                    del self._recent[:cut]
        self.settled = floor
        self._wake()

    async def _listen(self) -> None:
        while not self.closed:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True, connect_timeout=5, application_name=APPLICATION
                )
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    while not self.closed:
                        wait = self.idle_s
                        # Nobody follows: a notification is not worth a look at the floor.
                        if self._followers or self.settled is None:
                            cur = await conn.execute(FLOOR_SQL)
                            floor, drawn = await cur.fetchone() or (0, 0)
                            self.drawn = int(drawn)
                            await self._advance(int(floor))
                            wait = self.busy_s if floor < drawn else self.idle_s
                        async for _ in conn.notifies(timeout=wait, stop_after=1):
                            pass
            except (psycopg.Error, OSError) as exc:
                log.warning("event listener lost its connection (%s); retrying", exc)
                await asyncio.sleep(self.retry_s)
            except Exception:
                # Followers depend on this task: whatever went wrong, listen again.
                log.exception("event listener failed; retrying")
                await asyncio.sleep(self.retry_s)
