"""``wangge plan``: where the next k stations or canteens of a district should go."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from api.cli.common import open_engine

out = Console()


def plan(
    district: str = typer.Option(..., "--district", help="6-digit district code"),
    k: int | None = typer.Option(None, "--k", help="How many sites"),
    type: str = typer.Option("enforcement_station", "--type"),
    objective: str = typer.Option(
        "residents", "--objective", help="residents, households, elderly_residents or incidents"
    ),
    candidates: str = typer.Option("lattice", "--candidates", help="lattice or grid_centroids"),
    spacing: float = typer.Option(250.0, "--spacing", help="Lattice spacing in metres"),
    relocate: bool = typer.Option(
        False, "--relocate", help="Re-place the district's existing ones"
    ),
    exact: bool = typer.Option(False, "--exact", help="Also solve exactly and compare"),
    days: int = typer.Option(30, "--days", help="Incidents of the last N days"),
    radius: float | None = typer.Option(None, "--radius", help="Service radius in metres"),
    as_json: bool = typer.Option(False, "--json", help="Print the full answer as JSON"),
) -> None:
    """Suggest sites covering the most demand (greedy; --exact adds the optimum)."""
    from gis.coverage.siting import SitingRequest, site  # on use: keeps `wangge` quick to start

    req = SitingRequest(
        district=district,
        k=k,
        type=type,
        objective=objective,
        candidates=candidates,
        spacing_m=spacing,
        mode="relocate" if relocate else "add",
        exact=exact,
        days=days,
        service_radius_m=radius,
    )
    result = site(open_engine(), req)
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    before = result["before"]
    out.print(
        f"{result['district']} {result['type']} by {result['objective']}: "
        f"{result['candidates']['count']} candidates, k = {result['k']}",
        highlight=False,
    )
    out.print(f"before: {before['covered']:,.0f} covered ({before['share']:.1%})", highlight=False)
    for method in ("greedy", "exact"):
        if method not in result:
            continue
        r = result[method]
        out.print(
            f"{method}: {r['after']['covered']:,.0f} covered ({r['after']['share']:.1%}), "
            f"gain {r['gain']:,.0f}, {r['seconds']:.3f} s",
            highlight=False,
        )
        for s in r["sites"]:
            gain = f"  +{s['gain']:,.0f}" if "gain" in s else ""
            out.print(f"  {s['lon']:.6f}, {s['lat']:.6f}{gain}", highlight=False)
    if "greedy_share_of_optimum" in result:
        out.print(f"greedy reaches {result['greedy_share_of_optimum']:.2%} of the optimum")


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
