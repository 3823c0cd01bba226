"""A private database holding the small test city of :mod:`tests.assign.city`, and its server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Engine

from gis import migrate
from gis.assign import Assigner, invalidate
from gis.db import make_engine
from tests.assign.city import build_city
from tests.conftest import LiveServer


@pytest.fixture(scope="session")
def city_url(fresh_database: Callable[..., str]) -> str:
    url = fresh_database()
    migrate.upgrade(url)
    eng = make_engine(url, pool_size=1)
    build_city(eng)
    eng.dispose()
    return url


@pytest.fixture(scope="session")
def city_engine(city_url: str) -> Iterator[Engine]:
    eng = make_engine(city_url, pool_size=5)
    yield eng
    invalidate(eng)
    eng.dispose()


@pytest.fixture(scope="session")
def city(city_engine: Engine) -> Assigner:
    """The current assigner of the test city."""
    return Assigner.load(city_engine)


@pytest.fixture(scope="session")
def city_server(city_url: str) -> Iterator[LiveServer]:
    server = LiveServer(city_url).start()
    yield server
    server.stop()


@pytest.fixture
def city_http(city_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=city_server.base_url, timeout=30) as client:
        yield client
