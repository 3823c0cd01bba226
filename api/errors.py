"""The one mapping from errors to JSON responses: ``{"error", "field", "detail"}``."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis.db import DatabaseUnreachable, is_read_only
from gis.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    OutOfScope,
    TooLarge,
    UnsupportedType,
    WanggeError,
)

# The first kind an error is an instance of decides (the narrower kinds come first).
STATUS = {
    TooLarge: 413,
    UnsupportedType: 415,
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    OutOfScope: 403,
    Forbidden: 403,
}
RETRY_AFTER_S = 5
log = logging.getLogger("wangge.errors")


def error_body(message: str, field: str | None = None, **detail: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    if detail:
        body["detail"] = detail
    return body


def _field_of(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WanggeError)
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    return JSONResponse(error_body(exc.message, exc.field, **exc.detail), status_code=status)


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    field = _field_of(first.get("loc", ("body",)))
    problems = [
        {"field": _field_of(e.get("loc", ())), "message": str(e.get("msg", ""))} for e in errors
    ]
    return JSONResponse(
        error_body(f"{field}: {first.get('msg', 'invalid')}", field, problems=problems),
        status_code=422,
    )


async def http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        error_body(str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


READ_ONLY = "the database takes no writes right now (its primary is changing); nothing was stored"


async def database_down(_: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After: unreachable, or (during a failover) reached but read-only."""
    if isinstance(exc, DatabaseUnreachable):
        message = str(exc)
    elif is_read_only(exc) or "session is read-only" in str(getattr(exc, "orig", exc)):
        # 25006 on a write, or no node takes writes (libpq: "session is read-only").
        message = READ_ONLY
    else:
        message = "database is unavailable"
    return JSONResponse(
        error_body(f"{message}; try again shortly"),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def _db_cause(exc: Exception) -> str:
    """The first line PostgreSQL gave, without the statement or its parameters."""
    orig = getattr(exc, "orig", exc)
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    return lines[0] if lines else type(orig).__name__


def is_unreachable(exc: BaseException) -> bool:
    """Connection lost, refused, shutting down, read-only (a demoted primary), or no pooled
    connection in time."""
    if is_read_only(exc):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(
            exc, OperationalError | InterfaceError
        )
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError | PoolTimeout)


async def database_error(request: Request, exc: Exception) -> JSONResponse:
    if is_unreachable(exc):
        return await database_down(request, exc)
    # Input that slipped past validation and was refused by a constraint or a type.
    if isinstance(exc, IntegrityError | psycopg.IntegrityError):
        return JSONResponse(
            error_body(f"conflicts with stored data: {_db_cause(exc)}"), status_code=409
        )
    if isinstance(exc, DataError | psycopg.DataError):
        return JSONResponse(error_body(f"invalid value: {_db_cause(exc)}"), status_code=422)
    return await internal_error(request, exc)


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    # The trace goes to the log, never to the caller.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body("internal error"), status_code=500)


# The shape of every error body, as published in the OpenAPI document.
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "what went wrong, in one line"},
        "field": {"type": "string", "description": "the offending input, when there is one"},
        "detail": {"type": "object", "additionalProperties": True},
    },
}
COMMON_ERRORS = {
    "401": "No token, or an invalid or revoked one.",
    "403": "The token's role (or district) does not allow this.",
    "413": "Request body over the size limit.",
    "429": "Too many requests; see Retry-After.",
    "503": "The database is unreachable or takes no writes (failover); see Retry-After.",
}


def publish_error_shape(app: FastAPI) -> None:
    """Make the OpenAPI document tell the truth about error bodies (422 and the rest)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["HTTPValidationError"] = ERROR_SCHEMA
        schemas["Error"] = ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/Error"}
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                for code, text in COMMON_ERRORS.items():
                    operation["responses"].setdefault(
                        code,
                        {"description": text, "content": {"application/json": {"schema": ref}}},
                    )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    publish_error_shape(app)
    app.add_exception_handler(WanggeError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DatabaseUnreachable, database_down)
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(psycopg.Error, database_error)
    app.add_exception_handler(PoolTimeout, database_down)
    app.add_exception_handler(Exception, internal_error)
