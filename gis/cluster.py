"""The embedded database: a private PostgreSQL 15 + PostGIS cluster in the project folder.

It listens on 127.0.0.1 only, on a free port chosen at first start and kept
in ``<state_dir>/port``; a password is generated at ``initdb`` and kept in
``<state_dir>/password`` (mode 600). PostgreSQL refuses to run as root, so when
root starts it the cluster runs as an unprivileged system user.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

POSTGIS_PACKAGE = "postgresql-{v}-postgis-3"
DB_NAME = "wangge"
DB_USER = "wangge"


class ClusterError(RuntimeError):
    """The embedded cluster cannot be installed, started or reached; the message says why."""


@dataclass(frozen=True)
class Cluster:
    """One embedded cluster rooted at ``state_dir``."""

    state_dir: Path
    os_user: str = "wangge"
    pg_version: int = 15

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "postgres.log"

    @property
    def port_file(self) -> Path:
        return self.state_dir / "port"

    @property
    def password_file(self) -> Path:
        return self.state_dir / "password"

    @property
    def bin_dir(self) -> Path:
        return Path(f"/usr/lib/postgresql/{self.pg_version}/bin")

    # -- facts -----------------------------------------------------------------

    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    @property
    def port(self) -> int | None:
        try:
            return int(self.port_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()

    def url(self, database: str = DB_NAME) -> str:
        if self.port is None:
            raise ClusterError("the embedded cluster has never been started: run `wangge db up`")
        return f"postgresql+psycopg://{DB_USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def running(self) -> bool:
        if not self.initialised:
            return False
        result = self._pg_ctl(["status"], check=False)
        return result.returncode == 0 and not self._postmaster_is_zombie()

    def _postmaster_is_zombie(self) -> bool:
        # A killed postmaster whose parent never reaps it still "exists" for pg_ctl.
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            return False
        return state == "Z"

    # -- actions ---------------------------------------------------------------

    def up(self, timeout_s: float = 60.0, server_settings: Mapping[str, str] | None = None) -> str:
        """Install PostGIS if needed, initialise on first use, start, and return the URL.

        ``server_settings`` are given on the server's command line (not written into the
        data folder, so a copy restored from a backup does not inherit them); a running
        cluster whose values differ is restarted, as ``archive_mode`` needs.
        """
        ensure_postgis(self.pg_version)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not self.initialised:
            self._initdb()
        wanted = dict(server_settings or {})
        if self.running() and wanted and self.server_settings(list(wanted)) != wanted:
            self.down()
        if not self.running():
            self.start(timeout_s, wanted)
        self._ensure_database()
        return self.url()

    def start(
        self, timeout_s: float = 60.0, server_settings: Mapping[str, str] | None = None
    ) -> None:
        """Start the initialised cluster on its port (or a free one when that is taken)."""
        self._remove_stale_pid()
        port = self.port
        if port is None or not port_is_free(port):
            port = free_port()
            self.port_file.write_text(f"{port}\n")
        options = f"-p {port} -k {shlex.quote(str(self.socket_dir))} -c listen_addresses=127.0.0.1"
        for name, value in (server_settings or {}).items():
            options += " -c " + shlex.quote(f"{name}={value}")
        self._pg_ctl(
            ["start", "-w", "-t", str(int(timeout_s)), "-l", str(self.log_file), "-o", options],
            check=True,
        )

    def server_settings(self, names: list[str]) -> dict[str, str]:
        """The running server's values of the settings ``names``."""
        url = self.url("postgres").replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (names,)
            ).fetchall()
        return {str(name): str(setting) for name, setting in rows}

    def down(self) -> bool:
        """Stop the cluster; returns False when it was not running."""
        if not self.running():
            self._remove_stale_pid()
            return False
        self._pg_ctl(["stop", "-m", "fast", "-w"], check=True)
        return True

    def destroy(self) -> None:
        self.down()
        shutil.rmtree(self.state_dir, ignore_errors=True)

    # -- internals -------------------------------------------------------------

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(24)
        self.password_file.write_text(password + "\n")
        self.password_file.chmod(0o600)
        pwfile = self.state_dir / ".initdb-pw"
        pwfile.write_text(password + "\n")
        self._give_to_os_user(self.data_dir, self.socket_dir, pwfile)
        if self._as_root():
            self.log_file.touch()
            self._give_to_os_user(self.log_file)
        try:
            self._run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    DB_USER,
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--lc-collate=C",
                ],
                check=True,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# Wangge embedded cluster\n"
                "shared_buffers = 256MB\nwork_mem = 32MB\nmaintenance_work_mem = 256MB\n"
                "max_connections = 100\nfsync = on\nsynchronous_commit = on\n"
                "unix_socket_permissions = 0700\n"
            )

    def _ensure_database(self) -> None:
        url = self.url("postgres").replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        with psycopg.connect(url.rsplit("/", 1)[0] + f"/{DB_NAME}", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")

    def _remove_stale_pid(self) -> None:
        # pg_ctl says "not running", so any postmaster.pid left is from a crash.
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
        if self.socket_dir.is_dir():
            for lock in self.socket_dir.glob(".s.PGSQL.*"):
                lock.unlink(missing_ok=True)

    def _pg_ctl(self, args: Sequence[str], check: bool) -> subprocess.CompletedProcess[str]:
        return self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args], check)

    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def give_to_owner(self, *paths: Path) -> None:
        """Hand files to the cluster's system user (when root runs it), parents made passable."""
        self._give_to_os_user(*paths)

    def _give_to_os_user(self, *paths: Path) -> None:
        if not self._as_root():
            return
        entry = ensure_os_user(self.os_user)
        for path in paths:
            os.chown(path, entry.pw_uid, entry.pw_gid)
            # The unprivileged user must reach the files through their parents.
            for parent in path.parents:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    parent.chmod(mode | 0o001)

    def run_as_owner(
        self, cmd: list[str], env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command as the cluster's system user (tools that must own its files)."""
        return self._run(cmd, check=False, env=env)

    def _run(
        self, cmd: list[str], check: bool, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self._as_root():
            entry = ensure_os_user(self.os_user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        environ = {**os.environ, "LC_ALL": "C.UTF-8", **(env or {})}
        if self._as_root():
            environ["HOME"] = str(self.state_dir)
        result = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env=environ,
            cwd=self.state_dir,
            **kwargs,  # type: ignore[call-overload]
        )
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            log_tail = ""
            if self.log_file.exists():
                log_tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-5:])
            raise ClusterError(
                f"{Path(cmd[0]).name} {' '.join(cmd[1:3])} failed: "
                + " ".join(detail[-3:])
                + (f"\n{log_tail}" if log_tail else "")
            )
        return result  # type: ignore[no-any-return]


def ensure_os_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)


def postgis_installed(pg_version: int) -> bool:
    return Path(f"/usr/share/postgresql/{pg_version}/extension/postgis.control").exists()


def ensure_postgis(pg_version: int) -> None:
    """Install PostgreSQL and PostGIS from apt when missing (with sudo when not root)."""
    package = POSTGIS_PACKAGE.format(v=pg_version)
    if postgis_installed(pg_version) and Path(f"/usr/lib/postgresql/{pg_version}/bin").exists():
        return
    command = f"apt-get install -y {package} postgresql-contrib"
    prefix: list[str] = [] if os.geteuid() == 0 else ["sudo", "-n"]
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(
            [*prefix, "apt-get", "update", "-qq"], check=True, capture_output=True, env=apt_env
        )
        subprocess.run([*prefix, *command.split()], check=True, capture_output=True, env=apt_env)
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        raise ClusterError(
            f"PostGIS is not installed and could not be installed automatically ({exc}). "
            f"Install the package {package} yourself: sudo {command}"
        ) from exc
    if not postgis_installed(pg_version):
        raise ClusterError(f"{package} was installed but postgis.control is still missing")


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As PostgreSQL does: a port in TIME_WAIT after our own stop is free to reuse.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(preferred: int = 55432) -> int:
    if port_is_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_reachable(url: str, timeout_s: float = 30.0) -> None:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(plain, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
