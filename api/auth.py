"""Who is asking: ``Authorization: Bearer <token>`` → a principal with a role.

Roles rank viewer < dispatcher < planner < admin. Without a token a request is
``anonymous``, allowed to read maps, boundaries and ``locate`` when the setting
``WANGGE_ANONYMOUS_READ`` is on, and never personal data.

A browser cannot put a bearer header on a page load or a tile request, so reads also
accept the session cookie that the sign-in page (``/maps/sign-in``) sets: a signed value
naming the token, never the token itself (:mod:`gis.sign_in`). Writes take the header
only: a cookie, which the browser sends on its own, can never make a write from another
site.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

import psycopg
from fastapi import Depends, HTTPException, Request
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from api.errors import is_unreachable
from gis import privacy
from gis.errors import check_scope, in_scope
from gis.field.grids import check_in_grids
from gis.incidents.workflow import Actor
from gis.sign_in import session_secret, session_token_id
from gis.token_lookup import TokenHolder, TokenLookup
from gis.tokens import hash_token


@dataclass(frozen=True)
class Principal:
    role: str
    name: str
    token_id: int | None = None
    district_code: str | None = None
    # The responsible unit a ``unit`` token acts for (its own queue only).
    unit_code: str | None = None
    # The grids a ``grid_worker`` token serves (网格员: its own grids only).
    grid_codes: tuple[str, ...] = ()

    @property
    def sees_personal_data(self) -> bool:
        return privacy.may_see_personal_data(self.role)

    def at_least(self, role: str) -> bool:
        return privacy.role_at_least(self.role, role)

    def covers(self, district_code: str | None) -> bool:
        """A district-scoped token acts only on its own district; others act city-wide."""
        return in_scope(district_code, self.district_code)

    @property
    def actor(self) -> Actor:
        """Who takes a workflow step (:mod:`gis.incidents.workflow`)."""
        return Actor(self.name, self.role, self.unit_code, self.grid_codes)

    def check_unit(self, unit_code: str | None, what: str = "this") -> None:
        """A unit's staff reach only the cases of their own unit (403 otherwise)."""
        if self.role == "unit" and unit_code != self.unit_code:
            raise HTTPException(
                status_code=403,
                detail=f"{what} is not a case of unit {self.unit_code}; a unit token sees "
                "its own queue only",
            )

    def check_grid(self, grid_code: str | None, what: str = "this", field: str = "id") -> None:
        """A grid worker reaches only what lies in its own grids (403 naming ``field``);
        every other role passes (its own scope is checked elsewhere)."""
        if self.role == "grid_worker":
            check_in_grids(grid_code, self.grid_codes, what, field)

    def check_district(self, district_code: str | None, what: str = "this") -> None:
        """403 (``OutOfScope``) when a district-scoped token reaches outside its district."""
        check_scope(district_code, self.district_code, what)


ANONYMOUS = Principal(role="anonymous", name="anonymous")
SESSION_COOKIE = "wangge_session"
READ_METHODS = frozenset({"GET", "HEAD"})
SIGN_IN_PATH = "/maps/sign-in"


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def session_cookie(request: Request) -> str | None:
    """The session cookie's value, on reads only (see the module docstring)."""
    if request.method not in READ_METHODS:
        return None
    return request.cookies.get(SESSION_COOKIE) or None


def _principal(holder: TokenHolder) -> Principal:
    return Principal(
        role=holder.role,
        name=holder.name,
        token_id=holder.id,
        district_code=holder.district_code,
        unit_code=holder.unit_code,
        grid_codes=holder.grid_codes,
    )


def _look_up(
    request: Request, find: Callable[[TokenLookup, bool], TokenHolder | None]
) -> Principal | None:
    """Who a token is, by ``find`` on the main database, recording its use. When that
    database cannot be reached (a failover, or etcd without a majority) and reads have a
    database of their own (``WANGGE_READ_URL``), it is asked there without recording the
    use: reads go on while writes wait."""
    main, read = request.app.state.token_lookups
    try:
        holder = find(main, True)
    except (psycopg.Error, DBAPIError) as exc:
        if read is main or not is_unreachable(exc):
            raise
        holder = find(read, False)
    return None if holder is None else _principal(holder)


def principal_for(request: Request, plain: str | None) -> Principal:
    if plain is None:
        return ANONYMOUS
    token_hash = hash_token(plain)
    principal = _look_up(request, lambda lookup, record: lookup.by_hash(token_hash, record))
    if principal is None:
        raise HTTPException(
            status_code=401,
            detail="invalid or revoked token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def session_principal(request: Request, value: str) -> Principal:
    """Who a session cookie names. A session that is forged, has ended or whose token was
    revoked ends quietly: the browser reads on as anonymous, and pages that need more
    send it to the sign-in page."""
    token_id = session_token_id(value, session_secret(request.app.state.settings), time.time())
    if token_id is None:
        return ANONYMOUS
    principal = _look_up(request, lambda lookup, record: lookup.by_id(token_id, record))
    return ANONYMOUS if principal is None else principal


def current_principal(request: Request) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is None:
        header = bearer_token(request)
        if header is not None or (cookie := session_cookie(request)) is None:
            cached = principal_for(request, header)
        else:
            cached = session_principal(request, cookie)
        request.state.principal = cached
    return cached


async def resolve_principal(request: Request) -> Principal:
    """:func:`current_principal` for dependencies: ``async``, so a principal already known
    (several dependencies of one request ask) or a request with no credentials costs no
    worker thread; a token lookup runs in one."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    if bearer_token(request) is None and session_cookie(request) is None:
        request.state.principal = ANONYMOUS
        return ANONYMOUS
    return await run_in_threadpool(current_principal, request)


def check_role(request: Request, principal: Principal, role: str) -> Principal:
    """The caller must hold at least ``role`` (``viewer`` honours anonymous read)."""
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


def require(role: str) -> Callable[[Request], Awaitable[Principal]]:
    """Dependency: the caller must hold at least ``role`` (``viewer`` honours anonymous read)."""

    async def dependency(request: Request) -> Principal:
        return check_role(request, await resolve_principal(request), role)

    # Lets tests and tools read the role a route demands from its dependencies.
    dependency.required_role = role  # type: ignore[attr-defined]
    return dependency


def sign_in_url(request: Request) -> str:
    """The sign-in page, in this page's language, coming back to this page afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    lang = request.query_params.get("lang")
    return f"{SIGN_IN_PATH}?next={quote(here, safe='')}" + (
        f"&lang={quote(lang, safe='')}" if lang else ""
    )


def require_page(role: str) -> Callable[[Request], Awaitable[Principal]]:
    """Like :func:`require`, for HTML pages: a caller who is not signed in (or whose
    session ended) is sent to the sign-in page instead of getting a JSON 401."""

    async def dependency(request: Request) -> Principal:
        try:
            return check_role(request, await resolve_principal(request), role)
        except HTTPException as exc:
            if exc.status_code != 401:
                raise
            raise HTTPException(
                status_code=303,
                detail="sign in to see this page",
                headers={"Location": sign_in_url(request)},
            ) from exc

    dependency.required_role = role  # type: ignore[attr-defined]
    return dependency


def require_staff(
    bound: tuple[str, ...] = ("unit", "grid_worker"),
) -> Callable[[Request], Awaitable[Principal]]:
    """Dependency: a dispatcher or above, or a token of one of the ``bound`` roles: a unit's
    staff and a grid worker take their own steps, which :mod:`gis.incidents.workflow`
    checks; a grid worker reports what it finds on patrol (巡查上报)."""

    async def dependency(request: Request) -> Principal:
        principal = await resolve_principal(request)
        if principal.role in bound:
            return principal
        return check_role(request, principal, "dispatcher")

    dependency.required_role = "dispatcher"  # type: ignore[attr-defined]
    return dependency


async def require_grid_worker(request: Request) -> Principal:
    """Dependency: a grid worker's token (the field page's own API)."""
    principal = await resolve_principal(request)
    if principal.role == "anonymous":
        raise HTTPException(
            status_code=401,
            detail="a grid_worker token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if principal.role != "grid_worker":
        raise HTTPException(
            status_code=403, detail=f"role {principal.role} may not do this; needs grid_worker"
        )
    return principal


# A grid worker ranks as a viewer (gis.privacy.RANKS_AS): the lowest role that gets past
# the anonymous check, which is what tools reading ``required_role`` look for.
require_grid_worker.required_role = "viewer"  # type: ignore[attr-defined]

Viewer = Annotated[Principal, Depends(require("viewer"))]
Staff = Annotated[Principal, Depends(require_staff())]
# Who takes a report in (受理): dispatchers and above, and grid workers' patrol findings.
Reporter = Annotated[Principal, Depends(require_staff(("grid_worker",)))]
GridWorker = Annotated[Principal, Depends(require_grid_worker)]
PageViewer = Annotated[Principal, Depends(require_page("viewer"))]
Dispatcher = Annotated[Principal, Depends(require("dispatcher"))]
Planner = Annotated[Principal, Depends(require("planner"))]
Admin = Annotated[Principal, Depends(require("admin"))]
AnyPrincipal = Annotated[Principal, Depends(resolve_principal)]
