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


class TooLarge(InvalidInput):
    """The input is bigger than a size limit allows (an upload over its byte limit)."""


class UnsupportedType(InvalidInput):
    """The input is of a kind that is not taken (a file that is not an accepted image)."""


class NotFound(WanggeError):
    """A referenced unit, incident or facility does not exist."""


class Conflict(WanggeError):
    """The write clashes with the current state (stale base version, illegal transition)."""


class Forbidden(WanggeError):
    """The caller's role may not take this step (a unit's staff outside their own steps)."""


class OutOfScope(WanggeError):
    """The caller is limited to one district (a district-scoped token) and this is another."""


def in_scope(district_code: str | None, scope: str | None) -> bool:
    """The one rule of district scope: a caller limited to district ``scope`` acts only on
    what lies in that district; a caller with no scope acts city-wide."""
    return scope is None or district_code == scope


def check_scope(district_code: str | None, scope: str | None, what: str) -> None:
    """:class:`OutOfScope` unless ``what`` (in ``district_code``) is in the caller's scope."""
    if not in_scope(district_code, scope):
        where = f"district {district_code}" if district_code else "no district"
        raise OutOfScope(
            f"{what} is in {where}; this token is limited to district {scope}",
            field="district",
        )
