"""API tokens: created once and shown once; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.errors import InvalidInput, NotFound
from gis.field.grids import GridOfWorker, check_grid_codes, link_grids
from gis.models import BOUND_ROLES, ROLES, ApiToken, Unit

TOKEN_PREFIX = "wg_"


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def _check_unit(session: Session, role: str, unit_code: str | None) -> Unit | None:
    """A ``unit`` token names one active unit; no other role names one."""
    if role != "unit":
        if unit_code is not None:
            raise InvalidInput(f"only a unit token names a unit, not a {role} token", "unit_code")
        return None
    if unit_code is None:
        raise InvalidInput("a unit token must name its unit (unit_code)", field="unit_code")
    unit = session.get(Unit, unit_code)
    if unit is None or not unit.active:
        raise InvalidInput(f"unknown or inactive unit {unit_code!r}", field="unit_code")
    return unit


def _worker_name(name: str | None, grids: list[GridOfWorker]) -> str:
    """A grid worker's token is named for the person: given, or the worker the grids record
    (all the same one)."""
    if name:
        return name
    recorded = {g.worker_name for g in grids}
    if not grids or len(recorded) != 1 or None in recorded:
        raise InvalidInput(
            "name the token's holder (name): the grids do not record one worker", field="name"
        )
    return str(recorded.pop())


def create_token(
    session: Session,
    role: str,
    name: str | None,
    district_code: str | None = None,
    unit_code: str | None = None,
    grid_codes: list[str] | tuple[str, ...] = (),
) -> tuple[str, ApiToken]:
    """Store a new token and return its plain text (shown once) with the row.

    A ``unit`` token names its unit; a ``grid_worker`` token names one or more current
    grids (``grid_codes``), and without a ``name`` is named for the worker they record
    (:mod:`gis.field.grids`). Either takes its district from what it serves when not
    given one (a grid worker's grids in several districts: none).
    """
    known = (*ROLES, *BOUND_ROLES)
    if role not in known:
        raise InvalidInput(f"unknown role {role!r}; one of {', '.join(known)}", field="role")
    unit = _check_unit(session, role, unit_code)
    if unit is not None and district_code is None:
        district_code = unit.district_code
    grids = check_grid_codes(session, role, list(grid_codes), district_code)
    if role == "grid_worker":
        name = _worker_name(name, grids)
        districts = {g.district_code for g in grids}
        if district_code is None and len(districts) == 1:
            district_code = districts.pop()
    elif not name:
        raise InvalidInput("name the token's holder (name)", field="name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        role=role,
        token_hash=hash_token(plain),
        district_code=district_code,
        unit_code=unit_code,
    )
    session.add(token)
    session.flush()
    link_grids(session, token.id, grids)
    session.flush()
    return plain, token


def find_token(session: Session, plain: str) -> ApiToken | None:
    """The token for ``plain`` whether live or revoked (to say who tried), or None."""
    return session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_token(plain))
    ).one_or_none()


def revoke_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token with id {token_id}", field="id")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
