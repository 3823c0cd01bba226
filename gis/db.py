"""Engines and sessions; which database Wangge talks to."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode

import psycopg
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from gis import backup
from gis.cluster import Cluster
from gis.settings import Settings, get_settings

T = TypeVar("T")

EMBEDDED_NOT_RUNNING = "the embedded database is not running; start it with `wangge db up`"


class DatabaseUnreachable(RuntimeError):
    """The configured database cannot be reached; the message is one clear line."""


def embedded_cluster(settings: Settings | None = None) -> Cluster:
    s = settings or get_settings()
    return Cluster(state_dir=s.state_dir, os_user=s.cluster_user, pg_version=s.pg_version)


def database_url(settings: Settings | None = None) -> str:
    """``WANGGE_DATABASE_URL`` when set; otherwise the embedded cluster's. Only looks: it never
    installs or starts anything (``wangge db up`` does)."""
    s = settings or get_settings()
    if s.database_url:
        return sqlalchemy_url(s.database_url)
    return embedded_cluster(s).url()


def read_database_url(settings: Settings | None = None) -> str | None:
    """``WANGGE_READ_URL`` (reads that may lag: a standby may answer them), None when unset."""
    s = settings or get_settings()
    return sqlalchemy_url(s.read_url) if s.read_url else None


def sqlalchemy_url(url: str) -> str:
    """A libpq URL as SQLAlchemy's psycopg URL; several hosts (``@h1:p1,h2:p2/db``, as a
    Patroni cluster is reached) become repeated ``host`` parameters, the form SQLAlchemy
    reads."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    scheme, rest = url.split("://", 1)
    auth, at, tail = rest.rpartition("@")
    hosts, _, path = tail.partition("/")
    if "," not in hosts:
        return url
    database, _, query = path.partition("?")
    params = urlencode([("host", h) for h in hosts.split(",")], safe=":")
    return f"{scheme}://{auth}{at}/{database}?{params}" + (f"&{query}" if query else "")


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL as libpq reads it: repeated ``host`` parameters back to ``h1:p1,h2:p2``."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    head, _, query = plain.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    hosts = [value for key, value in pairs if key == "host"]
    if len(hosts) < 2:
        return plain
    scheme, rest = head.split("://", 1)
    auth, at, tail = rest.rpartition("@")
    others = urlencode([(k, v) for k, v in pairs if k != "host"])
    return f"{scheme}://{auth}{at}{','.join(hosts)}{tail}" + (f"?{others}" if others else "")


def live_database_url(settings: Settings | None = None) -> str:
    """:func:`database_url` once the database answers, else :class:`DatabaseUnreachable`; the
    embedded cluster when not running says how to start it (it is never started here)."""
    s = settings or get_settings()
    if not s.database_url and embedded_cluster(s).port is None:
        raise DatabaseUnreachable(EMBEDDED_NOT_RUNNING)
    url = database_url(s)
    try:
        check_reachable(url)
    except DatabaseUnreachable as exc:
        if s.database_url:
            raise
        raise DatabaseUnreachable(EMBEDDED_NOT_RUNNING) from exc
    return url


def start_embedded(settings: Settings | None = None) -> str:
    """Start the embedded cluster, archiving its WAL when a backup repository is configured."""
    s = settings or get_settings()
    cluster = embedded_cluster(s)
    repo = backup.repository(s, cluster)
    return repo.start() if repo is not None else cluster.up()


def make_engine(url: str, pool_size: int = 10) -> Engine:
    """A pooled engine that heals by itself after a failover: a dead connection is found by
    the pre-ping, and one that reaches a node gone read-only (a demoted primary) is dropped
    with the whole pool, so the next checkout finds the new primary."""
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=10,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5},
    )
    event.listen(engine, "handle_error", _read_only_is_a_disconnect)
    return engine


def is_read_only(exc: BaseException) -> bool:
    """PostgreSQL refused a write because the node is (now) a standby: SQLSTATE 25006."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, psycopg.errors.ReadOnlySqlTransaction)


def _read_only_is_a_disconnect(context: ExceptionContext) -> None:
    if is_read_only(context.original_exception):
        context.is_disconnect = True


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def once_more_if_dropped(work: Callable[[], T]) -> T:
    """``work()``, and once more when it met a connection the server had closed since its
    last use (it was dropped, so the second try connects afresh; a database that is really
    down fails again, and that is raised)."""
    try:
        return work()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    except psycopg.OperationalError:
        pass
    return work()


@lru_cache(maxsize=8)
def lean_engine(url: str) -> Engine:
    """For the single statements most requests make beside their work (who the token is,
    the audit row): autocommit connections, no ping before each use. A statement that
    meets a connection the server closed fails and drops it; the caller says again
    (:func:`once_more_if_dropped`). Same connecting as :func:`make_engine`."""
    engine = create_engine(
        url,
        # Kept as large as the requests a worker serves at once: a connection beyond
        # pool_size is closed when returned, so the next one costs a new backend and SCRAM.
        pool_size=12,
        max_overflow=8,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5, "prepare_threshold": 1},
    )
    event.listen(engine, "handle_error", _read_only_is_a_disconnect)
    return engine


def check_reachable(url: str) -> None:
    """Raise :class:`DatabaseUnreachable` with one line naming host and cause."""
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        where = url.split("@")[-1]
        # psycopg spreads the cause over several lines; keep the first, the one that says why.
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        cause = lines[0] if lines else type(exc).__name__
        raise DatabaseUnreachable(f"database at {where} is unreachable: {cause}") from exc


def postgis_version(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT postgis_lib_version()")).scalar_one())


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session
