"""Fixtures of the editing tests: a small box-grid city, one private copy per writing test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine

from gis.db import make_engine, session_scope
from gis.models import ROLES
from gis.settings import Settings
from gis.tokens import create_token
from tests.conftest import LiveServer
from tests.editing.city import build_city


@pytest.fixture(scope="session")
def city_template(migrated_database: Callable[..., str]) -> str:
    """Name of a database holding the small city, used only as a template."""
    return migrated_database(build_city).rsplit("/", 1)[1]


@pytest.fixture
def city_url(fresh_database: Callable[..., str], city_template: str) -> str:
    return fresh_database(city_template)


@pytest.fixture
def city(city_url: str) -> Iterator[Engine]:
    """A private copy of the small city."""
    engine = make_engine(city_url, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(city_url: str) -> Settings:
    return Settings(database_url=city_url)


@dataclass
class Api:
    """The app over real HTTP on a private copy of the small city, with a token per role."""

    http: httpx.Client
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def city_api(city_url: str, city: Engine) -> Iterator[Api]:
    plain: dict[str, str] = {}
    with session_scope(city) as session:
        for role in ROLES:
            plain[role], _ = create_token(session, role, f"{role}-editing")
    server = LiveServer(city_url).start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            yield Api(client, plain)
    finally:
        server.stop()
