"""Signing in to the map pages (登录): a token typed once, kept in a session cookie.

``GET /maps/sign-in`` shows the form; ``POST /maps/sign-in`` checks the token and sets
an HttpOnly, SameSite=Strict cookie that lets the browser read pages, tiles and
features as that token (never write: see :mod:`api.auth`); the cookie holds a signed
session naming the token (:mod:`gis.sign_in`), not the token. ``POST /maps/sign-out``
drops it. These are the only routes that take no role: they are how a role is shown.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import SESSION_COOKIE, SIGN_IN_PATH, principal_for
from api.deps import SettingsDep
from api.routers.maps import PAGE_HEADERS, TEMPLATES
from gis.maps.i18n import texts
from gis.sign_in import new_session, session_secret

router = APIRouter(prefix="/maps", tags=["maps"])

HOME = "/maps/"


def local_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return HOME
    return target


def _form(lang: str, target: str, failed: bool = False, status: int = 200) -> HTMLResponse:
    body = TEMPLATES.get_template("sign_in.html").render(
        t=texts(lang),
        lang=lang,
        other="en" if lang == "zh" else "zh",
        next=target,
        failed=failed,
    )
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


# Browser forms answering with pages and redirects, not part of the API: out of the schema.
@router.get("/sign-in", response_class=HTMLResponse, include_in_schema=False)
def sign_in_form(lang: str = "zh", next: str | None = None) -> HTMLResponse:
    """The sign-in form; ``next`` is the page to return to."""
    return _form(lang, local_next(next))


@router.post("/sign-in", response_class=HTMLResponse, status_code=303, include_in_schema=False)
def sign_in(
    request: Request,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=200)],
    next: Annotated[str | None, Form()] = None,
    lang: str = "zh",
) -> Response:
    """Check the token; on success set the session cookie and go back (303)."""
    target = local_next(next)
    try:
        principal = principal_for(request, token.strip() or None)
    except HTTPException:
        principal = None
    if principal is None or principal.role == "anonymous":
        return _form(lang, target, failed=True, status=401)
    # The audit entry of this request names who signed in.
    request.state.principal = principal
    response = RedirectResponse(target, status_code=303)
    assert principal.token_id is not None  # a signed-in principal is a stored token
    value = new_session(
        principal.token_id, settings.session_max_age_s, session_secret(settings), time.time()
    )
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=settings.session_max_age_s,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/sign-out", status_code=303, include_in_schema=False)
def sign_out(lang: str = "zh") -> Response:
    """Drop the session cookie and show the sign-in form again."""
    texts(lang)  # refuses a language the pages do not speak
    response = RedirectResponse(f"{SIGN_IN_PATH}?lang={lang}", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
