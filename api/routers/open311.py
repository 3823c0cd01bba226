"""Open311 GeoReport v2 under ``/open311/v2/``, in JSON and XML, with the spec's error format.

Reads are public (no personal data is ever returned); ``POST requests`` takes
``api_key`` = a Wangge token of role dispatcher or higher.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.auth import Principal, bearer_token, current_principal, principal_for
from api.routers.incidents import _validation_field
from gis.errors import NotFound, WanggeError
from gis.incidents import open311 as o311
from gis.incidents.intake import create_incident
from gis.incidents.records import IncidentIn
from gis.media.store import first_photo_urls
from gis.models import Incident, IncidentCategory

router = APIRouter(prefix="/open311/v2", tags=["open311"])
SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-23T00:00:00Z"
MEDIA = {"json": "application/json", "xml": "text/xml; charset=utf-8"}


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _element(parent: ET.Element, tag: str, value: Any) -> None:
    node = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, inner in value.items():
            _element(node, key, inner)
    elif isinstance(value, list):
        for inner in value:
            _element(node, tag.rstrip("s") or "item", inner)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)


def render(fmt: str, root: str, item: str, body: Any, status: int = 200) -> Response:
    if fmt == "json":
        return JSONResponse(body, status_code=status)
    top = ET.Element(root)
    if isinstance(body, dict):  # one document, e.g. <service_definition>
        for key, value in body.items():
            _element(top, key, value)
    for entry in body if isinstance(body, list) else []:
        node = ET.SubElement(top, item)
        for key, value in entry.items():
            _element(node, key, value)
    xml = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
    return Response(xml, status_code=status, media_type=MEDIA["xml"])


def error(fmt: str, status: int, description: str) -> Response:
    body = [{"code": status, "description": description}]
    return render(fmt if fmt in MEDIA else "json", "errors", "error", body, status)


def answer(fmt: str, root: str, item: str, make: Callable[[], Any], status: int = 200) -> Response:
    """Run ``make`` and render it, or the spec's error list with a proper status."""
    if fmt not in MEDIA:
        return error("json", 404, f"unknown format {fmt!r}; use .json or .xml")
    try:
        return render(fmt, root, item, make(), status)
    except Open311Error as exc:
        return error(fmt, exc.status, exc.description)
    except NotFound as exc:
        return error(fmt, 404, exc.message)
    except WanggeError as exc:
        where = f"{exc.field}: " if exc.field and not exc.message.startswith(exc.field) else ""
        return error(fmt, 400, where + exc.message)


def _session(request: Request) -> Session:
    factory: Callable[[], Session] = request.app.state.sessionmaker
    return factory()


@router.get("/discovery.{fmt}")
def discovery(fmt: str, request: Request) -> Response:
    base = str(request.base_url).rstrip("/") + "/open311/v2"
    endpoint: dict[str, Any] = {
        "specification": SPEC,
        "url": base,
        "changeset": CHANGESET,
        "type": "production",
        "formats": ["text/xml", "application/json"],
    }
    head = {
        "changeset": CHANGESET,
        "contact": "12345 hotline command centre",
        "key_service": "a dispatcher's API token from an administrator (wangge token create)",
    }
    return answer(fmt, "discovery", "discovery", lambda: {**head, "endpoints": [endpoint]})


@router.get("/services.{fmt}")
def list_services(fmt: str, request: Request) -> Response:
    def make() -> Any:
        with _session(request) as session:
            return o311.services(session)

    return answer(fmt, "services", "service", make)


@router.get("/services/{code}.{fmt}")
def service_definition(code: str, fmt: str, request: Request) -> Response:
    def make() -> Any:
        with _session(request) as session:
            category = session.get(IncidentCategory, code)
            if category is None or not category.active:
                raise Open311Error(404, f"service_code {code} not found")
            return {"service_code": code, "attributes": []}

    return answer(fmt, "service_definition", "service_definition", make)


def _media_urls(request: Request, session: Session) -> o311.MediaUrls:
    """``media_url`` for the photos this caller may see (a Bearer token or the sign-in
    session shows who asks; the public feed sees them only where the settings allow)."""
    who = current_principal(request)
    base = str(request.base_url)

    def urls(incidents: list[Incident]) -> dict[int, str]:
        return first_photo_urls(session, incidents, who.actor, request.app.state.settings, base)

    return urls


@router.get("/requests.{fmt}")
def get_requests(fmt: str, request: Request) -> Response:
    q = request.query_params

    def make() -> Any:
        with _session(request) as session:
            return o311.find_requests(
                session,
                service_request_id=q.get("service_request_id"),
                service_code=q.get("service_code"),
                start_date=q.get("start_date"),
                end_date=q.get("end_date"),
                status=q.get("status"),
                extensions=q.get("extensions", "").lower() == "true",
                media_urls=_media_urls(request, session),
            )

    return answer(fmt, "service_requests", "request", make)


@router.get("/requests/{request_id}.{fmt}")
def get_request(request_id: str, fmt: str, request: Request) -> Response:
    def make() -> Any:
        if not request_id.isdigit():
            raise Open311Error(404, f"service_request_id {request_id} not found")
        with _session(request) as session:
            found = o311.one_request(
                session,
                int(request_id),
                request.query_params.get("extensions") == "true",
                _media_urls(request, session),
            )
        if not found:
            raise Open311Error(404, f"service_request_id {request_id} not found")
        return found

    return answer(fmt, "service_requests", "request", make)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def open311_caller(request: Request) -> Principal | Open311Error:
    """Who posts: ``api_key`` from the form (Open311 clients) or a Bearer token.

    A form-encoded request gets its refusal in the spec's error format (returned,
    not raised, so the endpoint renders it); any other request is refused like
    every other write of the API (401/403).
    """
    form_like = request.headers.get("content-type", "").startswith(FORM_TYPES)
    plain: str | None = None
    if form_like:
        try:
            key = (await request.form()).get("api_key")
        except Exception:
            return Open311Error(400, "the body must be application/x-www-form-urlencoded")
        plain = key.strip() if isinstance(key, str) and key.strip() else None
    plain = plain or bearer_token(request)
    if plain is None:
        if form_like:
            return Open311Error(400, "api_key is required to create a service request")
        raise HTTPException(401, "api_key or a Bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    try:
        principal = await run_in_threadpool(principal_for, request, plain)
    except HTTPException:
        if form_like:
            return Open311Error(403, "api_key is invalid or revoked")
        raise
    if not principal.at_least("dispatcher"):
        if form_like:
            return Open311Error(403, f"api_key of role {principal.role} may not create requests")
        raise HTTPException(403, f"role {principal.role} may not do this; needs dispatcher")
    return principal


open311_caller.required_role = "dispatcher"  # type: ignore[attr-defined]
Caller = Annotated[Principal | Open311Error, Depends(open311_caller)]


def _new_request(request: Request, who: Principal, form: dict[str, str]) -> list[dict[str, Any]]:
    for name in ("service_code", "lat", "long"):
        if not form.get(name, "").strip():
            raise Open311Error(400, f"{name} is required (this endpoint locates by lat/long)")
    name = " ".join(p for p in (form.get("last_name"), form.get("first_name")) if p)
    payload = {
        "channel": "open311",
        "category_code": form["service_code"],
        "description": form.get("description", ""),
        "address": form.get("address_string") or None,
        "lon": form["long"],
        "lat": form["lat"],
        "crs": form.get("crs", "wgs84"),
        "reporter_name": name or None,
        "reporter_phone": form.get("phone") or None,
    }
    try:
        data = IncidentIn.model_validate(payload)
    except ValidationError as exc:
        field, message = _validation_field(exc)
        field = {"lon": "long", "category_code": "service_code"}.get(field, field)
        raise Open311Error(400, f"{field}: {message.split(': ', 1)[-1]}") from exc
    with _session(request) as session, session.begin():
        category = session.get(IncidentCategory, data.category_code)
        if category is None or not category.active:
            raise Open311Error(400, f"service_code {data.category_code} is not a known service")
        incident, _ = create_incident(session, data, f"open311:{who.name}")
        if not who.covers(incident.district_code):  # raising here stores nothing
            raise Open311Error(403, f"api_key is limited to district {who.district_code}")
        return [{"service_request_id": str(incident.id), "service_notice": "", "account_id": None}]


@router.post("/requests.{fmt}", status_code=201)
async def post_request(fmt: str, request: Request, caller: Caller) -> Response:
    """Form-encoded, as the spec says (``api_key`` = a dispatcher's token); answers the new
    service_request_id."""
    if fmt not in MEDIA:
        return error("json", 404, f"unknown format {fmt!r}; use .json or .xml")
    if isinstance(caller, Open311Error):
        return error(fmt, caller.status, caller.description)
    try:
        raw = await request.form()
    except Exception:
        return error(fmt, 400, "the body must be application/x-www-form-urlencoded")
    form = {k: v for k, v in raw.items() if isinstance(v, str)}

    def make() -> Any:
        return _new_request(request, caller, form)

    return await run_in_threadpool(answer, fmt, "service_requests", "request", make, 201)
