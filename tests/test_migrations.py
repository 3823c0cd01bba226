"""Alembic: upgrade from empty, downgrade to base, and models in step with migrations."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from alembic import command

from gis import migrate
from gis.db import libpq_url
from gis.models import Base


def tables(url: str) -> set[str]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {r[0] for r in rows} - {"spatial_ref_sys"}


def test_upgrade_downgrade_upgrade(fresh_database: Callable[[], str]) -> None:
    url = fresh_database()
    assert tables(url) == set()
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.head_revision(url)
    assert tables(url) == set(Base.metadata.tables) | {"alembic_version"}
    migrate.downgrade(url)
    assert migrate.current_revision(url) is None
    assert tables(url) == {"alembic_version"}
    migrate.upgrade(url)
    assert tables(url) == set(Base.metadata.tables) | {"alembic_version"}


def test_models_match_migrations(database_url: str) -> None:
    # Raises when autogenerate would find a difference between models and the database.
    command.check(migrate.alembic_config(database_url))
