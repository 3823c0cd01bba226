"""Fixtures of the editing tests: a small box-grid city, one private copy per writing test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from gis import migrate
from gis.db import make_engine
from gis.settings import Settings
from tests.editing.city import build_city


@pytest.fixture(scope="session")
def city_template(fresh_database: Callable[..., str]) -> str:
    """Name of a database holding the small city, used only as a template."""
    url = fresh_database()
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=1)
    build_city(engine)
    engine.dispose()
    return url.rsplit("/", 1)[1]


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
