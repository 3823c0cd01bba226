"""SQL injection and other hostile strings in every filter and code of every read.

Each query parameter and path parameter of each GET route (discovered from the app, so
new routes are covered) gets each payload in turn: the answer is never a 5xx, never
mentions SQL or the database driver, and never carries token hashes or unmasked phones.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote

import httpx
import pytest
from fastapi import routing
from fastapi.routing import APIRoute

from api.app import create_app
from gis.settings import Settings
from tests.conftest import LiveServer
from tests.security.conftest import PATH_SAMPLES, bearer

PAYLOADS = [
    "' OR 1=1 --",
    "630103' UNION SELECT token_hash FROM api_tokens --",
    "1; DROP TABLE incidents; --",
    '") OR ("a"="a',
    "%' OR '%'='",
    "1 OR 1=1",
    "../../../../etc/passwd",
    "<script>alert(1)</script>",
    "\u0000",
]
# Every parameter of every read gets these; the full list goes to the codes that matter most.
SWEEP = [PAYLOADS[0], PAYLOADS[1], PAYLOADS[4], PAYLOADS[-1]]
LEAK = re.compile(
    r"psycopg|sqlalchemy|Traceback|syntax error|api_tokens|token_hash|"
    r"SELECT\s|UNION\s|[0-9a-f]{64}|1[3-9]\d{9}",
    re.IGNORECASE,
)
SKIP_PREFIXES = ("/docs", "/openapi", "/vendor")


def targets(url: str) -> list[tuple[str, list[str], list[str]]]:
    """(path template, query parameter names, path parameter names) of each GET route."""
    app = create_app(Settings(database_url=url), url=url)
    found = []
    for context in routing.iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or "GET" not in (context.methods or ()):
            continue
        path = context.path or ""
        if path.startswith(SKIP_PREFIXES):
            continue
        dependant = context.dependant
        query = sorted({p.alias for p in dependant.query_params})
        params = [p.alias for p in dependant.path_params]
        found.append((path, query, params))
    return found


def fill(template: str, values: dict[str, str]) -> str:
    return re.sub(
        r"\{(\w+)(?::\w+)?\}",
        lambda m: values.get(m.group(1), PATH_SAMPLES.get(m.group(1), "1")),
        template,
    )


def check(response: httpx.Response, where: str, payload: str) -> None:
    assert response.status_code < 500, (where, response.status_code, response.text[:300])
    if response.headers.get("content-type", "").startswith(("application/json", "text/")):
        # Echoing the offending input back in an error message is fine; anything else is not.
        text = response.text
        for echo in (json.dumps(payload)[1:-1], payload, quote(payload), html.escape(payload)):
            text = text.replace(echo, "")
        leak = LEAK.search(text)
        assert leak is None, (where, leak.group(0) if leak else "", response.text[:300])


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_hostile_strings_in_filters_and_codes(
    demo_server: LiveServer, demo_url: str, demo_tokens: dict[str, str], role: str
) -> None:
    headers = {} if role == "anonymous" else bearer(demo_tokens[role])
    tried = 0
    with httpx.Client(base_url=demo_server.base_url, timeout=30, headers=headers) as client:
        for path, query, params in targets(demo_url):
            for payload in SWEEP:
                for name in params:
                    url = fill(path, {name: quote(payload, safe="")})
                    check(client.get(url), url, payload)
                    tried += 1
                for name in query:
                    url = fill(path, {})
                    check(
                        client.get(url, params={name: payload}), f"{url}?{name}={payload}", payload
                    )
                    tried += 1
    assert tried > 100


def test_injected_codes_are_refused_not_matched(
    demo_http: httpx.Client, demo_tokens: dict[str, str]
) -> None:
    admin = bearer(demo_tokens["admin"])
    for payload in PAYLOADS[:6]:
        grid = demo_http.get(f"/api/v1/grids/{quote(payload, safe='')}")
        assert 400 <= grid.status_code < 500, grid.text
        listed = demo_http.get("/api/v1/incidents", params={"grid": payload}, headers=admin)
        assert listed.status_code == 422 or listed.json()["items"] == [], listed.text[:300]
        audit = demo_http.get("/api/v1/audit", params={"action": payload}, headers=admin)
        assert audit.status_code == 422 or audit.json()["entries"] == [], audit.text[:300]
