"""``/api/v1/tokens``: administrators issue, list and revoke API tokens over HTTP.

The same operations as ``wangge token create|list|revoke``; the plain token is in the
response to its creation only, and only its SHA-256 is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Admin, Viewer
from api.deps import SessionDep
from gis.tokens import create_token, list_tokens, revoke_token

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["viewer", "dispatcher", "planner", "admin", "unit"]
    name: str = Field(min_length=1, max_length=120)
    district_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    unit_code: str | None = Field(
        default=None, max_length=32, description="the unit a unit token acts for"
    )


class TokenOut(BaseModel):
    id: int
    name: str
    role: str
    district_code: str | None
    unit_code: str | None = None
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
            session, body.role, body.name, body.district_code, body.unit_code
        )
        session.refresh(token)
        return NewToken(token=plain, **_out(token).model_dump())


class Me(BaseModel):
    role: str
    name: str
    district_code: str | None
    unit_code: str | None


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
    )


@router.get("", response_model=list[TokenOut])
def list_(principal: Admin, session: SessionDep) -> list[TokenOut]:
    return [_out(t) for t in list_tokens(session) if principal.covers(t.district_code)]


@router.delete("/{token_id}", response_model=TokenOut)
def revoke(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], principal: Admin, session: SessionDep
) -> TokenOut:
    with session.begin():
        token = revoke_token(session, token_id)
        principal.check_district(token.district_code, f"token {token_id}")  # undoes the revoke
        return _out(token)


def _out(token: object) -> TokenOut:
    return TokenOut.model_validate(token, from_attributes=True)
