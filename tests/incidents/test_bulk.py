"""Bulk intake: CSV and NDJSON over HTTP and the CLI, broken rows by number, idempotent re-runs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text

from gis.db import session_scope
from gis.incidents import ingest
from tests.incidents.conftest import (
    BULK_HEADER,
    bearer,
    bulk_csv,
    count_incidents,
    import_cli,
    new_external_id,
)


def _check_bad_rows(result: dict[str, Any], expected: dict[int, str]) -> None:
    got = {b["row"]: b["reason"] for b in result["bad_rows"]}
    assert sorted(got) == sorted(expected), got
    for row, word in expected.items():
        assert word in got[row], (row, got[row])


def test_csv_stores_good_rows_reports_bad_ones_and_reruns_add_nothing(
    http: httpx.Client, tokens: dict[str, str], categories: list[str], engine: Engine
) -> None:
    prefix = new_external_id("bulk")
    data, bad = bulk_csv(prefix, categories[0])
    headers = {**bearer(tokens["dispatcher"]), "content-type": "text/csv"}
    r = http.post("/api/v1/incidents/bulk", content=data.encode(), headers=headers)
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["received"], result["stored"], result["duplicates"]) == (11, 2, 0)
    _check_bad_rows(result, bad)
    assert count_incidents(engine, "external_id LIKE :p", p=f"{prefix}-%") == 2
    with engine.connect() as conn:
        events = conn.execute(
            text(
                "SELECT e.kind, e.actor FROM incident_events e JOIN incidents i"
                " ON i.id = e.incident_id WHERE i.external_id LIKE :p"
            ),
            {"p": f"{prefix}-%"},
        ).all()
        gcj = conn.execute(
            text("SELECT ST_X(geom), input_crs FROM incidents WHERE external_id = :e"),
            {"e": f"{prefix}-7"},
        ).one()
    assert sorted(events) == [("received", "test-dispatcher")] * 2
    assert gcj[1] == "gcj02" and abs(gcj[0] - 101.7845) > 1e-4  # converted to CGCS2000
    again = http.post("/api/v1/incidents/bulk", content=data.encode(), headers=headers).json()
    assert (again["stored"], again["duplicates"]) == (0, 2)
    assert count_incidents(engine, "external_id LIKE :p", p=f"{prefix}-%") == 2


def test_strict_mode_and_unusable_files_store_nothing(
    http: httpx.Client, tokens: dict[str, str], categories: list[str], engine: Engine
) -> None:
    prefix = new_external_id("strict")
    data, _ = bulk_csv(prefix, categories[0])
    headers = {**bearer(tokens["dispatcher"]), "content-type": "text/csv"}
    r = http.post("/api/v1/incidents/bulk?strict=true", content=data.encode(), headers=headers)
    assert r.status_code == 422
    assert r.json()["field"] == "row 3" and "channel" in r.json()["error"]
    assert count_incidents(engine, "external_id LIKE :p", p=f"{prefix}-%") == 0
    for body, field in (
        (b"external_id,channel,lon,lat\n", "category_code"),
        (BULK_HEADER.encode() + b",colour\n", "colour"),
        (b"", "file"),
    ):
        r = http.post("/api/v1/incidents/bulk", content=body, headers=headers)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert http.post("/api/v1/incidents/bulk", content=data.encode()).status_code == 401
    viewer = {**bearer(tokens["viewer"]), "content-type": "text/csv"}
    assert http.post("/api/v1/incidents/bulk", content=data, headers=viewer).status_code == 403


def test_ndjson_with_broken_lines(
    http: httpx.Client, tokens: dict[str, str], categories: list[str], engine: Engine
) -> None:
    prefix = new_external_id("nd")
    good = {"channel": "wechat", "category_code": categories[1], "lon": 101.77, "lat": 36.61}
    lines = [
        json.dumps({**good, "external_id": f"{prefix}-1", "handled_directly": True}),
        '{"external_id": "broken", ',
        json.dumps({**good, "external_id": f"{prefix}-3", "mood": "angry"}),
        "",
        json.dumps({**good, "external_id": f"{prefix}-5", "rating": 4}),
        json.dumps(["not", "an", "object"]),
        json.dumps({**good, "external_id": f"{prefix}-7", "lat": 95}),
    ]
    headers = {**bearer(tokens["dispatcher"]), "content-type": "application/x-ndjson"}
    r = http.post("/api/v1/incidents/bulk", content="\n".join(lines).encode(), headers=headers)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["stored"] == 1
    _check_bad_rows(result, {2: "JSON", 3: "mood", 5: "after closing", 6: "object", 7: "lat"})
    assert count_incidents(engine, "external_id LIKE :p AND handled_directly", p=f"{prefix}-%") == 1


def test_cli_import_with_a_progress_bar_and_a_failing_exit(
    tmp_path: Path, database_url: str, categories: list[str], engine: Engine
) -> None:
    prefix = new_external_id("cli")
    data, bad = bulk_csv(prefix, categories[2])
    path = tmp_path / "reports.csv"
    path.write_text(data, encoding="utf-8")

    def run() -> subprocess.CompletedProcess[str]:
        return import_cli(database_url, path)

    first = run()
    assert first.returncode == 1, first.stderr
    assert "2 stored" in first.stdout and "9 bad" in first.stdout
    assert "store" in first.stderr  # the progress bar's steps
    for row in bad:
        assert f"│ {row} " in first.stderr or f"| {row} " in first.stderr, first.stderr
    second = run()
    assert "0 stored" in second.stdout and "2 already there" in second.stdout
    assert count_incidents(engine, "external_id LIKE :p", p=f"{prefix}-%") == 2
    missing = import_cli(database_url, tmp_path / "nope.csv")
    assert missing.returncode != 0


def test_ingest_records_returns_ids_and_duplicates(engine: Engine, categories: list[str]) -> None:
    prefix = new_external_id("ing")
    records: list[dict[str, Any]] = [
        {"external_id": f"{prefix}-{i}", "channel": "patrol", "category_code": categories[0],
         "lon": 101.77 + i / 1000, "lat": 36.61, "received_at": "2026-05-06T09:00:00+08:00",
         "status": "closed", "handled_directly": True, "callback_at": "2026-05-06T15:00:00+08:00"}
        for i in range(3)
    ]  # fmt: skip
    records.append({"external_id": f"{prefix}-x", "channel": "patrol", "unknown": 1})
    with session_scope(engine) as session:
        result = ingest(session, records, actor="test-ingest")
    assert (result.stored, result.duplicates) == (3, 0)
    assert [(b.row, "unknown" in b.reason) for b in result.bad_rows] == [(4, True)]
    assert result.incident_ids is not None and sorted(result.incident_ids) == [1, 2, 3]
    with session_scope(engine) as session:
        again = ingest(session, records[:3], actor="test-ingest")
        kinds = session.execute(
            text(
                "SELECT kind, count(*) FROM incident_events e JOIN incidents i"
                " ON i.id = e.incident_id WHERE i.external_id LIKE :p GROUP BY kind ORDER BY kind"
            ),
            {"p": f"{prefix}-%"},
        ).all()
    assert (again.stored, again.duplicates) == (0, 3)
    assert again.incident_ids == result.incident_ids
    assert kinds == [("callback", 3), ("received", 3), ("transition", 3)]


def test_replay_with_another_report_is_a_bad_row_and_strict_refuses_the_file(
    http: httpx.Client, tokens: dict[str, str], categories: list[str], engine: Engine
) -> None:
    prefix = new_external_id("replay")
    first = [
        {"external_id": f"{prefix}-{i}", "channel": "hotline_call", "category_code": categories[0],
         "description": f"路灯不亮 {i}", "lon": 101.78 + i / 1000, "lat": 36.62,
         "received_at": "2026-05-06T09:00:00+08:00"}
        for i in range(3)
    ]  # fmt: skip
    headers = {**bearer(tokens["dispatcher"]), "content-type": "application/x-ndjson"}

    def post(rows: list[dict[str, Any]], strict: bool = False) -> httpx.Response:
        body = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()
        return http.post(f"/api/v1/incidents/bulk?strict={str(strict).lower()}", content=body,
                         headers=headers)  # fmt: skip

    stored = post(first).json()
    assert stored["stored"] == 3, stored["bad_rows"]
    replay = [dict(first[0]), {**first[1], "description": "另一件事"}, {**first[2], "lon": 101.9}]
    late = {**first[0], "external_id": f"{prefix}-new"}
    refused = post([*replay, late], strict=True)
    assert refused.status_code == 422, refused.text
    assert count_incidents(engine, "external_id LIKE :p", p=f"{prefix}-%") == 3
    result = post([*replay, late]).json()
    assert (result["stored"], result["duplicates"], result["bad"]) == (1, 1, 2)
    _check_bad_rows(result, {2: "another description", 3: "another lon"})
    with engine.connect() as conn:
        kept = conn.execute(
            text("SELECT description FROM incidents WHERE external_id = :e"), {"e": f"{prefix}-1"}
        ).scalar_one()
    assert kept == "路灯不亮 1"
