"""``wangge cluster up --nodes 2|status|down``: PostgreSQL with a standby that takes over."""

from __future__ import annotations

import typer
from rich.console import Console

from gis.ha import ha_cluster

cluster_app = typer.Typer(
    help="A Patroni cluster of PostgreSQL nodes with a synchronous standby (and etcd), on"
    " loopback, in <state_dir>/ha.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)  # URLs and paths are copied from here: never wrapped


@cluster_app.command("up")
def up(
    nodes: int = typer.Option(2, min=2, max=3, help="PostgreSQL nodes (one primary, standbys)."),
    base_port: int = typer.Option(
        None,
        min=1024,
        max=65000,
        help="First of the consecutive loopback ports (2 per node, then 6 for etcd);"
        " default: the ports of the last run, or the first free block from 25432.",
    ),
) -> None:
    """Start etcd (3 members) and the nodes; wait for a leader and a synchronous standby."""
    cluster = ha_cluster()
    url = cluster.up(nodes=nodes, base_port=base_port)
    for member in cluster.members():
        out.print(f"{member.name}: {member.role} on 127.0.0.1:{member.port}", highlight=False)
    out.print("serve through it with (writes always reach the primary):")
    print(f"WANGGE_DATABASE_URL={url}")
    print(f"WANGGE_READ_URL={cluster.url(read_only=True)}")


@cluster_app.command("status")
def status() -> None:
    """Each node's role, state and lag; exit 3 when no node answers."""
    cluster = ha_cluster()
    members = cluster.members()
    if not members:
        out.print(f"no HA cluster running in {cluster.state_dir}: run `wangge cluster up`")
        raise typer.Exit(3)
    for m in members:
        lag = "" if m.lag is None else f", {m.lag} bytes behind"
        out.print(f"{m.name}: {m.role} ({m.state}) on 127.0.0.1:{m.port}{lag}", highlight=False)
    print(f"WANGGE_DATABASE_URL={cluster.url()}")
    print(f"WANGGE_READ_URL={cluster.url(read_only=True)}")


@cluster_app.command("down")
def down() -> None:
    """Stop every node, then etcd."""
    stopped = ha_cluster().down()
    out.print("HA cluster stopped" if stopped else "HA cluster was not running")


def register(app: typer.Typer) -> None:
    app.add_typer(cluster_app, name="cluster")
