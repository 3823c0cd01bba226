"""Who is asking: ``Authorization: Bearer <token>`` → a principal with a role.

Roles rank viewer < dispatcher < planner < admin. Without a token a request is
``anonymous``, allowed to read maps, boundaries and ``locate`` when the setting
``WANGGE_ANONYMOUS_READ`` is on, and never personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from gis import privacy
from gis.tokens import verify_token


@dataclass(frozen=True)
class Principal:
    role: str
    name: str
    token_id: int | None = None
    district_code: str | None = None

    @property
    def sees_personal_data(self) -> bool:
        return privacy.may_see_personal_data(self.role)

    def at_least(self, role: str) -> bool:
        return privacy.role_at_least(self.role, role)

    def covers(self, district_code: str | None) -> bool:
        """A district-scoped token acts only on its own district; others act city-wide."""
        return self.district_code is None or district_code == self.district_code

    def check_district(self, district_code: str | None) -> None:
        """403 when a district-scoped token reaches outside its district."""
        if not self.covers(district_code):
            raise HTTPException(
                status_code=403,
                detail=f"token is limited to district {self.district_code}",
            )


ANONYMOUS = Principal(role="anonymous", name="anonymous")


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def principal_for(request: Request, plain: str | None) -> Principal:
    if plain is None:
        return ANONYMOUS
    with request.app.state.sessionmaker() as session, session.begin():
        token = verify_token(session, plain)
        if token is None:
            raise HTTPException(
                status_code=401,
                detail="invalid or revoked token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Principal(
            role=token.role, name=token.name, token_id=token.id, district_code=token.district_code
        )


def current_principal(request: Request) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is None:
        cached = principal_for(request, bearer_token(request))
        request.state.principal = cached
    return cached


def require(role: str) -> Callable[[Request], Principal]:
    """Dependency: the caller must hold at least ``role`` (``viewer`` honours anonymous read)."""

    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        if principal.role == "anonymous":
            if role == "viewer" and request.app.state.settings.anonymous_read:
                return principal
            raise HTTPException(
                status_code=401,
                detail=f"a token with role {role} or higher is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.at_least(role):
            raise HTTPException(
                status_code=403, detail=f"role {principal.role} may not do this; needs {role}"
            )
        return principal

    # Lets tests and tools read the role a route demands from its dependencies.
    dependency.required_role = role  # type: ignore[attr-defined]
    return dependency


Viewer = Annotated[Principal, Depends(require("viewer"))]
Dispatcher = Annotated[Principal, Depends(require("dispatcher"))]
Planner = Annotated[Principal, Depends(require("planner"))]
Admin = Annotated[Principal, Depends(require("admin"))]
AnyPrincipal = Annotated[Principal, Depends(current_principal)]
