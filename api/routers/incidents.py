"""Incidents (诉求): intake, lists, one with its log, workflow steps, bulk intake."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from api.auth import Dispatcher, Reporter, Staff
from api.deps import ReadSessionDep, SessionDep, SettingsDep
from api.personal import Personal, PersonalData
from api.responses import FastJSON
from gis.assign.intake import normalize_point
from gis.coords import normalize_crs
from gis.errors import Forbidden, InvalidInput
from gis.field.intake import take_patrol_report
from gis.incidents import bulk, card, queries, similar
from gis.incidents.bulk_read import detect_format
from gis.incidents.fields import MAX_DESCRIPTION, MAX_REPORTER_NAME
from gis.incidents.intake import create_incident
from gis.incidents.records import IncidentIn
from gis.incidents.workflow import TARGETS, Step, allowed_steps, apply_step, merge

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


StepName = Literal[
    "dispatched",
    "transfer",
    "in_progress",
    "return",
    "extension_request",
    "extension_approve",
    "extension_refuse",
    "urge",
    "handler",
    "replied",
    "closed",
    "callback",
    "rating",
    "reopen",
    "verify_request",
    "verify_confirm",
    "verify_reject",
]


class TransitionIn(BaseModel):
    """One step of the 12345 loop (see ``gis.incidents.workflow``)."""

    model_config = ConfigDict(extra="forbid")

    to: StepName = Field(
        description="dispatched (派单), transfer (转派), in_progress (签收), return (退单), "
        "extension_request / extension_approve / extension_refuse (延期), urge (催办), "
        "handler (经办人), replied (办理结果), closed (办结), callback (回访), rating (评价), "
        "reopen (重办), verify_request / verify_confirm / verify_reject (核查: asked by a "
        "dispatcher or the unit, decided on the spot by the grid's worker)"
    )
    note: str | None = Field(
        None, max_length=MAX_DESCRIPTION, description="reason, handling result or remark"
    )
    handled_directly: bool = Field(False, description="received → closed by the hotline itself")
    rating: int | None = Field(None, ge=1, le=5)
    unit_code: str | None = Field(
        None, max_length=32, description="dispatch / transfer: the responsible unit"
    )
    days: int | None = Field(None, description="extension_request: working days asked for")
    handler: str | None = Field(
        None, min_length=1, max_length=MAX_REPORTER_NAME, description="the person handling it"
    )
    photo: int | None = Field(
        None,
        ge=1,
        le=32767,
        description="verify_confirm: the number (n) of the incident's photo taken on the spot "
        "(POST /api/v1/incidents/{id}/media); left out: the latest one the worker added "
        "since it was asked",
    )


class MergeIn(BaseModel):
    """Close this incident as a duplicate of another (重复诉求)."""

    model_config = ConfigDict(extra="forbid")

    into: int = Field(ge=1, description="the incident that answers for both")


assert set(StepName.__args__) == set(TARGETS)  # type: ignore[attr-defined]


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


def _one(
    session: Session,
    incident_id: int,
    personal: PersonalData,
    check_unit: bool = True,
    new: bool = False,
) -> dict[str, Any]:
    """The incident as a card; ``check_unit=False`` after a step the workflow allowed (a
    unit that just returned a case still gets the answer to its step). ``new``: this
    transaction has just stored it, so nothing can have been merged into it, moved with
    it or asked of it yet, and those lists are not looked up, nor the row read again."""
    inc, lon, lat = queries.get_incident(session, incident_id, loaded=new)
    who = personal.principal
    if check_unit:
        who.check_unit(inc.unit_code, f"incident {incident_id}")
        who.check_grid(inc.grid_code, f"incident {incident_id}")
    body = personal.present(queries.incident_dict(inc, lon, lat))
    body["events"] = queries.events_of(session, incident_id, moves=not new)
    body["places"] = card.places(session, inc)
    duplicates = [] if new else card.duplicates(session, incident_id)
    body["duplicates"] = [
        personal.present({**d, "unit_code": inc.unit_code}, d["id"]) for d in duplicates
    ]
    for d in body["duplicates"]:
        d.pop("unit_code")
    body["requests"] = [] if new else card.requests(session, incident_id)
    body["allowed_steps"] = allowed_steps(inc.status, who.actor, inc.unit_code, inc.grid_code)
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
    who: Reporter,
    personal: Personal,
    settings: SettingsDep,
) -> FastJSON:
    """Assign and store one report; the same ``external_id`` again returns the stored one
    (200), another report under it is a 409 naming the first field that differs.

    A grid worker (网格员) reports its patrol findings here (巡查上报): ``channel`` must be
    ``patrol`` (422 naming ``channel``), the position may be WGS 84 or GCJ-02 (WeChat's
    ``wx.getLocation``: ``crs=gcj02``) and must lie in one of the worker's grids once
    converted: 403 naming ``location`` otherwise, nothing stored."""
    raw = await read_body(request, settings.max_body_bytes)
    try:
        data = IncidentIn.model_validate_json(raw)
    except ValidationError as exc:
        field, message = _validation_field(exc)
        raise InvalidInput(message, field=field) from exc

    def work() -> tuple[dict[str, Any], bool]:
        with request.app.state.sessionmaker() as session, session.begin():
            if who.role == "grid_worker":
                incident, created = take_patrol_report(session, data, who.name, who.grid_codes)
            else:
                incident, created = create_incident(session, data, who.name)
            who.check_district(incident.district_code, "the incident")  # raising stores nothing
            return _one(session, incident.id, personal, new=created), created

    body, created = await run_in_threadpool(work)
    return FastJSON(
        body,
        status_code=201 if created else 200,
        headers={"Location": f"/api/v1/incidents/{body['id']}"},
    )


async def filter_dep(
    personal: Personal,
    grid: str | None = None,
    community: str | None = None,
    station: int | None = Query(None, description="facility id of the station"),
    status: str | None = None,
    category: str | None = None,
    channel: str | None = None,
    since: datetime | None = Query(None, description="received at or after (ISO 8601)"),
    until: datetime | None = Query(None, description="received before (ISO 8601)"),
    overdue: bool | None = Query(None, description="past the due time (open or closed late)"),
    unit: str | None = Query(None, max_length=32, description="code of the responsible unit"),
    external_id: str | None = Query(None, max_length=64, description="id in the hotline system"),
    district: str | None = Query(None, max_length=6),
    street: str | None = Query(None, max_length=9),
    handler: str | None = Query(None, max_length=60),
) -> queries.IncidentFilter:
    """The list's filters; a unit's staff see their own queue and a grid worker the
    incidents of its own grids, whatever they ask for. (``async``: no I/O here, so no
    worker thread.)"""
    who = personal.principal
    if who.role == "unit":
        if unit is not None and unit != who.unit_code:
            raise HTTPException(403, f"a unit token sees the queue of unit {who.unit_code} only")
        unit = who.unit_code
    grids = None
    if who.role == "grid_worker":
        if grid is not None and grid not in who.grid_codes:
            raise Forbidden(
                f"a grid worker sees the incidents of its own grids only "
                f"({', '.join(who.grid_codes)}), not of grid {grid}",
                field="grid",
            )
        grids = who.grid_codes
    return queries.IncidentFilter(
        grid, community, station, status, category, channel, since, until, overdue,
        unit, external_id, district, street, handler, grids,
    )  # fmt: skip


FilterDep = Annotated[queries.IncidentFilter, Depends(filter_dep)]


@router.get("", response_model=None)
def list_incidents(
    session: ReadSessionDep,
    personal: Personal,
    settings: SettingsDep,
    f: FilterDep,
    limit: int = Query(100, ge=1, description="page size, capped by the server's maximum"),
    offset: int = Query(0, ge=0),
    cursor: int | None = Query(None, ge=1, description="next_cursor of the previous page"),
    sort: Literal["-received", "due"] = Query(
        "-received", description="newest first, or soonest due first"
    ),
) -> FastJSON:
    """Newest first; page with ``limit``/``offset`` or with ``cursor`` (stable under inserts)."""
    limit = min(limit, settings.max_page_size)
    rows = queries.list_incidents(session, f, limit, offset, cursor, sort)
    items = personal.present_all(queries.incident_dict(i, x, y) for i, x, y in rows)
    return FastJSON(
        {
            "items": items,
            "limit": limit,
            "offset": offset,
            "next_cursor": items[-1]["id"] if len(items) == limit and sort != "due" else None,
        }
    )


@router.get("/counts")
def counts(session: ReadSessionDep, f: FilterDep) -> dict[str, int]:
    """How many incidents of each status match the filters (a queue's tabs), and how many
    open ones are overdue."""
    return queries.count_by_status(session, f)


@router.get("/similar")
def similar_before_saving(
    session: SessionDep,
    _: Staff,
    lon: float = Query(allow_inf_nan=False),
    lat: float = Query(allow_inf_nan=False),
    category_code: str = Query(min_length=1, max_length=32),
    crs: str = Query("wgs84", description="wgs84, cgcs2000, gcj02, bd09 or EPSG:<code>"),
) -> dict[str, Any]:
    """Open or recently closed incidents of the same category near this point (重复诉求),
    nearest and newest first: asked before a new report is saved."""
    x, y = normalize_point(lon, lat, normalize_crs(crs))
    return {"items": similar.similar_at(session, x, y, category_code)}


@router.get("/{incident_id}")
def get_incident(incident_id: int, session: SessionDep, personal: Personal) -> dict[str, Any]:
    """One incident with its event log (who did what, when), its places and unit by name,
    its duplicates and sub-requests, and the steps the caller may take."""
    return _one(session, incident_id, personal)


@router.get("/{incident_id}/similar")
def similar_to_stored(incident_id: int, session: SessionDep, who: Staff) -> dict[str, Any]:
    """Candidate duplicates of a stored incident (itself left out)."""
    if who.role in ("unit", "grid_worker"):
        inc, _, _ = queries.get_incident(session, incident_id)
        who.check_unit(inc.unit_code, f"incident {incident_id}")
        who.check_grid(inc.grid_code, f"incident {incident_id}")
    return {"items": similar.similar_to(session, incident_id)}


@router.post(
    "/{incident_id}/transitions",
    responses={403: {"description": "not this role's step"}, 409: {"description": "illegal step"}},
)
def transition(
    incident_id: int,
    body: TransitionIn,
    session: SessionDep,
    who: Staff,
    personal: Personal,
) -> dict[str, Any]:
    """Take one step of the 12345 loop; a step this role may not take is 403 naming role and
    step, a step the status does not allow is 409 naming from and to."""
    with session.begin():
        step = Step(
            body.to,
            body.note,
            body.handled_directly,
            body.rating,
            unit_code=body.unit_code,
            days=body.days,
            handler=body.handler,
            photo=body.photo,
        )
        incident = apply_step(session, incident_id, step, who.actor)
        who.check_district(incident.district_code, f"incident {incident_id}")  # undoes the step
        return _one(session, incident_id, personal, check_unit=False)


@router.post("/{incident_id}/merge", responses={409: {"description": "already closed"}})
def merge_duplicate(
    incident_id: int,
    body: MergeIn,
    session: SessionDep,
    who: Dispatcher,
    personal: Personal,
) -> dict[str, Any]:
    """Close this incident as a duplicate of ``into`` (重复诉求): linked both ways; the
    original's reply and callback answer for both reporters."""
    with session.begin():
        duplicate = merge(session, incident_id, body.into, who.actor)
        who.check_district(duplicate.district_code, f"incident {incident_id}")
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
