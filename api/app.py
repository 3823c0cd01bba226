"""The FastAPI application factory."""

from __future__ import annotations

import gc
import importlib
import logging
import pkgutil
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from starlette.types import ASGIApp

import api.routers
from api import errors
from api.assets import Assets
from api.middleware import GuardMiddleware
from api.observe import ObserveMiddleware
from gis.assign import current_assigner
from gis.db import database_url, engine_for, lean_engine, read_database_url
from gis.events import EventHub
from gis.maps.page_cache import PageCache
from gis.settings import PROJECT_ROOT, Settings, get_settings
from gis.token_lookup import TokenLookup

VENDOR_DIR = PROJECT_ROOT / "node_modules"
STATIC_DIR = Path(__file__).resolve().parent / "static"

log = logging.getLogger("wangge")


def _warm_up(engine: Engine, settings: Settings) -> None:
    """Load the assigner before the first call, then freeze the start-up heap.

    Frozen objects (modules, the boundary snapshot) are left out of the cyclic garbage
    collector's full passes, which otherwise pause a request for a few hundred
    milliseconds now and then. A database that is down only postpones the load.
    """
    try:
        current_assigner(engine, settings)
    except SQLAlchemyError as exc:
        log.warning("assigner not loaded at start-up: %s", exc.__class__.__name__)
    gc.collect()
    gc.freeze()


def end_streams(app: FastAPI) -> None:
    """End the app's open event streams, from any thread: a server waits for open responses
    before it stops, and an event stream never ends by itself."""
    app.state.events.close_threadsafe()


def _end_streams_on_exit_signals(hub: EventHub) -> None:
    """Chain onto the server's SIGINT/SIGTERM handlers (uvicorn's, installed before the
    lifespan starts and restored after it), so a stopping server ends its streams first."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def handler(signum: int, frame: object, previous: Callable[..., object] = previous) -> None:
            hub.close_threadsafe()
            previous(signum, frame)

        signal.signal(sig, handler)


# Routes are tried in order, router after router: the busiest go first, so a tile or a
# report is not matched against every other route before its own. (No path that two
# routers could both answer changes hands: tests/test_routes.py.)
BUSIEST_ROUTERS = ("tiles", "incidents", "locate", "maps")


def router_order() -> list[str]:
    """The modules of :mod:`api.routers`: the busiest first, then the rest by name."""
    names = sorted(info.name for info in pkgutil.iter_modules(api.routers.__path__))
    return [*BUSIEST_ROUTERS, *(n for n in names if n not in BUSIEST_ROUTERS)]


def create_app(settings: Settings | None = None, url: str | None = None) -> FastAPI:
    settings = settings or get_settings()
    target = url or database_url(settings)
    engine = engine_for(target)
    sessions = sessionmaker(engine, expire_on_commit=False)
    hub = EventHub(target, sessions)
    # Reads that may lag (WANGGE_READ_URL: a standby may answer); writes never go there.
    read_target = read_database_url(settings)
    read_engine = engine_for(read_target) if read_target else engine
    read_sessions = sessionmaker(read_engine, expire_on_commit=False) if read_target else sessions

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        _warm_up(engine, settings)
        await hub.start()
        _end_streams_on_exit_signals(hub)
        try:
            yield
        finally:
            await hub.stop()

    app = FastAPI(
        title="Wangge 网格",
        summary="Grid-based community governance: boundaries, dispatch, coverage, maps.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessions
    app.state.read_engine = read_engine
    app.state.read_sessionmaker = read_sessions
    # Who a token is: a lean path of its own, since every request takes it.
    lookup = TokenLookup(target)
    app.state.token_lookups = (lookup, TokenLookup(read_target) if read_target else lookup)
    app.state.events = hub
    app.state.pages = PageCache()

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
    # audit apply to every response, a 500 included; the request id and metrics outside
    # those, so refused requests are counted and carry an id too.
    build_stack = app.build_middleware_stack
    # Audit rows are single statements: the lean engine's autocommit connections.
    factory = sessionmaker(lean_engine(target))

    def guarded_stack() -> ASGIApp:
        guarded = GuardMiddleware(build_stack(), settings=settings, factory=factory)
        return ObserveMiddleware(guarded, engine)

    app.build_middleware_stack = guarded_stack  # type: ignore[method-assign]
    # Each module in api/routers with a ``router`` is mounted; modules own their prefixes.
    for name in router_order():
        module = importlib.import_module(f"api.routers.{name}")
        if hasattr(module, "router"):
            app.include_router(module.router)

    if VENDOR_DIR.is_dir():
        # npm-installed browser assets: maps and docs never load anything from outside.
        app.mount("/vendor", Assets(VENDOR_DIR), name="vendor")

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
