"""The synthetic city of :mod:`tests.hotspots.city` in a database of its own, and its server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis.assign import forget
from gis.db import make_engine
from tests.conftest import LiveServer, role_tokens
from tests.hotspots.city import build_city


@pytest.fixture(scope="session")
def hot_city_url(migrated_database: Callable[..., str]) -> str:
    return migrated_database(build_city)


@pytest.fixture(scope="session")
def hot_city_engine(hot_city_url: str) -> Iterator[Engine]:
    eng = make_engine(hot_city_url, pool_size=2)
    yield eng
    forget(eng)
    eng.dispose()


@pytest.fixture
def hot_session(hot_city_engine: Engine) -> Iterator[Session]:
    with Session(hot_city_engine) as session:
        yield session


@pytest.fixture(scope="session")
def hot_city_server(hot_city_url: str) -> Iterator[LiveServer]:
    with LiveServer(hot_city_url) as server:
        yield server


@pytest.fixture(scope="session")
def hot_city_tokens(hot_city_url: str) -> dict[str, str]:
    return role_tokens(hot_city_url, prefix="hot")


@pytest.fixture
def hot_http(
    hot_city_server: LiveServer, hot_city_tokens: dict[str, str]
) -> Iterator[httpx.Client]:
    """A viewer's client of the city's server."""
    with hot_city_server.client() as client:
        client.headers["Authorization"] = f"Bearer {hot_city_tokens['viewer']}"
        yield client
