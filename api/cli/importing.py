"""``wangge import <level> FILE``: validate a layer file and write it, or report every defect.

``import_app`` is a Typer group: each level is one subcommand, and other parts of Wangge
add theirs (e.g. ``incidents``) with ``@import_app.command(...)``.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.common import open_session
from gis.boundaries import LEVELS
from gis.boundaries.fields import FIELDS, parse_mapping
from gis.boundaries.imports import import_file
from gis.boundaries.writes import ImportResult

import_app = typer.Typer(
    help="Import boundaries, places or incidents from files.", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)
SHOWN_ROWS = 200  # the table stops here; --json always lists every defect


def print_report(result: ImportResult) -> None:
    report = result.report
    if report.defects:
        table = Table("", "kind", "codes", "lon, lat", "area m²", "message", show_lines=False)
        for d in report.defects[:SHOWN_ROWS]:
            mark = "[red]error[/red]" if d.severity == "error" else "[yellow]warn[/yellow]"
            where = f"{d.lon:.6f}, {d.lat:.6f}" if d.lon is not None and d.lat is not None else ""
            area = "" if d.area_m2 is None else f"{d.area_m2:,.1f}" if d.area_m2 >= 1 else "<1"
            codes = " ".join(d.codes[:3]) + (f" (+{len(d.codes) - 3})" if len(d.codes) > 3 else "")
            table.add_row(mark, d.kind, codes, where, area, d.message)
        err.print(table)
        if len(report.defects) > SHOWN_ROWS:
            err.print(f"… and {len(report.defects) - SHOWN_ROWS} more (use --json for all)")
    counts = f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    if not report.ok:
        err.print(f"[red]{result.source}: {counts}; nothing written[/red]")
        return
    plan = (
        f"{len(result.created)} new, {len(result.changed)} changed, "
        f"{len(result.unchanged)} unchanged"
    )
    if result.dry_run:
        out.print(f"{result.source}: valid ({counts}); would write {plan} (dry run)")
    elif result.version_id is not None:
        out.print(f"{result.source}: {plan}; boundary version {result.version_id} ({counts})")
    else:
        out.print(f"{result.source}: {plan} ({counts})")


def _level_command(level: str) -> Callable[..., None]:
    columns = ", ".join(f.name for f in FIELDS[level])

    def command(
        file: Path = typer.Argument(..., help="GeoJSON, GeoPackage (.gpkg) or Shapefile (.shp)."),
        crs: str | None = typer.Option(
            None, "--crs", help="wgs84, cgcs2000, gcj02, bd09 or EPSG:<code>; default: the file's"
        ),
        dry_run: bool = typer.Option(False, "--dry-run", help="Validate and report only."),
        mapping: list[str] = typer.Option(
            [], "--map", help="field=COLUMN, when a column has another name (repeatable)."
        ),
        author: str = typer.Option(getpass.getuser(), "--author", help="Recorded as author."),
        reason: str = typer.Option("", "--reason", help="Recorded with the boundary version."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        with (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
                disable=as_json,
            ) as bar,
            open_session() as session,
        ):
            task = bar.add_task(f"{level}: reading {file.name}", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=f"{level}: {stage}", completed=done, total=total)

            result = import_file(
                session,
                level,
                file,
                crs=crs,
                mapping=parse_mapping(mapping),
                dry_run=dry_run,
                author=author,
                reason=reason,
                progress=progress,
            )
        if as_json:
            print(json.dumps(result.as_dict(), ensure_ascii=False, indent=1))
        else:
            print_report(result)
        if not result.report.ok:
            raise typer.Exit(1)

    command.__doc__ = f"Import {level} features from FILE. Columns: {columns}."
    return command


for _level in LEVELS:
    import_app.command(_level)(_level_command(_level))


def register(app: typer.Typer) -> None:
    """Add the ``import`` group, or the level commands to one another module created first."""
    for group in app.registered_groups:
        if group.name == "import" and group.typer_instance is not None:
            for info in import_app.registered_commands:
                group.typer_instance.registered_commands.append(info)
            return
    app.add_typer(import_app, name="import")
