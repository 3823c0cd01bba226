"""What the HA cluster is made of: its loopback ports and the configuration of each process.

Three etcd members (the consensus store: a leader key survives only while a majority agrees)
and one Patroni per PostgreSQL node. Patroni's timings make a failover well under 15 s:
a leader key lives ``ttl`` seconds, Patroni wakes every ``loop_wait`` seconds and gives up on
the store after ``retry_timeout`` seconds (its rule: ttl ≥ loop_wait + 2 · retry_timeout), and
``primary_start_timeout: 0`` fails over at once when the primary's server crashes instead
of restarting it in place. ``synchronous_mode`` makes every commit wait for the standby, so
a promoted standby holds every acknowledged write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gis.cluster import DB_USER

ETCD_MEMBERS = 3
SCOPE = "wangge"
REPLICATION_USER = "replicator"
TTL_S, LOOP_WAIT_S, RETRY_TIMEOUT_S = 10, 2, 4
assert TTL_S >= LOOP_WAIT_S + 2 * RETRY_TIMEOUT_S  # Patroni's rule
PORTS_PER_NODE = 2  # PostgreSQL, Patroni's REST API
PORTS_PER_MEMBER = 2  # etcd client, etcd peer


@dataclass(frozen=True)
class Ports:
    """Loopback ports: ``etcd`` (client, peer) per member, ``nodes`` (postgres, rest) per node."""

    etcd: tuple[tuple[int, int], ...]
    nodes: tuple[tuple[int, int], ...]

    @classmethod
    def from_base(cls, base: int, nodes: int) -> Ports:
        """Consecutive ports from ``base``: the nodes' first, then the etcd members'."""
        node_ports = tuple((base + 2 * i, base + 2 * i + 1) for i in range(nodes))
        first = base + PORTS_PER_NODE * nodes
        member_ports = tuple((first + 2 * i, first + 2 * i + 1) for i in range(ETCD_MEMBERS))
        return cls(etcd=member_ports, nodes=node_ports)

    @classmethod
    def load(cls, path: Path) -> Ports | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return cls(
            etcd=tuple((int(c), int(p)) for c, p in data["etcd"]),
            nodes=tuple((int(pg), int(rest)) for pg, rest in data["nodes"]),
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"etcd": self.etcd, "nodes": self.nodes}) + "\n")

    def named(self) -> list[tuple[int, str]]:
        """Every port with what it is for (for a message naming a taken one)."""
        out: list[tuple[int, str]] = []
        for i, (pg, rest) in enumerate(self.nodes):
            out += [(pg, f"PostgreSQL of node{i}"), (rest, f"Patroni REST API of node{i}")]
        for i, (client, peer) in enumerate(self.etcd):
            out += [(client, f"etcd{i} client"), (peer, f"etcd{i} peer")]
        return out

    @property
    def etcd_hosts(self) -> list[str]:
        return [f"127.0.0.1:{client}" for client, _ in self.etcd]


def etcd_command(state: Path, ports: Ports, member: int, token: str) -> list[str]:
    """The command line of etcd member ``member`` (its data under ``state/etcd<member>``)."""
    client, peer = ports.etcd[member]
    initial = ",".join(f"etcd{i}=http://127.0.0.1:{p}" for i, (_, p) in enumerate(ports.etcd))
    return [
        "etcd",
        f"--name=etcd{member}",
        f"--data-dir={state / f'etcd{member}'}",
        f"--listen-client-urls=http://127.0.0.1:{client}",
        f"--advertise-client-urls=http://127.0.0.1:{client}",
        f"--listen-peer-urls=http://127.0.0.1:{peer}",
        f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
        f"--initial-cluster={initial}",
        "--initial-cluster-state=new",
        f"--initial-cluster-token={token}",
        "--heartbeat-interval=100",
        "--election-timeout=1000",
        "--logger=zap",
    ]


def patroni_config(
    state: Path, ports: Ports, node: int, password: str, replication_password: str, pg_version: int
) -> dict[str, Any]:
    """Patroni's configuration of node ``node`` (written as JSON, which YAML reads)."""
    pg_port, rest_port = ports.nodes[node]
    node_dir = state / f"node{node}"
    hba = [
        "local all all scram-sha-256",
        f"host replication {REPLICATION_USER} 127.0.0.1/32 scram-sha-256",
        "host all all 127.0.0.1/32 scram-sha-256",
    ]
    return {
        "scope": SCOPE,
        "namespace": "/wangge/",
        "name": f"node{node}",
        "restapi": {
            "listen": f"127.0.0.1:{rest_port}",
            "connect_address": f"127.0.0.1:{rest_port}",
        },
        "etcd3": {"hosts": ports.etcd_hosts, "protocol": "http"},
        "bootstrap": {
            "dcs": {
                "ttl": TTL_S,
                "loop_wait": LOOP_WAIT_S,
                "retry_timeout": RETRY_TIMEOUT_S,
                "maximum_lag_on_failover": 1048576,
                "primary_start_timeout": 0,
                "synchronous_mode": True,
                "postgresql": {
                    "use_pg_rewind": True,
                    "use_slots": True,
                    "parameters": {
                        "max_connections": 200,
                        "wal_log_hints": "on",
                        "synchronous_commit": "on",
                        "max_wal_senders": 10,
                        "max_replication_slots": 10,
                    },
                },
            },
            "initdb": [
                {"encoding": "UTF8"},
                {"locale": "C.UTF-8"},
                {"lc-collate": "C"},
                "data-checksums",
            ],
        },
        "postgresql": {
            "listen": f"127.0.0.1:{pg_port}",
            "connect_address": f"127.0.0.1:{pg_port}",
            "data_dir": str(node_dir / "pgdata"),
            "bin_dir": f"/usr/lib/postgresql/{pg_version}/bin",
            "pgpass": str(node_dir / "pgpass"),
            "authentication": {
                "superuser": {"username": DB_USER, "password": password},
                "replication": {"username": REPLICATION_USER, "password": replication_password},
            },
            "parameters": {
                "unix_socket_directories": str(node_dir / "run"),
                "unix_socket_permissions": "0700",
                "shared_buffers": "128MB",
                "work_mem": "32MB",
                "password_encryption": "scram-sha-256",
            },
            "pg_hba": hba,
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False},
    }
