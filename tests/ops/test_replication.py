"""Which node answers: a primary counts its standbys and their lag, a standby says so."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from sqlalchemy import Engine, text

from gis.cluster import DB_USER, Cluster
from gis.db import make_engine
from gis.replication import ReplicationStatus, replication_status


def status(engine: Engine) -> ReplicationStatus:
    with engine.connect() as conn:
        return replication_status(conn)


def streaming_standby(primary: Cluster, folder: Path) -> Cluster:
    """A standby of ``primary`` in ``folder``, cloned by pg_basebackup and started."""
    standby = Cluster(folder, os_user=primary.os_user, pg_version=primary.pg_version)
    folder.mkdir(parents=True)
    standby.data_dir.mkdir(mode=0o700)
    standby.socket_dir.mkdir()
    shutil.copyfile(primary.password_file, standby.password_file)
    standby.log_file.touch()
    standby.give_to_owner(standby.data_dir, standby.socket_dir, standby.log_file)
    clone = primary.run_as_owner(
        [
            str(primary.bin_dir / "pg_basebackup"),
            f"--pgdata={standby.data_dir}",
            "--write-recovery-conf",
            "--wal-method=stream",
            "--checkpoint=fast",
            "--host=127.0.0.1",
            f"--port={primary.port}",
            f"--username={DB_USER}",
        ],
        env={"PGPASSWORD": primary.password},
    )
    assert clone.returncode == 0, clone.stderr
    standby.start()
    return standby


def test_primary_and_standby_say_which_they_are(scratch_state_dir: Path, restore_dir: Path) -> None:
    primary_cluster = Cluster(scratch_state_dir)
    primary = make_engine(primary_cluster.up(), pool_size=1)
    try:
        alone = status(primary)
        assert (alone.role, alone.lag_s, alone.standbys) == ("primary", 0.0, 0)

        standby_cluster = streaming_standby(primary_cluster, restore_dir)
        standby = make_engine(standby_cluster.url(), pool_size=1)
        with primary.begin() as conn:
            conn.execute(text("CREATE TABLE marker (x int)"))
            conn.execute(text("INSERT INTO marker VALUES (1)"))
        deadline = time.monotonic() + 60
        while status(primary).standbys == 0 or not _has_marker(standby):
            assert time.monotonic() < deadline, "the standby never caught up"
            time.sleep(0.2)

        seen_from_primary, seen_from_standby = status(primary), status(standby)
        assert seen_from_primary.role == "primary" and seen_from_primary.standbys == 1
        assert seen_from_primary.lag_s is not None and seen_from_primary.lag_s >= 0
        assert seen_from_standby.role == "standby" and seen_from_standby.standbys == 0
        # Everything received is replayed: an idle primary is no lag.
        assert seen_from_standby.lag_s == 0.0
        standby.dispose()
    finally:
        primary.dispose()


def _has_marker(standby: Engine) -> bool:
    with standby.connect() as conn:
        return bool(conn.execute(text("SELECT to_regclass('marker') IS NOT NULL")).scalar_one())
