"""Photos on incidents (附件): upload (multipart, field ``file``), list, the photo and its
thumbnail. Cleaning and storing are :mod:`gis.media`; who may add or see them is
:mod:`gis.media.access`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.auth import Principal, Staff, require
from api.deps import SessionDep, SettingsDep
from api.uploads import MULTIPART_ROOM, read_file_field
from gis.errors import Forbidden
from gis.media.access import may_add_photo, may_see_photos
from gis.media.image import FIELD, Limits, check_size, clean_photo
from gis.media.store import (
    add_photo,
    find_upload,
    incident_for_photos,
    list_photos,
    photo_bytes,
    photo_dict,
    upload_hash,
)
from gis.models import Incident
from gis.settings import Settings

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
# A photo never changes under its number: caches may keep it, privately (it is not public).
CACHE = "private, max-age=31536000, immutable"
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [FIELD],
                "properties": {
                    FIELD: {
                        "type": "string",
                        "format": "binary",
                        "description": "the photo: JPEG, PNG or WebP",
                    }
                },
            }
        }
    },
}
Reader = Annotated[Principal, Depends(require("viewer"))]


def check_may_add(who: Principal, incident: Incident) -> None:
    """403 unless ``who`` may add a photo to ``incident`` (in its district, for scoped tokens)."""
    who.check_district(incident.district_code, f"incident {incident.id}")
    if not may_add_photo(who.actor, incident):
        raise Forbidden(
            f"role {who.role} may not add photos to incident {incident.id}; a dispatcher may,"
            " the staff of the unit it is dispatched to, and the worker of its grid",
            field="id",
        )


def check_may_see(who: Principal, incident: Incident, settings: Settings) -> None:
    if not may_see_photos(who.actor, incident.unit_code, settings, incident.grid_code):
        raise Forbidden(
            f"role {who.role} may not see the photos of incident {incident.id}: photos are"
            " for the staff handling the case (WANGGE_MEDIA_PUBLIC is off)",
            field="id",
        )


@router.post(
    "/{incident_id}/media",
    status_code=201,
    openapi_extra={"requestBody": UPLOAD_BODY},
    responses={
        200: {"description": "these bytes were stored on this incident already"},
        409: {"description": "the incident holds the most photos allowed"},
        413: {"description": "the photo is over WANGGE_MEDIA_MAX_BYTES"},
        415: {"description": "not a JPEG, PNG or WebP image (by its content)"},
        422: {"description": "too many pixels, damaged, or no field file"},
    },
)
async def add_media(
    incident_id: int, request: Request, who: Staff, settings: SettingsDep
) -> JSONResponse:
    """Add a photo: stored without its metadata (EXIF, GPS, XMP, ICC, text), upright, with a
    thumbnail. The same bytes sent again answer the stored photo (200) instead of a copy."""
    limits = Limits(settings.media_max_bytes, settings.media_max_pixels)
    upload = await read_file_field(request, FIELD, limits.max_bytes + MULTIPART_ROOM)
    check_size(len(upload), limits)
    sha256 = upload_hash(upload)
    factory = request.app.state.sessionmaker

    def work() -> tuple[dict[str, Any], bool]:
        with factory() as session:
            incident = incident_for_photos(session, incident_id)
            check_may_add(who, incident)
            stored = find_upload(session, incident_id, sha256)
            if stored is not None:
                return photo_dict(stored), False
        photo = clean_photo(upload, limits)  # outside any transaction: no lock is held
        with factory() as session, session.begin():
            incident = incident_for_photos(session, incident_id, lock=True)
            check_may_add(who, incident)
            row, created = add_photo(
                session, incident, sha256, photo, who.actor, settings.media_max_per_incident
            )
            return photo_dict(row), created

    body, created = await run_in_threadpool(work)
    return JSONResponse(
        body, status_code=201 if created else 200, headers={"Location": body["url"]}
    )


@router.get("/{incident_id}/media")
def list_media(
    incident_id: int, session: SessionDep, who: Reader, settings: SettingsDep
) -> dict[str, Any]:
    """The incident's photos, in the order they came."""
    incident = incident_for_photos(session, incident_id)
    check_may_see(who, incident, settings)
    return {"items": [photo_dict(row) for row in list_photos(session, incident_id)]}


def _serve(
    request: Request, session: SessionDep, who: Principal, settings: Settings,
    incident_id: int, n: int, thumbnail: bool,
) -> Response:  # fmt: skip
    incident = incident_for_photos(session, incident_id)
    check_may_see(who, incident, settings)
    photo = photo_bytes(session, incident_id, n, thumbnail)
    etag = f'"{photo.etag}"'
    headers = {"ETag": etag, "Cache-Control": CACHE}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(photo.data, media_type=photo.content_type, headers=headers)


@router.get(
    "/{incident_id}/media/{n}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
def get_media(
    incident_id: int, n: int, request: Request, session: SessionDep, who: Reader,
    settings: SettingsDep,
) -> Response:  # fmt: skip
    """Photo ``n`` (from 1) as stored: JPEG, PNG or WebP."""
    return _serve(request, session, who, settings, incident_id, n, thumbnail=False)


@router.get(
    "/{incident_id}/media/{n}/thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def get_thumbnail(
    incident_id: int, n: int, request: Request, session: SessionDep, who: Reader,
    settings: SettingsDep,
) -> Response:  # fmt: skip
    """Photo ``n``'s thumbnail: a JPEG, longest side 320 pixels."""
    return _serve(request, session, who, settings, incident_id, n, thumbnail=True)
