"""Entry point of ``wangge``: the Typer app and the error handling every command shares."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import typer
from rich.console import Console

from gis.cluster import ClusterError
from gis.db import DatabaseUnreachable
from gis.errors import WanggeError

app = typer.Typer(
    name="wangge",
    help="Wangge 网格: grid-based community governance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module in api/cli with a ``register(app)`` adds its commands.
for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
    if info.name in {"main", "__main__"}:
        continue
    module = importlib.import_module(f"api.cli.{info.name}")
    if hasattr(module, "register"):
        module.register(app)

err = Console(stderr=True)


def main() -> None:
    try:
        app()
    except (ClusterError, DatabaseUnreachable) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except WanggeError as exc:
        where = f" ({exc.field})" if exc.field else ""
        err.print(f"[red]error{where}:[/red] {exc.message}", highlight=False, soft_wrap=True)
        sys.exit(1)
