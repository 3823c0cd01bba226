"""``wangge demo``: load the Xining demo city (演示城市) into the database in use."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import open_engine
from gis.demo import load_demo

out = Console()


def demo(
    seed: int = typer.Option(2026, "--seed", help="Seed of the generator (same seed, same city)."),
) -> None:
    """Load the Xining demo city; a second run changes nothing and says so."""
    engine = open_engine()
    summary = load_demo(engine.url.render_as_string(hide_password=False), seed=seed)
    table = Table("item", "count", title=f"Xining demo city (seed {seed})")
    for item, count in summary.rows():
        table.add_row(item, count)
    out.print(table)
    if summary.created:
        out.print(
            f"demo city loaded as boundary version {summary.version_id} in {summary.seconds:.1f} s"
        )
    elif summary.changed:
        out.print(
            f"demo city already present (version {summary.version_id}); added what was missing"
        )
    else:
        out.print(
            f"demo city already present (boundary version {summary.version_id}): nothing changed"
        )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
