"""``/api/v1/tokens``: administrators issue, list and revoke API tokens over HTTP.

The same operations as ``wangge token create|list|revoke``; the plain token is in the
response to its creation only, and only its SHA-256 is stored.

A grid worker's token (``role: grid_worker``) names its grids (``grid_codes``, one or
more current grids; an unknown one is a 422 naming ``grid_codes``). Its ``name`` is the
person's; left out, it is the worker the grids record (``grids.worker_name``) when they
all record the same one. The answer lists each grid with the worker it records, so a
stand-in covering another worker's grid shows at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.auth import Admin, Viewer
from api.deps import SessionDep
from gis.field.grids import current_grids, token_grid_codes
from gis.models import ApiToken
from gis.tokens import create_token, list_tokens, revoke_token

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["viewer", "dispatcher", "planner", "admin", "unit", "grid_worker"]
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="who holds it; a grid worker's defaults to the worker its grids record",
    )
    district_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    unit_code: str | None = Field(
        default=None, max_length=32, description="the unit a unit token acts for"
    )
    grid_codes: list[Annotated[str, Field(pattern=r"^\d{15}$")]] = Field(
        default_factory=list, max_length=200, description="the grids a grid_worker token serves"
    )


class TokenGrid(BaseModel):
    code: str
    name: str
    community_code: str
    community_name: str | None
    worker_name: str | None = Field(description="the grid's worker on record (网格员)")


class TokenOut(BaseModel):
    id: int
    name: str
    role: str
    district_code: str | None
    unit_code: str | None = None
    grids: list[TokenGrid] = Field(default_factory=list)
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewToken(TokenOut):
    token: str = Field(description="The plain token; shown this once only.")


@router.post("", status_code=201, response_model=NewToken)
def create(body: TokenIn, principal: Admin, session: SessionDep) -> NewToken:
    # A district's administrator issues tokens for that district only.
    principal.check_district(body.district_code, "the new token")
    with session.begin():
        plain, token = create_token(
            session, body.role, body.name, body.district_code, body.unit_code, body.grid_codes
        )
        session.refresh(token)
        return NewToken(token=plain, **_out(token, session).model_dump())


class Me(BaseModel):
    role: str
    name: str
    district_code: str | None
    unit_code: str | None
    grid_codes: list[str] = Field(default_factory=list)


@router.get("/me", response_model=Me)
def me(principal: Viewer) -> Me:
    """Who the caller's token (header, or the session cookie on a page) acts as: role,
    name, district scope and unit; ``anonymous`` without one where anonymous reads are on.
    Pages show it and offer only what this role may do."""
    return Me(
        role=principal.role,
        name=principal.name,
        district_code=principal.district_code,
        unit_code=principal.unit_code,
        grid_codes=list(principal.grid_codes),
    )


@router.get("", response_model=list[TokenOut])
def list_(principal: Admin, session: SessionDep) -> list[TokenOut]:
    return [_out(t, session) for t in list_tokens(session) if principal.covers(t.district_code)]


@router.delete("/{token_id}", response_model=TokenOut)
def revoke(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], principal: Admin, session: SessionDep
) -> TokenOut:
    with session.begin():
        token = revoke_token(session, token_id)
        principal.check_district(token.district_code, f"token {token_id}")  # undoes the revoke
        return _out(token, session)


def _out(token: ApiToken, session: Session) -> TokenOut:
    """The token as listed; a grid worker's with its grids (current ones) by name."""
    out = TokenOut.model_validate(token, from_attributes=True)
    if token.role == "grid_worker":
        grids = current_grids(session, token_grid_codes(session, token.id))
        out.grids = [TokenGrid(**g.as_dict()) for g in grids]
    return out
