"""Alembic: upgrade from empty, downgrade to base, and models in step with migrations."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
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


def test_0003_moves_assignments_and_back(fresh_database: Callable[[], str]) -> None:
    """Incidents stored before the split into report and assignment keep every column, and
    a group move becomes one event per incident again on the way down."""
    url = fresh_database()
    migrate.upgrade(url, "0002")
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(
            "INSERT INTO boundary_versions (author, reason, operation) VALUES ('t', 't', 'load');"
            "INSERT INTO incident_categories (code, name_zh, name_en, handling_unit,"
            " due_working_days, active) VALUES ('noise', '噪音', 'Noise', '城管', 5, true);"
            "INSERT INTO incidents (id, channel, category_code, description, geom, input_crs,"
            " status, handled_directly, match, distance_m, district_code, street_code,"
            " community_code, grid_code, boundary_version_id) VALUES"
            " (7, 'patrol', 'noise', 'a', ST_SetSRID(ST_MakePoint(101.7, 36.6), 4490),"
            " 'cgcs2000', 'received', false, 'snapped', 12.5, '630103', '630103001',"
            " '630103001001', '630103001001001', 1),"
            " (8, 'patrol', 'noise', 'b', ST_SetSRID(ST_MakePoint(101.8, 36.7), 4490),"
            " 'cgcs2000', 'closed', true, 'outside', 900, '630103', NULL, NULL, NULL, 1)"
        )
    migrate.upgrade(url, "0003")
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT id, description, status, match, distance_m, district_code, grid_code,"
            " boundary_version_id FROM incidents ORDER BY id"
        ).fetchall()
        assert rows == [
            (7, "a", "received", "snapped", 12.5, "630103", "630103001001001", 1),
            (8, "b", "closed", "outside", 900.0, "630103", None, 1),
        ]
        conn.execute(
            "UPDATE incident_assignments SET grid_code = '630103001001002' WHERE incident_id = 7;"
            "INSERT INTO incident_moves (actor, note, district_code, old, new, incident_ids)"
            " VALUES ('t', 'moved', '630103', '{\"grid\": \"630103001001001\"}',"
            " '{\"grid\": \"630103001001002\"}', '{7}')"
        )
        conn.commit()
        # Boundary versions are append-only now.
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM boundary_versions")
    migrate.downgrade(url, "0002")
    with psycopg.connect(libpq_url(url)) as conn:
        assert conn.execute(
            "SELECT id, match, grid_code FROM incidents ORDER BY id"
        ).fetchall() == [(7, "snapped", "630103001001002"), (8, "outside", None)]
        assert conn.execute(
            "SELECT incident_id, kind, note, detail->'new'->>'grid' FROM incident_events"
        ).fetchall() == [(7, "reassigned", "moved", "630103001001002")]
        conn.execute("DELETE FROM boundary_versions WHERE false")  # no trigger any more
