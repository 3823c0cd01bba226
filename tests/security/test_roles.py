"""Each role against each write endpoint: anonymous 401, too low a role 403, and audited."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gis.models import AuditEntry
from gis.privacy import ROLE_ORDER
from tests.security.conftest import ROLE_FREE_WRITES, WriteRoute, bearer

ROLES = ROLE_ORDER[1:]


def test_every_write_route_demands_a_role(all_write_routes: list[WriteRoute]) -> None:
    assert all_write_routes, "the app has write routes"
    unguarded = {(r.method, r.template) for r in all_write_routes if r.role is None}
    assert unguarded == ROLE_FREE_WRITES


def test_anonymous_writes_are_refused(http: httpx.Client, app_routes: list[WriteRoute]) -> None:
    for route in app_routes:
        if route.role == "viewer":
            continue  # read-like computations (previews) open to anonymous readers
        response = http.request(route.method, route.path, json={})
        assert response.status_code == 401, (route, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert "error" in response.json()


def test_roles_below_the_requirement_are_forbidden(
    http: httpx.Client, app_routes: list[WriteRoute], tokens: dict[str, str]
) -> None:
    checked = 0
    for route in app_routes:
        assert route.role is not None
        for role in ROLES:
            if ROLE_ORDER.index(role) >= ROLE_ORDER.index(route.role):
                continue
            response = http.request(route.method, route.path, json={}, headers=bearer(tokens[role]))
            assert response.status_code == 403, (route, role, response.text)
            assert route.role in response.json()["error"]
            checked += 1
    assert checked > 0


def test_roles_at_or_above_the_requirement_pass_the_check(
    http: httpx.Client, app_routes: list[WriteRoute], tokens: dict[str, str]
) -> None:
    # An empty body then fails validation or finds nothing, but never on the role.
    for route in app_routes:
        assert route.role is not None
        response = http.request(
            route.method, route.path, json={}, headers=bearer(tokens[route.role])
        )
        assert response.status_code not in (401, 403), (route, response.text)
        assert response.status_code < 500, (route, response.text)


def test_bad_and_revoked_tokens_are_401(http: httpx.Client) -> None:
    for header in ("Bearer wg_not-a-token", "Bearer", "Basic dXNlcjpwYXNz"):
        response = http.get("/api/v1/audit", headers={"Authorization": header})
        assert response.status_code == 401
    assert http.get("/api/v1/audit").status_code == 401


def test_audit_is_for_admins(http: httpx.Client, tokens: dict[str, str]) -> None:
    for role in ("viewer", "dispatcher", "planner"):
        assert http.get("/api/v1/audit", headers=bearer(tokens[role])).status_code == 403
    response = http.get("/api/v1/audit", headers=bearer(tokens["admin"]))
    assert response.status_code == 200
    assert response.json()["count"] == len(response.json()["entries"])


def test_writes_are_audited_with_who_and_outcome(
    http: httpx.Client, app_routes: list[WriteRoute], tokens: dict[str, str], engine: Engine
) -> None:
    route = next(r for r in app_routes if r.role not in (None, "viewer"))
    low = next(r for r in ROLES if ROLE_ORDER.index(r) < ROLE_ORDER.index(route.role or ""))
    marker = f"marker-{id(route)}"
    response = http.request(
        route.method, f"{route.path}?m={marker}", json={}, headers=bearer(tokens[low])
    )
    assert response.status_code == 403
    http.request(route.method, f"{route.path}?m={marker}", json={})
    with Session(engine) as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.resource.contains(marker)).order_by(AuditEntry.id)
        ).all()
    assert [(r.action, r.role, r.status) for r in rows] == [
        ("write", low, 403),
        ("write", "anonymous", 401),
    ]
    assert rows[0].token_id is not None and rows[0].actor == f"test-{low}"
    assert rows[0].resource.startswith(f"{route.method} {route.path}")

    listed = http.get(
        "/api/v1/audit", params={"action": "write", "limit": 50}, headers=bearer(tokens["admin"])
    ).json()["entries"]
    assert any(marker in e["resource"] for e in listed)


@pytest.mark.parametrize("limit", ["0", "-1", "100000000", "abc"])
def test_audit_limit_is_checked(http: httpx.Client, tokens: dict[str, str], limit: str) -> None:
    response = http.get("/api/v1/audit", params={"limit": limit}, headers=bearer(tokens["admin"]))
    assert response.status_code == 422
    assert response.json()["field"] == "limit"


def test_district_scoped_tokens(http: httpx.Client, engine: Engine, tokens: dict[str, str]) -> None:
    from api.auth import Principal
    from gis.db import session_scope
    from gis.tokens import create_token

    scoped = Principal(role="dispatcher", name="desk", token_id=1, district_code="630103")
    assert scoped.covers("630103") and not scoped.covers("630104")
    assert Principal(role="admin", name="city").covers("630104")
    with session_scope(engine) as session:
        plain, _ = create_token(session, "admin", "chengzhong admin", "630103")
    # Its own write attempt is on record under its district; the city-wide log is not its to read.
    http.post("/api/v1/tokens", json={}, headers=bearer(plain))
    mine = http.get("/api/v1/audit", headers=bearer(plain)).json()["entries"]
    assert mine and {e["district_code"] for e in mine} == {"630103"}
    everyone = http.get("/api/v1/audit", headers=bearer(tokens["admin"])).json()["entries"]
    assert any(e["district_code"] != "630103" for e in everyone)


# Routes meant for everyone: liveness, the API docs, page assets (the field page's manifest,
# service worker and icons among them), the sign-in form and the public Open311 feed.
PUBLIC_PREFIXES = (
    "/health",
    "/docs",
    "/maps/static/",
    "/maps/sign-in",
    "/open311/",
    "/field/manifest.webmanifest",
    "/field/sw.js",
    "/field/icon-",
)
# HTML pages: a browser that is not signed in is sent to the sign-in form, not refused.
PAGES = ("/maps/", "/desk", "/dashboard", "/field")


def test_reads_without_anonymous_access(database_url: str) -> None:
    from api.app import create_app
    from gis.settings import Settings
    from tests.conftest import LiveServer
    from tests.security.conftest import api_routes, fill_path, required_role

    settings = Settings(database_url=database_url, anonymous_read=False)
    reads = [
        (path, required_role(dependant))
        for path, methods, dependant in api_routes(create_app(settings, url=database_url))
        if "GET" in methods
    ]
    assert [p for p, role in reads if role is None and not p.startswith(PUBLIC_PREFIXES)] == []
    server = LiveServer(database_url, settings).start()
    pages = 0
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            for path, role in reads:
                if role is None:
                    continue
                response = client.get(fill_path(path))
                if path.startswith(PAGES) and response.status_code == 303:
                    # A page sends the browser to sign in, and back here afterwards.
                    location = response.headers["location"]
                    back = quote(fill_path(path), safe="")
                    assert location.startswith(f"/maps/sign-in?next={back}"), (path, location)
                    pages += 1
                    continue
                assert response.status_code == 401, (path, response.text[:200])
    finally:
        server.stop()
    assert pages >= 9  # index, coverage, grids, dispatch, editor, desk, dashboard, field (2)


def test_audit_keeps_no_personal_data_from_query_strings(
    http: httpx.Client, tokens: dict[str, str], engine: Engine
) -> None:
    query = {"phone": "13812345678", "first_name": "欧阳", "email": "a@b.cn", "lat": "36.6"}
    http.post("/api/v1/tokens", params=query, json={}, headers=bearer(tokens["viewer"]))
    with Session(engine) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.role == "viewer").order_by(AuditEntry.id.desc())
        ).first()
    assert entry is not None and entry.resource.startswith("POST /api/v1/tokens?")
    assert "13812345678" not in entry.resource and "a%40b.cn" not in entry.resource
    assert "phone=***" in entry.resource and "lat=36.6" in entry.resource
