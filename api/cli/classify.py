"""``wangge classify``: community classes (社区分类) and the subsidy budget."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import open_session
from gis.classify import budget, recompute_classes, stored_counts

out = Console()


def classify(
    recompute: bool = typer.Option(
        False, "--recompute", help="Run the rules again over every community and store the classes."
    ),
) -> None:
    """Print communities per class, the subsidy each, subtotals and the total budget."""
    with open_session() as session:
        counts = recompute_classes(session) if recompute else stored_counts(session)
    table_data = budget(counts)
    table = Table(
        "class",
        "communities",
        "subsidy each (CNY)",
        "subtotal (CNY)",
        title="Community classes and yearly subsidies",
    )
    for row in table_data.rows:
        table.add_row(
            row.community_class,
            f"{row.communities:,}",
            f"{row.subsidy_each:,}",
            f"{row.subtotal:,}",
        )
    table.add_row(
        "total", f"{table_data.communities:,}", "", f"{table_data.total_budget:,}", style="bold"
    )
    out.print(table)
    if recompute:
        out.print("classes recomputed from the rules and stored")


def register(app: typer.Typer) -> None:
    app.command("classify")(classify)
