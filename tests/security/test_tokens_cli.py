"""``wangge token create|list|revoke`` run as a real process against the test database."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from gis.settings import PROJECT_ROOT
from tests.security.conftest import bearer


def wangge(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WANGGE_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_create_list_revoke(database_url: str, http: httpx.Client) -> None:
    created = wangge(database_url, "token", "create", "--role", "dispatcher", "--name", "desk-7")
    assert created.returncode == 0, created.stderr
    plain = created.stdout.strip()
    assert plain.startswith("wg_") and len(plain) > 40
    token_id = created.stderr.split()[1]
    assert "(dispatcher) for desk-7" in created.stderr

    # A dispatcher: through the role check of dispatch, refused admin-only reads.
    assert http.get("/api/v1/audit", headers=bearer(plain)).status_code == 403

    listed = wangge(database_url, "token", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "desk-7" in line)
    assert token_id in row and "dispatcher" in row
    assert plain not in listed.stdout  # only the hash is kept

    revoked = wangge(database_url, "token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    assert http.get("/api/v1/audit", headers=bearer(plain)).status_code == 401


def test_bad_role_and_unknown_id_fail_with_a_message(database_url: str) -> None:
    bad = wangge(database_url, "token", "create", "--role", "emperor")
    assert bad.returncode == 1
    assert "role" in bad.stderr + bad.stdout and "viewer" in bad.stderr + bad.stdout
    missing = wangge(database_url, "token", "revoke", "99999999")
    assert missing.returncode == 1
    assert "99999999" in missing.stderr + missing.stdout


def test_admin_issues_and_revokes_over_http(http: httpx.Client, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    made = http.post(
        "/api/v1/tokens", json={"role": "viewer", "name": "wall screen"}, headers=admin
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["token"].startswith("wg_") and body["role"] == "viewer"
    assert http.get("/health", headers=bearer(body["token"])).status_code == 200
    listed = http.get("/api/v1/tokens", headers=admin).json()
    assert all("token" not in t for t in listed)
    assert any(t["id"] == body["id"] for t in listed)
    gone = http.delete(f"/api/v1/tokens/{body['id']}", headers=admin)
    assert gone.status_code == 200 and gone.json()["revoked_at"] is not None
    assert http.get("/api/v1/audit", headers=bearer(body["token"])).status_code == 401
    bad = http.post("/api/v1/tokens", json={"role": "emperor", "name": "x"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["field"] == "role"
