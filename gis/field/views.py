"""What the field page (/field) reads for a grid worker: its area as GeoJSON and its tasks.

Statuses and categories come in words (:mod:`gis.incidents.words`, ``lang`` zh or en)
beside their codes; times are ISO 8601 with their offset.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.incidents.words import word
from gis.validity import boundary_current

# Open incidents listed at most (a grid holds a few hundred households).
MAX_INCIDENTS = 500
COORD_DIGITS = 7  # about 1 cm


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _feature(geojson: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": json.loads(geojson), "properties": properties}


def _grids(session: Session, codes: Sequence[str]) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            "SELECT g.code, g.name, g.community_code, c.name AS community_name, g.worker_name,"
            " g.kind, g.households, g.residents, ST_AsGeoJSON(g.geom, :digits) AS geojson"
            " FROM grids g LEFT JOIN communities c ON c.code = g.community_code AND "
            f"{boundary_current('c')} WHERE g.code = ANY(:codes) AND {boundary_current('g')}"
            " ORDER BY g.code"
        ),
        {"codes": list(codes), "digits": COORD_DIGITS},
    )
    return [
        _feature(
            r.geojson,
            {
                "kind": "grid",
                "code": r.code,
                "name": r.name,
                "community_code": r.community_code,
                "community_name": r.community_name,
                "worker_name": r.worker_name,
                "grid_kind": r.kind,
                "households": r.households,
                "residents": r.residents,
            },
        )
        for r in rows
    ]


# The current outlines of the grids, for the compounds and buildings in them.
_AREA = f"WITH area AS (SELECT geom FROM grids WHERE code = ANY(:codes) AND {boundary_current()})"


def _within(session: Session, codes: Sequence[str], kind: str, sql: str) -> list[dict[str, Any]]:
    """Features of ``kind`` from ``sql`` (its columns become the properties, ``geojson``
    the geometry), asked within the grids' outlines."""
    rows = session.execute(
        text(f"{_AREA} {sql}"), {"codes": list(codes), "digits": COORD_DIGITS}
    ).mappings()
    return [
        _feature(r["geojson"], {"kind": kind, **{k: v for k, v in r.items() if k != "geojson"}})
        for r in rows
    ]


def _compounds(session: Session, codes: Sequence[str]) -> list[dict[str, Any]]:
    return _within(
        session,
        codes,
        "compound",
        "SELECT p.id, p.code, p.name, p.housing_type, p.households, p.residents,"
        " ST_AsGeoJSON(p.geom, :digits) AS geojson FROM compounds p"
        " WHERE EXISTS (SELECT 1 FROM area a WHERE ST_Intersects(p.geom, a.geom)"
        " AND NOT ST_Touches(p.geom, a.geom)) ORDER BY p.code",
    )


def _buildings(session: Session, codes: Sequence[str]) -> list[dict[str, Any]]:
    return _within(
        session,
        codes,
        "building",
        "SELECT b.id, b.code, b.compound_id, b.households, b.residents,"
        " ST_AsGeoJSON(b.geom, :digits) AS geojson FROM buildings b"
        " WHERE EXISTS (SELECT 1 FROM area a WHERE ST_Intersects(b.geom, a.geom))"
        " ORDER BY b.code",
    )


_OPEN_INCIDENTS = text(
    "SELECT i.id, i.grid_code, i.category_code, k.name_zh, k.name_en, i.status, i.channel,"
    " i.description, i.address, i.received_at, i.due_at, i.replied_at, i.reply, i.unit_code,"
    " i.reporter_name, i.reporter_phone, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,"
    " ST_AsGeoJSON(i.geom, :digits) AS geojson,"
    " EXISTS (SELECT 1 FROM incident_requests r WHERE r.incident_id = i.id"
    "   AND r.kind = 'verification' AND r.state = 'pending') AS verification_pending"
    " FROM incidents i JOIN incident_categories k ON k.code = i.category_code"
    " WHERE i.grid_code = ANY(:codes) AND i.status <> 'closed'"
    " ORDER BY i.received_at DESC, i.id DESC LIMIT :limit"
)


def _category_name(row: Any, lang: str) -> str:
    return str(row.name_en if lang == "en" else row.name_zh)


def _incident(row: Any, lang: str) -> dict[str, Any]:
    """An open incident as the field page lists it (personal fields: the caller masks)."""
    return {
        "id": row.id,
        "grid_code": row.grid_code,
        "category_code": row.category_code,
        "category_name": _category_name(row, lang),
        "status": row.status,
        "status_name": word("status", row.status, lang),
        "channel": row.channel,
        "description": row.description,
        "address": row.address,
        "lon": round(float(row.lon), COORD_DIGITS),
        "lat": round(float(row.lat), COORD_DIGITS),
        "received_at": _iso(row.received_at),
        "due_at": _iso(row.due_at),
        "replied_at": _iso(row.replied_at),
        "reply": row.reply,
        "unit_code": row.unit_code,
        "verification_pending": row.verification_pending,
        "reporter_name": row.reporter_name,
        "reporter_phone": row.reporter_phone,
    }


def open_incidents(session: Session, codes: Sequence[str], lang: str) -> list[dict[str, Any]]:
    """Open incidents of the grids, newest first (at most :data:`MAX_INCIDENTS`)."""
    rows = session.execute(
        _OPEN_INCIDENTS, {"codes": list(codes), "digits": COORD_DIGITS, "limit": MAX_INCIDENTS}
    )
    return [_incident(r, lang) for r in rows]


def area(session: Session, codes: Sequence[str], lang: str = "zh") -> dict[str, Any]:
    """The grids as a GeoJSON FeatureCollection: each grid (``kind: grid``), the compounds
    (小区, ``compound``) that overlap them, the buildings (楼栋, ``building``) in them and
    their open incidents (``incident``: id, category and status in words, received_at)."""
    incidents = session.execute(
        _OPEN_INCIDENTS, {"codes": list(codes), "digits": COORD_DIGITS, "limit": MAX_INCIDENTS}
    )
    return {
        "type": "FeatureCollection",
        "features": [
            *_grids(session, codes),
            *_compounds(session, codes),
            *_buildings(session, codes),
            *(
                _feature(
                    r.geojson,
                    {
                        "kind": "incident",
                        "id": r.id,
                        "grid_code": r.grid_code,
                        "category_code": r.category_code,
                        "category_name": _category_name(r, lang),
                        "status": r.status,
                        "status_name": word("status", r.status, lang),
                        "received_at": _iso(r.received_at),
                        "due_at": _iso(r.due_at),
                        "verification_pending": r.verification_pending,
                    },
                )
                for r in incidents
            ),
        ],
    }


def verifications(session: Session, codes: Sequence[str], lang: str) -> list[dict[str, Any]]:
    """Verifications (核查) waiting for the worker of the grids, oldest asked first."""
    rows = session.execute(
        text(
            "SELECT r.id AS request_id, r.incident_id, r.asked_at, r.asked_by, r.reason,"
            " i.grid_code, i.category_code, k.name_zh, k.name_en, i.status, i.description,"
            " i.address, i.reply, i.replied_at, i.unit_code, u.name AS unit_name,"
            " i.reporter_name, i.reporter_phone, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat"
            " FROM incident_requests r JOIN incidents i ON i.id = r.incident_id"
            " JOIN incident_categories k ON k.code = i.category_code"
            " LEFT JOIN units u ON u.code = i.unit_code"
            " WHERE r.kind = 'verification' AND r.state = 'pending'"
            " AND i.grid_code = ANY(:codes) ORDER BY r.asked_at, r.id"
        ),
        {"codes": list(codes)},
    )
    return [
        {
            "request_id": r.request_id,
            "incident_id": r.incident_id,
            "asked_at": _iso(r.asked_at),
            "asked_by": r.asked_by,
            "note": r.reason or None,
            "grid_code": r.grid_code,
            "category_code": r.category_code,
            "category": _category_name(r, lang),
            "status": r.status,
            "status_name": word("status", r.status, lang),
            "description": r.description,
            "address": r.address,
            "lon": round(float(r.lon), COORD_DIGITS),
            "lat": round(float(r.lat), COORD_DIGITS),
            "reply": r.reply,
            "replied_at": _iso(r.replied_at),
            "unit_code": r.unit_code,
            "unit_name": r.unit_name,
            "reporter_name": r.reporter_name,
            "reporter_phone": r.reporter_phone,
        }
        for r in rows
    ]
