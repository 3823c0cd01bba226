"""``wangge db up|down|status|url``, ``wangge migrate`` and ``wangge serve``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import typer
from rich.console import Console

from api.logs import log_config
from gis import migrate as migrations
from gis.db import (
    check_reachable,
    database_url,
    embedded_cluster,
    live_database_url,
    start_embedded,
)
from gis.settings import get_settings

db_app = typer.Typer(help="The embedded PostgreSQL + PostGIS cluster.", no_args_is_help=True)
out = Console()


def _uses_external() -> bool:
    if get_settings().database_url:
        out.print("WANGGE_DATABASE_URL is set: the embedded cluster is not used.")
        return True
    return False


@db_app.command("up")
def up() -> None:
    """Install PostGIS if needed, initialise on first use and start the cluster."""
    if _uses_external():
        return
    settings = get_settings()
    cluster = embedded_cluster(settings)
    url = start_embedded(settings)
    out.print(f"embedded cluster running on 127.0.0.1:{cluster.port} ({cluster.data_dir})")
    if settings.backup_dir is not None:
        out.print(f"WAL archived to the backup repository {settings.backup_dir}")
    out.print(url, highlight=False, soft_wrap=True)


@db_app.command("down")
def down() -> None:
    """Stop the cluster (fast shutdown)."""
    if _uses_external():
        return
    stopped = embedded_cluster().down()
    out.print("embedded cluster stopped" if stopped else "embedded cluster was not running")


@db_app.command("status")
def status() -> None:
    """Say whether the cluster is running and where; exit 3 when it is not."""
    settings = get_settings()
    if settings.database_url:
        check_reachable(database_url(settings))
        out.print("external database reachable (WANGGE_DATABASE_URL)")
        return
    cluster = embedded_cluster(settings)
    if not cluster.initialised:
        out.print(f"no embedded cluster yet in {cluster.data_dir}: run `wangge db up`")
        raise typer.Exit(3)
    if not cluster.running():
        out.print(f"embedded cluster stopped ({cluster.data_dir})")
        raise typer.Exit(3)
    out.print(f"embedded cluster running on 127.0.0.1:{cluster.port} ({cluster.data_dir})")


@db_app.command("url")
def url() -> None:
    """Print the SQLAlchemy URL of the database Wangge uses."""
    print(database_url())


def migrate(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Bring the schema up to date (the database must be running: ``wangge db up``)."""
    target = live_database_url()
    migrations.upgrade(target, revision)
    out.print(f"schema at revision {migrations.current_revision(target)}")


def serve(
    host: str = typer.Option(None, help="Address to bind (default from WANGGE_HOST)."),
    port: int = typer.Option(None, help="Port (default from WANGGE_PORT)."),
    workers: int = typer.Option(
        None, min=1, help="Worker processes (default from WANGGE_WORKERS: one per core)."
    ),
) -> None:
    """Start the database if needed, migrate, and serve the HTTP API."""
    import uvicorn  # on use: keeps `wangge` quick to start

    settings = get_settings()
    if not settings.database_url:
        start_embedded(settings)  # as `wangge db up`
    target = live_database_url(settings)
    migrations.upgrade(target)
    processes = workers or settings.workers
    if processes > 1:
        _share_metrics(settings.state_dir / "metrics")
    out.print(f"serving on http://{host or settings.host}:{port or settings.port}")
    uvicorn.run(
        "api.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=processes,
        log_level="info",
        log_config=log_config(settings.log_format),
    )


def _share_metrics(folder: Path) -> None:
    """Workers write their metrics into ``folder`` (emptied: the last run's are stale), and
    GET /metrics from any of them adds up all (prometheus-client's multiprocess mode)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    # Named here, not imported from api.observe: prometheus-client reads it at its import.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("migrate")(migrate)
    app.command("serve")(serve)
