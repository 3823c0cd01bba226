"""Backups and point-in-time recovery (备份与按时间点恢复) of the embedded cluster, by pgBackRest.

With a repository configured (``WANGGE_BACKUP_DIR``) the cluster archives every WAL
segment into it (``archive_command`` = ``pgbackrest archive-push``), so a full or
incremental backup plus the archived WAL can bring back the database as it was at any
moment since the first backup. A restore always goes into a new state folder and a new
cluster on its own port: the running cluster is never touched.

pgBackRest runs as the cluster's system user, as PostgreSQL does, from a configuration
written into ``<state_dir>/pgbackrest/``; the stanza is named ``wangge``.
"""

from __future__ import annotations

import json
import shlex
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from gis.cluster import DB_USER, Cluster, ClusterError
from gis.settings import Settings

STANZA = "wangge"
KINDS = ("full", "incr", "diff")


class BackupError(ClusterError):
    """A backup or restore is refused or failed; the message says why and what to do."""


@dataclass(frozen=True)
class BackupInfo:
    """One backup in the repository."""

    label: str
    kind: str
    started: datetime
    stopped: datetime
    size_bytes: int
    stored_bytes: int


@dataclass(frozen=True)
class Repository:
    """The pgBackRest repository of one embedded cluster."""

    cluster: Cluster
    path: Path
    full_retention: int = 2
    archive_timeout_s: int = 60

    @property
    def home(self) -> Path:
        return self.cluster.state_dir / "pgbackrest"

    @property
    def config_file(self) -> Path:
        return self.home / "pgbackrest.conf"

    def archive_settings(self) -> dict[str, str]:
        """Server settings that archive every WAL segment into the repository."""
        push = (
            f"pgbackrest --config={shlex.quote(str(self.config_file))} --stanza={STANZA}"
            " archive-push %p"
        )
        return {
            "archive_mode": "on",
            "archive_command": push,
            "archive_timeout": str(self.archive_timeout_s),
        }

    # -- set-up ------------------------------------------------------------------------

    def prepare(self) -> None:
        """Check the repository folder and write the configuration, before the cluster starts."""
        require_pgbackrest()
        state = self.cluster.state_dir
        fresh = not state.exists()
        state.mkdir(parents=True, exist_ok=True)
        try:
            self.ensure_writable()
        except BackupError:
            if fresh:
                shutil.rmtree(state, ignore_errors=True)
            raise
        write_config(self.cluster, self.config_file, self.path, self.full_retention)

    def ensure_writable(self) -> None:
        """The repository folder exists (created if missing) and its system user may write it."""
        if not self.path.exists():
            try:
                self.path.mkdir(parents=True)
            except OSError as exc:
                raise BackupError(
                    f"backup directory {self.path} cannot be created: {exc.strerror}"
                ) from exc
            self.cluster.give_to_owner(self.path)
        where = str(self.path)
        probe = self.cluster.run_as_owner(
            ["test", "-d", where, "-a", "-w", where, "-a", "-x", where]
        )
        if probe.returncode != 0:
            raise BackupError(
                f"backup directory {self.path} is not a directory the system user"
                f" {self.cluster.os_user!r} can write to: make it theirs"
                f" (chown {self.cluster.os_user} {self.path}) or set WANGGE_BACKUP_DIR elsewhere"
            )

    def start(self) -> str:
        """``wangge db up`` with a repository: start with archiving on, create the stanza."""
        self.prepare()
        url = self.cluster.up(server_settings=self.archive_settings())
        self._pgbackrest("stanza-create")
        return url

    # -- backups -----------------------------------------------------------------------

    def backup(self, kind: str = "incr") -> BackupInfo:
        """Take a backup (an incremental one falls back to full when there is none yet).

        The cluster must be running with archiving into this repository, as ``wangge db
        up`` leaves it: a backup never starts or restarts it.
        """
        if kind not in KINDS:
            raise BackupError(f"backup type {kind!r} is not one of {', '.join(KINDS)}")
        self.prepare()
        if not self.cluster.running():
            raise BackupError("the embedded database is not running; start it with `wangge db up`")
        wanted = self.archive_settings()
        if self.cluster.server_settings(list(wanted)) != wanted:
            raise BackupError(
                f"the embedded database does not archive its WAL into {self.path}: run"
                " `wangge db up` with WANGGE_BACKUP_DIR set (it restarts the cluster once)"
            )
        self._pgbackrest("stanza-create")
        self._pgbackrest(f"--type={kind}", "backup")
        return self.backups()[-1]

    def backups(self) -> list[BackupInfo]:
        """The backups in the repository, oldest first."""
        stanza = self._info()
        return [
            BackupInfo(
                label=str(b["label"]),
                kind=str(b["type"]),
                started=datetime.fromtimestamp(int(b["timestamp"]["start"]), UTC),
                stopped=datetime.fromtimestamp(int(b["timestamp"]["stop"]), UTC),
                size_bytes=int(b["info"]["size"]),
                stored_bytes=int(b["info"]["repository"]["delta"]),
            )
            for b in stanza.get("backup", [])
        ]

    def archived_wal(self) -> tuple[str, str] | None:
        """First and last WAL segment in the archive, or None when nothing is archived."""
        archives = [a for a in self._info().get("archive", []) if a.get("min")]
        if not archives:
            return None
        return str(archives[0]["min"]), str(archives[-1]["max"])

    def _info(self) -> dict[str, Any]:
        if not self.config_file.exists():
            self.prepare()
        result = self._pgbackrest("--output=json", "info")
        stanzas: list[dict[str, Any]] = json.loads(result)
        return next((s for s in stanzas if s.get("name") == STANZA), {})

    # -- restore -----------------------------------------------------------------------

    def restore(self, target: datetime, into: Path, timeout_s: float = 300.0) -> Cluster:
        """Bring the database as it was at ``target`` into a new cluster in ``into``, started.

        Refused, with nothing created, when the target is in the future or before the
        first backup ended, or ``into`` is not empty. On any failure later the new folder
        is removed again.
        """
        check_target(target, datetime.now(UTC))
        self.prepare()
        backups = self.backups()
        if not backups:
            raise BackupError(f"no backup in {self.path} yet: take one with `wangge backup`")
        earliest = min(b.stopped for b in backups)
        if target < earliest:
            raise BackupError(
                f"--to {target.isoformat()} is before the first backup ended"
                f" ({earliest.isoformat()}): the earliest time a restore can reach"
            )
        created = not into.exists()
        if not created and (not into.is_dir() or any(into.iterdir())):
            raise BackupError(f"--into {into} exists and is not empty: name a new folder")
        self._archive_up_to_now()
        restored = Cluster(into, os_user=self.cluster.os_user, pg_version=self.cluster.pg_version)
        try:
            self._restore_into(restored, target, timeout_s)
        except BaseException as exc:
            restored.down()
            if created:
                shutil.rmtree(into, ignore_errors=True)
            else:
                for child in into.iterdir():
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            if isinstance(exc, ClusterError):
                raise BackupError(f"restore failed, {into} removed again: {exc}") from exc
            raise
        return restored

    def _archive_up_to_now(self) -> None:
        """Close and archive the WAL being written, with a commit after the target in it:
        recovery stops at the first commit past the target, and must find one."""
        if not self.cluster.running():
            return
        url = self.cluster.url("postgres").replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT txid_current()")
        # `check` switches to a new WAL segment and waits until the old one is archived.
        self._pgbackrest("check")

    def _restore_into(self, restored: Cluster, target: datetime, timeout_s: float) -> None:
        state = restored.state_dir
        state.mkdir(parents=True, exist_ok=True)
        restored.data_dir.mkdir(mode=0o700)
        restored.socket_dir.mkdir()
        shutil.copyfile(self.cluster.password_file, restored.password_file)
        restored.password_file.chmod(0o600)
        config = state / "pgbackrest" / "pgbackrest.conf"
        write_config(restored, config, self.path, self.full_retention)
        restored.log_file.touch()
        restored.give_to_owner(restored.data_dir, restored.socket_dir, restored.log_file)
        stamp = target.astimezone(UTC).isoformat(sep=" ")
        run_pgbackrest(
            restored,
            config,
            "--type=time",
            f"--target={stamp}",
            "--target-action=promote",
            "restore",
        )
        restored.start(timeout_s)
        _wait_promoted(restored, timeout_s)

    def _pgbackrest(self, *args: str) -> str:
        # The port may change at each start, so it is given to the commands that connect.
        port = self.cluster.port
        connects = args[-1] in {"stanza-create", "check", "backup"}
        extra = [f"--pg1-port={port}"] if port is not None and connects else []
        return run_pgbackrest(self.cluster, self.config_file, *extra, *args)


def repository(settings: Settings, cluster: Cluster) -> Repository | None:
    """The repository ``WANGGE_BACKUP_DIR`` names, or None when backups are not configured."""
    if settings.backup_dir is None:
        return None
    return Repository(
        cluster,
        settings.backup_dir.expanduser().resolve(),
        settings.backup_full_retention,
        settings.archive_timeout_s,
    )


def check_target(target: datetime, now: datetime) -> None:
    if target.tzinfo is None:
        raise BackupError("--to needs a time zone (the caller reads it in the local one)")
    if target > now:
        raise BackupError(
            f"--to {target.isoformat()} is in the future (now {now.isoformat(timespec='seconds')})"
        )


def require_pgbackrest() -> None:
    if shutil.which("pgbackrest") is None:
        raise BackupError(
            "pgbackrest is not installed: `make setup` installs it (apt-get install pgbackrest)"
        )


def write_config(cluster: Cluster, config: Path, repo: Path, full_retention: int) -> None:
    home = config.parent
    for sub in (home, home / "log", home / "lock", home / "spool"):
        sub.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "# Written by `wangge db up`; edits are overwritten.\n"
        "[global]\n"
        f"repo1-path={repo}\n"
        f"repo1-retention-full={full_retention}\n"
        f"log-path={home / 'log'}\n"
        f"lock-path={home / 'lock'}\n"
        f"spool-path={home / 'spool'}\n"
        # zstd: far less CPU than gzip for about the same size; start-fast: checkpoint now.
        "compress-type=zst\n"
        "start-fast=y\n"
        "log-level-console=warn\n"
        "log-level-file=info\n"
        f"\n[{STANZA}]\n"
        f"pg1-path={cluster.data_dir}\n"
        f"pg1-socket-path={cluster.socket_dir}\n"
        f"pg1-user={DB_USER}\n"
    )
    cluster.give_to_owner(home, home / "log", home / "lock", home / "spool", config)


def run_pgbackrest(cluster: Cluster, config: Path, *args: str) -> str:
    """Run pgBackRest as the cluster's user; its output, or :class:`BackupError` saying why."""
    require_pgbackrest()
    password = cluster.password if cluster.password_file.exists() else ""
    result = cluster.run_as_owner(
        ["pgbackrest", f"--config={config}", f"--stanza={STANZA}", *args],
        env={"PGPASSWORD": password},
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"pgbackrest {args[-1]} failed: " + " ".join(detail[-3:]))
    return result.stdout


def _wait_promoted(cluster: Cluster, timeout_s: float) -> None:
    """Wait until recovery reached the target and the cluster took writes again."""
    url = cluster.url("postgres").replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + timeout_s
    while True:
        if not cluster.running():
            lines = cluster.log_file.read_text(errors="replace").splitlines()
            why = [ln.split("FATAL:", 1)[1].strip() for ln in lines if "FATAL:" in ln]
            raise BackupError(
                "the restored cluster stopped during recovery: " + "; ".join(why or lines[-2:])
            )
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
                if row is not None and not row[0]:
                    return
        except psycopg.OperationalError:
            pass
        if time.monotonic() > deadline:
            raise BackupError(f"the restored cluster was still recovering after {timeout_s:.0f} s")
        time.sleep(0.3)
