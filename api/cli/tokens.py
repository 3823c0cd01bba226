"""``wangge token create|list|revoke``."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import open_session
from gis.field.grids import current_grids, token_grid_codes
from gis.tokens import create_token, list_tokens, revoke_token

token_app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)
out = Console()


@token_app.command("create")
def create(
    role: str = typer.Option(
        ...,
        "--role",
        help="viewer, dispatcher, planner, admin, unit (with --unit) or grid_worker (with --grid)",
    ),
    name: str | None = typer.Option(
        None,
        "--name",
        help="Who or what holds the token (default: cli; a grid worker's: the worker its"
        " grids record).",
    ),
    district: str | None = typer.Option(None, "--district", help="Limit to one district."),
    unit: str | None = typer.Option(None, "--unit", help="The unit code of a unit token."),
    grid: list[str] = typer.Option(
        [], "--grid", help="A grid a grid_worker token serves (repeat for several)."
    ),
) -> None:
    """Create a token and print it; it cannot be shown again. The token alone goes to
    stdout; who it is for (and a grid worker's grids with their workers on record) to
    stderr."""
    if name is None and role != "grid_worker":
        name = "cli"
    with open_session() as session:
        plain, token = create_token(session, role, name, district, unit, grid)
        holder = token.name
        grids = current_grids(session, token_grid_codes(session, token.id))
    print(plain)
    typer.echo(f"token {token.id} ({role}) for {holder}", err=True)
    for g in grids:
        recorded = g.worker_name or "no worker on record"
        mark = "" if g.worker_name == holder else "  (not the token's holder)"
        typer.echo(f"  grid {g.code} {g.name}: {recorded}{mark}", err=True)


@token_app.command("list")
def list_() -> None:
    """Every token; below the table, the grids each grid worker's token serves."""
    with open_session() as session:
        tokens = list_tokens(session)
        table = Table("id", "name", "role", "district", "created", "last used", "revoked")
        served: list[str] = []
        for t in tokens:
            table.add_row(
                str(t.id),
                t.name,
                t.role,
                t.district_code or "",
                f"{t.created_at:%Y-%m-%d %H:%M}",
                f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "",
                f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
            )
            if t.role == "grid_worker":
                served.append(f"token {t.id} grids: {' '.join(token_grid_codes(session, t.id))}")
    out.print(table)
    for line in served:
        out.print(line, highlight=False)


@token_app.command("revoke")
def revoke(token_id: int = typer.Argument(..., help="Token id from `wangge token list`.")) -> None:
    with open_session() as session:
        revoke_token(session, token_id)
    out.print(f"token {token_id} revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
