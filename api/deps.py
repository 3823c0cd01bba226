"""Request-scoped dependencies: the engine and a session per request.

``ReadEngineDep`` / ``ReadSessionDep`` are for reads that may lag a little (locate snapshot
loads, tiles, OGC API, incident lists): with ``WANGGE_READ_URL`` set a standby may answer
them; otherwise they are the main engine and sessions. Never write through them.

The engine and settings are ``async``: FastAPI runs a plain function dependency in a
worker thread, a hop these lookups of an attribute do not need."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gis.settings import Settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_read_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.read_engine
    return engine


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _session(factory: sessionmaker[Session]) -> AsyncIterator[Session]:
    # Made in the event loop (a session connects on first use, in the route's thread);
    # closed in a worker thread, since closing hands its connection back with a rollback.
    session = factory()
    try:
        yield session
    finally:
        await run_in_threadpool(session.close)


async def get_session(request: Request) -> AsyncIterator[Session]:
    async for session in _session(request.app.state.sessionmaker):
        yield session


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    async for session in _session(request.app.state.read_sessionmaker):
        yield session


EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ReadEngineDep = Annotated[Engine, Depends(get_read_engine)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
