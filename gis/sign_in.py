"""Map sessions (登录会话): what the sign-in page's cookie holds.

Not the token: a value naming the token's id and when the session ends, signed with
HMAC-SHA256 under a server key, so it cannot be forged or stretched, and a leaked
cookie gives neither the token nor anything beyond reads until it ends. Each read
checks the token is still live, so revoking a token ends its sessions.

The key is the setting ``WANGGE_SESSION_SECRET``; when unset, one is generated on
first use and kept in ``<state_dir>/session_secret`` (mode 600), where every worker
process of the service finds the same one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from gis.settings import Settings

SECRET_FILE = "session_secret"
_secrets: dict[Path, bytes] = {}  # generated keys by file, read once per process


def session_secret(settings: Settings) -> bytes:
    """The key sessions are signed with (read or generated on first use, never at import)."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode()
    path = settings.state_dir / SECRET_FILE
    if path not in _secrets:
        _secrets[path] = _read_or_create(path)
    return _secrets[path]


def _read_or_create(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
        try:
            # A hard link appears whole and fails if the file exists: when workers start
            # together, the first key written is the one all of them read.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip().encode()


def _mac(payload: str, secret: bytes) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_session(token_id: int, max_age_s: int, secret: bytes, now: float) -> str:
    """A session value for ``token_id`` ending ``max_age_s`` seconds after ``now``."""
    payload = f"{token_id}.{int(now) + max_age_s}"
    return f"{payload}.{_mac(payload, secret)}"


def session_token_id(value: str, secret: bytes, now: float) -> int | None:
    """The token id a session value names; None when forged, malformed or ended."""
    payload, _, mac = value.rpartition(".")
    if not hmac.compare_digest(mac.encode(), _mac(payload, secret).encode()):
        return None
    token_id, _, ends = payload.partition(".")
    if not (token_id.isdigit() and ends.isdigit()) or int(ends) <= now:
        return None
    return int(token_id)
