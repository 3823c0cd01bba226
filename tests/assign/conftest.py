"""A private database holding the small test city of :mod:`tests.assign.city`, and its server."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Engine

from gis import migrate
from gis.assign import Assigner, forget
from gis.db import make_engine
from tests.assign.city import build_city
from tests.conftest import LiveServer


@pytest.fixture(scope="session")
def city_url(migrated_database: Callable[..., str]) -> str:
    return migrated_database(build_city)


@pytest.fixture
def own_city(fresh_database: Callable[..., str]) -> Iterator[Engine]:
    """The test city in a database of the test's own, free to change."""
    url = fresh_database()
    migrate.upgrade(url)
    eng = make_engine(url, pool_size=2)
    build_city(eng)
    yield eng
    forget(eng)
    eng.dispose()


@pytest.fixture(scope="session")
def city_engine(city_url: str) -> Iterator[Engine]:
    eng = make_engine(city_url, pool_size=5)
    yield eng
    forget(eng)
    eng.dispose()


@pytest.fixture(scope="session")
def city(city_engine: Engine) -> Assigner:
    """The current assigner of the test city."""
    return Assigner.load(city_engine)


@pytest.fixture(scope="session")
def city_server(city_url: str) -> Iterator[LiveServer]:
    with LiveServer(city_url) as server:
        yield server


@pytest.fixture
def city_http(city_server: LiveServer) -> Iterator[httpx.Client]:
    with city_server.client() as client:
        yield client


@pytest.fixture(scope="session")
def demo_city_url(demo_template: str, fresh_database: Callable[..., str]) -> str:
    """A private copy of the demo city (pooled connections of the loader closed first, or
    the template could not be copied)."""
    gc.collect()
    return fresh_database(demo_template)


@pytest.fixture(scope="session")
def demo_city_http(demo_city_url: str) -> Iterator[httpx.Client]:
    server = LiveServer(demo_city_url).start()
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client
    server.stop()


@pytest.fixture(scope="session")
def demo_city_engine(demo_city_url: str) -> Iterator[Engine]:
    eng = make_engine(demo_city_url, pool_size=2)
    yield eng
    forget(eng)
    eng.dispose()
