"""A standby that takes over (主备切换): two PostgreSQL nodes under Patroni with synchronous
replication, and a three-member etcd, all on loopback, under one state folder.

Clients reach it through a multi-host libpq URL with ``target_session_attrs=read-write``:
libpq tries each node and keeps the one that takes writes, so after a failover the service
finds the new primary by itself. Nothing here knows of HTTP.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from gis.cluster import (
    DB_NAME,
    DB_USER,
    Cluster,
    ClusterError,
    ensure_postgis,
    port_is_free,
)
from gis.ha import processes
from gis.ha.config import (
    ETCD_MEMBERS,
    PORTS_PER_MEMBER,
    PORTS_PER_NODE,
    Ports,
    etcd_command,
    patroni_config,
)

DEFAULT_BASE_PORT = 25432  # below Linux's ephemeral range, so outgoing connections never take it


@dataclass(frozen=True)
class Member:
    """One PostgreSQL node as Patroni reports it."""

    name: str
    role: str  # leader, sync_standby, replica
    state: str  # running, starting, stopped, …
    port: int
    lag: int | None  # bytes behind the leader (None on the leader or when unknown)


@dataclass(frozen=True)
class HaCluster:
    """The HA cluster rooted at ``state_dir`` (e.g. ``.wangge/ha``)."""

    state_dir: Path
    os_user: str = "wangge"
    pg_version: int = 15

    # -- files -----------------------------------------------------------------

    @property
    def ports_file(self) -> Path:
        return self.state_dir / "ports.json"

    @property
    def password_file(self) -> Path:
        return self.state_dir / "password"

    def node_dir(self, node: int) -> Path:
        return self.state_dir / f"node{node}"

    def _pid_file(self, name: str) -> Path:
        return self.state_dir / f"{name}.pid"

    @property
    def ports(self) -> Ports | None:
        return Ports.load(self.ports_file)

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()

    # -- facts -----------------------------------------------------------------

    def live_processes(self) -> dict[str, int]:
        """Our processes still alive: name (``etcd0``, ``node1``…) → pid."""
        found: dict[str, int] = {}
        for pid_file in sorted(self.state_dir.glob("*.pid")):
            pid = processes.tracked_pid(pid_file, self.state_dir)
            if pid is not None:
                found[pid_file.stem] = pid
        return found

    def url(self, read_only: bool = False) -> str:
        """The libpq URL of the cluster: every node, the primary chosen by libpq (or a standby
        preferred, for reads that may lag)."""
        ports = self.ports
        if ports is None:
            raise ClusterError(f"no HA cluster in {self.state_dir}: run `wangge cluster up`")
        hosts = ",".join(f"127.0.0.1:{pg}" for pg, _ in ports.nodes)
        attrs = "prefer-standby" if read_only else "read-write"
        return (
            f"postgresql://{DB_USER}:{self.password}@{hosts}/{DB_NAME}?target_session_attrs={attrs}"
        )

    def members(self) -> list[Member]:
        """The nodes as Patroni sees them, asked of any Patroni that answers ([] if none)."""
        ports = self.ports
        for _, rest in ports.nodes if ports else ():
            try:
                data = _get_json(f"http://127.0.0.1:{rest}/cluster")
            except OSError:
                continue
            return [
                Member(
                    name=str(m["name"]),
                    role=str(m.get("role", "")),
                    state=str(m.get("state", "")),
                    port=int(m.get("port", 0)),
                    lag=_lag(m.get("lag")),
                )
                for m in data.get("members", [])
            ]
        return []

    def leader(self) -> Member | None:
        return next((m for m in self.members() if m.role == "leader"), None)

    def postmaster_pid(self, node: int) -> int | None:
        """The pid of node ``node``'s PostgreSQL server, None when it is not running."""
        pid_file = self.node_dir(node) / "pgdata" / "postmaster.pid"
        return processes.tracked_pid(pid_file, self.node_dir(node))

    def etcd_pids(self) -> list[int | None]:
        return [
            processes.tracked_pid(self._pid_file(f"etcd{i}"), self.state_dir)
            for i in range(ETCD_MEMBERS)
        ]

    # -- actions ---------------------------------------------------------------

    def up(self, nodes: int = 2, base_port: int | None = None, timeout_s: float = 120.0) -> str:
        """Start etcd and every node, wait for a leader and a synchronous standby, make the
        wangge database, and return the read-write URL. Refused, with nothing started, when
        this cluster already runs or one of its ports is taken."""
        running = self.live_processes()
        if running:
            raise ClusterError(
                f"an HA cluster already runs from {self.state_dir} "
                f"({', '.join(running)}): stop it first with `wangge cluster down`"
            )
        missing = [tool for tool in ("etcd", "patroni") if shutil.which(tool) is None]
        if missing:
            raise ClusterError(
                f"{' and '.join(missing)} not installed: sudo apt-get install -y patroni"
                " etcd-server etcd-client (or `make setup`); nothing was started"
            )
        ports = self._ports_for(nodes, base_port)
        taken = [(port, what) for port, what in ports.named() if not port_is_free(port)]
        if taken:
            port, what = taken[0]
            raise ClusterError(
                f"port {port} ({what}) on 127.0.0.1 is taken, perhaps by another HA cluster:"
                " stop it, or choose other ports with --base-port; nothing was started"
            )
        ensure_postgis(self.pg_version)
        try:
            self._start(ports, nodes, timeout_s)
        except BaseException:
            self.down()
            raise
        return self.url()

    def down(self, timeout_s: float = 60.0) -> bool:
        """Stop every node (Patroni stops its PostgreSQL), then etcd; False if none ran."""
        running = self.live_processes()
        nodes = {pid: self.state_dir for name, pid in running.items() if name.startswith("node")}
        processes.stop(nodes, timeout_s)
        for node in range(len(self.ports.nodes) if self.ports else 0):
            # A server whose Patroni died unexpectedly is stopped too.
            pid = self.postmaster_pid(node)
            if pid is not None:
                processes.stop({pid: self.node_dir(node)}, timeout_s)
        members = {pid: self.state_dir for name, pid in running.items() if name.startswith("etcd")}
        processes.stop(members, timeout_s)
        for pid_file in self.state_dir.glob("*.pid"):
            pid_file.unlink(missing_ok=True)
        return bool(running)

    def destroy(self) -> None:
        self.down()
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def start_etcd(self, members: list[int], deadline: float | None = None) -> None:
        """Start etcd members (on their kept data once made) and wait until they answer."""
        ports = self.ports
        if ports is None:
            raise ClusterError(f"no HA cluster in {self.state_dir}: run `wangge cluster up`")
        owner = Cluster(self.state_dir, os_user=self.os_user, pg_version=self.pg_version)
        token = (self.state_dir / "etcd_token").read_text().strip()
        for member in members:
            data = self.state_dir / f"etcd{member}"
            data.mkdir(mode=0o700, exist_ok=True)
            log = self.state_dir / f"etcd{member}.log"
            log.touch()
            owner.give_to_owner(data, log)
            processes.spawn(
                etcd_command(self.state_dir, ports, member, token),
                self._pid_file(f"etcd{member}"),
                log,
                self.os_user,
                cwd=self.state_dir,
            )
        until = deadline if deadline is not None else time.monotonic() + 60
        for member in members:
            client = ports.etcd[member][0]
            self._wait(lambda c=client: _etcd_healthy(c), until, "etcd to elect a leader")

    def stop_etcd(self, members: list[int]) -> None:
        """Stop some etcd members (a fault drill: without a majority no leader key lives)."""
        pids = self.etcd_pids()
        processes.stop({pid: self.state_dir for i in members if (pid := pids[i]) is not None})

    # -- internals -------------------------------------------------------------

    def _ports_for(self, nodes: int, base_port: int | None) -> Ports:
        known = self.ports
        if base_port is None and known is not None and len(known.nodes) == nodes:
            return known
        if base_port is not None:
            return Ports.from_base(base_port, nodes)
        width = PORTS_PER_NODE * nodes + PORTS_PER_MEMBER * ETCD_MEMBERS
        base = DEFAULT_BASE_PORT
        while not all(port_is_free(p) for p in range(base, base + width)):
            base += width
        return Ports.from_base(base, nodes)

    def _start(self, ports: Ports, nodes: int, timeout_s: float) -> None:
        owner = Cluster(self.state_dir, os_user=self.os_user, pg_version=self.pg_version)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ports.save(self.ports_file)
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(24) + "\n")
            self.password_file.chmod(0o600)
            (self.state_dir / "replication_password").write_text(secrets.token_urlsafe(24))
            (self.state_dir / "replication_password").chmod(0o600)
            (self.state_dir / "etcd_token").write_text("wangge-" + secrets.token_hex(6))
        replication = (self.state_dir / "replication_password").read_text().strip()
        deadline = time.monotonic() + timeout_s
        self.start_etcd(list(range(ETCD_MEMBERS)), deadline)
        for node in range(nodes):
            self._spawn_node(owner, ports, node, replication)
        self._wait(lambda: self._healthy(nodes), deadline, "a leader and a synchronous standby")
        self._ensure_database(deadline)

    def _spawn_node(self, owner: Cluster, ports: Ports, node: int, replication: str) -> None:
        node_dir = self.node_dir(node)
        (node_dir / "run").mkdir(parents=True, exist_ok=True)
        config = node_dir / "patroni.yml"
        settings = patroni_config(
            self.state_dir, ports, node, self.password, replication, self.pg_version
        )
        config.write_text(json.dumps(settings, indent=2) + "\n")
        config.chmod(0o600)
        log = node_dir / "patroni.log"
        log.touch()
        owner.give_to_owner(node_dir, node_dir / "run", config, log)
        processes.spawn(
            ["patroni", str(config)], self._pid_file(f"node{node}"), log, self.os_user, node_dir
        )

    def _healthy(self, nodes: int) -> bool:
        members = self.members()
        roles = sorted(m.role for m in members if m.state in {"running", "streaming"})
        return len(members) == nodes and roles == sorted(
            ["leader"] + ["sync_standby"] + ["replica"] * (nodes - 2)
        )

    def _wait(self, ready: Any, deadline: float, what: str) -> None:
        while not ready():
            dead = [name for name in self._expected() if name not in self.live_processes()]
            if dead:
                raise ClusterError(
                    f"{', '.join(dead)} stopped while waiting for {what}; "
                    f"see the logs in {self.state_dir}"
                )
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"timed out waiting for {what}; see the logs in {self.state_dir}"
                )
            time.sleep(0.3)

    def _expected(self) -> list[str]:
        return [p.stem for p in self.state_dir.glob("*.pid")]

    def _ensure_database(self, deadline: float) -> None:
        url = self.url().replace(f"/{DB_NAME}?", "/postgres?")
        while True:
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                    if not conn.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)
                    ).fetchone():
                        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=2) as response:
        data: dict[str, Any] = json.loads(response.read())
        return data


def _etcd_healthy(client_port: int) -> bool:
    try:
        return _get_json(f"http://127.0.0.1:{client_port}/health").get("health") == "true"
    except (OSError, ValueError):
        return False


def _lag(value: object) -> int | None:
    return value if isinstance(value, int) else None
