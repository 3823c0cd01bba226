"""What every CLI command shares: the database in use, opened once, one transaction per command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis.db import check_reachable, database_url, engine_for, session_scope


def open_engine() -> Engine:
    """The engine of the database in use; starts the embedded cluster when it is the default."""
    url = database_url(start=True)
    check_reachable(url)
    return engine_for(url)


@contextmanager
def open_session() -> Iterator[Session]:
    with session_scope(open_engine()) as session:
        yield session
