"""The FastAPI application factory."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import sessionmaker
from starlette.types import ASGIApp

import api.routers
from api import errors
from api.middleware import GuardMiddleware
from gis.db import database_url, engine_for
from gis.settings import PROJECT_ROOT, Settings, get_settings

VENDOR_DIR = PROJECT_ROOT / "node_modules"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None, url: str | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Wangge 网格",
        summary="Grid-based community governance: boundaries, dispatch, coverage, maps.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
    )
    engine = engine_for(url or database_url(settings))
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(engine, expire_on_commit=False)

    errors.install(app)
    if settings.cors_origins:
        # Off unless origins are listed: the pages are served from the same origin.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    # Outside even Starlette's server-error layer, so limits, security headers and the
    # audit apply to every response, a 500 included.
    build_stack = app.build_middleware_stack
    factory = app.state.sessionmaker

    def guarded_stack() -> ASGIApp:
        return GuardMiddleware(build_stack(), settings=settings, factory=factory)

    app.build_middleware_stack = guarded_stack  # type: ignore[method-assign]
    # Each module in api/routers with a ``router`` is mounted; modules own their prefixes.
    for info in sorted(pkgutil.iter_modules(api.routers.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"api.routers.{info.name}")
        if hasattr(module, "router"):
            app.include_router(module.router)

    if VENDOR_DIR.is_dir():
        # npm-installed browser assets: maps and docs never load anything from outside.
        app.mount("/vendor", StaticFiles(directory=VENDOR_DIR), name="vendor")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Wangge API",
            swagger_js_url="/vendor/swagger-ui-dist/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger-ui-dist/swagger-ui.css",
            swagger_favicon_url="/vendor/swagger-ui-dist/favicon-32x32.png",
        )

    return app
