"""Cached assigners: one current per database, a few for past times.

Reads (``locate``) and writes (incidents in) ask differently:

- :func:`current_assigner` re-reads the assignment epoch (:mod:`gis.assign.epoch`) at most
  every ``assign_refresh_ms``, so a dispatcher's ``locate`` costs no database round trip.
  When the epoch has moved, ``locate`` waits at most ``assign_stale_wait_ms`` for the
  new assigner, then answers from the previous one while a background thread goes on
  loading: at province scale a load takes seconds, and a dispatcher's map should not
  freeze for them.
- :func:`assigner_for_write` takes the assignment lock shared in the writer's transaction
  and returns an assigner of exactly the epoch seen under it, loading one if needed; so an
  incident is never stamped with boundaries or stations a committed change replaced.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

import shapely
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis.assign.engine import Assigner
from gis.assign.epoch import current_epoch, lock_shared
from gis.assign.snapshot import load_snapshot, near_deg
from gis.settings import Settings, get_settings

PAST_SNAPSHOTS = 8  # assigners for ``at=`` answers kept per database

log = logging.getLogger(__name__)


@dataclass
class _Entry:
    assigner: Assigner | None = None
    epoch: int | None = None  # the database's epoch when last checked
    checked: float = -math.inf
    past: OrderedDict[datetime, Assigner] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards the fields
    loading: threading.Lock = field(default_factory=threading.Lock)  # one load at a time
    checking: threading.Lock = field(default_factory=threading.Lock)  # one epoch query at a time
    reloader: threading.Thread | None = None
    loaded_at: float = -math.inf  # monotonic time the current assigner was loaded
    load_s: float = 0.0  # how long that load took


@dataclass(frozen=True)
class SnapshotStats:
    """What the process knows of its cached assigner, for operators."""

    epoch: int
    age_s: float  # since the current snapshot was loaded
    load_s: float  # how long its load took
    stale: bool  # the database's epoch has moved past it (a load is due or running)


_entries: dict[str, _Entry] = {}
_entries_lock = threading.Lock()


def _key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _entry(engine: Engine) -> _Entry:
    key = _key(engine)
    with _entries_lock:
        return _entries.setdefault(key, _Entry())


def _seen(entry: _Entry, epoch: int) -> None:
    """Record the database's epoch; past assigners go when it moved (stations keep no
    history, so a station change alters past answers too)."""
    with entry.lock:
        if entry.epoch != epoch:
            entry.past.clear()
        entry.epoch = epoch
        entry.checked = time.monotonic()


def _recent(entry: _Entry, settings: Settings) -> bool:
    """Whether the epoch was read within ``assign_refresh_ms``."""
    return time.monotonic() - entry.checked < settings.assign_refresh_ms / 1000


def _check(entry: _Entry, engine: Engine, settings: Settings) -> int:
    """The database's epoch, re-read unless it was within ``assign_refresh_ms`` (by another
    thread too: under load, one query per interval, not one per waiting request)."""
    with entry.checking:
        if entry.epoch is None or not _recent(entry, settings):
            with engine.connect() as conn:
                _seen(entry, current_epoch(conn))
        assert entry.epoch is not None
        return entry.epoch


def _load(entry: _Entry, engine: Engine, settings: Settings, epoch: int) -> Assigner:
    """The assigner of ``epoch`` (or newer), loading it unless another load just did."""
    with entry.loading:
        current = entry.assigner
        if current is not None and current.epoch == epoch:
            return current
        # Boundaries unchanged since ``current`` (a station, compound or branch change):
        # only those are read again, and the boundary indexes are kept.
        started = time.monotonic()
        fresh = Assigner.load(engine, None, settings, previous=current)
        with entry.lock:
            entry.assigner = fresh
            entry.loaded_at = time.monotonic()
            entry.load_s = entry.loaded_at - started
        _seen(entry, fresh.epoch)
        return fresh


def _reload(entry: _Entry, engine: Engine, settings: Settings) -> None:
    try:
        if entry.epoch is not None:
            _load(entry, engine, settings, entry.epoch)
    except Exception:
        # The stale assigner keeps answering reads; the next check starts another load.
        log.exception("loading the assigner of epoch %s failed", entry.epoch)


def _reload_in_background(
    entry: _Entry, engine: Engine, settings: Settings
) -> threading.Thread | None:
    """Start loading the entry's next assigner in a thread, returned; None if one already is."""
    with entry.lock:
        if entry.reloader is not None and entry.reloader.is_alive():
            return None
        entry.reloader = threading.Thread(
            target=_reload, args=(entry, engine, settings), name="assigner-load", daemon=True
        )
        entry.reloader.start()
        return entry.reloader


def fresh_assigner(engine: Engine, settings: Settings | None = None) -> Assigner | None:
    """The cached current assigner if it needs no check now (never touches the database)."""
    entry = _entries.get(_key(engine))
    if entry is None or entry.assigner is None:
        return None
    return entry.assigner if _recent(entry, settings or get_settings()) else None


def current_assigner(
    engine: Engine, settings: Settings | None = None, *, patience_s: float | None = None
) -> Assigner:
    """The assigner of the current boundaries and stations of ``engine``'s database.

    ``patience_s`` (how ``locate`` asks): when the epoch has moved, the request that notices
    waits at most this long for the new assigner; until it is loaded (in the background),
    the previous one answers. None waits for it (the first load is always waited for).
    """
    entry = _entry(engine)
    s = settings or get_settings()
    assigner = entry.assigner
    if (
        assigner is not None
        and _recent(entry, s)
        and (patience_s is not None or assigner.epoch == entry.epoch)
    ):
        return assigner  # the hot path: no lock, no database
    epoch = _check(entry, engine, s)
    assigner = entry.assigner
    if assigner is not None and assigner.epoch == epoch:
        return assigner
    if assigner is None or patience_s is None:
        return _load(entry, engine, s, epoch)
    # Only the request that starts the load waits for it: a worker pauses once per change.
    loader = _reload_in_background(entry, engine, s)
    if loader is not None:
        loader.join(patience_s)
    return entry.assigner or assigner


def _surroundings(session: Session, x: float, y: float, settings: Settings) -> Assigner | None:
    """An assigner of what lies around (x, y), read through ``session``; None unless the point
    is inside the service area, where its answers are those of the whole snapshot (what can
    answer for a point lies within the snap tolerance of it, or serves its district)."""
    point = shapely.Point(x, y)
    near = shapely.buffer(point, 2 * near_deg(settings.snap_tolerance_m, point))
    local = Assigner(load_snapshot(session.connection(), near=near), settings)
    return local if local.area_distance_m([x], [y])[0] == 0 else None


def assigner_for_write(
    session: Session,
    settings: Settings | None = None,
    *,
    near: tuple[float, float] | None = None,
) -> Assigner:
    """Take the assignment lock shared in ``session``'s transaction; return an assigner of
    the epoch under it. Call it before assigning anything the transaction will store.

    ``near``: the one CGCS2000 point the write assigns. When the cached snapshot is stale,
    such a write is answered from a snapshot of the point's surroundings (milliseconds at any
    scale) instead of waiting for the whole one, which goes on loading in the background.
    """
    epoch = lock_shared(session)
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    entry = _entry(engine)
    assigner = entry.assigner
    if assigner is not None and assigner.epoch == epoch:
        return assigner
    s = settings or get_settings()
    _seen(entry, epoch)
    if near is not None and assigner is not None:
        local = _surroundings(session, near[0], near[1], s)
        if local is not None:
            _reload_in_background(entry, engine, s)
            return local
    assigner = _load(entry, engine, s, epoch)
    if assigner.epoch != epoch:
        # This transaction has changed assignment inputs itself: read them through it.
        return Assigner.load(session.connection(), None, s, previous=assigner)
    return assigner


def assigner_at(
    engine: Engine,
    at: datetime | None,
    settings: Settings | None = None,
    *,
    patience_s: float | None = None,
) -> Assigner:
    """The assigner answering as of ``at`` (the current one when None, see
    :func:`current_assigner` for ``patience_s``), cached."""
    if at is None:
        return current_assigner(engine, settings, patience_s=patience_s)
    s = settings or get_settings()
    entry = _entry(engine)
    _check(entry, engine, s)
    with entry.lock:
        cached = entry.past.get(at)
        if cached is not None:
            entry.past.move_to_end(at)
            return cached
    assigner = Assigner.load(engine, at, s)
    with entry.lock:
        entry.past[at] = assigner
        while len(entry.past) > PAST_SNAPSHOTS:
            entry.past.popitem(last=False)
    return assigner


def snapshot_stats(engine: Engine) -> SnapshotStats | None:
    """Age and load time of ``engine``'s cached assigner; None before the first load."""
    entry = _entries.get(_key(engine))
    if entry is None or entry.assigner is None:
        return None
    with entry.lock:
        epoch = entry.assigner.epoch
        return SnapshotStats(
            epoch=epoch,
            age_s=time.monotonic() - entry.loaded_at,
            load_s=entry.load_s,
            stale=entry.epoch is not None and entry.epoch != epoch,
        )


def invalidate(engine: Engine) -> None:
    """Re-check ``engine``'s epoch at the next call (after an edit in this process); reads
    go on with the cached assigner until its successor is loaded."""
    entry = _entries.get(_key(engine))
    if entry is not None:
        with entry.lock:
            entry.checked = -math.inf


def forget(engine: Engine | None = None) -> None:
    """Drop the cached assigners of one database, or of all."""
    with _entries_lock:
        if engine is None:
            _entries.clear()
        else:
            _entries.pop(_key(engine), None)
