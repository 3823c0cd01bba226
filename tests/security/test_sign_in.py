"""Signing in to the map pages with anonymous read off: the session cookie opens reads
(pages, tiles, features) and never writes; a revoked token ends the session."""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.auth import SESSION_COOKIE
from gis.db import session_scope
from gis.models import AuditEntry
from gis.settings import Settings
from gis.sign_in import SECRET_FILE, new_session, session_secret
from gis.tokens import create_token, hash_token, revoke_token
from tests.conftest import LiveServer


@pytest.fixture(scope="module")
def closed_server(database_url: str) -> Iterator[LiveServer]:
    """The app with anonymous read off."""
    with LiveServer(database_url, Settings(database_url=database_url, anonymous_read=False)) as s:
        yield s


@pytest.fixture
def browser_like(closed_server: LiveServer) -> Iterator[httpx.Client]:
    """A client that keeps cookies and does not follow redirects, as a test of a browser."""
    with closed_server.client() as client:
        yield client


def sign_in(client: httpx.Client, token: str, next_: str = "/maps/grids") -> httpx.Response:
    return client.post("/maps/sign-in", data={"token": token, "next": next_})


def test_a_page_sends_the_browser_to_sign_in_and_back(
    browser_like: httpx.Client, tokens: dict[str, str]
) -> None:
    page = browser_like.get("/maps/grids?lang=en")
    assert page.status_code == 303
    assert page.headers["location"] == "/maps/sign-in?next=%2Fmaps%2Fgrids%3Flang%3Den&lang=en"
    form = browser_like.get(page.headers["location"])
    assert form.status_code == 200
    assert 'name="next" value="/maps/grids?lang=en"' in form.text
    assert 'type="password" name="token"' in form.text
    assert "<h2>Sign in</h2>" in form.text

    done = sign_in(browser_like, tokens["viewer"], "/maps/grids?lang=en")
    assert done.status_code == 303
    assert done.headers["location"] == "/maps/grids?lang=en"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for flag in ("HttpOnly", "SameSite=strict", "Path=/", "Max-Age=43200"):
        assert flag.lower() in cookie.lower(), cookie
    assert "secure" not in cookie.lower()  # plain HTTP on loopback; set under https
    # The cookie holds a signed session, not the token nor its stored hash.
    value = browser_like.cookies[SESSION_COOKIE]
    assert tokens["viewer"] not in cookie and tokens["viewer"] not in value
    assert hash_token(tokens["viewer"]) not in value

    assert browser_like.get("/maps/grids?lang=en").status_code == 200
    index = browser_like.get("/maps/")
    assert index.status_code == 200
    assert "test-viewer (viewer)" in index.text and "/maps/sign-out" in index.text
    features = browser_like.get("/api/v1/grids", params={"bbox": "101.7,36.6,101.8,36.7"})
    assert features.status_code == 200
    assert browser_like.get("/tiles/grids/12/3200/1500.mvt").status_code in (200, 204)


def test_without_signing_in_reads_are_refused(browser_like: httpx.Client) -> None:
    assert browser_like.get("/api/v1/grids").status_code == 401
    assert browser_like.get("/tiles/grids/12/3200/1500.mvt").status_code == 401


def test_a_bad_token_shows_the_form_again_and_sets_nothing(browser_like: httpx.Client) -> None:
    for token in ("not-a-token", " "):
        response = sign_in(browser_like, token)
        assert response.status_code == 401
        assert 'id="wg-sign-in-error"' in response.text
        assert "set-cookie" not in response.headers
    assert browser_like.get("/maps/grids").status_code == 303


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "maps", ""]
)
def test_sign_in_never_leads_to_another_site(
    browser_like: httpx.Client, tokens: dict[str, str], target: str
) -> None:
    assert sign_in(browser_like, tokens["viewer"], target).headers["location"] == "/maps/"
    assert 'value="/maps/"' in browser_like.get("/maps/sign-in", params={"next": target}).text


def test_the_cookie_never_writes(browser_like: httpx.Client, tokens: dict[str, str]) -> None:
    assert sign_in(browser_like, tokens["admin"]).status_code == 303
    body = {"channel": "hotline_call", "category": "noise", "lon": 101.78, "lat": 36.62}
    response = browser_like.post("/api/v1/incidents", json=body)
    assert response.status_code == 401, response.text
    # The same token in the header may write (or fail on the body, never on the role).
    with_header = browser_like.post(
        "/api/v1/incidents", json=body, headers={"Authorization": f"Bearer {tokens['admin']}"}
    )
    assert with_header.status_code not in (401, 403)


def test_revoking_the_token_ends_the_session(
    browser_like: httpx.Client, engine: Engine, tokens: dict[str, str]
) -> None:
    with session_scope(engine) as session:
        plain, token = create_token(session, "planner", "revoked-by-test")
        token_id = token.id
    assert sign_in(browser_like, plain).status_code == 303
    assert browser_like.get("/maps/editor").status_code == 200
    with session_scope(engine) as session:
        revoke_token(session, token_id)
    # The page asks to sign in again; reads answer as to anyone (here: refused).
    assert browser_like.get("/maps/editor").status_code == 303
    assert browser_like.get("/api/v1/grids").status_code == 401


def test_sign_out_drops_the_cookie(browser_like: httpx.Client, tokens: dict[str, str]) -> None:
    assert sign_in(browser_like, tokens["viewer"]).status_code == 303
    assert browser_like.get("/maps/").status_code == 200
    out = browser_like.post("/maps/sign-out?lang=en")
    assert out.status_code == 303 and out.headers["location"] == "/maps/sign-in?lang=en"
    assert f"{SESSION_COOKIE}=" in out.headers["set-cookie"]
    assert "max-age=0" in out.headers["set-cookie"].lower()
    assert SESSION_COOKIE not in browser_like.cookies
    assert browser_like.get("/maps/").status_code == 303


def test_signing_in_is_audited_with_who(
    browser_like: httpx.Client, engine: Engine, tokens: dict[str, str]
) -> None:
    sign_in(browser_like, tokens["dispatcher"])
    sign_in(browser_like, "not-a-token")
    with Session(engine) as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.role, AuditEntry.status)
            .where(AuditEntry.resource.like("POST /maps/sign-in%"))
            .order_by(AuditEntry.id.desc())
            .limit(2)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("anonymous", "anonymous", 401),
        ("test-dispatcher", "dispatcher", 303),
    ]


def test_a_forged_or_ended_session_reads_as_anonymous(
    closed_server: LiveServer,
    browser_like: httpx.Client,
    database_url: str,
    engine: Engine,
    tokens: dict[str, str],
) -> None:
    assert sign_in(browser_like, tokens["admin"]).status_code == 303
    value = browser_like.cookies[SESSION_COOKIE]
    token_id, ends, mac = value.split(".")
    assert int(ends) > time.time()
    with session_scope(engine) as session:
        _, other = create_token(session, "admin", "forgery-target")
        other_id = other.id
    secret = session_secret(Settings(database_url=database_url))  # the server's state folder
    forged = [
        tokens["admin"],  # the token itself, as the cookie once held it
        f"{other_id}.{ends}.{mac}",  # another token's id under this signature
        f"{token_id}.{int(ends) + 86_400}.{mac}",  # stretched
        new_session(int(token_id), 60, b"another key of at least 32 characters", time.time()),
        new_session(int(token_id), 60, secret, time.time() - 3600),  # ended an hour ago
        "",
        "...",
    ]
    for cookie in forged:
        with closed_server.client() as client:
            client.cookies.set(SESSION_COOKIE, cookie)
            assert client.get("/api/v1/grids").status_code == 401, cookie
            assert client.get("/maps/editor").status_code == 303, cookie
    with closed_server.client() as client:
        client.cookies.set(SESSION_COOKIE, new_session(int(token_id), 60, secret, time.time()))
        assert client.get("/maps/editor").status_code == 200  # signed with the key: honoured


def test_the_session_key_is_kept_private_in_the_state_folder(
    browser_like: httpx.Client, database_url: str, tokens: dict[str, str]
) -> None:
    assert sign_in(browser_like, tokens["viewer"]).status_code == 303
    settings = Settings(database_url=database_url)
    path = settings.state_dir / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) >= 32
    assert session_secret(settings) == path.read_text().strip().encode()


def test_a_configured_session_key_signs_the_sessions(
    database_url: str, tokens: dict[str, str]
) -> None:
    key = "k" * 40
    settings = Settings(database_url=database_url, anonymous_read=False, session_secret=key)
    with LiveServer(database_url, settings) as server, server.client() as client:
        assert sign_in(client, tokens["viewer"]).status_code == 303
        value = client.cookies[SESSION_COOKIE]
        token_id, ends, _ = value.split(".")
        assert value == new_session(int(token_id), 0, key.encode(), int(ends))
        assert client.get("/maps/").status_code == 200
        state_key = session_secret(Settings(database_url=database_url))
        client.cookies.set(SESSION_COOKIE, new_session(int(token_id), 60, state_key, time.time()))
        assert client.get("/maps/").status_code == 303
