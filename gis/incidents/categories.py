"""The category table as a page picks from it (诉求分类): names in both languages, the
default responsible unit, and the pinyin of the Chinese name, so that typing ``zyrm`` or
``zaoyin`` finds 噪音扰民."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pypinyin import Style, lazy_pinyin
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.models import IncidentCategory, Unit


@lru_cache(maxsize=4096)
def spellings(name: str) -> tuple[str, str]:
    """Pinyin initials and full spelling of ``name``, lower case, without tones or spaces
    (characters that are not Chinese are kept as they are)."""
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()
    full = "".join(lazy_pinyin(name)).lower()
    return initials.replace(" ", ""), full.replace(" ", "")


def list_categories(session: Session) -> list[dict[str, Any]]:
    """Active categories by code, each with its default unit's name and its spellings."""
    rows = session.execute(
        select(IncidentCategory, Unit.name, Unit.name_en)
        .outerjoin(Unit, Unit.code == IncidentCategory.default_unit_code)
        .where(IncidentCategory.active)
        .order_by(IncidentCategory.code)
    )
    out = []
    for cat, unit_name, unit_name_en in rows:
        initials, full = spellings(cat.name_zh)
        out.append(
            {
                "code": cat.code,
                "name_zh": cat.name_zh,
                "name_en": cat.name_en,
                "initials": initials,
                "pinyin": full,
                "default_unit_code": cat.default_unit_code,
                "default_unit_name": unit_name,
                "default_unit_name_en": unit_name_en,
                "handling_unit": cat.handling_unit,
                "due_working_days": cat.due_working_days,
                "accept_class": cat.accept_class,
            }
        )
    return out
