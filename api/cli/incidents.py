"""``wangge import incidents FILE``: bulk intake of CSV or NDJSON with a progress bar."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.common import open_engine
from gis.db import session_scope
from gis.incidents.bulk import ingest_bytes
from gis.incidents.bulk_read import detect_format

out = Console()
err = Console(stderr=True)
STEPS = ("read", "check", "assign", "store")


def import_incidents(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    format: str | None = typer.Option(None, "--format", help="csv or ndjson (default: by name)"),
    strict: bool = typer.Option(False, "--strict", help="store nothing when any row is bad"),
    actor: str | None = typer.Option(None, "--actor", help="who the events name"),
    first_load: bool = typer.Option(
        False,
        "--first-load",
        help="load an archive before going live: locks the incident tables and rebuilds "
        "their indexes once at the end (about twice as fast; the service waits meanwhile)",
    ),
) -> None:
    """Assign and store incidents from CSV or NDJSON; bad rows are listed by row number."""
    data = file.read_bytes()
    fmt = format or detect_format(file.name, None, data[:64])
    who = actor or f"cli:{getpass.getuser()}"
    engine = open_engine()
    columns = (TextColumn("{task.description:<7}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as bar:
        tasks = {s: bar.add_task(s, total=1.0) for s in STEPS}

        def progress(step: str, fraction: float) -> None:
            for earlier in STEPS[: STEPS.index(step)]:
                bar.update(tasks[earlier], completed=1.0)
            bar.update(tasks[step], completed=fraction)

        class Rejected(Exception):
            pass

        try:
            with session_scope(engine) as session:
                result = ingest_bytes(
                    session,
                    data,
                    fmt,
                    who,
                    None,
                    progress,
                    first_load=first_load,
                )
                if strict and result.bad_rows:
                    raise Rejected
        except Rejected:
            result.stored = result.duplicates = 0
            out.print("[yellow]--strict: nothing stored[/yellow]")
    out.print(
        f"{result.received} rows: [green]{result.stored} stored[/green], "
        f"{result.duplicates} already there, [red]{len(result.bad_rows)} bad[/red]"
    )
    if result.bad_rows:
        table = Table("row", "external_id", "reason", title="bad rows")
        for b in result.bad_rows[:50]:
            table.add_row(str(b.row), b.external_id or "", b.reason)
        err.print(table)
        if len(result.bad_rows) > 50:
            err.print(f"... and {len(result.bad_rows) - 50} more")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``incidents`` to the ``import`` group, creating the group if nobody has yet."""
    for group in app.registered_groups:
        if group.name == "import" and group.typer_instance is not None:
            group.typer_instance.command("incidents")(import_incidents)
            return
    group_app = typer.Typer(
        help="Import boundaries, facilities or incidents.", no_args_is_help=True
    )
    group_app.command("incidents")(import_incidents)
    app.add_typer(group_app, name="import")
