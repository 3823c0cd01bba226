"""``wangge facility add|move|set|retire|list``: planners' edits of service facilities."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import open_engine
from gis import facilities as fac
from gis.db import session_scope
from gis.models import Facility

facility_app = typer.Typer(
    help="Service facilities (服务设施) and their circles.", no_args_is_help=True
)
out = Console()
ACTOR = "cli"


def _report(action: str, facility: Facility) -> None:
    out.print(
        f"{action} {facility.code} (id {facility.id}, {facility.type}, "
        f"{facility.service_radius_m:,.0f} m, district {facility.district_code})",
        highlight=False,
    )


@facility_app.command("add")
def add(
    type: str = typer.Option(..., "--type", help="enforcement_station or elderly_canteen"),
    name: str = typer.Option(..., "--name"),
    lon: float = typer.Option(..., "--lon"),
    lat: float = typer.Option(..., "--lat"),
    district: str = typer.Option(..., "--district", help="6-digit district code"),
    crs: str = typer.Option("cgcs2000", "--crs"),
    code: str | None = typer.Option(None, "--code"),
    radius: float | None = typer.Option(None, "--radius", help="Service radius in metres"),
    staff: int = typer.Option(0, "--staff"),
    seats: int = typer.Option(0, "--seats"),
    hours: str = typer.Option("24h", "--hours"),
) -> None:
    """Add a facility; its service circle is computed at once."""
    engine = open_engine()
    with session_scope(engine) as session:
        facility, change = fac.create_facility(
            session,
            type=type,
            name=name,
            lon=lon,
            lat=lat,
            district=district,
            crs=crs,
            code=code,
            service_radius_m=radius,
            staff=staff,
            seats=seats,
            hours=hours,
        )
    fac.facility_changed(engine, change, ACTOR)
    _report("added", facility)


@facility_app.command("move")
def move(
    key: str = typer.Argument(..., help="Facility id or code"),
    lon: float = typer.Option(..., "--lon"),
    lat: float = typer.Option(..., "--lat"),
    crs: str = typer.Option("cgcs2000", "--crs"),
    district: str | None = typer.Option(None, "--district", help="When it moves to another"),
) -> None:
    """Move a facility; its circle follows."""
    engine = open_engine()
    with session_scope(engine) as session:
        facility, change = fac.update_facility(
            session, key, lon=lon, lat=lat, crs=crs, district=district
        )
    fac.facility_changed(engine, change, ACTOR)
    _report("moved", facility)


@facility_app.command("set")
def set_(
    key: str = typer.Argument(..., help="Facility id or code"),
    radius: float | None = typer.Option(None, "--radius", help="Service radius in metres"),
    staff: int | None = typer.Option(None, "--staff"),
    seats: int | None = typer.Option(None, "--seats"),
    name: str | None = typer.Option(None, "--name"),
    hours: str | None = typer.Option(None, "--hours"),
) -> None:
    """Change radius, capacity, name or hours."""
    engine = open_engine()
    with session_scope(engine) as session:
        facility, change = fac.update_facility(
            session, key, service_radius_m=radius, staff=staff, seats=seats, name=name, hours=hours
        )
    fac.facility_changed(engine, change, ACTOR)
    _report("updated", facility)


@facility_app.command("retire")
def retire(key: str = typer.Argument(..., help="Facility id or code")) -> None:
    """Take a facility out of service; its row stays for history."""
    engine = open_engine()
    with session_scope(engine) as session:
        facility, change = fac.retire_facility(session, key)
    fac.facility_changed(engine, change, ACTOR)
    _report("retired", facility)


@facility_app.command("list")
def list_(
    type: str | None = typer.Option(None, "--type"),
    district: str | None = typer.Option(None, "--district"),
    all_: bool = typer.Option(False, "--all", help="Include retired facilities"),
) -> None:
    """List facilities (a table on a terminal, tab-separated lines in a pipe)."""
    header = (
        "id",
        "code",
        "type",
        "name",
        "district",
        "lon",
        "lat",
        "radius_m",
        "staff",
        "seats",
        "active",
    )
    with session_scope(open_engine()) as session:
        rows = fac.list_facilities(session, type, district, all_)
        where = fac.facility_lonlat(session, [f.id for f in rows])
        lines = [
            (
                str(f.id),
                f.code,
                f.type,
                f.name,
                f.district_code,
                f"{where[f.id][0]:.6f}",
                f"{where[f.id][1]:.6f}",
                f"{f.service_radius_m:.0f}",
                str(f.staff),
                str(f.seats),
                "yes" if f.active else "retired",
            )
            for f in rows
        ]
    if not out.is_terminal:
        for line in (header, *lines):
            print("\t".join(line))
        return
    table = Table(*header)
    for line in lines:
        table.add_row(*line)
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(facility_app, name="facility")
