"""First loads (``import incidents --first-load``): the same rows as a normal intake, every
index and constraint back afterwards, nothing changed when it fails or cannot lock."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
from psycopg import Cursor
from sqlalchemy import Engine, text

from gis.db import session_scope
from gis.errors import Conflict
from gis.incidents import bulk, bulk_store, first_load, ingest_bytes
from tests.incidents.conftest import (
    City,
    bulk_csv,
    count_incidents,
    import_cli,
    new_external_id,
)

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


# Every stored column of a report, its assignment and its events, keyed by the external id's
# last part (the row), without the ids a load draws.
STORED = """
SELECT split_part(r.external_id, '-', 4) AS row,
       to_jsonb(r) - 'id' - 'external_id' AS report,
       to_jsonb(a) - 'incident_id' AS assignment,
       (SELECT jsonb_agg(to_jsonb(e) - 'id' - 'incident_id' ORDER BY e.kind)
        FROM incident_events e WHERE e.incident_id = r.id) AS events
FROM incident_reports r JOIN incident_assignments a ON a.incident_id = r.id
WHERE r.external_id LIKE :p ORDER BY 1
"""


def _gapped_ids(cur: Cursor[Any]) -> str:
    """A sequence whose ids are never consecutive (as when another session draws meanwhile),
    far above the reports' own."""
    cur.execute("CREATE TEMP SEQUENCE IF NOT EXISTS gapped_ids START 900000000000 INCREMENT 3")
    return "pg_temp.gapped_ids"


@pytest.mark.parametrize("ids", ["consecutive", "gapped"])
def test_a_first_load_stores_the_same_rows_as_a_normal_intake(
    city: City, ids: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    points = [city.grid_point(offset) for offset in range(4)]
    assert len({code for code, _, _ in points}) == 4

    def records(prefix: str) -> bytes:
        rows: list[dict[str, Any]] = [
            {"external_id": f"{prefix}-1", "channel": "hotline_call",
             "category_code": "property_services", "lon": points[0][1], "lat": points[0][2],
             "crs": "cgcs2000", "received_at": "2026-09-30T17:00:00+08:00",
             "reporter_name": "王芳", "reporter_phone": "13800000000", "address": "南大街 1 号"},
            {"external_id": f"{prefix}-2", "channel": "wechat", "category_code": "noise",
             "lon": points[1][1], "lat": points[1][2], "received_at": "2026-10-08T09:00:00+08:00",
             "status": "closed", "handled_directly": True, "description": "夜间施工",
             "closed_at": "2026-10-08T11:00:00+08:00",
             "callback_at": "2026-10-09T10:00:00+08:00", "rating": 4},
            {"external_id": f"{prefix}-3", "channel": "patrol",
             "category_code": "property_services", "lon": points[2][1], "lat": points[2][2],
             "status": "dispatched", "received_at": "2026-10-09T09:00:00+08:00"},
            {"external_id": f"{prefix}-4", "channel": "hotline_call", "category_code": "noise",
             "lon": points[3][1] + 0.02, "lat": points[3][2], "crs": "gcj02",
             "received_at": "2026-10-09T09:00:00+08:00"},
        ]  # fmt: skip
        return b"\n".join(orjson.dumps(r) for r in rows)

    def stored(prefix: str) -> list[tuple[Any, ...]]:
        with city.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(STORED), {"p": f"{prefix}-%"})]

    normal, first = new_external_id("normal"), new_external_id("first")
    with session_scope(city.engine) as session:
        kept = ingest_bytes(session, records(normal), "ndjson", "test")
    if ids == "gapped":
        monkeypatch.setattr(bulk_store, "_sequence", _gapped_ids)
    with session_scope(city.engine) as session:
        loaded = ingest_bytes(session, records(first), "ndjson", "test", first_load=True)
    assert not kept.bad_rows, kept.bad_rows
    assert (kept.stored, loaded.stored) == (4, 4) and not loaded.bad_rows
    assert stored(first) == stored(normal)
    assert len(stored(first)) == 4
    assert [len(events) for *_, events in stored(first)] == [1, 3, 2, 1]
    with session_scope(city.engine) as session:
        again = ingest_bytes(session, records(first), "ndjson", "test", first_load=True)
    assert (again.stored, again.duplicates) == (0, 4)
    assert again.incident_ids == loaded.incident_ids and loaded.incident_ids is not None
    assert sorted(loaded.incident_ids) == [1, 2, 3, 4]
    if ids == "consecutive":  # one range, and the sequence moved past it
        drawn = sorted(loaded.incident_ids.values())
        assert drawn == list(range(drawn[0], drawn[0] + 4))
        with city.engine.connect() as conn:
            last = conn.execute(text("SELECT last_value FROM incidents_id_seq")).scalar_one()
        assert last == drawn[-1]


@pytest.mark.parametrize("first", [False, True], ids=["normal", "first_load"])
def test_an_intake_in_slices_stores_what_one_slice_does(
    city: City, first: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    points = [city.grid_point(offset) for offset in range(10, 14)]

    def records(prefix: str) -> bytes:
        place = [(lon, lat) for _, lon, lat in points]
        where = [place[0], (121.47, 31.23), place[1], place[2], place[3][::-1], place[3]]
        return b"\n".join(
            orjson.dumps(
                {
                    "external_id": f"{prefix}-{i}",
                    "channel": "wechat",
                    "category_code": "noise",
                    "lon": lon,
                    "lat": lat,
                    "received_at": f"2026-10-{10 + i}T09:00:00+08:00",
                }
            )
            for i, (lon, lat) in enumerate(where, start=1)
        )

    def load(prefix: str) -> tuple[Any, ...]:
        with session_scope(city.engine) as session:  # row 3 is there before
            ingest_bytes(session, records(prefix).split(b"\n")[2], "ndjson", "test")
        with session_scope(city.engine) as session:
            got = ingest_bytes(session, records(prefix), "ndjson", "test", first_load=first)
        with city.engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(text(STORED), {"p": f"{prefix}-%"})]
        assert got.incident_ids is not None
        return (
            got.stored,
            got.duplicates,
            [(b.row, b.reason) for b in got.bad_rows],
            sorted(got.incident_ids),
            rows,
        )

    whole = load(new_external_id("whole"))
    monkeypatch.setattr(bulk, "SLICE_ROWS", 2)
    sliced = load(new_external_id("sliced"))
    assert sliced == whole
    stored, duplicates, bad, rows, _ = whole
    assert (stored, duplicates) == (3, 1)
    assert [row for row, _ in bad] == [2, 5]  # far outside; lon/lat swapped
    assert "swapped" in bad[1][1]
    assert rows == [1, 3, 4, 6]
