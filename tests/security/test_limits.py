"""Body size, request rate, security headers, CORS and static files."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator

import httpx
import pytest
from fastapi import routing
from playwright.sync_api import Browser
from starlette.routing import Mount

from api.app import create_app
from api.assets import Assets
from gis.settings import Settings
from tests.conftest import LiveServer
from tests.security.conftest import STRICT, bearer

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "referrer-policy": "same-origin",
}


def test_body_over_the_limit_is_413_before_reading(
    strict_http: httpx.Client, tokens: dict[str, str]
) -> None:
    big = {"role": "viewer", "name": "x" * STRICT["max_body_bytes"]}
    response = strict_http.post("/api/v1/tokens", json=big, headers=bearer(tokens["admin"]))
    assert response.status_code == 413
    assert str(STRICT["max_body_bytes"]) in response.json()["error"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_chunked_body_over_the_limit_is_413(
    strict_http: httpx.Client, tokens: dict[str, str]
) -> None:
    def chunks(n: int) -> Iterator[bytes]:
        yield b'{"role": "viewer", "name": "'
        for _ in range(n):
            yield b"y" * 500
        yield b'"}'

    too_big = strict_http.post(
        "/api/v1/tokens", content=chunks(10), headers=bearer(tokens["admin"])
    )
    assert too_big.status_code == 413
    # A chunked body under the limit reaches the endpoint whole (and fails its own check).
    small = strict_http.post(
        "/api/v1/tokens",
        content=chunks(1),
        headers={**bearer(tokens["admin"]), "content-type": "application/json"},
    )
    assert small.status_code == 422 and small.json()["field"] == "name"


def test_rate_limit_per_token_answers_429_with_retry_after(strict_http: httpx.Client) -> None:
    mine = {"Authorization": f"Bearer wg_rate-{secrets.token_hex(4)}"}
    statuses = [strict_http.get("/health", headers=mine) for _ in range(20)]
    refused = [r for r in statuses if r.status_code == 429]
    assert refused, [r.status_code for r in statuses]
    assert int(refused[0].headers["retry-after"]) >= 1
    assert "too many requests" in refused[0].json()["error"]
    # Another caller has its own bucket.
    other = {"Authorization": f"Bearer wg_rate-{secrets.token_hex(4)}"}
    assert strict_http.get("/health", headers=other).status_code != 429


def test_made_up_tokens_share_their_address_limit(strict_http: httpx.Client) -> None:
    # Each request with a new made-up token: 401 each, until the address is out of tries.
    statuses = [
        strict_http.get(
            "/api/v1/audit", headers={"Authorization": f"Bearer wg_{secrets.token_hex(8)}"}
        ).status_code
        for _ in range(20)
    ]
    assert statuses[0] == 401 and 429 in statuses, statuses
    assert set(statuses) == {401, 429}


@pytest.mark.parametrize("path", ["/health", "/no/such/page", "/docs", "/openapi.json"])
def test_security_headers_on_every_response(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp and "default-src 'self'" in csp


def test_cors_is_off_by_default(http: httpx.Client) -> None:
    preflight = http.options(
        "/api/v1/tokens",
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    got = http.get("/health", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in got.headers


def test_cors_allows_listed_origins_only(strict_http: httpx.Client) -> None:
    allowed = STRICT["cors_origins"][0]
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    ok = strict_http.options("/api/v1/tokens", headers={"Origin": allowed, **ask})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == allowed
    refused = strict_http.options(
        "/api/v1/tokens", headers={"Origin": "https://evil.example", **ask}
    )
    assert refused.headers.get("access-control-allow-origin") != "https://evil.example"


def raw_get(server: LiveServer, target: str) -> tuple[int, bytes]:
    """GET exactly ``target`` (no client-side normalisation of dots or escapes)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


TRAVERSALS = [
    "/../../pyproject.toml",
    "/..%2f..%2fpyproject.toml",
    "/%2e%2e/%2e%2e/pyproject.toml",
    "/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/..%252f..%252fpyproject.toml",
    "/..\\..\\pyproject.toml",
    "/%2e%2e%5c%2e%2e%5cpyproject.toml",
    "/....//....//pyproject.toml",
    "/%c0%ae%c0%ae/%c0%ae%c0%ae/pyproject.toml",
    "/..%00/pyproject.toml",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
]


def test_static_files_never_leave_their_folder(live_server: LiveServer, database_url: str) -> None:
    app = create_app(Settings(database_url=database_url), url=database_url)
    mounts = [r.path for r in app.routes if isinstance(r, Mount) and isinstance(r.app, Assets)]
    assert "/vendor" in mounts
    # Routes that serve files by name (e.g. the map pages' own scripts) get the same attacks.
    mounts += [
        (context.path or "").split("/{")[0]
        for context in routing.iter_route_contexts(app.routes)
        if "/static/{" in (context.path or "")
    ]
    status, body = raw_get(live_server, "/vendor/leaflet/dist/leaflet.css")
    assert status == 200 and b".leaflet" in body
    for mount in mounts:
        for attack in TRAVERSALS:
            for depth in ("", "/leaflet/dist"):
                status, body = raw_get(live_server, mount + depth + attack)
                assert 400 <= status < 500, (mount + depth + attack, status)
                assert b"[project]" not in body and b"root:" not in body


def test_page_size_and_vertex_limits() -> None:
    import shapely

    from gis.errors import InvalidInput
    from gis.limits import check_vertices, page_size

    settings = Settings(max_page_size=50, max_vertices=100)
    assert page_size(None, settings) == 50
    assert page_size(20, settings) == 20
    for bad in (0, -1, 51):
        with pytest.raises(InvalidInput) as refused:
            page_size(bad, settings)
        assert refused.value.field == "limit"
    small = shapely.Point(101.78, 36.62).buffer(0.01, quad_segs=8)  # 33 vertices
    assert check_vertices(small, settings) == 33
    big = shapely.Point(101.78, 36.62).buffer(0.01, quad_segs=64)
    with pytest.raises(InvalidInput) as refused:
        check_vertices(big, settings, field="outline")
    assert refused.value.field == "outline" and refused.value.detail["max_vertices"] == 100
    assert check_vertices(shapely.points([[0, 0]] * 3), settings) == 3


def test_api_docs_work_under_the_content_security_policy(
    live_server: LiveServer, browser: Browser
) -> None:
    problems: list[str] = []
    page = browser.new_page()
    try:
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        response = page.goto(f"{live_server.base_url}/docs")
        assert response is not None and "content-security-policy" in response.headers
        page.wait_for_selector(".opblock", timeout=30_000)  # operations rendered
    finally:
        page.close()
    assert [m for m in problems if "Content Security Policy" in m or "Refused" in m] == []
