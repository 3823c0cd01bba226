"""Cached assigners: one per database for now, a few for past times.

``current_assigner`` re-reads the fingerprint (latest boundary version id and
a digest of stations, compounds and branches) at most every
``assign_refresh_ms``, so a dispatcher's ``locate`` costs no database round
trip; an edit in this process calls :func:`invalidate` so the next call
reloads at once, and edits from other processes are seen within the interval.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from gis.assign.engine import Assigner
from gis.assign.snapshot import fingerprint
from gis.settings import Settings, get_settings

PAST_SNAPSHOTS = 8  # assigners for ``at=`` answers kept per database


@dataclass
class _Entry:
    assigner: Assigner | None = None
    print: tuple[Any, ...] | None = None
    checked: float = 0.0
    past: OrderedDict[datetime, Assigner] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_entries: dict[str, _Entry] = {}
_entries_lock = threading.Lock()


def _key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _entry(engine: Engine) -> _Entry:
    key = _key(engine)
    with _entries_lock:
        return _entries.setdefault(key, _Entry())


def _refresh(entry: _Entry, engine: Engine, settings: Settings) -> None:
    """Drop stale assigners when the fingerprint moved (caller holds the entry lock)."""
    now = time.monotonic()
    if entry.assigner is not None and now - entry.checked < settings.assign_refresh_ms / 1000:
        return
    current = fingerprint(engine)
    entry.checked = now
    if current != entry.print:
        entry.assigner = None
        entry.past.clear()
        entry.print = current


def fresh_assigner(engine: Engine, settings: Settings | None = None) -> Assigner | None:
    """The cached current assigner if it needs no check now (never touches the database)."""
    entry = _entries.get(_key(engine))
    if entry is None or entry.assigner is None:
        return None
    s = settings or get_settings()
    if time.monotonic() - entry.checked >= s.assign_refresh_ms / 1000:
        return None
    return entry.assigner


def current_assigner(engine: Engine, settings: Settings | None = None) -> Assigner:
    """The assigner of the current boundary version and stations of ``engine``'s database."""
    entry = _entry(engine)
    assigner = entry.assigner
    s = settings or get_settings()
    if assigner is not None and time.monotonic() - entry.checked < s.assign_refresh_ms / 1000:
        return assigner  # the hot path: no lock, no database
    with entry.lock:
        _refresh(entry, engine, s)
        if entry.assigner is None:
            entry.assigner = Assigner.load(engine, None, s)
        return entry.assigner


def assigner_at(engine: Engine, at: datetime | None, settings: Settings | None = None) -> Assigner:
    """The assigner answering as of ``at`` (the current one when None), cached."""
    if at is None:
        return current_assigner(engine, settings)
    s = settings or get_settings()
    entry = _entry(engine)
    with entry.lock:
        _refresh(entry, engine, s)
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


def invalidate(engine: Engine | None = None) -> None:
    """Forget cached assigners (of one database, or all) after boundary or station edits."""
    with _entries_lock:
        if engine is None:
            _entries.clear()
        else:
            _entries.pop(_key(engine), None)
