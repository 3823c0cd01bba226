"""What an incident looks like on the way in (诉求受理): the JSON models and the categories.

The models take their fields from the one table of :mod:`gis.incidents.fields`, from
which bulk files and :func:`gis.incidents.ingest` take their column checks too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.incidents.fields import FIELDS, RULES
from gis.models import CHANNELS, STATUSES, IncidentCategory

Channel = Literal[
    "hotline_call",
    "wechat",
    "mayor_mailbox",
    "provincial_site",
    "peoples_daily",
    "patrol",
    "open311",
    "app",
]
Status = Literal["received", "dispatched", "in_progress", "replied", "closed"]
assert set(Channel.__args__) == set(CHANNELS)  # type: ignore[attr-defined]
assert set(Status.__args__) == set(STATUSES)  # type: ignore[attr-defined]

# Messages (留言) as the daily report counts them; hotline_call is a call (来电).
MESSAGE_CHANNELS = ("wechat", "mayor_mailbox", "provincial_site", "peoples_daily")


class IncidentIn(BaseModel):
    """A new report as a dispatcher or a connected system sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str | None = RULES["external_id"].field()
    channel: Channel = RULES["channel"].field()
    category_code: str = RULES["category_code"].field()
    description: str = RULES["description"].field()
    address: str | None = RULES["address"].field()
    lon: float = RULES["lon"].field()
    lat: float = RULES["lat"].field()
    crs: str = RULES["crs"].field()
    reporter_name: str | None = RULES["reporter_name"].field()
    reporter_phone: str | None = RULES["reporter_phone"].field()
    received_at: datetime | None = RULES["received_at"].field()


class ImportRecord(IncidentIn):
    """A record from another system, possibly already further along the 12345 loop."""

    handled_directly: bool = RULES["handled_directly"].field()
    status: Status = RULES["status"].field()
    closed_at: datetime | None = RULES["closed_at"].field()
    callback_at: datetime | None = RULES["callback_at"].field()
    rating: int | None = RULES["rating"].field()


# The models hold the table's fields, in its order; a field added to one must reach the other.
assert list(ImportRecord.model_fields) == [r.name for r in FIELDS]
assert list(IncidentIn.model_fields) == [r.name for r in FIELDS if not r.imported]
assert all(ImportRecord.model_fields[r.name].is_required() == r.required for r in FIELDS)


def categories(session: Session) -> dict[str, int]:
    """Active category codes → due working days."""
    rows = session.execute(
        select(IncidentCategory.code, IncidentCategory.due_working_days).where(
            IncidentCategory.active
        )
    )
    return {code: int(days) for code, days in rows}


def check_category(known: dict[str, int], code: str) -> int:
    if code not in known:
        shown = ", ".join(sorted(known)[:12]) or "none defined"
        raise InvalidInput(f"unknown category_code {code!r}; known: {shown}", field="category_code")
    return known[code]
