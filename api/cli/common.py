"""What every CLI command shares: the database in use, opened once, one transaction per command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis.db import engine_for, live_database_url, session_scope


def open_engine() -> Engine:
    """The engine of the database in use, which must be running (``wangge db up``)."""
    return engine_for(live_database_url())


@contextmanager
def open_session() -> Iterator[Session]:
    with session_scope(open_engine()) as session:
        yield session
