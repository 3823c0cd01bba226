"""``wangge backup [--type full|incr|diff]``, ``wangge backup list`` and ``wangge restore``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from gis.backup import KINDS, BackupError, Repository, repository
from gis.db import embedded_cluster
from gis.settings import get_settings

backup_app = typer.Typer(
    help="Backups of the embedded cluster into WANGGE_BACKUP_DIR (pgBackRest).",
    invoke_without_command=True,
)
out = Console()


def _repository() -> Repository:
    settings = get_settings()
    if settings.database_url:
        raise BackupError(
            "WANGGE_DATABASE_URL is set: back up that database with its own tools;"
            " `wangge backup` covers the embedded cluster"
        )
    repo = repository(settings, embedded_cluster(settings))
    if repo is None:
        raise BackupError("no backup repository: set WANGGE_BACKUP_DIR, then run `wangge db up`")
    return repo


@backup_app.callback()
def backup(
    ctx: typer.Context,
    kind: str = typer.Option(
        "incr",
        "--type",
        help="full, incr (changes since the last backup) or diff (since the last full);"
        " the first backup is always full.",
    ),
) -> None:
    """Take a backup now, of the cluster `wangge db up` started with WAL archiving."""
    if ctx.invoked_subcommand is not None:
        return
    if kind not in KINDS:
        raise typer.BadParameter(f"one of {', '.join(KINDS)}", param_hint="--type")
    taken = _repository().backup(kind)
    out.print(
        f"{taken.kind} backup {taken.label} taken ({taken.stored_bytes / 1e6:.1f} MB stored),"
        f" finished {taken.stopped.isoformat(timespec='seconds')}",
        highlight=False,
    )


@backup_app.command("list")
def list_backups() -> None:
    """The backups in the repository and the span a restore can reach."""
    repo = _repository()
    backups = repo.backups()
    if not backups:
        out.print(f"no backup in {repo.path} yet: take one with `wangge backup`")
        return
    header = f"{'label':<26}{'type':<6}{'started (UTC)':<21}{'finished (UTC)':<21}"
    out.print(header + "size MB  stored MB")
    for b in backups:
        out.print(
            f"{b.label:<26}{b.kind:<6}{b.started:%Y-%m-%d %H:%M:%S}  {b.stopped:%Y-%m-%d %H:%M:%S}"
            f"  {b.size_bytes / 1e6:7.1f}  {b.stored_bytes / 1e6:9.1f}",
            highlight=False,
            soft_wrap=True,
        )
    earliest = min(b.stopped for b in backups).isoformat(timespec="seconds")
    wal = repo.archived_wal()
    last = f"; WAL archived up to segment {wal[1]}" if wal else ""
    out.print(
        f"restore reaches any time from {earliest} to the last archived WAL{last}",
        highlight=False,
        soft_wrap=True,
    )


def parse_time(value: str) -> datetime:
    """ISO 8601; a time without an offset is read in WANGGE_TIMEZONE."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 time such as 2026-12-01T10:00:00+08:00",
            param_hint="--to",
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return moment


def restore(
    to: str = typer.Option(
        ..., "--to", help="The time to bring back, ISO 8601 (2026-12-01T10:00:00+08:00)."
    ),
    into: Path = typer.Option(
        ..., "--into", help="A new (or empty) state folder for the restored cluster."
    ),
) -> None:
    """Restore the database as it was at --to into a new cluster, and start it.

    The running cluster is never touched: the restored one gets its own folder and port.
    """
    target = parse_time(to)
    restored = _repository().restore(target, into.expanduser().resolve())
    out.print(
        f"restored to {target.isoformat()}; the restored cluster is running on"
        f" 127.0.0.1:{restored.port} ({restored.data_dir})",
        highlight=False,
    )
    out.print(restored.url(), highlight=False, soft_wrap=True)
    out.print(
        f"use it with WANGGE_STATE_DIR={restored.state_dir};"
        f" stop it with WANGGE_STATE_DIR={restored.state_dir} wangge db down",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup")
    app.command("restore")(restore)
