"""The embedded cluster through the ``wangge db`` commands, as a user runs them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from gis.cluster import Cluster, ClusterError, ensure_postgis
from gis.db import libpq_url

WANGGE = [sys.executable, "-m", "api.cli"]


def run(state: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "WANGGE_DATABASE_URL"}
    environ.update({"WANGGE_STATE_DIR": str(state), **env})
    return subprocess.run(
        [*WANGGE, *args], capture_output=True, text=True, env=environ, timeout=180
    )


def not_running(result: subprocess.CompletedProcess[str]) -> bool:
    """A command refused because the embedded cluster is down: exit 2, one line saying how."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return result.returncode == 2 and len(lines) == 1 and "`wangge db up`" in lines[0]


def test_up_reuses_data_and_down_stops(scratch_state_dir: Path) -> None:
    # Only `db up` starts the cluster: other commands say how and leave nothing behind.
    for args in (("migrate",), ("token", "list")):
        assert not_running(run(scratch_state_dir, *args))
    assert not (scratch_state_dir / "pgdata").exists()
    first = run(scratch_state_dir, "db", "up")
    assert first.returncode == 0, first.stderr
    url = run(scratch_state_dir, "db", "url").stdout.strip()
    assert url.startswith("postgresql+psycopg://wangge:")
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (x int)")
        conn.execute("INSERT INTO kept VALUES (42)")
        assert conn.execute("SELECT postgis_lib_version()").fetchone() is not None

    assert run(scratch_state_dir, "db", "status").returncode == 0
    assert "stopped" in run(scratch_state_dir, "db", "down").stdout
    stopped = run(scratch_state_dir, "db", "status")
    assert stopped.returncode == 3 and "stopped" in stopped.stdout
    assert not_running(run(scratch_state_dir, "migrate"))
    assert run(scratch_state_dir, "db", "status").returncode == 3  # still stopped
    assert "not running" in run(scratch_state_dir, "db", "down").stdout

    assert run(scratch_state_dir, "db", "up").returncode == 0
    with psycopg.connect(libpq_url(url)) as conn:
        assert conn.execute("SELECT x FROM kept").fetchone() == (42,)
    assert run(scratch_state_dir, "db", "down").returncode == 0


def test_taken_port_moves_to_a_free_one(scratch_state_dir: Path) -> None:
    cluster = Cluster(state_dir=scratch_state_dir)
    cluster.up()
    old_port = cluster.port
    assert old_port is not None
    cluster.down()
    with socket.socket() as blocker:
        # Connections the stopped server closed may linger in TIME_WAIT on its port; a
        # listener may still take it (and then nobody else can).
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", old_port))
        blocker.listen()
        result = run(scratch_state_dir, "db", "up")
        assert result.returncode == 0, result.stderr
        assert cluster.port != old_port
        assert cluster.running()
    cluster.down()


def test_stale_pid_file_after_crash_is_handled(scratch_state_dir: Path) -> None:
    cluster = Cluster(state_dir=scratch_state_dir)
    cluster.up()
    pid_file = cluster.data_dir / "postmaster.pid"
    pid = int(pid_file.read_text().splitlines()[0])
    saved = pid_file.read_text()
    os.kill(pid, 9)  # a crash: postmaster gone, pid file left behind
    subprocess.run(["sleep", "1"], check=True)
    if not pid_file.exists():
        pid_file.write_text(saved)
    result = run(scratch_state_dir, "db", "up")
    assert result.returncode == 0, result.stderr
    assert cluster.running()
    cluster.down()


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = run(tmp_path, "migrate", WANGGE_DATABASE_URL="postgresql://nobody:x@127.0.0.1:1/none")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "127.0.0.1:1/none is unreachable" in lines[0]


def test_missing_postgis_names_package_and_command() -> None:
    # No PostgreSQL 99 exists, so installing its PostGIS must fail with a useful message.
    with pytest.raises(ClusterError) as info:
        ensure_postgis(99)
    assert "postgresql-99-postgis-3" in str(info.value)
    assert "apt-get install -y postgresql-99-postgis-3" in str(info.value)
