"""Fixtures for the security tests: route discovery and a strictly limited server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.app import create_app
from gis.privacy import ROLE_ORDER
from gis.settings import Settings
from tests.conftest import LiveServer

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Sample values for path parameters, by name; anything else gets an id that does not exist.
PATH_SAMPLES = {"code": "630103001001001", "layer": "grids", "z": "12", "x": "3200", "y": "1500"}


@dataclass(frozen=True)
class WriteRoute:
    method: str
    path: str  # with sample path parameters filled in
    template: str
    role: str | None  # the role its dependencies demand; None = no role check at all


def required_role(dependant: Dependant) -> str | None:
    """The highest role any dependency of the route demands (``require(role)``)."""
    found: list[str] = []
    stack = [dependant]
    while stack:
        dep = stack.pop()
        role = getattr(dep.call, "required_role", None)
        if role is not None:
            found.append(role)
        stack.extend(dep.dependencies)
    return max(found, key=ROLE_ORDER.index) if found else None


def fill_path(template: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PATH_SAMPLES.get(m.group(1), "99999"), template)


def api_routes(app: FastAPI) -> list[tuple[str, set[str], Dependant]]:
    """(path, methods, dependant) of every API route, included routers flattened."""
    found = []
    for context in routing.iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.path:
            found.append((context.path, set(context.methods or ()), context.dependant))
    return found


# Signing in and out take no role: they are how a browser shows one (test_sign_in.py).
ROLE_FREE_WRITES = {("POST", "/maps/sign-in"), ("POST", "/maps/sign-out")}


def write_routes(app: FastAPI) -> list[WriteRoute]:
    """Every write route, the role-free ones included."""
    routes: list[WriteRoute] = []
    for path, methods, dependant in api_routes(app):
        for method in sorted(methods & set(WRITE_METHODS)):
            routes.append(WriteRoute(method, fill_path(path), path, required_role(dependant)))
    return routes


@pytest.fixture(scope="session")
def all_write_routes(database_url: str) -> list[WriteRoute]:
    return write_routes(create_app(Settings(database_url=database_url), url=database_url))


@pytest.fixture(scope="session")
def app_routes(all_write_routes: list[WriteRoute]) -> list[WriteRoute]:
    """The write routes that must demand a role."""
    return [r for r in all_write_routes if (r.method, r.template) not in ROLE_FREE_WRITES]


STRICT: dict[str, Any] = {
    "rate_limit_per_s": 1.0,
    "rate_limit_burst": 4,
    "max_body_bytes": 2000,
    "cors_origins": ["https://dispatch.example.gov.cn"],
}


@pytest.fixture(scope="session")
def strict_server(database_url: str) -> Iterator[LiveServer]:
    """A server with a tiny rate and body limit and CORS for one origin."""
    with LiveServer(database_url, Settings(database_url=database_url, **STRICT)) as server:
        yield server


@pytest.fixture
def strict_http(strict_server: LiveServer) -> Iterator[httpx.Client]:
    with strict_server.client() as client:
        yield client


def bearer(token: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}"}
