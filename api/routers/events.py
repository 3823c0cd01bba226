"""Live updates (实时推送): the incident event log as Server-Sent Events.

``GET /api/v1/events/stream`` sends each event once it is committed, whichever worker or
process wrote it: ``id:`` the event id, ``event:`` its kind, ``data:`` JSON without
personal data (see :class:`gis.events.StreamEvent`). The first message carries only an
``id:`` (where the stream starts) and ``retry:``; a browser's ``EventSource`` sends the
last id back as ``Last-Event-ID`` when it reconnects, and the stream replays what it
missed from the log, in batches. Comments every 15 s keep proxies from closing it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy.exc import SQLAlchemyError

from api.auth import Viewer
from api.observe import SSE_CLIENTS
from gis.errors import InvalidInput
from gis.events import EventFilter, EventHub, StreamEvent, stream_filter

router = APIRouter(prefix="/api/v1/events", tags=["events"])
log = logging.getLogger("wangge.events")

EVENT_STREAM = "text/event-stream"
RETRY_MS = 2000
MAX_ID = 2**63 - 1  # event ids are bigints


@dataclass(frozen=True)
class StreamRequest:
    filter: EventFilter
    after: int | None


def _last_event_id(header: str | None, query: int | None) -> int | None:
    """The header (a reconnecting ``EventSource``) wins over the query (a page's first load)."""
    if header is None:
        return query
    value = header.strip()
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        raise InvalidInput("Last-Event-ID must be an event id (digits)", field="last_event_id")
    return int(value)


def open_stream(
    request: Request,
    who: Viewer,
    district: Annotated[
        str | None, Query(description="only events of this district (a current district code)")
    ] = None,
    unit: Annotated[
        str | None,
        Query(max_length=32, description="only events concerning this responsible unit"),
    ] = None,
    last_event_id: Annotated[
        int | None,
        Query(
            ge=0, le=MAX_ID, description="replay events after this id (clients without EventSource)"
        ),
    ] = None,
    last_event_header: Annotated[
        str | None,
        Header(alias="Last-Event-ID", description="replay events after this id"),
    ] = None,
) -> StreamRequest:
    """Checked before the stream starts, so a bad request gets a plain error answer."""
    # A stream never ends by itself: a client that did not ask for one would wait for ever.
    if EVENT_STREAM not in request.headers.get("accept", ""):
        raise HTTPException(
            status_code=406, detail=f"this is an event stream: send Accept: {EVENT_STREAM}"
        )
    after = _last_event_id(last_event_header, last_event_id)
    with request.app.state.sessionmaker() as session:
        flt = stream_filter(session, who.district_code, who.unit_code, district=district, unit=unit)
    return StreamRequest(flt, after)


def _message(event: StreamEvent) -> ServerSentEvent:
    return ServerSentEvent(id=str(event.id), event=event.kind, data=event.as_dict())


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={
        406: {
            "description": f"the client does not accept {EVENT_STREAM}",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    },
)
async def stream(
    request: Request, opened: Annotated[StreamRequest, Depends(open_stream)]
) -> AsyncIterator[ServerSentEvent]:
    """Incident events as they are committed (filters: ``district``, ``unit``); resumes after
    ``Last-Event-ID``. Viewers and above; bearer token or the session cookie."""
    hub: EventHub = request.app.state.events
    SSE_CLIENTS.inc()
    try:
        async for progress in hub.follow(opened.filter, opened.after):
            if not progress.events:
                yield ServerSentEvent(id=str(progress.position), retry=RETRY_MS)
            for event in progress.events:
                yield _message(event)
    except SQLAlchemyError as exc:
        # The client reconnects with its last id and misses nothing.
        log.warning("event stream ended: %s", exc.__class__.__name__)
    finally:
        SSE_CLIENTS.dec()
