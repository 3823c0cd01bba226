"""``wangge export <level> -o FILE``: boundaries or places to GeoJSON, GeoPackage or Shapefile."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from api.cli.common import open_session
from gis.boundaries import LEVELS
from gis.boundaries.exports import export_layer
from gis.boundaries.queries import parse_at

err = Console(stderr=True)


def export(
    level: str = typer.Argument(..., help=", ".join(LEVELS)),
    output: Path = typer.Option(..., "-o", "--output", help=".geojson, .gpkg or .shp"),
    at: str | None = typer.Option(
        None, "--at", help="ISO time: the boundaries valid then (default: now)."
    ),
) -> None:
    """Write every unit of LEVEL to a file that `wangge import` reads back unchanged."""
    when = parse_at(at) if at else None
    with open_session() as session:
        count = export_layer(session, level, output, when)
    err.print(f"{count} {level} features written to {output}")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
