"""Incidents (诉求): intake, lists, one with its log, workflow steps, bulk intake."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from api.auth import Dispatcher
from api.deps import SessionDep, SettingsDep
from api.personal import Personal, PersonalData
from gis.errors import InvalidInput
from gis.incidents import bulk, queries
from gis.incidents.bulk_read import detect_format
from gis.incidents.fields import MAX_DESCRIPTION
from gis.incidents.intake import create_incident
from gis.incidents.records import IncidentIn
from gis.incidents.workflow import TARGETS, Step, apply_step

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


class TransitionIn(BaseModel):
    """One step of the 12345 loop, or a follow-up after closing."""

    model_config = ConfigDict(extra="forbid")

    to: Literal["dispatched", "in_progress", "replied", "closed", "callback", "rating"] = Field(
        description="the next status, or callback / rating after closing"
    )
    note: str | None = Field(None, max_length=MAX_DESCRIPTION)
    handled_directly: bool = Field(False, description="received → closed by the hotline itself")
    rating: int | None = Field(None, ge=1, le=5)


assert set(TransitionIn.model_fields["to"].annotation.__args__) == set(TARGETS)  # type: ignore[union-attr]


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 once it passes ``limit`` bytes (checked while streaming)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body of {declared} bytes is over the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _validation_field(exc: ValidationError) -> tuple[str, str]:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "body"
    if first.get("type") == "extra_forbidden":
        extra = [
            ".".join(map(str, e["loc"])) for e in exc.errors() if e["type"] == "extra_forbidden"
        ]
        return extra[0], f"unknown field(s): {', '.join(extra)}"
    return field, f"{field}: {first.get('msg', 'invalid')}"


def _one(session: Session, incident_id: int, personal: PersonalData) -> dict[str, Any]:
    inc, lon, lat = queries.get_incident(session, incident_id)
    body = personal.present(queries.incident_dict(inc, lon, lat))
    body["events"] = queries.events_of(session, incident_id)
    return body


@router.post(
    "",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": IncidentIn.model_json_schema()}},
        }
    },
    responses={200: {"description": "already stored under this external_id"}},
)
async def post_incident(
    request: Request,
    who: Dispatcher,
    personal: Personal,
    settings: SettingsDep,
) -> JSONResponse:
    """Assign and store one report; the same ``external_id`` again returns the stored one."""
    raw = await read_body(request, settings.max_body_bytes)
    try:
        data = IncidentIn.model_validate_json(raw)
    except ValidationError as exc:
        field, message = _validation_field(exc)
        raise InvalidInput(message, field=field) from exc

    def work() -> tuple[dict[str, Any], bool]:
        with request.app.state.sessionmaker() as session, session.begin():
            incident, created = create_incident(session, data, who.name)
            who.check_district(incident.district_code, "the incident")  # raising stores nothing
            return _one(session, incident.id, personal), created

    body, created = await run_in_threadpool(work)
    return JSONResponse(
        body,
        status_code=201 if created else 200,
        headers={"Location": f"/api/v1/incidents/{body['id']}"},
    )


@router.get("")
def list_incidents(
    session: SessionDep,
    personal: Personal,
    settings: SettingsDep,
    grid: str | None = None,
    community: str | None = None,
    station: int | None = Query(None, description="facility id of the station"),
    status: str | None = None,
    category: str | None = None,
    channel: str | None = None,
    since: datetime | None = Query(None, description="received at or after (ISO 8601)"),
    until: datetime | None = Query(None, description="received before (ISO 8601)"),
    overdue: bool | None = Query(None, description="past the due time (open or closed late)"),
    limit: int = Query(100, ge=1, description="page size, capped by the server's maximum"),
    offset: int = Query(0, ge=0),
    cursor: int | None = Query(None, ge=1, description="next_cursor of the previous page"),
) -> dict[str, Any]:
    """Newest first; page with ``limit``/``offset`` or with ``cursor`` (stable under inserts)."""
    limit = min(limit, settings.max_page_size)
    f = queries.IncidentFilter(
        grid, community, station, status, category, channel, since, until, overdue
    )
    rows = queries.list_incidents(session, f, limit, offset, cursor)
    items = personal.present_all(queries.incident_dict(i, x, y) for i, x, y in rows)
    return {
        "items": items,
        "limit": limit,
        "offset": offset,
        "next_cursor": items[-1]["id"] if len(items) == limit else None,
    }


@router.get("/{incident_id}")
def get_incident(incident_id: int, session: SessionDep, personal: Personal) -> dict[str, Any]:
    """One incident with its event log (who did what, when)."""
    return _one(session, incident_id, personal)


@router.post("/{incident_id}/transitions", responses={409: {"description": "illegal step"}})
def transition(
    incident_id: int,
    body: TransitionIn,
    session: SessionDep,
    who: Dispatcher,
    personal: Personal,
) -> dict[str, Any]:
    """Move the incident along the 12345 loop; an illegal step is 409 naming from and to."""
    with session.begin():
        step = Step(body.to, body.note, body.handled_directly, body.rating)
        incident = apply_step(session, incident_id, step, who.name)
        who.check_district(incident.district_code, f"incident {incident_id}")  # undoes the step
        return _one(session, incident_id, personal)


@router.post(
    "/bulk",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
    responses={422: {"description": "the file is unusable, or strict and a row is bad"}},
)
async def post_bulk(
    request: Request,
    who: Dispatcher,
    settings: SettingsDep,
    format: Literal["csv", "ndjson"] | None = Query(
        None, description="csv or ndjson; by default from the content type or the first byte"
    ),
    strict: bool = Query(False, description="store nothing when any row is bad"),
) -> JSONResponse:
    """CSV or NDJSON: good rows are stored, bad rows come back by row number and reason."""
    raw = await read_body(request, settings.max_bulk_bytes)
    fmt = format or detect_format(None, request.headers.get("content-type"), raw[:64])

    def work() -> dict[str, Any]:
        with request.app.state.sessionmaker() as session, session.begin():
            result = bulk.ingest_bytes(session, raw, fmt, who.name, district=who.district_code)
            if strict and result.bad_rows:
                first = result.bad_rows[0]
                raise InvalidInput(
                    f"row {first.row}: {first.reason} ({len(result.bad_rows)} bad rows; "
                    "nothing stored)",
                    field=f"row {first.row}",
                    bad_rows=[b.as_dict() for b in result.bad_rows[:1000]],
                )
            return result.as_dict()

    return JSONResponse(await run_in_threadpool(work))
