"""``wangge token create|list|revoke``."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import open_session
from gis.tokens import create_token, list_tokens, revoke_token

token_app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)
out = Console()


@token_app.command("create")
def create(
    role: str = typer.Option(
        ..., "--role", help="viewer, dispatcher, planner, admin, or unit (with --unit)"
    ),
    name: str = typer.Option("cli", "--name", help="Who or what holds the token."),
    district: str | None = typer.Option(None, "--district", help="Limit to one district."),
    unit: str | None = typer.Option(None, "--unit", help="The unit code of a unit token."),
) -> None:
    """Create a token and print it; it cannot be shown again."""
    with open_session() as session:
        plain, token = create_token(session, role, name, district, unit)
    print(plain)
    typer.echo(f"token {token.id} ({role}) for {name}", err=True)


@token_app.command("list")
def list_() -> None:
    with open_session() as session:
        tokens = list_tokens(session)
        table = Table("id", "name", "role", "district", "created", "last used", "revoked")
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
    out.print(table)


@token_app.command("revoke")
def revoke(token_id: int = typer.Argument(..., help="Token id from `wangge token list`.")) -> None:
    with open_session() as session:
        revoke_token(session, token_id)
    out.print(f"token {token_id} revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
