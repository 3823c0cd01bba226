"""`wangge backup` and `wangge restore` refuse what cannot work: a clear message, a non-zero
exit, and nothing made half-way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from gis.backup import BackupError, repository
from gis.cluster import Cluster
from gis.db import libpq_url
from gis.settings import Settings
from tests.test_cluster import run


def test_restore_refuses_times_it_cannot_reach(
    scratch_state_dir: Path, backup_dir: Path, restore_dir: Path
) -> None:
    env = {"WANGGE_BACKUP_DIR": str(backup_dir)}
    plain = run(scratch_state_dir, "db", "up")
    assert plain.returncode == 0 and "WAL archived" not in plain.stdout
    # A backup never restarts the cluster to turn archiving on: `db up` does.
    unarchived = run(scratch_state_dir, "backup", **env)
    assert unarchived.returncode != 0 and "does not archive" in unarchived.stderr
    # A repository named later: the running cluster restarts with archiving on.
    up = run(scratch_state_dir, "db", "up", **env)
    assert up.returncode == 0, up.stderr
    assert "WAL archived" in up.stdout
    cluster = Cluster(state_dir=scratch_state_dir)
    url = libpq_url(cluster.url())
    with psycopg.connect(url) as conn:
        assert conn.execute("SHOW archive_mode").fetchone() == ("on",)

    # The refusals that need no command line are asked of the repository itself.
    repo = repository(Settings(state_dir=scratch_state_dir, backup_dir=backup_dir), cluster)
    assert repo is not None
    with pytest.raises(BackupError, match="no backup"):
        repo.restore(datetime.now(UTC), restore_dir)

    taken = run(scratch_state_dir, "backup", "--type", "full", **env)
    assert taken.returncode == 0, taken.stderr
    assert "full backup" in taken.stdout
    listed = run(scratch_state_dir, "backup", "list", **env)
    assert listed.returncode == 0 and " full " in listed.stdout

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    ahead = run(scratch_state_dir, "restore", "--to", future, "--into", str(restore_dir), **env)
    assert ahead.returncode != 0 and "in the future" in ahead.stderr

    # Local time without an offset is read in WANGGE_TIMEZONE (UTC+8): eight hours back.
    early = (datetime.now(UTC) + timedelta(minutes=5)).replace(tzinfo=None).isoformat()
    before = run(scratch_state_dir, "restore", "--to", early, "--into", str(restore_dir), **env)
    assert before.returncode != 0 and "before the first backup" in before.stderr
    with pytest.raises(BackupError, match="before the first backup"):
        repo.restore(repo.backups()[0].started, restore_dir)

    garbled = run(scratch_state_dir, "restore", "--to", "yesterday", "--into", str(restore_dir))
    assert garbled.returncode != 0 and "ISO 8601" in garbled.stderr

    restore_dir.mkdir()
    (restore_dir / "keep").write_text("mine")
    with pytest.raises(BackupError, match="not empty"):
        repo.restore(datetime.now(UTC), restore_dir)
    assert [p.name for p in restore_dir.iterdir()] == ["keep"]
    (restore_dir / "keep").unlink()
    restore_dir.rmdir()
    # Nothing of a restore was made for any refusal.
    assert not restore_dir.exists()

    # Stopped, the cluster cannot archive the WAL it wrote last: recovery ends before a
    # target after it, and the half-restored cluster is stopped and removed.
    assert run(scratch_state_dir, "db", "down", **env).returncode == 0
    with pytest.raises(BackupError, match="not running"):
        repo.backup()
    late = datetime.now(UTC).isoformat()
    failed = run(scratch_state_dir, "restore", "--to", late, "--into", str(restore_dir), **env)
    assert failed.returncode != 0 and "restore failed" in failed.stderr, failed.stderr
    assert "recovery" in failed.stderr
    assert not restore_dir.exists()


def test_a_backup_directory_that_cannot_be_written_is_refused(
    scratch_state_dir: Path, backup_dir: Path
) -> None:
    backup_dir.mkdir(parents=True)
    backup_dir.chmod(0o555)  # as root too: the cluster's own system user cannot write it
    env = {"WANGGE_BACKUP_DIR": str(backup_dir)}
    for args in (
        ("db", "up"),
        ("backup",),
        ("restore", "--to", "2026-01-01T00:00:00+08:00", "--into", str(scratch_state_dir) + "-x"),
    ):
        refused = run(scratch_state_dir, *args, **env)
        assert refused.returncode != 0, args
        assert "is not a directory the system user" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    # Nothing started half-way: no cluster, no state folder, no restore folder.
    assert not scratch_state_dir.exists()
    assert not Path(str(scratch_state_dir) + "-x").exists()


def test_backup_without_a_repository_says_how_to_set_one(scratch_state_dir: Path) -> None:
    refused = run(scratch_state_dir, "backup", "list")
    assert refused.returncode != 0 and "WANGGE_BACKUP_DIR" in refused.stderr
    assert not scratch_state_dir.exists()
