"""Fixtures of the boundary tests: empty migrated databases and the small test city."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gis.boundaries.imports import import_file
from gis.db import make_engine, session_scope
from tests.boundaries import layers


@pytest.fixture(scope="session")
def empty_template(migrated_database: Callable[..., str]) -> str:
    """Name of a migrated, empty database used only as a template."""
    return migrated_database().rsplit("/", 1)[1]


@pytest.fixture
def empty_url(fresh_database: Callable[..., str], empty_template: str) -> str:
    """A private empty database for a test that writes."""
    return fresh_database(empty_template)


@pytest.fixture
def empty_engine(empty_url: str) -> Iterator[Engine]:
    eng = make_engine(empty_url, pool_size=2)
    yield eng
    eng.dispose()


def load_city(engine: Engine, folder: Path) -> None:
    city = layers.city()
    for level in layers.ORDER:
        features = city[level]
        path = layers.write(folder / f"{level}.geojson", features)
        with session_scope(engine) as session:
            result = import_file(session, level, path, author="test")
        assert result.report.ok, result.report.as_dict()


@pytest.fixture
def city_engine(empty_engine: Engine, tmp_path: Path) -> Engine:
    """A private database holding the small test city."""
    load_city(empty_engine, tmp_path)
    return empty_engine


@pytest.fixture
def second_engine(fresh_database: Callable[..., str], empty_template: str) -> Iterator[Engine]:
    """Another private empty database (e.g. the target of a round trip)."""
    eng = make_engine(fresh_database(empty_template), pool_size=2)
    yield eng
    eng.dispose()
