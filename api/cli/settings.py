"""``wangge settings``: every setting with its default, unit and description."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table

from gis.settings_doc import markdown, rows

out = Console()


def settings(
    as_markdown: bool = typer.Option(
        False, "--markdown", help="Print docs/settings.md, the reference as Markdown."
    ),
) -> None:
    """List every WANGGE_* environment variable with its default, unit and description."""
    if as_markdown:
        sys.stdout.write(markdown())
        return
    table = Table("variable", "default", "unit", "description", title="Settings")
    for r in rows():
        table.add_row(r.env, r.default.strip("`"), r.unit, r.description)
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command("settings")(settings)
