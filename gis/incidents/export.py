"""Incidents as a table (诉求台账): one row per incident with the time of every stage, due,
overdue, unit, places and rating, for a spreadsheet.

Times are the hotline's local time (Beijing time), statuses and channels are words; the
caller masks personal data by role before writing (:mod:`gis.privacy`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.incidents.due import is_overdue, local_zone
from gis.incidents.queries import IncidentFilter, list_incidents
from gis.incidents.words import word
from gis.validity import boundary_valid

# (key, Chinese header, English header)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("id", "编号", "id"),
    ("external_id", "热线工单号", "external id"),
    ("channel", "渠道", "channel"),
    ("category", "类别", "category"),
    ("status", "状态", "status"),
    ("received_at", "受理时间", "received"),
    ("dispatched_at", "派单时间", "dispatched"),
    ("accepted_at", "签收时间", "accepted"),
    ("replied_at", "答复时间", "replied"),
    ("closed_at", "办结时间", "closed"),
    ("callback_at", "回访时间", "called back"),
    ("due_at", "办结期限", "due"),
    ("overdue", "是否超期", "overdue"),
    ("unit", "责任单位", "unit"),
    ("handler", "经办人", "handler"),
    ("grid", "网格", "grid"),
    ("community", "社区", "community"),
    ("street", "街道", "street"),
    ("district", "区县", "district"),
    ("station", "负责服务站", "station"),
    ("rating", "满意度评价", "rating"),
    ("reopen_count", "重办次数", "reopened"),
    ("merged_into", "合并至", "merged into"),
    ("reporter_name", "诉求人", "reporter"),
    ("reporter_phone", "联系电话", "phone"),
    ("address", "地址", "address"),
    ("description", "诉求内容", "description"),
    ("reply", "办理结果", "handling result"),
)
PAGE = 5000


def headers(lang: str) -> list[str]:
    return [zh if lang == "zh" else en for _, zh, en in COLUMNS]


def _names(session: Session) -> dict[str, dict[Any, str]]:
    """Current names of the boundaries, units, stations and categories, by code or id."""
    names: dict[str, dict[Any, str]] = {}
    for level in ("districts", "streets", "communities", "grids"):
        rows = session.execute(
            text(f"SELECT code, name FROM {level} WHERE {boundary_valid(None, False)}")
        )
        names[level] = {code: name for code, name in rows}
    for key, sql in (
        ("units", "SELECT code, name FROM units"),
        ("stations", "SELECT id, name FROM facilities"),
        ("categories", "SELECT code, name_zh FROM incident_categories"),
        ("categories_en", "SELECT code, name_en FROM incident_categories"),
    ):
        names[key] = {key_: name for key_, name in session.execute(text(sql))}
    return names


def _local(at: datetime | None) -> str:
    return at.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M:%S") if at else ""


def rows(session: Session, f: IncidentFilter, lang: str = "zh") -> Iterator[dict[str, Any]]:
    """Every incident matching ``f``, newest first, as a row keyed by :data:`COLUMNS`."""
    names, now = _names(session), datetime.now(UTC)
    yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
    cursor: int | None = None
    while True:
        page = list_incidents(session, f, PAGE, cursor=cursor)
        for inc, _, _ in page:
            cat = names["categories" if lang == "zh" else "categories_en"]
            yield {
                "id": inc.id,
                "external_id": inc.external_id or "",
                "channel": word("channel", inc.channel, lang),
                "category": cat.get(inc.category_code, inc.category_code),
                "status": word("status", inc.status, lang),
                "received_at": _local(inc.received_at),
                "dispatched_at": _local(inc.dispatched_at),
                "accepted_at": _local(inc.accepted_at),
                "replied_at": _local(inc.replied_at),
                "closed_at": _local(inc.closed_at),
                "callback_at": _local(inc.callback_at),
                "due_at": _local(inc.due_at),
                "overdue": yes if is_overdue(inc.due_at, inc.closed_at, now) else no,
                "unit": names["units"].get(inc.unit_code, inc.unit_code or ""),
                "unit_code": inc.unit_code,
                "handler": inc.handler or "",
                "grid": inc.grid_code or "",
                "community": names["communities"].get(inc.community_code, ""),
                "street": names["streets"].get(inc.street_code, ""),
                "district": names["districts"].get(inc.district_code, ""),
                "station": names["stations"].get(inc.station_id, ""),
                "rating": inc.rating if inc.rating is not None else "",
                "reopen_count": inc.reopen_count,
                "merged_into": inc.merged_into or "",
                "reporter_name": inc.reporter_name or "",
                "reporter_phone": inc.reporter_phone or "",
                "address": inc.address or "",
                "description": inc.description,
                "reply": inc.reply or "",
            }
        if len(page) < PAGE:
            return
        cursor = page[-1][0].id


def write_csv(records: Iterable[dict[str, Any]], lang: str = "zh") -> Iterator[str]:
    """CSV text in chunks, starting with a byte-order mark so Excel reads it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(headers(lang))
    for n, record in enumerate(records, 1):
        writer.writerow([record[key] for key, _, _ in COLUMNS])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
