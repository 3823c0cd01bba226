"""Test harness: a real PostGIS for every test, never a mock.

The session brings up a throwaway embedded cluster (or uses the server in
``WANGGE_TEST_DATABASE_URL``), creates a fresh database, migrates it, and
serves the app over real HTTP on a free port. Tests that write through a
session get a transaction that is rolled back afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from playwright.sync_api import Browser
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.app import create_app, end_streams
from gis import migrate
from gis.cluster import Cluster
from gis.db import libpq_url, make_engine
from gis.settings import PROJECT_ROOT, Settings

TEST_STATE_ROOT = PROJECT_ROOT / ".wangge" / "tests"


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """URL of the maintenance database of a PostGIS server the tests may create databases on."""
    configured = os.environ.get("WANGGE_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    state = TEST_STATE_ROOT / f"cluster-{os.getpid()}"
    cluster = Cluster(state_dir=state)
    try:
        cluster.up()
        yield cluster.url("postgres")
    finally:
        cluster.destroy()


def create_database(server: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(libpq_url(server), autocommit=True) as conn:
        if template:
            # A template must have no sessions; pooled connections left by a loader would
            # otherwise make the copy fail ("source database is being accessed").
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (template,),
            )
        tmpl = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{tmpl}')
    url = server.rsplit("/", 1)[0] + f"/{name}"
    if template is None:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    return url


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(libpq_url(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def fresh_database(server_url: str) -> Iterator[Callable[..., str]]:
    """Factory: an empty database with PostGIS, dropped at the end of the session."""
    names: list[str] = []

    def make(template: str | None = None) -> str:
        name = f"wangge_test_{secrets.token_hex(4)}"
        names.append(name)
        return create_database(server_url, name, template)

    yield make
    for name in names:
        drop_database(server_url, name)


@pytest.fixture(scope="session")
def migrated_database(fresh_database: Callable[..., str]) -> Callable[..., str]:
    """Factory: a new database migrated to head, optionally filled by ``build(engine)``."""

    def make(build: Callable[[Engine], object] | None = None) -> str:
        url = fresh_database()
        migrate.upgrade(url)
        if build is not None:
            eng = make_engine(url, pool_size=1)
            try:
                build(eng)
            finally:
                eng.dispose()
        return url

    return make


@pytest.fixture(scope="session")
def database_url(migrated_database: Callable[..., str]) -> str:
    """A database migrated to head, shared by the session."""
    return migrated_database()


def role_tokens(url: str, prefix: str = "test") -> dict[str, str]:
    """Create one token per role in the database at ``url``; returns role → plain token."""
    from gis.db import session_scope
    from gis.models import ROLES
    from gis.tokens import create_token

    eng = make_engine(url, pool_size=1)
    plain: dict[str, str] = {}
    try:
        with session_scope(eng) as session:
            for role in ROLES:
                plain[role], _ = create_token(session, role, f"{prefix}-{role}")
    finally:
        eng.dispose()
    return plain


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url, pool_size=5)
    yield eng
    eng.dispose()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test, commits included."""
    with engine.connect() as conn:
        trans = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            trans.rollback()


class LiveServer:
    """The app under uvicorn in a thread, reached by real HTTP."""

    def __init__(self, url: str, settings: Settings | None = None) -> None:
        self.port = _ephemeral_port()
        self.app = create_app(settings or Settings(database_url=url), url=url)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        end_streams(self.app)
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def client(self) -> httpx.Client:
        """A real HTTP client of this server (keeps cookies, follows no redirects)."""
        return httpx.Client(base_url=self.base_url, timeout=30)


def _ephemeral_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(database_url: str) -> Iterator[LiveServer]:
    with LiveServer(database_url) as server:
        yield server


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with live_server.client() as client:
        yield client


@pytest.fixture
def scratch_state_dir() -> Iterator[Path]:
    """A state folder for a second embedded cluster, removed afterwards."""
    path = TEST_STATE_ROOT / f"scratch-{secrets.token_hex(4)}"
    yield path
    if (path / "pgdata").exists():
        Cluster(state_dir=path).down()
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def tokens(database_url: str) -> dict[str, str]:
    """One plain token per role on the session database."""
    return role_tokens(database_url)


# -- the demo city ------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_template(migrated_database: Callable[..., str]) -> str:
    """Name of a database holding the migrated demo city, used only as a template.

    Nothing stays connected to it, so tests can clone it (``demo_copy``) in a second.
    """
    from gis.demo import load_demo

    url = migrated_database()
    load_demo(url)
    from gis.db import engine_for

    engine_for.cache_clear()
    return url.rsplit("/", 1)[1]


@pytest.fixture(scope="session")
def demo_copy(fresh_database: Callable[..., str], demo_template: str) -> Callable[[], str]:
    """Factory: a private copy of the demo city for a test that writes."""

    def make() -> str:
        return fresh_database(demo_template)

    return make


@pytest.fixture(scope="session")
def demo_url(demo_copy: Callable[[], str]) -> str:
    """A demo-city database shared by read-only tests of the session."""
    return demo_copy()


@pytest.fixture(scope="session")
def demo_engine(demo_url: str) -> Iterator[Engine]:
    eng = make_engine(demo_url, pool_size=5)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def demo_server(demo_url: str) -> Iterator[LiveServer]:
    server = LiveServer(demo_url).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def demo_tokens(demo_url: str) -> dict[str, str]:
    """One plain token per role on the shared demo database."""
    return role_tokens(demo_url)


@pytest.fixture
def demo_http(demo_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.base_url, timeout=30) as client:
        yield client


# -- the browser ----------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, one for the session (Playwright allows one sync driver)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()
