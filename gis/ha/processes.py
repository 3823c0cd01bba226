"""Long-lived processes of the HA cluster: started detached, as the unprivileged system user
when root starts them, tracked by pid files under the state folder and stopped by pid.

A pid is only ever signalled after its command line is checked to name our state folder, so
a pid reused by another program after a crash is left alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from gis.cluster import ensure_os_user


def spawn(
    cmd: Sequence[str],
    pid_file: Path,
    log_file: Path,
    os_user: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
) -> int:
    """Start ``cmd`` in its own session (it outlives the caller), output to ``log_file``."""
    kwargs: dict[str, object] = {}
    environ = {**os.environ, "LC_ALL": "C.UTF-8", **(env or {})}
    if os.geteuid() == 0:
        entry = ensure_os_user(os_user)
        kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        environ["HOME"] = str(cwd)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=environ,
            start_new_session=True,
            **kwargs,  # type: ignore[call-overload]
        )
    pid_file.write_text(f"{process.pid}\n")
    return int(process.pid)


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def is_ours(pid: int, marker: Path) -> bool:
    """``pid`` is alive (not a zombie) and its command line names ``marker``."""
    state = _state(pid)
    if state is None or state == "Z":
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return str(marker).encode() in cmdline


def tracked_pid(pid_file: Path, marker: Path) -> int | None:
    """The live process recorded in ``pid_file``, None when it is gone."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if is_ours(pid, marker) else None


def stop(pids: Mapping[int, Path], timeout_s: float = 30.0) -> None:
    """SIGTERM each pid (pid → marker), wait for all, then SIGKILL whatever is left."""
    for pid, marker in pids.items():
        if is_ours(pid, marker):
            _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while any(is_ours(pid, marker) for pid, marker in pids.items()):
        if time.monotonic() > deadline:
            for pid, marker in pids.items():
                if is_ours(pid, marker):
                    _signal(pid, signal.SIGKILL)
            time.sleep(0.5)
            break
        _reap(pids)
        time.sleep(0.2)
    _reap(pids)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _reap(pids: Mapping[int, Path]) -> None:
    # Children of this very process (started in-process) must be waited for, else they
    # linger as zombies.
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
