"""The demo city's responsible units (责任单位): the departments its categories name, every
street office and community committee, and every enforcement station.

Each category gets its department as default unit and its acceptance class. Idempotent:
rows already there are left as they are.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.demo.categories import CATEGORIES, DEPARTMENTS, URGENT, UTILITY
from gis.validity import boundary_valid

STREET_OFFICES = f"""
INSERT INTO units (code, name, name_en, kind, district_code, street_code, active)
SELECT 'street-' || code, name || CASE WHEN kind = 'town' THEN '人民政府' ELSE '办事处' END,
       NULL, 'street_office', district_code, code, true
FROM streets WHERE {boundary_valid(None, False)}
ON CONFLICT (code) DO NOTHING
"""
COMMUNITIES = f"""
INSERT INTO units (code, name, kind, district_code, street_code, community_code, active)
SELECT 'community-' || code, name || '居委会', 'community', district_code,
       left(code, 9), code, true
FROM communities WHERE {boundary_valid(None, False)}
ON CONFLICT (code) DO NOTHING
"""
STATIONS = """
INSERT INTO units (code, name, kind, district_code, facility_id, active)
SELECT 'station-' || lower(code), name, 'station', district_code, id, true
FROM facilities WHERE type = 'enforcement_station'
ON CONFLICT (code) DO NOTHING
"""


def store_units(session: Session, seed: int) -> Mapping[str, int]:
    """Add the demo units not yet present and name each category's default unit."""
    del seed  # the units follow the city; nothing is drawn at random
    added = 0
    for name, (code, name_en) in DEPARTMENTS.items():
        added += session.execute(  # type: ignore[attr-defined]
            text(
                "INSERT INTO units (code, name, name_en, kind, active)"
                " VALUES (:code, :name, :en, 'department', true) ON CONFLICT (code) DO NOTHING"
            ),
            {"code": code, "name": name, "en": name_en},
        ).rowcount
    for sql in (STREET_OFFICES, COMMUNITIES, STATIONS):
        added += session.execute(text(sql)).rowcount  # type: ignore[attr-defined]
    for c in CATEGORIES:
        accept = "urgent" if c["code"] in URGENT else "utility" if c["code"] in UTILITY else None
        session.execute(
            text(
                "UPDATE incident_categories SET default_unit_code = :unit,"
                " accept_class = coalesce(:accept, accept_class)"
                " WHERE code = :code AND default_unit_code IS NULL"
            ),
            {"unit": DEPARTMENTS[c["handling_unit"]][0], "accept": accept, "code": c["code"]},
        )
    return {"units": added}

