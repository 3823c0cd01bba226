"""Grid workers' tokens: named grids (API and CLI), the roster's worker names, refusals."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from gis.settings import PROJECT_ROOT
from tests.field.conftest import FieldCity, bearer


def wangge(city: FieldCity, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WANGGE_DATABASE_URL": city.url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def roster(city: FieldCity, *offsets: int) -> dict[str, str | None]:
    codes = [city.grid_code(o) for o in offsets]
    rows = city.rows(
        "SELECT code, worker_name FROM grids WHERE code = ANY(:c) AND valid_to IS NULL", c=codes
    )
    return {r[0]: r[1] for r in rows}


def test_admin_issues_a_grid_workers_token_over_http(field_city: FieldCity) -> None:
    city = field_city
    code = city.grid_code(10)
    worker = roster(city, 10)[code]
    assert worker  # the demo city records a worker for every grid
    with city.client() as http:
        made = http.post(
            "/api/v1/tokens",
            json={"role": "grid_worker", "grid_codes": [code]},
            headers=bearer(city.tokens["admin"]),
        )
        assert made.status_code == 201, made.text
        body = made.json()
        # No name given: the token is named for the worker the grid records.
        assert body["name"] == worker and body["role"] == "grid_worker"
        assert body["district_code"] == code[:6]
        assert [(g["code"], g["worker_name"]) for g in body["grids"]] == [(code, worker)]
        assert body["grids"][0]["community_code"] == code[:12]
        assert body["grids"][0]["community_name"]
        me = http.get("/api/v1/tokens/me", headers=bearer(body["token"])).json()
        assert me["role"] == "grid_worker" and me["grid_codes"] == [code]
        listed = http.get("/api/v1/tokens", headers=bearer(city.tokens["admin"])).json()
        mine = next(t for t in listed if t["id"] == body["id"])
        assert [g["code"] for g in mine["grids"]] == [code]
        assert all(t["grids"] == [] for t in listed if t["role"] != "grid_worker")


def test_a_stand_in_covers_two_grids(field_city: FieldCity) -> None:
    city = field_city
    codes = [city.grid_code(11), city.grid_code(12)]
    recorded = roster(city, 11, 12)
    with city.client() as http:
        made = http.post(
            "/api/v1/tokens",
            json={"role": "grid_worker", "name": "顶岗员", "grid_codes": codes[::-1]},
            headers=bearer(city.tokens["admin"]),
        )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["name"] == "顶岗员"
    # The answer shows each grid's worker on record beside the stand-in's name.
    assert {g["code"]: g["worker_name"] for g in body["grids"]} == recorded
    stored = city.rows(
        "SELECT grid_code FROM api_token_grids WHERE token_id = :t ORDER BY 1", t=body["id"]
    )
    assert [r[0] for r in stored] == sorted(codes)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "grid_worker", "name": "x", "grid_codes": ["630103999999999"]}, "grid_codes"),
        ({"role": "grid_worker", "name": "x", "grid_codes": []}, "grid_codes"),
        ({"role": "grid_worker", "name": "x"}, "grid_codes"),
        # A current grid (filled in below) on roles that name none.
        ({"role": "dispatcher", "name": "x", "grid_codes": ["<grid>"]}, "grid_codes"),
        (
            {"role": "unit", "name": "x", "unit_code": "ecology", "grid_codes": ["<grid>"]},
            "grid_codes",
        ),
        ({"role": "dispatcher"}, "name"),
    ],
)
def test_bad_grids_are_refused_naming_the_field(
    field_city: FieldCity, body: dict[str, object], field: str
) -> None:
    city = field_city
    if body.get("grid_codes") == ["<grid>"]:
        body = {**body, "grid_codes": [city.grid_code(0)]}
    before = city.scalar("SELECT count(*) FROM api_tokens")
    with city.client() as http:
        r = http.post("/api/v1/tokens", json=body, headers=bearer(city.tokens["admin"]))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert city.scalar("SELECT count(*) FROM api_tokens") == before


def test_grids_outside_the_tokens_district_are_refused(field_city: FieldCity) -> None:
    city = field_city
    code = city.grid_code(0)
    other = city.scalar(
        "SELECT code FROM districts WHERE valid_to IS NULL AND code <> :d ORDER BY code LIMIT 1",
        d=code[:6],
    )
    with city.client() as http:
        r = http.post(
            "/api/v1/tokens",
            json={"role": "grid_worker", "grid_codes": [code], "district_code": other},
            headers=bearer(city.tokens["admin"]),
        )
    assert r.status_code == 422 and r.json()["field"] == "grid_codes"


def test_the_database_holds_the_rule(field_city: FieldCity) -> None:
    """A grid_worker token without a grid, or another role's token with one, never commits."""
    city = field_city
    with pytest.raises(IntegrityError, match="at least one grid"), city.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO api_tokens (name, role, token_hash) VALUES"
                " ('raw', 'grid_worker', repeat('a', 64))"
            )
        )
    code = city.grid_code(0)
    refused = pytest.raises(IntegrityError, match="only a grid_worker token names grids")
    with refused, city.engine.begin() as conn:
        tid = conn.execute(
            text(
                "INSERT INTO api_tokens (name, role, token_hash) VALUES"
                " ('raw', 'viewer', repeat('b', 64)) RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO api_token_grids (token_id, grid_code, district_code)"
                " VALUES (:t, :g, :d)"
            ),
            {"t": tid, "g": code, "d": code[:6]},
        )
    assert city.scalar("SELECT count(*) FROM api_tokens WHERE name = 'raw'") == 0


def test_cli_creates_a_grid_workers_token(field_city: FieldCity) -> None:
    city = field_city
    codes = [city.grid_code(13), city.grid_code(14)]
    recorded = roster(city, 13, 14)
    made = wangge(
        city, "token", "create", "--role", "grid_worker", "--name", "李巡查",
        "--grid", codes[0], "--grid", codes[1],
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    plain = made.stdout.strip()
    assert plain.startswith("wg_")
    assert "(grid_worker) for 李巡查" in made.stderr
    for code in codes:
        assert f"grid {code}" in made.stderr and str(recorded[code]) in made.stderr
    with city.client() as http:
        me = http.get("/api/v1/field/me", headers=bearer(plain)).json()
    assert me["name"] == "李巡查" and [g["code"] for g in me["grids"]] == sorted(codes)
    listed = wangge(city, "token", "list")
    assert listed.returncode == 0, listed.stderr
    token_id = made.stderr.split()[1]
    assert f"token {token_id} grids: {' '.join(sorted(codes))}" in listed.stdout


def test_cli_refuses_an_unknown_grid(field_city: FieldCity) -> None:
    city = field_city
    before = city.scalar("SELECT count(*) FROM api_tokens")
    bad = wangge(city, "token", "create", "--role", "grid_worker", "--grid", "630103999999998")
    assert bad.returncode == 1
    assert "grid_codes" in bad.stderr and "630103999999998" in bad.stderr
    assert bad.stdout == ""
    missing = wangge(city, "token", "create", "--role", "grid_worker")
    assert missing.returncode == 1 and "grid_codes" in missing.stderr
    assert city.scalar("SELECT count(*) FROM api_tokens") == before
