"""First loads (``import incidents --first-load``): the same rows as a normal intake, every
index and constraint back afterwards, nothing changed when it fails or cannot lock."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from gis.db import session_scope
from gis.errors import Conflict
from gis.incidents import first_load, ingest_bytes
from tests.incidents.conftest import bulk_csv, count_incidents, import_cli, new_external_id

SCHEMA = """
SELECT 'index', indexrelid::regclass::text, pg_get_indexdef(indexrelid), true
FROM pg_index WHERE indrelid = ANY(CAST(:t AS regclass[]))
UNION ALL
SELECT 'constraint', conname, pg_get_constraintdef(oid), convalidated
FROM pg_constraint WHERE conrelid = ANY(CAST(:t AS regclass[]))
ORDER BY 1, 2
"""


def _schema(engine: Engine) -> list[tuple[str, str, str, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(text(SCHEMA), {"t": list(first_load.TABLES)}).all()
    return [(str(a), str(b), str(c), bool(d)) for a, b, c, d in rows]


def _index_oids(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                text(
                    "SELECT indexrelid::int FROM pg_index"
                    " WHERE indrelid = ANY(CAST(:t AS regclass[]))"
                ),
                {"t": list(first_load.TABLES)},
            ).scalars()
        )


def test_first_load_stores_what_a_normal_intake_does_and_rebuilds_everything(
    tmp_path: Path, database_url: str, categories: list[str], engine: Engine
) -> None:
    before, oids = _schema(engine), _index_oids(engine)
    assert sum(kind == "index" for kind, *_ in before) >= 13  # the three tables' indexes
    prefix = new_external_id("first")
    data, bad = bulk_csv(prefix, categories[1])
    path = tmp_path / "archive.csv"
    path.write_text(data, encoding="utf-8")

    def run(*options: str) -> subprocess.CompletedProcess[str]:
        return import_cli(database_url, path, *options)

    loaded = run("--first-load")
    assert loaded.returncode == 1, loaded.stderr  # the bad rows
    assert "2 stored" in loaded.stdout and f"{len(bad)} bad" in loaded.stdout, loaded.stdout
    assert _schema(engine) == before
    rebuilt = _index_oids(engine)
    assert not rebuilt & oids  # every index was built anew
    with engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT i.external_id, i.match, count(e.id) FILTER (WHERE e.kind = 'received')"
                " FROM incidents i LEFT JOIN incident_events e ON e.incident_id = i.id"
                " WHERE i.external_id LIKE :p GROUP BY 1, 2 ORDER BY 1"
            ),
            {"p": f"{prefix}-%"},
        ).all()
    assert [(ext, n) for ext, _, n in stored] == [(f"{prefix}-1", 1), (f"{prefix}-7", 1)]
    assert all(match for _, match, _ in stored)  # each has its assignment row
    again = run("--first-load")
    assert "0 stored" in again.stdout and "2 already there" in again.stdout, again.stdout
    rebuilt = _index_oids(engine)
    normal = run()
    assert "0 stored" in normal.stdout and "2 already there" in normal.stdout, normal.stdout
    assert count_incidents(engine, "external_id LIKE :p", p=f"{prefix}-%") == 2
    assert _schema(engine) == before
    assert _index_oids(engine) == rebuilt  # a normal intake leaves the indexes alone


def test_a_failed_first_load_leaves_the_tables_as_they_were(
    categories: list[str], engine: Engine
) -> None:
    before = _schema(engine)
    prefix = new_external_id("rolled")
    data, _ = bulk_csv(prefix, categories[0])

    class Interrupted(Exception):
        pass

    with pytest.raises(Interrupted), session_scope(engine) as session:
        result = ingest_bytes(session, data.encode(), "csv", "test", first_load=True)
        assert result.stored == 2
        raise Interrupted
    assert count_incidents(engine, "external_id LIKE :p", p=f"{prefix}-%") == 0
    assert _schema(engine) == before


def test_first_load_refuses_tables_that_stay_busy(
    categories: list[str], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(first_load, "LOCK_TIMEOUT", "300ms")
    prefix = new_external_id("busy")
    data, _ = bulk_csv(prefix, categories[0])
    with engine.connect() as reader:
        reader.execute(text("SELECT count(*) FROM incident_reports"))  # holds its lock
        with pytest.raises(Conflict) as refused, session_scope(engine) as session:
            ingest_bytes(session, data.encode(), "csv", "test", first_load=True)
        reader.rollback()
    assert refused.value.field == "first_load" and "busy" in str(refused.value)
    assert count_incidents(engine, "external_id LIKE :p", p=f"{prefix}-%") == 0
