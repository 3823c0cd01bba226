"""Domain errors. The ways in (HTTP, CLI) map each kind to a status or exit code in one place."""

from __future__ import annotations

from typing import Any


class WanggeError(Exception):
    """Base of every domain error; ``field`` names the offending input when there is one."""

    def __init__(self, message: str, field: str | None = None, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.detail = detail


class InvalidInput(WanggeError):
    """The input breaks a rule (bad code, geometry, coordinate, ...)."""


class NotFound(WanggeError):
    """A referenced unit, incident or facility does not exist."""


class Conflict(WanggeError):
    """The write clashes with the current state (stale base version, illegal transition)."""
