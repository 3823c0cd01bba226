"""Storing and reading incident photos (附件).

An upload is cleaned (:mod:`gis.media.image`) before the write starts, so the write itself
is short: lock the incident, recognise a photo sent again (same uploaded bytes: the stored
one is returned), check the count, insert, log a note on the incident. One transaction,
the caller's; nothing is stored when anything refuses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, undefer

from gis.errors import Conflict, NotFound
from gis.incidents.workflow import Actor
from gis.media.access import may_see_photos
from gis.media.image import FIELD, CleanPhoto
from gis.models import Incident, IncidentEvent, IncidentMedia, IncidentReport
from gis.settings import Settings


@dataclass(frozen=True)
class PhotoBytes:
    """What serving one photo (or its thumbnail) needs."""

    content_type: str
    data: bytes
    etag: str


def upload_hash(upload: bytes) -> str:
    return hashlib.sha256(upload).hexdigest()


def incident_for_photos(session: Session, incident_id: int, lock: bool = False) -> Incident:
    """The incident (404 when there is none); ``lock``: held against concurrent uploads
    until the transaction ends (``FOR NO KEY UPDATE`` of its report row)."""
    stmt = select(Incident).where(Incident.id == incident_id)
    if lock:
        stmt = stmt.with_for_update(of=IncidentReport.__table__, key_share=True)
    incident = session.scalars(stmt).one_or_none()
    if incident is None:
        raise NotFound(f"no incident with id {incident_id}", field="id")
    return incident


def find_upload(session: Session, incident_id: int, sha256: str) -> IncidentMedia | None:
    """The photo of this incident stored from exactly these uploaded bytes, if any."""
    return session.scalars(
        select(IncidentMedia).where(
            IncidentMedia.incident_id == incident_id, IncidentMedia.upload_sha256 == sha256
        )
    ).one_or_none()


def add_photo(
    session: Session,
    incident: Incident,
    sha256: str,
    photo: CleanPhoto,
    actor: Actor,
    max_per_incident: int,
) -> tuple[IncidentMedia, bool]:
    """Store ``photo`` on ``incident`` (locked by the caller); (the row, created). The same
    upload again returns the stored row and ``created=False``."""
    existing = find_upload(session, incident.id, sha256)
    if existing is not None:
        return existing, False
    count, last = session.execute(
        select(func.count(), func.coalesce(func.max(IncidentMedia.n), 0)).where(
            IncidentMedia.incident_id == incident.id
        )
    ).one()
    if count >= max_per_incident:
        raise Conflict(
            f"file: incident {incident.id} holds {count} photos already, the most one may hold",
            field=FIELD,
            limit=max_per_incident,
        )
    row = IncidentMedia(
        incident_id=incident.id,
        n=int(last) + 1,
        content_type=photo.content_type,
        data=photo.data,
        thumbnail=photo.thumbnail,
        width=photo.width,
        height=photo.height,
        bytes=len(photo.data),
        upload_sha256=sha256,
        sha256=hashlib.sha256(photo.data).hexdigest(),
        created_by=actor.name,
        district_code=incident.district_code,
    )
    session.add(row)
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            district_code=incident.district_code,
            actor=actor.name,
            kind="note",
            unit_code=actor.unit_code,
            detail={"step": "photo", "n": row.n},
        )
    )
    session.flush()
    return row, True


def list_photos(session: Session, incident_id: int) -> list[IncidentMedia]:
    """The incident's photos in order (their bytes are not read)."""
    return list(
        session.scalars(
            select(IncidentMedia)
            .where(IncidentMedia.incident_id == incident_id)
            .order_by(IncidentMedia.n)
        )
    )


def photo_bytes(session: Session, incident_id: int, n: int, thumbnail: bool) -> PhotoBytes:
    """Photo ``n`` of the incident, or its thumbnail (a JPEG); 404 when there is none."""
    column = IncidentMedia.thumbnail if thumbnail else IncidentMedia.data
    row = session.scalars(
        select(IncidentMedia)
        .options(undefer(column))
        .where(IncidentMedia.incident_id == incident_id, IncidentMedia.n == n)
    ).one_or_none()
    if row is None:
        raise NotFound(f"incident {incident_id} has no photo {n}", field="n")
    if thumbnail:
        return PhotoBytes("image/jpeg", row.thumbnail, f"{row.sha256[:32]}-t")
    return PhotoBytes(row.content_type, row.data, row.sha256[:32])


def first_photos(session: Session, incident_ids: list[int]) -> dict[int, int]:
    """incident id → the number of its first photo, for those of ``incident_ids`` with one."""
    if not incident_ids:
        return {}
    rows = session.execute(
        select(IncidentMedia.incident_id, func.min(IncidentMedia.n))
        .where(IncidentMedia.incident_id.in_(incident_ids))
        .group_by(IncidentMedia.incident_id)
    )
    return {int(i): int(n) for i, n in rows}


def photo_dict(row: IncidentMedia) -> dict[str, Any]:
    """The JSON shape of one photo."""
    base = f"/api/v1/incidents/{row.incident_id}/media/{row.n}"
    return {
        "n": row.n,
        "url": base,
        "thumbnail_url": f"{base}/thumbnail",
        "content_type": row.content_type,
        "width": row.width,
        "height": row.height,
        "bytes": row.bytes,
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
    }


def first_photo_urls(
    session: Session, incidents: list[Incident], actor: Actor, settings: Settings, base_url: str
) -> dict[int, str]:
    """incident id → the absolute URL of its first photo, for the incidents of
    ``incidents`` that have one and whose photos ``actor`` may see."""
    visible = [i.id for i in incidents if may_see_photos(actor, i.unit_code, settings, i.grid_code)]
    base = base_url.rstrip("/")
    return {
        incident_id: f"{base}/api/v1/incidents/{incident_id}/media/{n}"
        for incident_id, n in first_photos(session, visible).items()
    }
